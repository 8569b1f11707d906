//! Feedback on a run: `POST /v1/runs/{id}/feedback` `{"rating": 1-5, "comment"?}` (201 the
//! principal's first, 200 when it replaces its earlier one) and `GET` the run's feedback with
//! its count and average.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use myloware::domain::Feedback;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::RunIdPath;
use super::views::{ErrorBody, FeedbackList, FeedbackView};
use crate::extract::ApiJson;
use crate::{ApiError, AppState, Caller};

/// A rating.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedbackBody {
    /// 1 (poor) to 5 (excellent).
    pub rating: u8,
    /// Why (at most 2,000 characters).
    pub comment: Option<String>,
}

fn view(f: &Feedback) -> FeedbackView {
    FeedbackView {
        run_id: f.run_id.to_string(),
        caller: f.caller.clone(),
        rating: f.rating,
        comment: f.comment.clone(),
        created_at: f.created_at.rfc3339(),
        updated_at: f.updated_at.rfc3339(),
    }
}

/// Rate a run (the principal's earlier rating is replaced).
#[utoipa::path(post, path = "/v1/runs/{id}/feedback", tag = "feedback", security(("api_key" = [])),
    params(("id" = String, Path, description = "run id")), request_body = FeedbackBody,
    responses((status = 201, body = FeedbackView), (status = 200, body = FeedbackView),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 404, body = ErrorBody),
        (status = 415, body = ErrorBody), (status = 422, body = ErrorBody)))]
pub async fn give(
    State(st): State<AppState>,
    caller: Caller,
    RunIdPath(id): RunIdPath,
    ApiJson(body): ApiJson<FeedbackBody>,
) -> Result<(StatusCode, Json<FeedbackView>), ApiError> {
    st.engine.get_for(&id, &caller.viewer()).await?;
    // One rating per principal (its keys share it).
    let (f, first) =
        st.engine.give_feedback(&id, &caller.principal, body.rating, body.comment).await?;
    let status = if first { StatusCode::CREATED } else { StatusCode::OK };
    Ok((status, Json(view(&f))))
}

/// A run's feedback, with its count and average.
#[utoipa::path(get, path = "/v1/runs/{id}/feedback", tag = "feedback", security(("api_key" = [])),
    params(("id" = String, Path, description = "run id")),
    responses((status = 200, body = FeedbackList), (status = 400, body = ErrorBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub async fn list(
    State(st): State<AppState>,
    caller: Caller,
    RunIdPath(id): RunIdPath,
) -> Result<Json<FeedbackList>, ApiError> {
    st.engine.get_for(&id, &caller.viewer()).await?;
    let all = st.engine.feedback(&id).await?;
    let average = (!all.is_empty())
        .then(|| all.iter().map(|f| f64::from(f.rating)).sum::<f64>() / all.len() as f64);
    Ok(Json(FeedbackList {
        run_id: id.to_string(),
        feedback: all.iter().map(view).collect(),
        count: all.len(),
        average,
    }))
}
