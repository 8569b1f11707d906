//! The HTTP functions inside Lambda: API Gateway HTTP API events (payload format 2.0) become
//! requests to the shared routers and their responses become the gateway's. The request id of
//! the gateway's context becomes the request's `X-Request-ID` (unless the caller sent one), and
//! metrics are flushed as EMF after every response.
//!
//! (`lambda_http` did this for every event source and every charset, which cost each function
//! its character-encoding tables; this is the one source and UTF-8 the routers speak, as the
//! event's fields are documented at docs.aws.amazon.com/apigateway/latest/developerguide/
//! http-api-develop-integrations-lambda.html.)

use aws_lambda_events::apigw::{ApiGatewayV2httpRequest, ApiGatewayV2httpResponse};
use aws_lambda_events::encodings::Body as GatewayBody;
use axum::Router;
use axum::body::{Body, to_bytes};
use axum::http::header::{CONTENT_ENCODING, CONTENT_TYPE, COOKIE, SET_COOKIE};
use axum::http::{HeaderValue, Request, Response, StatusCode};
use axum::response::IntoResponse;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use lambda_runtime::{LambdaEvent, service_fn};
use myloware_http::ApiError;
use tower::ServiceExt;

/// The largest response body the gateway takes from a function (Lambda's 6 MB payload limit).
const MAX_RESPONSE_BYTES: usize = 6 * 1024 * 1024;

/// Serve `router` as the function's handler until Lambda stops it.
pub async fn run_http(router: Router) -> Result<(), lambda_runtime::Error> {
    lambda_runtime::run(service_fn(move |ev: LambdaEvent<ApiGatewayV2httpRequest>| {
        let router = router.clone();
        async move {
            let resp = handle(router, ev.payload).await;
            crate::telemetry::flush_metrics(std::io::stdout());
            Ok::<_, lambda_runtime::Error>(resp)
        }
    }))
    .await
}

/// One event through `router`.
pub async fn handle(router: Router, ev: ApiGatewayV2httpRequest) -> ApiGatewayV2httpResponse {
    let resp = match request(ev) {
        Ok(req) => match router.oneshot(req).await {
            Ok(resp) => resp,
            Err(never) => match never {},
        },
        Err(why) => {
            ApiError::new(StatusCode::BAD_REQUEST, "bad_gateway_event", why).into_response()
        }
    };
    response(resp).await
}

/// The event as an HTTP request (the stage in the path as `lambda_http` put it, unless the
/// stage is `$default` or `AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH` is set).
fn request(ev: ApiGatewayV2httpRequest) -> Result<Request<Body>, String> {
    let raw_path = ev.raw_path.unwrap_or_else(|| "/".into());
    let mut uri = path_with_stage(ev.request_context.stage.as_deref(), &raw_path);
    if let Some(q) = ev.raw_query_string.filter(|q| !q.is_empty()) {
        uri.push('?');
        uri.push_str(&q);
    }
    let body = match (ev.body, ev.is_base64_encoded) {
        (None, _) => Vec::new(),
        (Some(b), true) => STANDARD.decode(b).map_err(|e| format!("body is not base64: {e}"))?,
        (Some(b), false) => b.into_bytes(),
    };
    let mut req = Request::builder()
        .method(ev.request_context.http.method)
        .uri(&uri)
        .body(Body::from(body))
        .map_err(|e| format!("request line {uri:?}: {e}"))?;
    *req.headers_mut() = ev.headers;
    if let Some(cookies) = ev.cookies.filter(|c| !c.is_empty()) {
        let v = HeaderValue::from_str(&cookies.join("; ")).map_err(|e| format!("cookies: {e}"))?;
        req.headers_mut().insert(COOKIE, v);
    }
    if !req.headers().contains_key("x-request-id")
        && let Some(id) = ev.request_context.request_id.and_then(|i| HeaderValue::from_str(&i).ok())
    {
        req.headers_mut().insert("x-request-id", id);
    }
    Ok(req)
}

fn path_with_stage(stage: Option<&str>, path: &str) -> String {
    match stage {
        Some(s)
            if s != "$default"
                && std::env::var_os("AWS_LAMBDA_HTTP_IGNORE_STAGE_IN_PATH").is_none() =>
        {
            if path.starts_with(&format!("/{s}/")) { path.into() } else { format!("/{s}{path}") }
        }
        _ => path.into(),
    }
}

/// The response as the gateway takes it: `Set-Cookie` headers as its cookies, a text body as
/// text, anything else base64-encoded.
async fn response(resp: Response<Body>) -> ApiGatewayV2httpResponse {
    let (mut parts, body) = resp.into_parts();
    let bytes = match to_bytes(body, MAX_RESPONSE_BYTES).await {
        Ok(b) => b,
        Err(e) => {
            tracing::error!(error = %e, "the response body could not be read");
            let why = format!("the response body is larger than {MAX_RESPONSE_BYTES} bytes");
            let status = StatusCode::INTERNAL_SERVER_ERROR;
            let (p, b) =
                ApiError::new(status, "response_too_large", why).into_response().into_parts();
            parts = p;
            to_bytes(b, MAX_RESPONSE_BYTES).await.unwrap_or_default()
        }
    };
    let mut out = ApiGatewayV2httpResponse::default();
    out.status_code = i64::from(parts.status.as_u16());
    out.cookies = parts
        .headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok().map(str::to_owned))
        .collect();
    parts.headers.remove(SET_COOKIE);
    let text = is_text(&parts.headers);
    out.headers = parts.headers;
    if !bytes.is_empty() {
        out.body = Some(match (text, String::from_utf8(bytes.to_vec())) {
            (true, Ok(s)) => GatewayBody::Text(s),
            _ => {
                out.is_base64_encoded = true;
                GatewayBody::Binary(bytes.to_vec())
            }
        });
    }
    out
}

