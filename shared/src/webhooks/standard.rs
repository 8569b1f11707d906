//! Standard Webhooks v1 (what OpenAI uses): `webhook-id`, `webhook-timestamp`, `webhook-signature:
//! v1,<base64 HMAC-SHA256 of "id.timestamp.body">`, several signatures space-separated.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

use super::WebhookError;

type HmacSha256 = Hmac<Sha256>;

/// A signing secret: `whsec_<base64>` (decoded) or raw bytes.
#[derive(Clone)]
pub struct WebhookSecret(Vec<u8>);

impl std::fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("WebhookSecret(<redacted>)")
    }
}

impl WebhookSecret {
    /// Parse a configured secret. Empty secrets are refused: an empty HMAC key is forgeable.
    pub fn parse(s: &str) -> Result<Self, WebhookError> {
        let s = s.trim();
        if let Some(b64) = s.strip_prefix("whsec_") {
            let key = B64
                .decode(b64)
                .map_err(|_| WebhookError::BadSecret("whsec_ secret is not base64".into()))?;
            if !(24..=64).contains(&key.len()) {
                return Err(WebhookError::BadSecret(format!(
                    "whsec_ secret decodes to {} bytes; 24..=64 expected",
                    key.len()
                )));
            }
            return Ok(Self(key));
        }
        if s.is_empty() {
            return Err(WebhookError::BadSecret("empty secret".into()));
        }
        Ok(Self(s.as_bytes().to_vec()))
    }

    /// The key bytes.
    pub fn key(&self) -> &[u8] {
        &self.0
    }

    /// The secret in the `whsec_<base64>` form a provider shows it in (a fake provider's
    /// "read your signing secret" endpoint).
    pub fn to_whsec(&self) -> String {
        format!("whsec_{}", B64.encode(&self.0))
    }

    fn mac(&self, id: &str, timestamp: &str, body: &[u8]) -> HmacSha256 {
        let mut mac = HmacSha256::new_from_slice(&self.0).expect("HMAC takes keys of any length");
        mac.update(id.as_bytes());
        mac.update(b".");
        mac.update(timestamp.as_bytes());
        mac.update(b".");
        mac.update(body);
        mac
    }
}

/// Sign a payload: returns the `webhook-signature` header value (`v1,<base64>`).
pub fn sign_standard(secret: &WebhookSecret, id: &str, timestamp: i64, body: &[u8]) -> String {
    let sig = secret.mac(id, &timestamp.to_string(), body).finalize().into_bytes();
    format!("v1,{}", B64.encode(sig))
}

/// Verifies Standard Webhooks signatures against any of several secrets (rotation).
#[derive(Debug, Clone)]
pub struct StandardVerifier {
    secrets: Vec<WebhookSecret>,
    tolerance_secs: i64,
    provider: &'static str,
}

impl StandardVerifier {
    /// A verifier for these secrets with a ± tolerance in seconds.
    pub fn new(secrets: Vec<WebhookSecret>, tolerance_secs: i64) -> Self {
        Self { secrets, tolerance_secs, provider: "standard webhooks" }
    }

    /// Name the provider whose callbacks this verifies (in a missing-secret refusal).
    pub fn of(mut self, provider: crate::domain::Provider) -> Self {
        self.provider = provider.as_str();
        self
    }

