//! API keys (`X-API-Key`), held only as SHA-256 digests and compared in constant time. A key may
//! carry the `admin` scope, which `/v1/admin/*` requires.

use axum::http::{HeaderMap, StatusCode};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::ApiError;

#[derive(Clone, Debug)]
struct Key {
    digest: [u8; 32],
    admin: bool,
}

/// The accepted keys.
#[derive(Clone, Debug, Default)]
pub struct ApiKeys {
    keys: Vec<Key>,
}

/// Who called: a short non-secret fingerprint of the key and its scope.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Caller {
    /// `key:<8 hex>` (first 4 bytes of the digest).
    pub fingerprint: String,
    /// Whether the key has the admin scope.
    pub admin: bool,
}

fn split_scope(entry: &str) -> (&str, bool) {
    match entry.rsplit_once(':') {
        Some((k, "admin")) => (k, true),
        _ => (entry, false),
    }
}

/// The config entry for a key: `<sha256 hex>` or `<sha256 hex>:admin`.
pub fn hash_entry(key: &str, admin: bool) -> String {
    let hex = hex::encode(Sha256::digest(key.as_bytes()));
    if admin { format!("{hex}:admin") } else { hex }
}

impl ApiKeys {
    /// Keys from plain values (`key` or `key:admin`; for development: production stores hashes).
    pub fn new<I: IntoIterator<Item = S>, S: AsRef<str>>(plain: I) -> Self {
        let keys = plain
            .into_iter()
            .filter(|k| !k.as_ref().is_empty())
            .map(|k| {
                let (key, admin) = split_scope(k.as_ref());
                Key { digest: Sha256::digest(key.as_bytes()).into(), admin }
            })
            .collect();
        Self { keys }
    }

    /// Add keys given as digests (`<64 hex>` or `<64 hex>:admin`).
    pub fn with_hashes<I: IntoIterator<Item = S>, S: AsRef<str>>(
        mut self,
        hashes: I,
    ) -> Result<Self, String> {
        for h in hashes {
            let (hex_digest, admin) = split_scope(h.as_ref());
            let bytes =
                hex::decode(hex_digest).map_err(|_| format!("{hex_digest:?} is not hex"))?;
            let digest: [u8; 32] =
                bytes.try_into().map_err(|_| "a SHA-256 digest is 64 hex characters".to_owned())?;
            self.keys.push(Key { digest, admin });
        }
        Ok(self)
    }

    /// Check the request's key.
    pub fn check(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        if self.keys.is_empty() {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "api_keys_missing",
                "no API keys are configured (MYLOWARE_API_KEY_HASHES or MYLOWARE_API_KEYS); refusing every request",
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
        // Look at every key, whatever matched, so timing says nothing about which one did.
        let (mut found, mut admin) = (Choice::from(0), Choice::from(0));
        for k in &self.keys {
            let hit = k.digest.ct_eq(&d);
            found |= hit;
            admin |= hit & Choice::from(k.admin as u8);
        }
        if !bool::from(found) {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "invalid X-API-Key",
            ));
        }
        Ok(Caller {
            fingerprint: format!("key:{}", hex::encode(&d[..4])),
            admin: bool::from(admin),
        })
    }

    /// Check the key and require the admin scope.
    pub fn check_admin(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        let caller = self.check(headers)?;
        if !caller.admin {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                "this key lacks the admin scope",
            ));
        }
        Ok(caller)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(key: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("x-api-key", key.parse().unwrap());
        h
    }

    #[test]
    fn plain_and_hashed_keys_with_scopes() {
        let keys = ApiKeys::new(["dev", "ops:admin"])
            .with_hashes([hash_entry("prod", false), hash_entry("root", true)])
            .unwrap();
        assert!(!keys.check(&headers("dev")).unwrap().admin);
        assert!(keys.check(&headers("ops")).unwrap().admin);
        assert!(!keys.check(&headers("prod")).unwrap().admin);
        assert!(keys.check_admin(&headers("root")).is_ok());
        assert_eq!(keys.check_admin(&headers("prod")).unwrap_err().code, "forbidden");
        assert_eq!(keys.check(&headers("nope")).unwrap_err().code, "unauthorized");
        assert_eq!(keys.check(&HeaderMap::new()).unwrap_err().code, "unauthorized");
        assert_eq!(ApiKeys::default().check(&headers("dev")).unwrap_err().code, "api_keys_missing");
        assert!(ApiKeys::default().with_hashes(["abc"]).is_err());
        assert!(ApiKeys::default().with_hashes(["zz"]).is_err());
        assert!(!keys.check(&headers("dev")).unwrap().fingerprint.contains("dev"));
    }
}