/// Whether a body with these headers is text (as `lambda_http` judged it, UTF-8 assumed).
fn is_text(headers: &axum::http::HeaderMap) -> bool {
    if headers.contains_key(CONTENT_ENCODING) {
        return false;
    }
    let Some(ct) = headers.get(CONTENT_TYPE).and_then(|v| v.to_str().ok()) else { return true };
    let mime = ct.split(';').next().unwrap_or_default().trim();
    mime.starts_with("text/")
        || ["+json", "+xml", "/json", "/xml", "/javascript", "/ecmascript"]
            .iter()
            .any(|s| mime.ends_with(s))
}

#[cfg(test)]
mod tests {
    use axum::routing::{get, post};
    use serde_json::{Value, json};

    use super::*;

    fn event(
        method: &str,
        path: &str,
        query: &str,
        body: Option<(&str, bool)>,
    ) -> ApiGatewayV2httpRequest {
        serde_json::from_value(json!({
            "version": "2.0",
            "routeKey": "$default",
            "rawPath": path,
            "rawQueryString": query,
            "cookies": ["a=1", "b=2"],
            "headers": { "content-type": "application/json", "x-forwarded-proto": "https" },
            "requestContext": {
                "accountId": "123456789012", "apiId": "api", "domainName": "example.com",
                "http": { "method": method, "path": path, "protocol": "HTTP/1.1", "sourceIp": "203.0.113.9", "userAgent": "t" },
                "requestId": "apigw-req-1", "routeKey": "$default", "stage": "$default",
                "time": "26/Nov/2026:10:00:00 +0000", "timeEpoch": 1795600000000u64
            },
            "body": body.map(|b| b.0),
            "isBase64Encoded": body.is_some_and(|b| b.1)
        }))
        .expect("an API Gateway v2 event")
    }

    fn router() -> Router {
        Router::new()
            .route(
                "/echo",
                post(|req: Request<Body>| async move {
                    let (parts, body) = req.into_parts();
                    let bytes = to_bytes(body, 1024).await.unwrap();
                    let h = |n: &str| parts.headers.get(n).map(|v| v.to_str().unwrap().to_owned());
                    axum::Json(json!({
                        "uri": parts.uri.to_string(),
                        "cookie": h("cookie"),
                        "request_id": h("x-request-id"),
                        "body": String::from_utf8_lossy(&bytes),
                    }))
                }),
            )
            .route(
                "/bin",
                get(|| async {
                    Response::builder()
                        .header(CONTENT_TYPE, "video/mp4")
                        .header(SET_COOKIE, "s=1; HttpOnly")
                        .header(SET_COOKIE, "t=2")
                        .body(Body::from(vec![0u8, 159, 146, 150]))
                        .unwrap()
                }),
            )
    }

    fn json_body(r: &ApiGatewayV2httpResponse) -> Value {
        match &r.body {
            Some(GatewayBody::Text(s)) => serde_json::from_str(s).unwrap(),
            other => panic!("not text: {other:?}"),
        }
    }

    #[tokio::test]
    async fn an_event_becomes_the_request_the_router_sees() {
        let ev = event("POST", "/echo", "x=1&y=%20", Some(("eyJrIjoxfQ==", true)));
        let r = handle(router(), ev).await;
        assert_eq!(r.status_code, 200);
        assert!(!r.is_base64_encoded);
        let got = json_body(&r);
        assert_eq!(got["uri"], "/echo?x=1&y=%20");
        assert_eq!(got["cookie"], "a=1; b=2");
        assert_eq!(got["request_id"], "apigw-req-1");
        assert_eq!(got["body"], "{\"k\":1}");
        let plain = handle(router(), event("POST", "/echo", "", Some(("plain", false)))).await;
        assert_eq!(json_body(&plain)["body"], "plain");
    }

    #[tokio::test]
    async fn binary_bodies_go_base64_and_set_cookie_headers_become_cookies() {
        let r = handle(router(), event("GET", "/bin", "", None)).await;
        assert!(r.is_base64_encoded);
        assert_eq!(r.body, Some(GatewayBody::Binary(vec![0, 159, 146, 150])));
        assert_eq!(r.cookies, ["s=1; HttpOnly", "t=2"]);
        assert!(r.headers.get(SET_COOKIE).is_none());
        let wire = serde_json::to_value(&r).unwrap();
        assert_eq!(wire["body"], "AJ+Slg==");
    }

    #[tokio::test]
    async fn a_bad_event_is_a_json_400_and_a_missing_route_the_router_404() {
        let r = handle(router(), event("POST", "/echo", "", Some(("%%%", true)))).await;
        assert_eq!(r.status_code, 400);
        assert_eq!(json_body(&r)["error"], "bad_gateway_event");
        assert_eq!(handle(router(), event("GET", "/nowhere", "", None)).await.status_code, 404);
    }

    #[test]
    fn a_named_stage_is_in_the_path_as_the_gateway_sends_it() {
        assert_eq!(path_with_stage(Some("$default"), "/v1/runs"), "/v1/runs");
        assert_eq!(path_with_stage(None, "/v1/runs"), "/v1/runs");
        assert_eq!(path_with_stage(Some("prod"), "/v1/runs"), "/prod/v1/runs");
        assert_eq!(path_with_stage(Some("prod"), "/prod/v1/runs"), "/prod/v1/runs");
    }
}
