//! `/v1/admin/*`: operator views that need a key with the admin scope.

use axum::Json;
use axum::extract::State;
use myloware::domain::AuditEntry;

use super::RunIdPath;
use crate::{ApiError, AppState, Caller, Scope};

/// `GET /v1/admin/runs/{id}/audit`: every audited action on a run, oldest first.
pub async fn audit(
    State(st): State<AppState>,
    caller: Caller,
    RunIdPath(id): RunIdPath,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    caller.require(Scope::Admin)?;
    let entries = st.engine.audit_log(&id).await?;
    Ok(Json(entries))
}
