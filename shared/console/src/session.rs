//! Console sessions: an API key, checked once at sign-in, exchanged for a signed cookie.
//!
//! The cookie (`mw_session`) is `v1.<payload>.<mac>`: the payload names the key by its
//! fingerprint, the principal, a random session id and the expiry; the MAC is HMAC-SHA256 under
//! the console secret. Nothing secret is in it, and it cannot be forged or extended. Each request
//! looks the key up again by its fingerprint, so removing a key ends its sessions, and takes the
//! key's scope as configured now. The cookie is `HttpOnly`, `SameSite=Strict`, `Path=/console`,
//! and `Secure` unless the console is on a loopback host.
//!
//! CSRF: every form carries a token derived from the session id (HMAC under the same secret,
//! another label), checked in constant time before the form is read further. The sign-in form,
//! before any session exists, is bound the same way to a short-lived `mw_login` cookie.

use std::time::Duration;

use axum::http::HeaderMap;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD as B64;
use hmac::{Hmac, KeyInit, Mac};
use myloware::time::Timestamp;
use myloware_http::{ApiKeys, Caller};
use rand::RngCore;
use serde::{Deserialize, Serialize};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// The session cookie's name.
pub const SESSION_COOKIE: &str = "mw_session";
/// The sign-in form's cookie.
pub const LOGIN_COOKIE: &str = "mw_login";
/// How long a sign-in form stays usable.
pub const LOGIN_TTL: Duration = Duration::from_secs(600);

/// The console's signing secret and session lifetime.
#[derive(Clone)]
pub struct Sessions {
    secret: Vec<u8>,
    ttl: Duration,
}

impl std::fmt::Debug for Sessions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sessions").field("ttl", &self.ttl).finish_non_exhaustive()
    }
}

/// A signed-in person: the key's caller as configured now, and the session's id.
#[derive(Debug, Clone)]
pub struct Session {
    /// Who, with the key's current scope.
    pub caller: Caller,
    /// The session id (CSRF tokens derive from it).
    pub sid: String,
    /// When it ends.
    pub expires: Timestamp,
}

#[derive(Serialize, Deserialize)]
struct Payload {
    /// The key's fingerprint.
    f: String,
    /// The session id.
    s: String,
    /// Expiry, unix milliseconds.
    e: i64,
}

/// Why a session cookie was not accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refused {
    /// No cookie.
    Missing,
    /// Malformed or not signed by us.
    Invalid,
    /// Past its expiry.
    Expired,
    /// Its key is no longer configured.
    Revoked,
}

impl Sessions {
    /// Sessions signed with `secret` (at least 16 bytes), lasting `ttl`.
    pub fn new(secret: Vec<u8>, ttl: Duration) -> Self {
        assert!(secret.len() >= 16, "a console secret has at least 16 bytes");
        Self { secret, ttl }
    }

    /// Sessions under a random secret (one process: they end when it stops).
    pub fn ephemeral(ttl: Duration) -> Self {
        let mut secret = vec![0u8; 32];
        rand::rng().fill_bytes(&mut secret);
        Self::new(secret, ttl)
    }

    fn mac(&self, label: &str, data: &[u8]) -> Vec<u8> {
        let mut m = <Hmac<Sha256> as KeyInit>::new_from_slice(&self.secret).expect("any key");
        m.update(label.as_bytes());
        m.update(b"\0");
        m.update(data);
        m.finalize().into_bytes().to_vec()
    }

    /// A new session for `caller` at `now`: the cookie value and the session.
    pub fn open(&self, caller: Caller, now: Timestamp) -> (String, Session) {
        let sid = random_id();
        let expires = now.plus(self.ttl);
        let payload = Payload { f: caller.fingerprint.clone(), s: sid.clone(), e: expires.0 };
        let body = B64.encode(serde_json::to_vec(&payload).expect("serialises"));
        let mac = B64.encode(self.mac("session", body.as_bytes()));
        (format!("v1.{body}.{mac}"), Session { caller, sid, expires })
    }

    /// The session a request's cookie carries, checked against the keys configured now.
    pub fn check(
        &self,
        headers: &HeaderMap,
        keys: &ApiKeys,
        now: Timestamp,
    ) -> Result<Session, Refused> {
        let value = cookie(headers, SESSION_COOKIE).ok_or(Refused::Missing)?;
        let mut parts = value.split('.');
        let (Some("v1"), Some(body), Some(mac), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return Err(Refused::Invalid);
        };
        let given = B64.decode(mac).map_err(|_| Refused::Invalid)?;
        if !bool::from(self.mac("session", body.as_bytes()).ct_eq(&given)) {
            return Err(Refused::Invalid);
        }
        let bytes = B64.decode(body).map_err(|_| Refused::Invalid)?;
        let p: Payload = serde_json::from_slice(&bytes).map_err(|_| Refused::Invalid)?;
        if p.e <= now.0 {
            return Err(Refused::Expired);
        }
        let caller = keys.caller_by_fingerprint(&p.f).ok_or(Refused::Revoked)?;
        Ok(Session { caller, sid: p.s, expires: Timestamp(p.e) })
    }

