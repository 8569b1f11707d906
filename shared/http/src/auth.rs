//! API keys (`X-API-Key`), compared in constant time over SHA-256 digests.

use axum::http::HeaderMap;
use axum::http::StatusCode;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::ApiError;

/// The accepted keys, held only as digests.
#[derive(Clone, Debug, Default)]
pub struct ApiKeys {
    digests: Vec<[u8; 32]>,
}

impl ApiKeys {
    /// Keys from their plain values (empty values are dropped).
    pub fn new<I: IntoIterator<Item = S>, S: AsRef<str>>(keys: I) -> Self {
        let digests = keys
            .into_iter()
            .filter(|k| !k.as_ref().is_empty())
            .map(|k| Sha256::digest(k.as_ref().as_bytes()).into())
            .collect();
        Self { digests }
    }

    /// Check the request's key; returns a short non-secret fingerprint of the caller's key.
    pub fn check(&self, headers: &HeaderMap) -> Result<String, ApiError> {
        if self.digests.is_empty() {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "api_keys_missing",
                "no API keys are configured (MYLOWARE_API_KEYS); refusing every request",
            ));
        }
        let Some(given) = headers.get("x-api-key").and_then(|v| v.to_str().ok()) else {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "missing X-API-Key",
            ));
        };
        let d: [u8; 32] = Sha256::digest(given.as_bytes()).into();
        let mut ok = subtle::Choice::from(0);
        for k in &self.digests {
            ok |= k.ct_eq(&d);
        }
        if bool::from(ok) {
            Ok(format!("key:{}", hex::encode(&d[..4])))
        } else {
            Err(ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", "invalid X-API-Key"))
        }
    }
}
