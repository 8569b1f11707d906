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

/// Longest `webhook-signature` header read (a few signatures during a key rotation fit).
pub const MAX_SIGNATURE_HEADER: usize = 1024;
/// Most signature candidates read from one header.
pub const MAX_SIGNATURE_CANDIDATES: usize = 8;

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
        // A header of many candidates must not cost many passes over the body: its size and
        // the number of candidates are capped, each secret's MAC is computed once, and every
        // candidate is compared with every MAC in constant time.
        if sig_header.len() > MAX_SIGNATURE_HEADER {
            return Err(WebhookError::BadSignature);
        }
        let candidates: Vec<&str> = sig_header.split(' ').filter(|c| !c.is_empty()).collect();
        if candidates.len() > MAX_SIGNATURE_CANDIDATES {
            return Err(WebhookError::BadSignature);
        }
        let decoded: Vec<Vec<u8>> = candidates
            .iter()
            .filter_map(|c| c.strip_prefix("v1,"))
            .filter_map(|b64| B64.decode(b64).ok())
            .filter(|sig| sig.len() == 32) // an empty or truncated signature never matches
            .collect();
        if decoded.is_empty() {
            return Err(WebhookError::BadSignature);
        }
        let mut matched = subtle::Choice::from(0);
        for secret in &self.secrets {
            let expected = secret.mac(id, ts_raw, body).finalize().into_bytes();
            for sig in &decoded {
                matched |= subtle::ConstantTimeEq::ct_eq(expected.as_slice(), sig.as_slice());
            }
        }
        if bool::from(matched) { Ok(()) } else { Err(WebhookError::BadSignature) }
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
    fn many_candidates_are_refused_before_any_work() {
        let s = secret();
        let v = StandardVerifier::new(vec![s.clone()], 300);
        let body = vec![b'x'; 250 * 1024];
        let sig = sign_standard(&s, "id1", 1000, &body);
        let fake = format!("v1,{}", B64.encode([0u8; 32]));
        // Up to the cap, the good one anywhere among them passes.
        let some = format!("{} {sig}", [fake.as_str(); MAX_SIGNATURE_CANDIDATES - 1].join(" "));
        assert_eq!(v.verify(Some("id1"), Some("1000"), Some(&some), &body, 1000), Ok(()));
        // Over it, or over the header's length, refused even with the good one in.
        let many = format!("{} {sig}", [fake.as_str(); MAX_SIGNATURE_CANDIDATES].join(" "));
        assert!(many.len() < MAX_SIGNATURE_HEADER);
        assert_eq!(
            v.verify(Some("id1"), Some("1000"), Some(&many), &body, 1000),
            Err(WebhookError::BadSignature)
        );
        let long = format!("{sig} {}", "v1,x".repeat(MAX_SIGNATURE_HEADER / 4));
        assert_eq!(
            v.verify(Some("id1"), Some("1000"), Some(&long), &body, 1000),
            Err(WebhookError::BadSignature)
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