    /// The CSRF token of forms in session `sid`.
    pub fn csrf(&self, sid: &str) -> String {
        B64.encode(self.mac("csrf", sid.as_bytes()))
    }

    /// True when `token` is the CSRF token of session `sid` (constant time).
    pub fn csrf_ok(&self, sid: &str, token: &str) -> bool {
        let want = self.csrf(sid);
        bool::from(want.as_bytes().ct_eq(token.as_bytes()))
    }

    /// A fresh sign-in nonce (the `mw_login` cookie) and the form's token for it.
    pub fn login_form(&self) -> (String, String) {
        let nonce = random_id();
        let token = B64.encode(self.mac("login", nonce.as_bytes()));
        (nonce, token)
    }

    /// True when `token` is the sign-in form's token for the request's `mw_login` cookie.
    pub fn login_ok(&self, headers: &HeaderMap, token: &str) -> bool {
        let Some(nonce) = cookie(headers, LOGIN_COOKIE) else { return false };
        let want = B64.encode(self.mac("login", nonce.as_bytes()));
        bool::from(want.as_bytes().ct_eq(token.as_bytes()))
    }

    /// The session's lifetime.
    pub fn ttl(&self) -> Duration {
        self.ttl
    }
}

fn random_id() -> String {
    let mut b = [0u8; 16];
    rand::rng().fill_bytes(&mut b);
    B64.encode(b)
}

/// The value of cookie `name` in the request.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == name)
        .map(|(_, v)| v)
}

/// True when the request came to a loopback host (cookies without `Secure` only there).
pub fn is_loopback(headers: &HeaderMap) -> bool {
    let host = headers.get(axum::http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("");
    let name = match host.strip_prefix('[') {
        Some(v6) => v6.split(']').next().unwrap_or(""),
        None => host.split(':').next().unwrap_or(""),
    };
    name == "localhost" || name.parse::<std::net::IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A `Set-Cookie` value: `HttpOnly`, `SameSite=Strict`, under `/console`, `Secure` off
/// loopback; `max_age` zero deletes it.
pub fn set_cookie(name: &str, value: &str, max_age: Duration, headers: &HeaderMap) -> String {
    let secure = if is_loopback(headers) { "" } else { "; Secure" };
    format!(
        "{name}={value}; Path=/console; Max-Age={}; HttpOnly; SameSite=Strict{secure}",
        max_age.as_secs()
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;

    fn keys() -> ApiKeys {
        ApiKeys::new(["alice-key@alice", "ops-key:operator"])
    }

    fn with_cookie(v: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert("cookie", HeaderValue::from_str(&format!("a=b; {SESSION_COOKIE}={v}")).unwrap());
        h
    }

    #[test]
    fn a_session_round_trips_and_nothing_else_passes() {
        let s = Sessions::ephemeral(Duration::from_secs(60));
        let keys = keys();
        let caller = keys.check_key("alice-key").unwrap();
        let now = Timestamp(1_000_000);
        let (value, session) = s.open(caller.clone(), now);
        let back = s.check(&with_cookie(&value), &keys, now).unwrap();
        assert_eq!((back.caller, back.sid.clone()), (caller, session.sid.clone()));
        assert!(s.csrf_ok(&back.sid, &s.csrf(&session.sid)));
        assert!(!s.csrf_ok(&back.sid, &s.csrf("another")));
        assert!(!s.csrf_ok(&back.sid, ""));
        // Expired, tampered, signed by another secret, or for a key no longer configured.
        let later = now.plus(Duration::from_secs(61));
        assert_eq!(s.check(&with_cookie(&value), &keys, later).unwrap_err(), Refused::Expired);
        let mut tampered = value.clone();
        tampered.insert(5, 'A');
        assert_eq!(s.check(&with_cookie(&tampered), &keys, now).unwrap_err(), Refused::Invalid);
        let other = Sessions::ephemeral(Duration::from_secs(60));
        assert_eq!(other.check(&with_cookie(&value), &keys, now).unwrap_err(), Refused::Invalid);
        let fewer = ApiKeys::new(["ops-key:operator"]);
        assert_eq!(s.check(&with_cookie(&value), &fewer, now).unwrap_err(), Refused::Revoked);
        assert_eq!(s.check(&HeaderMap::new(), &keys, now).unwrap_err(), Refused::Missing);
    }

    #[test]
    fn cookies_are_secure_off_loopback() {
        let mut h = HeaderMap::new();
        for (host, secure) in [
            ("127.0.0.1:8080", false),
            ("localhost", false),
            ("[::1]:9", false),
            ("x.example.com", true),
        ] {
            h.insert("host", HeaderValue::from_static(host));
            let c = set_cookie(SESSION_COOKIE, "v", Duration::from_secs(5), &h);
            assert!(c.contains("HttpOnly") && c.contains("SameSite=Strict"), "{c}");
            assert_eq!(c.ends_with("; Secure"), secure, "{host}: {c}");
        }
    }
}
