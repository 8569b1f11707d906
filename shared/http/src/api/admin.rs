//! `/v1/admin/*`: operator views that need a key with the admin scope.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use myloware::domain::AuditEntry;

use super::parse_run_id;
use crate::{ApiError, AppState};

/// `GET /v1/admin/runs/{id}/audit`: every audited action on a run, oldest first.
pub async fn audit(
    State(st): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Json<Vec<AuditEntry>>, ApiError> {
    st.api_keys.check_admin(&headers)?;
    let id = parse_run_id(&id)?;
    let entries =
        st.engine.store.audit_log(&id).await.map_err(myloware::engine::EngineError::from)?;
    Ok(Json(entries))
}
