//! The Remotion-style scheme: `X-Remotion-Signature: sha512=<hex HMAC-SHA512>` over the raw body.
//! When the optional `X-Remotion-Timestamp` header (unix seconds) is present, the signed content is
//! `"<timestamp>.<body>"` and the timestamp must be within the tolerance, which closes the replay
//! window the original scheme left open.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha512;

use super::{WebhookError, WebhookSecret};
use crate::ports::Delivery;

type HmacSha512 = Hmac<Sha512>;

fn mac(secret: &WebhookSecret, timestamp: Option<&str>, body: &[u8]) -> HmacSha512 {
    let mut mac = HmacSha512::new_from_slice(secret.key()).expect("any key length");
    if let Some(ts) = timestamp {
        mac.update(ts.as_bytes());
        mac.update(b".");
    }
    mac.update(body);
    mac
}

/// Sign a body (no timestamp): the header value `sha512=<hex>`.
pub fn sign_remotion(secret: &WebhookSecret, body: &[u8]) -> String {
    format!("sha512={}", hex::encode(mac(secret, None, body).finalize().into_bytes()))
}

/// Sign `"<timestamp>.<body>"`: the header value to send with `X-Remotion-Timestamp: <timestamp>`.
pub fn sign_remotion_at(secret: &WebhookSecret, timestamp: i64, body: &[u8]) -> String {
    let ts = timestamp.to_string();
    format!("sha512={}", hex::encode(mac(secret, Some(&ts), body).finalize().into_bytes()))
}

/// A Remotion-style render callback to `path`, signed `sha512=<hex>`.
pub fn render_callback(
    secret: &WebhookSecret,
    path: String,
    job: &str,
    run_id: Option<String>,
    outcome: Result<String, &str>,
) -> Delivery {
    let body = match outcome {
        Ok(output_url) => serde_json::json!({
            "job_id": job, "run_id": run_id, "status": "done", "output_url": output_url, "error": null,
        }),
        Err(reason) => serde_json::json!({
            "job_id": job, "run_id": run_id, "status": "error", "output_url": null, "error": reason,
        }),
    };
    let body = serde_json::to_vec(&body).expect("json");
    Delivery {
        path,
        headers: vec![
            ("content-type".into(), "application/json".into()),
            ("x-remotion-signature".into(), sign_remotion(secret, &body)),
        ],
        body,
    }
}

/// Verifies Remotion signatures against any of several secrets.
#[derive(Debug, Clone)]
pub struct RemotionVerifier {
    secrets: Vec<WebhookSecret>,
    tolerance_secs: i64,
}

impl RemotionVerifier {
    /// A verifier for these secrets; `tolerance_secs` applies when a timestamp is sent.
    pub fn new(secrets: Vec<WebhookSecret>, tolerance_secs: i64) -> Self {
        Self { secrets, tolerance_secs }
    }

    /// Verify the signature header (with or without the `sha512=` prefix) over `body`, and the
    /// timestamp header when present.
    pub fn verify(
        &self,
        signature: Option<&str>,
        timestamp: Option<&str>,
        body: &[u8],
        now_secs: i64,
    ) -> Result<(), WebhookError> {
        if self.secrets.is_empty() {
            return Err(WebhookError::NoSecret("remotion"));
        }
        let header = signature
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or(WebhookError::MissingHeader("x-remotion-signature"))?;
        let timestamp = timestamp.map(str::trim);
        if let Some(ts) = timestamp {
            let t: i64 = ts.parse().map_err(|_| WebhookError::BadTimestamp)?;
            let skew = now_secs.saturating_sub(t);
            if skew.abs() > self.tolerance_secs {
                return Err(WebhookError::StaleTimestamp {
                    skew_secs: skew,
                    tolerance_secs: self.tolerance_secs,
                });
            }
        }
        let hex_sig = header.strip_prefix("sha512=").unwrap_or(header);
        let sig = hex::decode(hex_sig).map_err(|_| WebhookError::BadSignature)?;
        if sig.len() != 64 {
            return Err(WebhookError::BadSignature);
        }
        for secret in &self.secrets {
            if mac(secret, timestamp, body).verify_slice(&sig).is_ok() {
                return Ok(());
            }
        }
        Err(WebhookError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v() -> RemotionVerifier {
        RemotionVerifier::new(vec![WebhookSecret::parse("render-secret").unwrap()], 300)
    }

    #[test]
    fn verifies_with_and_without_prefix() {
        let s = WebhookSecret::parse("render-secret").unwrap();
        let body = br#"{"job_id":"r1","status":"done"}"#;
        let sig = sign_remotion(&s, body);
        assert_eq!(v().verify(Some(&sig), None, body, 0), Ok(()));
        assert_eq!(v().verify(Some(sig.trim_start_matches("sha512=")), None, body, 0), Ok(()));
        assert_eq!(v().verify(Some(&sig), None, b"{}", 0), Err(WebhookError::BadSignature));
        assert_eq!(v().verify(Some("sha512="), None, body, 0), Err(WebhookError::BadSignature));
        assert_eq!(
            v().verify(None, None, body, 0),
            Err(WebhookError::MissingHeader("x-remotion-signature"))
        );
        let none = RemotionVerifier::new(vec![], 300);
        assert_eq!(none.verify(Some(&sig), None, body, 0), Err(WebhookError::NoSecret("remotion")));
    }

    #[test]
    fn a_timestamp_is_signed_and_checked() {
        let s = WebhookSecret::parse("render-secret").unwrap();
        let body = br#"{"job_id":"r1","status":"done"}"#;
        let sig = sign_remotion_at(&s, 1_000, body);
        assert_eq!(v().verify(Some(&sig), Some("1000"), body, 1_200), Ok(()));
        assert!(matches!(
            v().verify(Some(&sig), Some("1000"), body, 1_301),
            Err(WebhookError::StaleTimestamp { .. })
        ));
        // The timestamp is part of the signature: changing it breaks the signature.
        assert_eq!(
            v().verify(Some(&sig), Some("1001"), body, 1_001),
            Err(WebhookError::BadSignature)
        );
        // A body-only signature does not pass once a timestamp is sent.
        assert_eq!(
            v().verify(Some(&sign_remotion(&s, body)), Some("1000"), body, 1_000),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            v().verify(Some(&sig), Some("soon"), body, 1_000),
            Err(WebhookError::BadTimestamp)
        );
    }
}
