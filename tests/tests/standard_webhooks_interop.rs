//! Interop with the official Standard Webhooks library (PyPI `standardwebhooks`), installed by the
//! test into a throwaway virtualenv: its signatures verify with ours, ours verify with it, and a
//! one-byte change fails both ways.

use myloware::time::{Clock, SystemClock};
use myloware::webhooks::{StandardVerifier, WebhookError, WebhookSecret, sign_standard};
use myloware_tests::interop::{peer_python, run_peer};
use serde_json::{Value, json};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[test]
fn our_signatures_and_the_official_library_agree() {
    let python = peer_python(std::path::Path::new(env!("CARGO_TARGET_TMPDIR")));
    let secret = WebhookSecret::parse(SECRET).unwrap();
    let now = SystemClock.now().secs();
    let ours: Vec<Value> = (0..50)
        .map(|i| {
            let body = format!(r#"{{"id":"evt_{i}","object":"event","type":"video.completed","data":{{"id":"video_{i}"}},"pad":"{}"}}"#, "é".repeat(i));
            let id = format!("msg_{i}");
            json!({ "id": id, "ts": now, "body": body, "sig": sign_standard(&secret, &id, now, body.as_bytes()) })
        })
        .collect();
    let answer =
        run_peer(&python, &json!({ "secret": SECRET, "ours": ours, "count": 50, "seed": 7 }));
    for (i, c) in answer["checked"].as_array().unwrap().iter().enumerate() {
        assert_eq!(c["ok"], true, "the library rejected our signature #{i}");
        assert_eq!(c["tampered_ok"], false, "the library accepted a tampered body #{i}");
    }
    let v = StandardVerifier::new(vec![secret], 300);
    let theirs = answer["theirs"].as_array().unwrap();
    assert_eq!(theirs.len(), 50);
    for t in theirs {
        let (id, ts, sig) =
            (t["id"].as_str().unwrap(), t["ts"].to_string(), t["sig"].as_str().unwrap());
        let body = t["body"].as_str().unwrap().as_bytes().to_vec();
        assert_eq!(
            v.verify(Some(id), Some(&ts), Some(sig), &body, now),
            Ok(()),
            "their signature for {id}"
        );
        let mut bad = body.clone();
        let last = bad.len() - 2;
        bad[last] ^= 0x01;
        assert_eq!(
            v.verify(Some(id), Some(&ts), Some(sig), &bad, now),
            Err(WebhookError::BadSignature)
        );
    }
}
