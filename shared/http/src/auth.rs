//! API keys (`X-API-Key`), held only as SHA-256 digests and compared in constant time. A key may
//! carry a scope: `operator` (resume and fork runs: actions that restart work on a run; see and
//! act on every principal's runs) or `admin` (everything `operator` may, and `/v1/admin/*`). A
//! key belongs to a principal (`…@alice`; the key's own fingerprint when not named): runs belong
//! to the principal that started them, and a plain key sees only its principal's runs.

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
    /// Stable name (`runs`, `operator`, `admin`).
    pub fn name(self) -> &'static str {
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
    principal: Option<String>,
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
    /// Whose runs it acts on: the principal named in the key's entry, or its fingerprint.
    pub principal: String,
}

/// An entry `key[:scope][@principal]` in its parts; a principal is 1 to 64 of `a-z0-9._-`.
fn split_entry(entry: &str) -> Result<(&str, Scope, Option<String>), String> {
    let (rest, principal) = match entry.rsplit_once('@') {
        Some((rest, p)) => {
            let ok = !p.is_empty()
                && p.len() <= 64
                && p.bytes()
                    .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b"._-".contains(&b));
            if !ok {
                return Err(format!(
                    "{p:?} is not a principal (1 to 64 of a-z, 0-9, '.', '_', '-')"
                ));
            }
            (rest, Some(p.to_owned()))
        }
        None => (entry, None),
    };
    let (key, scope) = match rest.rsplit_once(':') {
        Some((k, "admin")) => (k, Scope::Admin),
        Some((k, "operator")) => (k, Scope::Operator),
        _ => (rest, Scope::Runs),
    };
    Ok((key, scope, principal))
}

/// The config entry for a key: `<sha256 hex>`, `<sha256 hex>:operator` or `<sha256 hex>:admin`
/// (add `@principal` to name whose runs it acts on).
pub fn hash_entry(key: &str, scope: Scope) -> String {
    let hex = hex::encode(Sha256::digest(key.as_bytes()));
    match scope {
        Scope::Runs => hex,
        other => format!("{hex}:{}", other.name()),
    }
}

impl Caller {
    /// The caller of the key whose digest is `digest`.
    fn of(digest: &[u8; 32], scope: Scope, principal: Option<String>) -> Self {
        let fingerprint = format!("key:{}", hex::encode(&digest[..4]));
        Caller {
            principal: principal.unwrap_or_else(|| fingerprint.clone()),
            fingerprint,
            admin: scope == Scope::Admin,
            scope,
        }
    }

    /// Whose runs this key sees: its principal's, or every one for operators and admins.
    pub fn viewer(&self) -> myloware::domain::Viewer {
        myloware::domain::Viewer {
            principal: self.principal.clone(),
            all: self.scope >= Scope::Operator,
        }
    }

    /// Refuse (403) unless the key has `needed` (or more).
    pub fn require(&self, needed: Scope) -> Result<(), ApiError> {
        if self.scope < needed {
            return Err(ApiError::new(
                StatusCode::FORBIDDEN,
                "forbidden",
                format!("this key lacks the {} scope", needed.name()),
            ));
        }
        Ok(())
    }
}

/// The API's first layer: the key is checked before anything of the request — method, query,
/// content type, body — is looked at, so a caller without a valid key learns nothing (401
/// whatever it sent). The caller rides on the request for the handlers ([`Caller`] extractor).
pub(crate) async fn layer(
    axum::extract::State(st): axum::extract::State<crate::AppState>,
    mut req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse;
    match st.api_keys.check(req.headers()) {
        Ok(caller) => {
            req.extensions_mut().insert(caller);
            next.run(req).await
        }
        Err(e) => e.into_response(),
    }
}

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for Caller {
    type Rejection = ApiError;

    async fn from_request_parts(
        parts: &mut axum::http::request::Parts,
        _: &S,
    ) -> Result<Self, ApiError> {
        parts.extensions.get::<Caller>().cloned().ok_or_else(|| {
            ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "internal",
                "a route of the API was served without its key check",
            )
        })
    }
}

impl ApiKeys {
    /// Keys from plain values (`key[:scope][@principal]`; for development: production stores
    /// hashes). An entry with a malformed principal is refused.
    pub fn new<I: IntoIterator<Item = S>, S: AsRef<str>>(plain: I) -> Self {
        Self::parse_plain(plain).unwrap_or_else(|e| panic!("API key entry: {e}"))
    }

