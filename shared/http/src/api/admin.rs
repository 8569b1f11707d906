//! `/v1/admin/*`: operator views that need a key with the admin scope.

use axum::Json;
use axum::extract::State;
use myloware::domain::AuditEntry;

use super::RunIdPath;
use super::views::ErrorBody;
use crate::{ApiError, AppState, Caller, Scope};

/// `GET /v1/admin/runs/{id}/audit`: every audited action on a run, oldest first.
#[utoipa::path(get, path = "/v1/admin/runs/{id}/audit", tag = "admin", security(("api_key" = [])),
    params(("id" = String, Path, description = "run id")),
    responses((status = 200, body = Vec<Object>, description = "audit entries: run_id, action, actor, detail, at"),
        (status = 400, body = ErrorBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub async fn audit(
    State(st): State<AppState>,
    caller: Caller,
    RunIdPath(id): RunIdPath,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    caller.require(Scope::Admin)?;
    let entries = st.engine.audit_log(&id).await?;
    Ok(Json(entries))
}
