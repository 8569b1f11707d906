//! Fuzz the webhook front door: the signature header parsers and verifiers (Standard Webhooks and
//! Remotion) and the event parsers, on arbitrary bytes. Any panic is a bug; so is a forged input
//! that verifies.
#![no_main]

use libfuzzer_sys::fuzz_target;
use myloware::webhooks::{
    RemotionVerifier, StandardVerifier, WebhookSecret, parse_gemini_event, parse_openai_video_event,
    parse_remotion_event, parse_replicate_prediction,
};

fuzz_target!(|data: &[u8]| {
    // Split the input into header values and a body.
    let mut parts = data.splitn(4, |b| *b == 0);
    let id = parts.next().map(String::from_utf8_lossy);
    let ts = parts.next().map(String::from_utf8_lossy);
    let sig = parts.next().map(String::from_utf8_lossy);
    let body = parts.next().unwrap_or_default();

    let secret = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
    let standard = StandardVerifier::new(vec![secret.clone()], 300);
    let verdict = standard.verify(id.as_deref(), ts.as_deref(), sig.as_deref(), body, 1_700_000_000);
    assert!(verdict.is_err(), "a fuzzed Standard Webhooks input verified");
    let remotion = RemotionVerifier::new(vec![secret], 300);
    assert!(remotion.verify(sig.as_deref(), ts.as_deref(), body, 1_700_000_000).is_err(), "a fuzzed Remotion input verified");

    let _ = parse_openai_video_event(body);
    let _ = parse_remotion_event(body);
    let _ = parse_openai_video_event(data);
    let _ = parse_remotion_event(data);
    let _ = parse_replicate_prediction(body, id.as_deref());
    let _ = parse_gemini_event(body, id.as_deref());
    let _ = WebhookSecret::parse(&String::from_utf8_lossy(data));
});