    /// Keys from plain values, or what is wrong with one.
    pub fn parse_plain<I: IntoIterator<Item = S>, S: AsRef<str>>(plain: I) -> Result<Self, String> {
        let mut keys = Vec::new();
        for k in plain.into_iter().filter(|k| !k.as_ref().is_empty()) {
            let (key, scope, principal) = split_entry(k.as_ref())?;
            keys.push(Key { digest: Sha256::digest(key.as_bytes()).into(), scope, principal });
        }
        Ok(Self { keys })
    }

    /// Add keys given as digests (`<64 hex>` or `<64 hex>:admin`).
    pub fn with_hashes<I: IntoIterator<Item = S>, S: AsRef<str>>(
        mut self,
        hashes: I,
    ) -> Result<Self, String> {
        for h in hashes {
            let (hex_digest, scope, principal) = split_entry(h.as_ref())?;
            let bytes =
                hex::decode(hex_digest).map_err(|_| format!("{hex_digest:?} is not hex"))?;
            let digest: [u8; 32] =
                bytes.try_into().map_err(|_| "a SHA-256 digest is 64 hex characters".to_owned())?;
            self.keys.push(Key { digest, scope, principal });
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
        let mut principal = None;
        for k in &self.keys {
            let hit = k.digest.ct_eq(&d);
            found |= hit;
            operator |= hit & Choice::from((k.scope >= Scope::Operator) as u8);
            admin |= hit & Choice::from((k.scope == Scope::Admin) as u8);
            // Not secret (a name from the configuration): taken from the key that matched.
            if bool::from(hit) {
                principal = k.principal.clone();
            }
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
        Ok(Caller::of(&d, scope, principal))
    }

    /// Check a key given in a form (the console's sign-in) as a request's header is checked.
    pub fn check_key(&self, key: &str) -> Result<Caller, ApiError> {
        let mut headers = HeaderMap::new();
        if let Ok(v) = axum::http::HeaderValue::from_str(key.trim()) {
            headers.insert("x-api-key", v);
        }
        self.check(&headers)
    }

    /// The caller of the configured key with this fingerprint (a console session names its
    /// key so): `None` once the key is no longer configured, which ends its sessions.
    pub fn caller_by_fingerprint(&self, fingerprint: &str) -> Option<Caller> {
        self.keys
            .iter()
            .map(|k| Caller::of(&k.digest, k.scope, k.principal.clone()))
            .find(|c| c.fingerprint == fingerprint)
    }

    /// Check the key and require the admin scope (for routes outside the authenticated API,
    /// such as the deep health check).
    pub fn check_admin(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        self.check_scope(headers, Scope::Admin)
    }

    /// Check the key and require the operator scope (or admin).
    pub fn check_operator(&self, headers: &HeaderMap) -> Result<Caller, ApiError> {
        self.check_scope(headers, Scope::Operator)
    }

    fn check_scope(&self, headers: &HeaderMap, needed: Scope) -> Result<Caller, ApiError> {
        let caller = self.check(headers)?;
        caller.require(needed)?;
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

    #[test]
    fn keys_name_their_principal() {
        let keys = ApiKeys::parse_plain(["a1@alice", "a2:operator@alice", "b1"]).unwrap();
        let (a1, a2, b1) = (
            keys.check(&headers("a1")).unwrap(),
            keys.check(&headers("a2")).unwrap(),
            keys.check(&headers("b1")).unwrap(),
        );
        assert_eq!((a1.principal.as_str(), a2.principal.as_str()), ("alice", "alice"));
        assert_eq!((a1.scope, a2.scope), (Scope::Runs, Scope::Operator));
        assert_eq!(b1.principal, b1.fingerprint, "unnamed: the key's own fingerprint");
        let hashed = ApiKeys::default()
            .with_hashes([format!("{}@bob", hash_entry("k", Scope::Admin))])
            .unwrap();
        let bob = hashed.check(&headers("k")).unwrap();
        assert_eq!((bob.principal.as_str(), bob.scope), ("bob", Scope::Admin));
        assert!(ApiKeys::parse_plain(["k@Not Valid"]).unwrap_err().contains("not a principal"));
    }
}
