//! Feedback on a run: `POST /v1/runs/{id}/feedback` `{"rating": 1-5, "comment"?}` (201 the
//! caller's first, 200 when it replaces the caller's earlier one) and `GET` the run's feedback
//! with its count and average.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use myloware::domain::Feedback;
use serde::Deserialize;
use serde_json::{Value, json};

use super::RunIdPath;
use crate::extract::ApiJson;
use crate::{ApiError, AppState, Caller};

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FeedbackBody {
    rating: u8,
    comment: Option<String>,
}

fn view(f: &Feedback) -> Value {
    json!({
        "run_id": f.run_id,
        "caller": f.caller,
        "rating": f.rating,
        "comment": f.comment,
        "created_at": f.created_at.rfc3339(),
        "updated_at": f.updated_at.rfc3339(),
    })
}

/// `POST /v1/runs/{id}/feedback`.
pub async fn give(
    State(st): State<AppState>,
    caller: Caller,
    RunIdPath(id): RunIdPath,
    ApiJson(body): ApiJson<FeedbackBody>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    st.engine.get_for(&id, &caller.viewer()).await?;
    // One rating per principal (its keys share it).
    let (f, first) =
        st.engine.give_feedback(&id, &caller.principal, body.rating, body.comment).await?;
    let status = if first { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(view(&f))))
}

/// `GET /v1/runs/{id}/feedback`.
pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
    RunIdPath(id): RunIdPath,
) -> Result<Json<Value>, ApiError> {
    st.engine.get_for(&id, &caller.viewer()).await?;
    let all = st.engine.feedback(&id).await?;
    let average = (!all.is_empty())
        .then(|| all.iter().map(|f| f64::from(f.rating)).sum::<f64>() / all.len() as f64);
    Ok(Json(json!({
        "run_id": id,
        "feedback": all.iter().map(view).collect::<Vec<_>>(),
        "count": all.len(),
        "average": average,
    })))
}
