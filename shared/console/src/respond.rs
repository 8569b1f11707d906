//! Answers: pages with their status, the console's error pages and redirects, security headers
//! on everything, the static files, and the signed-in extractor.

use askama::Template;
use axum::extract::{FromRequestParts, Request};
use axum::http::header::{CACHE_CONTROL, CONTENT_TYPE, LOCATION};
use axum::http::{HeaderValue, Method, StatusCode, request::Parts};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use myloware_http::ApiError;

use crate::Console;
use crate::session::{Refused, Session};
use crate::views::MessagePage;

/// Scripts only from the console itself (none inline), media from here or a presigned store
/// URL, forms only back here, never framed.
const CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
    media-src 'self' https:; connect-src 'self'; form-action 'self'; frame-ancestors 'none'; \
    base-uri 'none'";

/// Security headers on every console answer; pages are never cached (they hold a CSRF token and
/// a person's runs).
pub(crate) async fn headers(req: Request, next: Next) -> Response {
    let is_static = req.uri().path().starts_with("/console/static/");
    let mut resp = next.run(req).await;
    let h = resp.headers_mut();
    h.insert("content-security-policy", HeaderValue::from_static(CSP));
    h.insert("x-content-type-options", HeaderValue::from_static("nosniff"));
    h.insert("x-frame-options", HeaderValue::from_static("DENY"));
    h.insert("referrer-policy", HeaderValue::from_static("same-origin"));
    let cache = if is_static { "public, max-age=300" } else { "no-store" };
    h.insert(CACHE_CONTROL, HeaderValue::from_static(cache));
    resp
}

/// `/console/static/console.css`.
pub(crate) async fn css() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/css; charset=utf-8")], include_str!("../static/console.css"))
}

/// `/console/static/console.js`.
pub(crate) async fn js() -> impl IntoResponse {
    ([(CONTENT_TYPE, "text/javascript; charset=utf-8")], include_str!("../static/console.js"))
}

/// A rendered page with `status`.
pub(crate) fn page(status: StatusCode, t: &impl Template) -> Response {
    match t.render() {
        Ok(body) => (status, [(CONTENT_TYPE, "text/html; charset=utf-8")], body).into_response(),
        Err(e) => {
            tracing::error!(error = %e, "a console page did not render");
            (StatusCode::INTERNAL_SERVER_ERROR, "the page could not be rendered").into_response()
        }
    }
}

/// A `303 See Other` to `to` (after a form, or to sign in).
pub(crate) fn see_other(to: &str) -> Response {
    let location = HeaderValue::from_str(to).unwrap_or(HeaderValue::from_static("/console/runs"));
    (StatusCode::SEE_OTHER, [(LOCATION, location)]).into_response()
}

/// Why a console request was refused.
#[derive(Debug)]
pub(crate) enum ConsoleError {
    /// No usable session: a page asks to sign in (303 to the sign-in form), anything else is
    /// refused (401) without acting.
    SignIn { get: bool, next: String, why: Refused },
    /// A form without its CSRF token, or with another session's.
    Csrf,
    /// What the API would answer (404 for another principal's run, 409, 422, …).
    Api(ApiError),
}

impl From<ApiError> for ConsoleError {
    fn from(e: ApiError) -> Self {
        ConsoleError::Api(e)
    }
}

impl From<myloware::engine::EngineError> for ConsoleError {
    fn from(e: myloware::engine::EngineError) -> Self {
        ConsoleError::Api(e.into())
    }
}

impl IntoResponse for ConsoleError {
    fn into_response(self) -> Response {
        match self {
            ConsoleError::SignIn { get: true, next, .. } => {
                see_other(&format!("/console/login?next={}", encode(&next)))
            }
            ConsoleError::SignIn { get: false, why, .. } => {
                let detail = match why {
                    Refused::Expired => "Your session has ended. Sign in again; nothing was done.",
                    _ => "You are not signed in (or your key was removed); nothing was done.",
                };
                message(StatusCode::UNAUTHORIZED, "Sign in again", detail)
            }
            ConsoleError::Csrf => message(
                StatusCode::FORBIDDEN,
                "Form refused",
                "The form did not carry this session's token (an old page, or another site). \
                 Nothing was done; reload the page and try again.",
            ),
            ConsoleError::Api(e) => {
                let heading = match e.status {
                    StatusCode::NOT_FOUND => "Not found",
                    StatusCode::FORBIDDEN => "Not allowed",
                    s if s.is_server_error() => "Something went wrong",
                    _ => "Refused",
                };
                if e.status.is_server_error() {
                    tracing::error!(code = %e.code, detail = %e.detail, "console request failed");
                }
                message(e.status, heading, &e.detail)
            }
        }
    }
}

fn message(status: StatusCode, heading: &str, detail: &str) -> Response {
    let t = MessagePage {
        nav: None,
        heading: heading.into(),
        detail: detail.into(),
        link: "/console/runs".into(),
        link_text: "Back to the runs".into(),
    };
    page(status, &t)
}

/// Percent-encode a path for a query string.
pub(crate) fn encode(s: &str) -> String {
    s.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' | b'/' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// A signed-in person (the extractor refuses everyone else; see [`ConsoleError::SignIn`]).
pub(crate) struct SignedIn(pub Session);

impl FromRequestParts<Console> for SignedIn {
    type Rejection = ConsoleError;

    async fn from_request_parts(parts: &mut Parts, st: &Console) -> Result<Self, ConsoleError> {
        let now = st.app.engine.clock.now();
        st.sessions.check(&parts.headers, &st.app.api_keys, now).map(SignedIn).map_err(|why| {
            ConsoleError::SignIn {
                get: parts.method == Method::GET,
                next: parts.uri.path().to_owned(),
                why,
            }
        })
    }
}

/// A submitted form's fields, in order (a name may repeat).
pub(crate) struct Fields(pub Vec<(String, String)>);

impl Fields {
    /// The first value of `name`.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    /// Refuse the form unless it carries `session`'s CSRF token: before anything else of it is
    /// looked at.
    pub fn check_csrf(&self, st: &Console, session: &Session) -> Result<(), ConsoleError> {
        match self.get("csrf") {
            Some(t) if st.sessions.csrf_ok(&session.sid, t) => Ok(()),
            _ => Err(ConsoleError::Csrf),
        }
    }
}

impl<S: Send + Sync> axum::extract::FromRequest<S> for Fields {
    type Rejection = ConsoleError;

    async fn from_request(req: Request, st: &S) -> Result<Self, ConsoleError> {
        match axum::Form::<Vec<(String, String)>>::from_request(req, st).await {
            Ok(axum::Form(v)) => Ok(Fields(v)),
            Err(e) => Err(ConsoleError::Api(ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_form",
                format!("the form could not be read: {e}"),
            ))),
        }
    }
}
