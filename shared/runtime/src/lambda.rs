//! What the HTTP functions add around the shared routers when they run inside Lambda: the
//! request id of API Gateway's request context becomes the request's `X-Request-ID` (unless the
//! caller sent one), and metrics are flushed as EMF after every response.

use axum::Router;
use axum::extract::Request;
use axum::http::HeaderValue;
use axum::middleware::{self, Next};
use axum::response::Response;
use lambda_http::request::RequestContext;

async fn around(mut req: Request, next: Next) -> Response {
    if !req.headers().contains_key("x-request-id") {
        let id = match req.extensions().get::<RequestContext>() {
            Some(RequestContext::ApiGatewayV2(ctx)) => ctx.request_id.clone(),
            _ => None,
        };
        if let Some(v) = id.and_then(|id| HeaderValue::from_str(&id).ok()) {
            req.headers_mut().insert("x-request-id", v);
        }
    }
    let resp = next.run(req).await;
    crate::telemetry::flush_metrics(std::io::stdout());
    resp
}

/// Wrap a router for Lambda.
pub fn wrap(router: Router) -> Router {
    router.layer(middleware::from_fn(around))
}
