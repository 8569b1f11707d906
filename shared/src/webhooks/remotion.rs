//! The Remotion-style scheme: `X-Remotion-Signature: sha512=<hex HMAC-SHA512 of the raw body>`.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha512;

use super::{WebhookError, WebhookSecret};

type HmacSha512 = Hmac<Sha512>;

/// Sign a body: returns the header value `sha512=<hex>`.
pub fn sign_remotion(secret: &WebhookSecret, body: &[u8]) -> String {
    let mut mac = HmacSha512::new_from_slice(secret.key()).expect("any key length");
    mac.update(body);
    format!("sha512={}", hex::encode(mac.finalize().into_bytes()))
}

/// Verifies Remotion signatures against any of several secrets.
#[derive(Debug, Clone)]
pub struct RemotionVerifier {
    secrets: Vec<WebhookSecret>,
}

impl RemotionVerifier {
    /// A verifier for these secrets.
    pub fn new(secrets: Vec<WebhookSecret>) -> Self {
        Self { secrets }
    }

    /// Verify the signature header (with or without the `sha512=` prefix) over `body`.
    pub fn verify(&self, signature: Option<&str>, body: &[u8]) -> Result<(), WebhookError> {
        if self.secrets.is_empty() {
            return Err(WebhookError::NoSecret("remotion"));
        }
        let header = signature
            .map(str::trim)
            .filter(|v| !v.is_empty())
            .ok_or(WebhookError::MissingHeader("x-remotion-signature"))?;
        let hex_sig = header.strip_prefix("sha512=").unwrap_or(header);
        let sig = hex::decode(hex_sig).map_err(|_| WebhookError::BadSignature)?;
        if sig.len() != 64 {
            return Err(WebhookError::BadSignature);
        }
        for secret in &self.secrets {
            let mut mac = HmacSha512::new_from_slice(secret.key()).expect("any key length");
            mac.update(body);
            if mac.verify_slice(&sig).is_ok() {
                return Ok(());
            }
        }
        Err(WebhookError::BadSignature)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verifies_with_and_without_prefix() {
        let s = WebhookSecret::parse("render-secret").unwrap();
        let body = br#"{"job_id":"r1","status":"done"}"#;
        let sig = sign_remotion(&s, body);
        let v = RemotionVerifier::new(vec![s]);
        assert_eq!(v.verify(Some(&sig), body), Ok(()));
        assert_eq!(v.verify(Some(sig.trim_start_matches("sha512=")), body), Ok(()));
        assert_eq!(v.verify(Some(&sig), b"{}"), Err(WebhookError::BadSignature));
        assert_eq!(v.verify(Some("sha512="), body), Err(WebhookError::BadSignature));
        assert_eq!(v.verify(None, body), Err(WebhookError::MissingHeader("x-remotion-signature")));
        assert_eq!(
            RemotionVerifier::new(vec![]).verify(Some(&sig), body),
            Err(WebhookError::NoSecret("remotion"))
        );
    }
}
