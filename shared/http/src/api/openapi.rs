//! The OpenAPI 3.1 document, generated from the routes' annotations and the request and
//! response types (utoipa); served at `/openapi.json`, committed as `docs/openapi.json` (a test
//! fails when they differ).

use utoipa::openapi::security::{ApiKey, ApiKeyValue, SecurityScheme};
use utoipa::{Modify, OpenApi};

/// The document.
#[derive(OpenApi)]
#[openapi(
    info(
        title = "MyloWare",
        description = "Durable, webhook-driven AI video runs. Every /v1 route needs X-API-Key \
                       (checked first); errors are {error, detail} with the codes of docs/errors.md."
    ),
    paths(
        super::runs::start,
        super::runs::list,
        super::runs::get,
        super::gates::approve,
        super::gates::reject,
        super::gates::resume,
        super::operations::cancel,
        super::operations::fork,
        super::operations::history,
        super::feedback::give,
        super::feedback::list,
        super::events::events,
        super::notices::list,
        super::admin::audit,
        super::dlq::list,
        super::dlq::show,
        super::dlq::replay,
        super::dlq::resolve,
        super::dlq::redrive,
        super::dlq::redrive_status,
        crate::webhooks::openai,
        crate::webhooks::replicate,
        crate::webhooks::gemini,
        crate::webhooks::remotion,
        crate::webhooks::telegram,
        crate::health::health,
        crate::health::openapi_json,
    ),
    modifiers(&KeyScheme, &Descriptions)
)]
pub struct ApiDoc;

struct KeyScheme;

impl Modify for KeyScheme {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "api_key",
            SecurityScheme::ApiKey(ApiKey::Header(ApiKeyValue::new("X-API-Key"))),
        );
    }
}

/// Every response described: the ones annotated without words get their status's reason
/// phrase (OpenAPI requires a description).
struct Descriptions;

impl Modify for Descriptions {
    fn modify(&self, doc: &mut utoipa::openapi::OpenApi) {
        for item in doc.paths.paths.values_mut() {
            let ops =
                [&mut item.get, &mut item.put, &mut item.post, &mut item.delete, &mut item.patch];
            for op in ops.into_iter().flatten() {
                for (status, response) in op.responses.responses.iter_mut() {
                    if let utoipa::openapi::RefOr::T(r) = response
                        && r.description.is_empty()
                    {
                        r.description = status
                            .parse::<u16>()
                            .ok()
                            .and_then(|s| axum::http::StatusCode::from_u16(s).ok())
                            .and_then(|s| s.canonical_reason())
                            .unwrap_or("Response")
                            .to_owned();
                    }
                }
            }
        }
    }
}

impl ApiDoc {
    /// The document as committed: pretty JSON with a final newline.
    pub fn json() -> String {
        let mut s = ApiDoc::openapi().to_pretty_json().expect("the document serialises");
        s.push('\n');
        s
    }
}
