//! Operators (operator scope): stalled and failed runs with their errors and a resume button;
//! admins also see the DLQ with replay and resolve. Each action checks the form's CSRF token
//! and the key's scope first, goes through the engine as the API's does, and is audited with
//! the principal.

use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::Response;
use std::sync::Arc;

use myloware::domain::RunStatus;
use myloware::ports::{DeadLetters, ListQuery};
use myloware::time::Timestamp;
use myloware_http::{ApiError, Scope};
use serde::Deserialize;

use crate::Console;
use crate::decide::actor;
use crate::respond::{ConsoleError, Fields, SignedIn, page, see_other};
use crate::runs::visible;
use crate::session::Session;
use crate::views::{DlqRow, Flash, Nav, OpsPage, ProblemRow, age, short};

#[derive(Deserialize)]
pub(crate) struct Said {
    done: Option<String>,
}

fn require(session: &Session, scope: Scope) -> Result<(), ConsoleError> {
    Ok(session.caller.require(scope)?)
}

/// `GET /console/ops?done=`.
pub(crate) async fn page_of(
    State(st): State<Console>,
    SignedIn(session): SignedIn,
    Query(q): Query<Said>,
) -> Result<Response, ConsoleError> {
    require(&session, Scope::Operator)?;
    let engine = &st.app.engine;
    let now = engine.clock.now();
    let mut problems = Vec::new();
    for status in [RunStatus::Stalled, RunStatus::Failed] {
        let q = ListQuery { status: Some(status), owner: None, limit: 50, cursor: None };
        for r in engine.list_runs(&q).await?.runs {
            problems.push(ProblemRow {
                id: r.run_id.to_string(),
                short_id: short(&r.run_id.to_string()),
                project: r.project.as_str().to_owned(),
                status: r.status.as_str(),
                step: r.step.as_str(),
                error: r.error.map(|e| format!("{}: {}", e.code, e.message)).unwrap_or_default(),
                age: age(now, r.created_at),
            });
        }
    }
    let (dlq, dlq_note) = match (&st.app.dlq, session.caller.scope >= Scope::Admin) {
        (_, false) => (vec![], Some("The DLQ is for keys with the admin scope.".to_owned())),
        (None, true) => (vec![], Some("This server has no DLQ.".to_owned())),
        (Some(d), true) => {
            let rows: Vec<DlqRow> = engine
                .dlq_list(d.as_ref(), 100)
                .await?
                .into_iter()
                .map(|m| DlqRow {
                    message_id: m.message_id,
                    run_id: m.run_id.map(|r| r.to_string()),
                    step: m.step.map(|s| s.as_str().to_owned()).unwrap_or_default(),
                    status: m.status.map(|s| s.as_str().to_owned()).unwrap_or_default(),
                    error: m
                        .error
                        .map(|e| format!("{}: {}", e.code, e.message))
                        .unwrap_or_default(),
                    age: m
                        .age_secs
                        .map(|s| age(now, Timestamp(now.0 - s as i64 * 1000)))
                        .unwrap_or_default(),
                })
                .collect();
            let note = rows.is_empty().then(|| "Empty.".to_owned());
            (rows, note)
        }
    };
    let csrf = st.sessions.csrf(&session.sid);
    let flash = q.done.map(|text| Flash { kind: "ok", text });
    let t = OpsPage {
        nav: Some(Nav::of(&session, csrf.clone())),
        csrf,
        flash,
        problems,
        dlq,
        dlq_note,
    };
    Ok(page(StatusCode::OK, &t))
}

/// `POST /console/runs/{id}/resume` `csrf` (operator scope).
pub(crate) async fn resume(
    State(st): State<Console>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    form: Fields,
) -> Result<Response, ConsoleError> {
    form.check_csrf(&st, &session)?;
    require(&session, Scope::Operator)?;
    let run = visible(&st, &session, &id).await?;
    st.app.engine.resume(&run.run_id, &actor(&session), None).await?;
    Ok(see_other(&format!("/console/runs/{}", run.run_id)))
}

/// `POST /console/dlq/{message_id}/replay` `csrf` (admin scope).
pub(crate) async fn replay(
    State(st): State<Console>,
    SignedIn(session): SignedIn,
    Path(message_id): Path<String>,
    form: Fields,
) -> Result<Response, ConsoleError> {
    let dlq = admin_dlq(&st, &session, &form)?;
    st.app.engine.dlq_replay(dlq.as_ref(), &message_id, &actor(&session)).await?;
    Ok(see_other("/console/ops?done=replayed"))
}

/// `POST /console/dlq/{message_id}/resolve` `csrf`, `reason` (admin scope).
pub(crate) async fn resolve(
    State(st): State<Console>,
    SignedIn(session): SignedIn,
    Path(message_id): Path<String>,
    form: Fields,
) -> Result<Response, ConsoleError> {
    let dlq = admin_dlq(&st, &session, &form)?;
    let reason = form.get("reason").map(str::trim).filter(|r| !r.is_empty()).map(str::to_owned);
    st.app.engine.dlq_resolve(dlq.as_ref(), &message_id, &actor(&session), reason).await?;
    Ok(see_other("/console/ops?done=resolved"))
}

/// A DLQ form's checks, in order: its CSRF token, the admin scope, a DLQ to act on.
fn admin_dlq(
    st: &Console,
    session: &Session,
    form: &Fields,
) -> Result<Arc<dyn DeadLetters>, ConsoleError> {
    form.check_csrf(st, session)?;
    require(session, Scope::Admin)?;
    st.app.dlq.clone().ok_or_else(|| {
        let why = "this server has no DLQ";
        ApiError::new(StatusCode::NOT_IMPLEMENTED, "dlq_not_configured", why).into()
    })
}