    /// Verify one delivery. `now_secs` is the receiver's unix time.
    pub fn verify(
        &self,
        id: Option<&str>,
        timestamp: Option<&str>,
        signature: Option<&str>,
        body: &[u8],
        now_secs: i64,
    ) -> Result<(), WebhookError> {
        if self.secrets.is_empty() {
            return Err(WebhookError::NoSecret(self.provider));
        }
        let id = id.filter(|v| !v.is_empty()).ok_or(WebhookError::MissingHeader("webhook-id"))?;
        let ts_raw = timestamp
            .filter(|v| !v.is_empty())
            .ok_or(WebhookError::MissingHeader("webhook-timestamp"))?;
        let sig_header = signature
            .filter(|v| !v.is_empty())
            .ok_or(WebhookError::MissingHeader("webhook-signature"))?;
        let ts: i64 = ts_raw.trim().parse().map_err(|_| WebhookError::BadTimestamp)?;
        let skew = now_secs.saturating_sub(ts);
        if skew.abs() > self.tolerance_secs {
            return Err(WebhookError::StaleTimestamp {
                skew_secs: skew,
                tolerance_secs: self.tolerance_secs,
            });
        }
        for candidate in sig_header.split(' ') {
            let Some(b64) = candidate.strip_prefix("v1,") else {
                continue;
            };
            let Ok(sig) = B64.decode(b64) else { continue };
            if sig.len() != 32 {
                continue; // an empty or truncated signature never matches
            }
            for secret in &self.secrets {
                if secret.mac(id, ts_raw, body).verify_slice(&sig).is_ok() {
                    return Ok(());
                }
            }
        }
        Err(WebhookError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn secret() -> WebhookSecret {
        WebhookSecret::parse(&format!("whsec_{}", B64.encode([7u8; 32]))).unwrap()
    }

    #[test]
    fn signs_and_verifies_the_spec_example() {
        // The example from the Standard Webhooks spec.
        let s = WebhookSecret::parse("whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw").unwrap();
        let body = br#"{"test": 2432232314}"#;
        let sig = sign_standard(&s, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, body);
        assert_eq!(sig, "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=");
        let v = StandardVerifier::new(vec![s], 300);
        let ok = v.verify(
            Some("msg_p5jXN8AQM9LWM0D4loKWxJek"),
            Some("1614265330"),
            Some(&sig),
            body,
            1614265330 + 299,
        );
        assert_eq!(ok, Ok(()));
    }

    #[test]
    fn rejects_forgeries_staleness_and_empty_signatures() {
        let s = secret();
        let v = StandardVerifier::new(vec![s.clone()], 300);
        let body = b"{}";
        let sig = sign_standard(&s, "id1", 1000, body);
        assert_eq!(
            v.verify(Some("id1"), Some("1000"), Some(&sig), b"{ }", 1000),
            Err(WebhookError::BadSignature)
        );
        assert!(matches!(
            v.verify(Some("id1"), Some("1000"), Some(&sig), body, 1301),
            Err(WebhookError::StaleTimestamp { .. })
        ));
        assert_eq!(
            v.verify(Some("id1"), Some("1000"), Some("v1,"), body, 1000),
            Err(WebhookError::BadSignature)
        );
        assert_eq!(
            v.verify(None, Some("1000"), Some(&sig), body, 1000),
            Err(WebhookError::MissingHeader("webhook-id"))
        );
        assert_eq!(
            v.verify(Some("id1"), Some("x"), Some(&sig), body, 1000),
            Err(WebhookError::BadTimestamp)
        );
        // Any of several signatures passes; any of several secrets passes.
        let other = WebhookSecret::parse("raw-secret").unwrap();
        let both = format!("v1,AAAA {sig}");
        assert_eq!(v.verify(Some("id1"), Some("1000"), Some(&both), body, 1000), Ok(()));
        let rotated = StandardVerifier::new(vec![other, s], 300);
        assert_eq!(rotated.verify(Some("id1"), Some("1000"), Some(&sig), body, 1000), Ok(()));
        assert_eq!(
            StandardVerifier::new(vec![], 300).verify(Some("a"), Some("1"), Some(&sig), body, 1),
            Err(WebhookError::NoSecret("standard webhooks"))
        );
    }

    #[test]
    fn refuses_unusable_secrets() {
        assert!(WebhookSecret::parse("").is_err());
        assert!(WebhookSecret::parse("whsec_!!").is_err());
        assert!(WebhookSecret::parse(&format!("whsec_{}", B64.encode([1u8; 8]))).is_err());
        assert!(format!("{:?}", secret()).contains("redacted"));
    }
}
