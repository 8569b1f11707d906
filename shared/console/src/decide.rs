//! Deciding a gate from the console: approve (at the ideation gate with the ideas as edited in
//! the form, checked as the API checks them) or reject, with a comment. The form's CSRF token
//! is checked first; the decision goes through the engine as the API's does and is audited with
//! the principal and key. A refusal (not waiting there any more, invalid ideas, a comment too
//! long) shows the run page again with why and what was submitted; nothing is written.

use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::Response;
use myloware::domain::{Decision, Gate};
use myloware::engine::EngineError;

use crate::Console;
use crate::respond::{ConsoleError, Fields, SignedIn, see_other};
use crate::runs::{render_run, visible};
use crate::session::Session;
use crate::views::{Flash, IdeaClip, IdeasView};

/// `POST /console/runs/{id}/approve` `csrf`, `gate`, `comment`, and at the ideation gate
/// `title`, `caption`, `prompt_N`, `overlay_N`.
pub(crate) async fn approve(
    State(st): State<Console>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    form: Fields,
) -> Result<Response, ConsoleError> {
    decide(st, session, id, form, Decision::Approve).await
}

/// `POST /console/runs/{id}/reject` `csrf`, `gate`, `comment`.
pub(crate) async fn reject(
    State(st): State<Console>,
    SignedIn(session): SignedIn,
    Path(id): Path<String>,
    form: Fields,
) -> Result<Response, ConsoleError> {
    decide(st, session, id, form, Decision::Reject).await
}

/// Who decided, for the audit log: the principal and the key's fingerprint.
pub(crate) fn actor(session: &Session) -> String {
    format!("{} ({}, console)", session.caller.principal, session.caller.fingerprint)
}

/// The ideas as edited in the form, when it has them (`prompt_0`, `prompt_1`, …).
fn edited_ideas(form: &Fields) -> Option<IdeasView> {
    let title = form.get("title")?;
    let clips: Vec<IdeaClip> = (0..)
        .map_while(|n| {
            let prompt = form.get(&format!("prompt_{n}"))?;
            let overlay = form.get(&format!("overlay_{n}")).unwrap_or_default();
            Some(IdeaClip {
                index: n,
                number: n + 1,
                prompt: prompt.into(),
                overlay: overlay.into(),
            })
        })
        .collect();
    let caption = form.get("caption").unwrap_or_default();
    Some(IdeasView { title: title.into(), caption: caption.into(), clips })
}

async fn decide(
    st: Console,
    session: Session,
    id: String,
    form: Fields,
    decision: Decision,
) -> Result<Response, ConsoleError> {
    form.check_csrf(&st, &session)?;
    let run = visible(&st, &session, &id).await?;
    let gate = match form.get("gate") {
        Some("ideation") => Gate::Ideation,
        Some("publish") => Gate::Publish,
        _ => {
            let flash = Flash::error("The form did not say which gate.");
            return render_run(&st, &session, &run, StatusCode::BAD_REQUEST, Some(flash), None)
                .await;
        }
    };
    let comment = form.get("comment").map(str::trim).filter(|c| !c.is_empty()).map(str::to_owned);
    let edit = (decision == Decision::Approve && gate == Gate::Ideation)
        .then(|| edited_ideas(&form))
        .flatten();
    if comment.as_ref().is_some_and(|c| c.chars().count() > 2000) {
        let flash = Flash::error("The comment is longer than 2,000 characters; nothing was done.");
        return render_run(&st, &session, &run, StatusCode::BAD_REQUEST, Some(flash), edit).await;
    }
    let engine = &st.app.engine;
    let who = actor(&session);
    // Approving the ideas as they stand is a plain approval: the edit path is for changes.
    let unchanged = edit.as_ref().is_some_and(|e| {
        run.state.ideas.as_ref().is_some_and(|i| e.to_json() == IdeasView::of(i).to_json())
    });
    let outcome = match &edit {
        Some(e) if !unchanged => {
            engine.approve_with_ideas(&run.run_id, &e.to_json(), comment, &who, None).await
        }
        _ => engine.decide(&run.run_id, gate, decision, comment, &who, None).await,
    };
    match outcome {
        Ok(_) => {
            tracing::info!(run_id = %run.run_id, gate = gate.as_str(), decision = decision.as_str(), principal = %session.caller.principal, edited = edit.is_some() && !unchanged, "console decision");
            Ok(see_other(&format!("/console/runs/{}", run.run_id)))
        }
        Err(
            e @ (EngineError::Conflict { .. }
            | EngineError::Unprocessable { .. }
            | EngineError::Invalid { .. }
            | EngineError::ContentBlocked(_)),
        ) => {
            let api: myloware_http::ApiError = e.into();
            let flash = Flash::error(format!("Not done: {} ({})", api.detail, api.code));
            let fresh = visible(&st, &session, &id).await?;
            render_run(&st, &session, &fresh, api.status, Some(flash), edit).await
        }
        Err(e) => Err(e.into()),
    }
}
