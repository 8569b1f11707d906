//! HTTP helpers for the console's tests: forms in, pages and cookies out.
#![allow(dead_code)]

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Request, StatusCode};
use http_body_util::BodyExt;
use tower::ServiceExt;

pub struct Answer {
    pub status: StatusCode,
    pub headers: HeaderMap,
    pub body: String,
}

impl Answer {
    pub fn cookie(&self, name: &str) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find(|c| c.starts_with(&format!("{name}=")))
            .map(|c| c.split(';').next().unwrap().to_owned())
    }
    pub fn location(&self) -> &str {
        self.headers.get("location").and_then(|v| v.to_str().ok()).unwrap_or("")
    }
    /// The value of the first `name` form field.
    pub fn field(&self, name: &str) -> String {
        let marker = format!("name=\"{name}\" value=\"");
        let start = self.body.find(&marker).unwrap_or_else(|| panic!("no {name} in {}", self.body));
        let rest = &self.body[start + marker.len()..];
        rest[..rest.find('"').unwrap()].to_owned()
    }
}

pub async fn send(
    router: &Router,
    method: &str,
    path: &str,
    cookie: &str,
    form: &[(&str, &str)],
) -> Answer {
    let mut req = Request::builder().method(method).uri(path).header("host", "127.0.0.1:8080");
    if !cookie.is_empty() {
        req = req.header("cookie", cookie);
    }
    let body = if method == "POST" {
        req = req.header("content-type", "application/x-www-form-urlencoded");
        form.iter().map(|(k, v)| format!("{}={}", enc(k), enc(v))).collect::<Vec<_>>().join("&")
    } else {
        String::new()
    };
    let resp = router.clone().oneshot(req.body(Body::from(body)).unwrap()).await.unwrap();
    let (parts, body) = resp.into_parts();
    let bytes = body.collect().await.unwrap().to_bytes();
    Answer {
        status: parts.status,
        headers: parts.headers,
        body: String::from_utf8_lossy(&bytes).into(),
    }
}

pub fn enc(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Sign in with `key`: the session cookie.
pub async fn sign_in(router: &Router, key: &str) -> String {
    let form = send(router, "GET", "/console/login", "", &[]).await;
    assert_eq!(form.status, StatusCode::OK);
    let login = form.cookie("mw_login").expect("the sign-in form's cookie");
    let csrf = form.field("csrf");
    let done =
        send(router, "POST", "/console/login", &login, &[("csrf", &csrf), ("api_key", key)]).await;
    assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
    done.cookie("mw_session").expect("a session cookie")
}
