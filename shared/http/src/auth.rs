//! API keys (`X-API-Key`), held only as SHA-256 digests and compared in constant time. A key may
//! carry a scope: `operator` (resume and fork runs: actions that restart work on a run) or
//! `admin` (everything `operator` may, and `/v1/admin/*`).

use axum::http::{HeaderMap, StatusCode};
use sha2::{Digest, Sha256};
use subtle::{Choice, ConstantTimeEq};

use crate::ApiError;

/// What a key may do beyond the runs API.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Default)]
pub enum Scope {
    /// Start, read, decide and cancel runs.
    #[default]
    Runs,
    /// Also resume and fork runs.
    Operator,
    /// Also the admin API (audit log, DLQ).
    Admin,
}

impl Scope {
    fn name(self) -> &'static str {
        match self {
            Scope::Runs => "runs",
            Scope::Operator => "operator",
            Scope::Admin => "admin",
        }
    }
}

#[derive(Clone, Debug)]
struct Key {
    digest: [u8; 32],
    scope: Scope,
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
    /// What the key may do.
    pub scope: Scope,
}

fn split_scope(entry: &str) -> (&str, Scope) {
    match entry.rsplit_once(':') {
        Some((k, "admin")) => (k, Scope::Admin),
        Some((k, "operator")) => (k, Scope::Operator),
        _ => (entry, Scope::Runs),
    }
}

/// The config entry for a key: `<sha256 hex>`, `<sha256 hex>:operator` or `<sha256 hex>:admin`.
pub fn hash_entry(key: &str, scope: Scope) -> String {
    let hex = hex::encode(Sha256::digest(key.as_bytes()));
    match scope {
        Scope::Runs => hex,
        other => format!("{hex}:{}", other.name()),
    }
}

impl ApiKeys {
    /// Keys from plain values (`key` or `key:admin`; for development: production stores hashes).
    pub fn new<I: IntoIterator<Item = S>, S: AsRef<str>>(plain: I) -> Self {
        let keys = plain
            .into_iter()
            .filter(|k| !k.as_ref().is_empty())
            .map(|k| {
                let (key, scope) = split_scope(k.as_ref());
                Key { digest: Sha256::digest(key.as_bytes()).into(), scope }
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
            let (hex_digest, scope) = split_scope(h.as_ref());
            let bytes =
                hex::decode(hex_digest).map_err(|_| format!("{hex_digest:?} is not hex"))?;
            let digest: [u8; 32] =
                bytes.try_into().map_err(|_| "a SHA-256 digest is 64 hex characters".to_owned())?;
            self.keys.push(Key { digest, scope });
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
        let (mut found, mut operator, mut admin) =
            (Choice::from(0), Choice::from(0), Choice::from(0));
        for k in &self.keys {
            let hit = k.digest.ct_eq(&d);
            found |= hit;
            operator |= hit & Choice::from((k.scope >= Scope::Operator) as u8);
            admin |= hit & Choice::from((k.scope == Scope::Admin) as u8);
        }
        if !bool::from(found) {
            return Err(ApiError::new(
                StatusCode::UNAUTHORIZED,
                "unauthorized",
                "invalid X-API-Key",
            ));
        }
        let scope = match (bool::from(admin), bool::from(operator)) {
            (true, _) => Scope::Admin,
            (_, true) => Scope::Operator,
            _ => Scope::Runs,
        };
        Ok(Caller {
            fingerprint: format!("key:{}", hex::encode(&d[..4])),
            admin: scope == Scope::Admin,
            scope,
        })
    }

    /// Check the key and require the admin scope.
    pub fn check_admin(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        self.check_scope(headers, Scope::Admin)
    }

    /// Check the key and require the operator scope (or admin).
    pub fn check_operator(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        self.check_scope(headers, Scope::Operator)
    }

    fn check_scope(&self, headers: &HeaderMap, needed: Scope) -> Result<Caller, ApiError> {
        let caller = self.check(headers)?;
        if caller.scope < needed {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("this key lacks the {} scope", needed.name()),
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
        let keys = ApiKeys::new(["dev", "ops:admin", "oncall:operator"])
            .with_hashes([hash_entry("prod", Scope::Runs), hash_entry("root", Scope::Admin)])
            .unwrap();
        assert_eq!(keys.check(&headers("oncall")).unwrap().scope, Scope::Operator);
        assert!(keys.check_operator(&headers("oncall")).is_ok());
        assert!(keys.check_operator(&headers("ops")).is_ok(), "admin implies operator");
        assert_eq!(keys.check_operator(&headers("dev")).unwrap_err().code, "forbidden");
        assert_eq!(keys.check_admin(&headers("oncall")).unwrap_err().code, "forbidden");
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
