//! `/v1/admin/*`: operator views that need a key with the admin scope.

use axum::Json;
use axum::extract::{Path, State};
use myloware::domain::AuditEntry;

use super::parse_run_id;
use crate::{ApiError, AppState, Caller, Scope};

/// `GET /v1/admin/runs/{id}/audit`: every audited action on a run, oldest first.
pub async fn audit(
    State(st): State<AppState>,
    caller: Caller,
    Path(id): Path<String>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    caller.require(Scope::Admin)?;
    let id = parse_run_id(&id)?;
    let entries =
        st.engine.store.audit_log(&id).await.map_err(myloware::engine::EngineError::from)?;
    Ok(Json(entries))
}
