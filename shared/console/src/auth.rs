//! Signing in and out. The sign-in form is bound to a short-lived cookie (its CSRF token), the
//! key is checked as the API checks `X-API-Key`, and a session cookie replaces it; the key is
//! never stored or echoed. Signing out clears the cookie.

use axum::extract::{Query, State};
use axum::http::header::SET_COOKIE;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use crate::Console;
use crate::respond::{ConsoleError, Fields, SignedIn, page, see_other};
use crate::session::{LOGIN_COOKIE, LOGIN_TTL, SESSION_COOKIE, set_cookie};
use crate::views::LoginPage;

#[derive(Deserialize)]
pub(crate) struct Next {
    next: Option<String>,
}

/// Where to go after signing in: a console path only (never another site).
fn next_path(next: Option<&str>) -> String {
    match next {
        Some(p) if p.starts_with("/console/") && !p.starts_with("//") && !p.contains('\\') => {
            p.to_owned()
        }
        _ => "/console/runs".into(),
    }
}

fn login_page(st: &Console, headers: &HeaderMap, next: String, error: Option<String>) -> Response {
    let (nonce, csrf) = st.sessions.login_form();
    let status = if error.is_some() { StatusCode::UNAUTHORIZED } else { StatusCode::OK };
    let mut resp = page(status, &LoginPage { nav: None, csrf, next, error });
    let cookie = set_cookie(LOGIN_COOKIE, &nonce, LOGIN_TTL, headers);
    if let Ok(v) = cookie.parse() {
        resp.headers_mut().append(SET_COOKIE, v);
    }
    resp
}

/// `GET /console/login`.
pub(crate) async fn form(
    State(st): State<Console>,
    headers: HeaderMap,
    Query(q): Query<Next>,
) -> Response {
    login_page(&st, &headers, next_path(q.next.as_deref()), None)
}

/// `POST /console/login` `api_key`, `csrf`, `next`.
pub(crate) async fn sign_in(
    State(st): State<Console>,
    headers: HeaderMap,
    form: Fields,
) -> Result<Response, ConsoleError> {
    if !form.get("csrf").is_some_and(|t| st.sessions.login_ok(&headers, t)) {
        return Err(ConsoleError::Csrf);
    }
    let next = next_path(form.get("next"));
    let key = form.get("api_key").unwrap_or_default();
    let caller = match st.app.api_keys.check_key(key) {
        Ok(c) => c,
        Err(e) if e.status == StatusCode::UNAUTHORIZED => {
            tracing::info!("console sign-in refused: unknown key");
            let why = "That key is not accepted here.".to_owned();
            return Ok(login_page(&st, &headers, next, Some(why)));
        }
        Err(e) => return Err(e.into()),
    };
    let (cookie, session) = st.sessions.open(caller, st.app.engine.clock.now());
    tracing::info!(
        principal = %session.caller.principal,
        key = %session.caller.fingerprint,
        scope = session.caller.scope.name(),
        "console sign-in"
    );
    let mut resp = see_other(&next);
    let h = resp.headers_mut();
    for c in [
        set_cookie(SESSION_COOKIE, &cookie, st.sessions.ttl(), &headers),
        set_cookie(LOGIN_COOKIE, "", std::time::Duration::ZERO, &headers),
    ] {
        if let Ok(v) = c.parse() {
            h.append(SET_COOKIE, v);
        }
    }
    Ok(resp)
}

/// `POST /console/logout` `csrf`.
pub(crate) async fn sign_out(
    State(st): State<Console>,
    SignedIn(session): SignedIn,
    headers: HeaderMap,
    form: Fields,
) -> Result<Response, ConsoleError> {
    form.check_csrf(&st, &session)?;
    let clear = set_cookie(SESSION_COOKIE, "", std::time::Duration::ZERO, &headers);
    Ok(([(SET_COOKIE, clear)], see_other("/console/login")).into_response())
}
