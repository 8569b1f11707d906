//! Property tests for the signature schemes and event parsers: signatures round-trip, any
//! single-byte change breaks them, arbitrary headers and bodies never panic or verify, and the
//! timestamp window is exact.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use proptest::prelude::*;

use super::*;

fn secret() -> WebhookSecret {
    WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap()
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn standard_signatures_round_trip_and_break_on_any_byte(
        id in "[A-Za-z0-9_]{1,40}",
        ts in 1_000_000_000i64..2_000_000_000,
        skew in -300i64..=300,
        body in proptest::collection::vec(any::<u8>(), 1..512),
        flip in any::<prop::sample::Index>(),
        bit in 0u8..8,
    ) {
        let v = StandardVerifier::new(vec![secret()], 300);
        let sig = sign_standard(&secret(), &id, ts, &body);
        prop_assert_eq!(v.verify(Some(&id), Some(&ts.to_string()), Some(&sig), &body, ts + skew), Ok(()));
        let mut bad = body.clone();
        let i = flip.index(bad.len());
        bad[i] ^= 1 << bit;
        prop_assert_eq!(v.verify(Some(&id), Some(&ts.to_string()), Some(&sig), &bad, ts), Err(WebhookError::BadSignature));
    }

    #[test]
    fn the_window_is_exact(ts in 1_000_000_000i64..2_000_000_000, skew in 301i64..100_000, future in any::<bool>()) {
        let v = StandardVerifier::new(vec![secret()], 300);
        let sig = sign_standard(&secret(), "id", ts, b"{}");
        let now = if future { ts - skew } else { ts + skew };
        let is_stale = matches!(v.verify(Some("id"), Some(&ts.to_string()), Some(&sig), b"{}", now), Err(WebhookError::StaleTimestamp { .. }));
        prop_assert!(is_stale);
    }

    #[test]
    fn arbitrary_standard_headers_never_verify(id in ".*", ts in ".*", sig in ".*", body in proptest::collection::vec(any::<u8>(), 0..256)) {
        let v = StandardVerifier::new(vec![secret()], i64::MAX);
        prop_assert!(v.verify(Some(&id), Some(&ts), Some(&sig), &body, 0).is_err());
    }

    #[test]
    fn forged_v1_signatures_of_every_length_fail(raw in proptest::collection::vec(any::<u8>(), 0..64)) {
        let v = StandardVerifier::new(vec![secret()], 300);
        let header = format!("v1,{}", B64.encode(&raw));
        prop_assert_eq!(v.verify(Some("id"), Some("100"), Some(&header), b"{}", 100), Err(WebhookError::BadSignature));
    }

    #[test]
    fn remotion_signatures_round_trip_and_break(
        body in proptest::collection::vec(any::<u8>(), 1..512),
        ts in proptest::option::of(1_000_000_000i64..2_000_000_000),
        flip in any::<prop::sample::Index>(),
    ) {
        let v = RemotionVerifier::new(vec![secret()], 300);
        let (sig, ts_s) = match ts {
            Some(t) => (sign_remotion_at(&secret(), t, &body), Some(t.to_string())),
            None => (sign_remotion(&secret(), &body), None),
        };
        let now = ts.unwrap_or(0);
        prop_assert_eq!(v.verify(Some(&sig), ts_s.as_deref(), &body, now), Ok(()));
        let bare = sig.trim_start_matches("sha512=");
        prop_assert_eq!(v.verify(Some(bare), ts_s.as_deref(), &body, now), Ok(()));
        let mut bad = body.clone();
        let i = flip.index(bad.len());
        bad[i] = bad[i].wrapping_add(1);
        prop_assert_eq!(v.verify(Some(&sig), ts_s.as_deref(), &bad, now), Err(WebhookError::BadSignature));
    }

    #[test]
    fn arbitrary_remotion_headers_never_verify(sig in ".*", ts in proptest::option::of(".*"), body in proptest::collection::vec(any::<u8>(), 0..256)) {
        let v = RemotionVerifier::new(vec![secret()], i64::MAX);
        prop_assert!(v.verify(Some(&sig), ts.as_deref(), &body, 0).is_err());
    }

    #[test]
    fn event_parsers_never_panic(body in proptest::collection::vec(any::<u8>(), 0..512)) {
        let _ = parse_openai_video_event(&body);
        let _ = parse_remotion_event(&body);
    }

    #[test]
    fn well_formed_video_events_parse_to_their_job(job in "video_[A-Za-z0-9_-]{1,60}", failed in any::<bool>(), nested in any::<bool>()) {
        let data = if nested { serde_json::json!({ "object": { "id": job } }) } else { serde_json::json!({ "id": job }) };
        let kind = if failed { "video.failed" } else { "video.completed" };
        let body = serde_json::to_vec(&serde_json::json!({ "id": "evt_1", "object": "event", "type": kind, "data": data })).unwrap();
        match parse_openai_video_event(&body).unwrap() {
            VideoEvent::Job { job_id, outcome, .. } => {
                prop_assert_eq!(job_id.as_str(), job.as_str());
                prop_assert_eq!(failed, matches!(outcome, crate::domain::ArrivalOutcome::Failed { .. }));
            }
            other => prop_assert!(false, "{:?}", other),
        }
    }

    #[test]
    fn whsec_secrets_are_accepted_only_at_24_to_64_bytes(len in 0usize..100) {
        let s = format!("whsec_{}", B64.encode(vec![7u8; len]));
        prop_assert_eq!(WebhookSecret::parse(&s).is_ok(), (24..=64).contains(&len));
    }
}
