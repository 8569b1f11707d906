//! Scenario 4: cold start. Each function's binary is started against a minimal stand-in for the
//! Lambda runtime API (the two endpoints a runtime uses: `GET …/invocation/next` and `POST
//! …/invocation/{id}/response`): time from process start to its first `next` (init) and from
//! handing it the first event to its response (first invocation). Binary sizes are reported for
//! the binaries measured and for the arm64 `bootstrap` zips when `scripts/build-lambdas.sh` ran.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use serde_json::{Value, json};

const FUNCTIONS: [&str; 4] = ["api", "webhook", "step", "sweeper"];

#[derive(Default)]
struct Seen {
    first_next: Option<Instant>,
    response: Option<(Instant, String)>,
    served: bool,
}

#[derive(Clone)]
struct Rt {
    seen: Arc<Mutex<Seen>>,
    event: Value,
}

async fn next(State(rt): State<Rt>) -> (HeaderMap, String) {
    let first = {
        let mut s = rt.seen.lock().unwrap();
        s.first_next.get_or_insert_with(Instant::now);
        !std::mem::replace(&mut s.served, true)
    };
    if !first {
        // One invocation per measurement: later polls wait until the process is stopped.
        std::future::pending::<()>().await;
    }
    let mut h = HeaderMap::new();
    h.insert("lambda-runtime-aws-request-id", "bench-req-1".parse().unwrap());
    h.insert("lambda-runtime-deadline-ms", (now_ms() + 30_000).to_string().parse().unwrap());
    h.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:000000000000:function:bench".parse().unwrap(),
    );
    (h, rt.event.to_string())
}

async fn response(State(rt): State<Rt>, body: String) -> &'static str {
    rt.seen.lock().unwrap().response.get_or_insert((Instant::now(), body));
    "{}"
}

fn now_ms() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis()
}

fn http_event(method: &str, path: &str, body: &str) -> Value {
    json!({
        "version": "2.0", "routeKey": "$default", "rawPath": path, "rawQueryString": "",
        "headers": { "content-type": "application/json", "host": "bench.local" },
        "requestContext": {
            "accountId": "000000000000", "apiId": "bench", "domainName": "bench.local",
            "domainPrefix": "bench", "requestId": "bench-http-1", "routeKey": "$default",
            "stage": "$default", "time": "26/Nov/2026:00:00:00 +0000", "timeEpoch": 1_795_000_000_000u64,
            "http": { "method": method, "path": path, "protocol": "HTTP/1.1",
                      "sourceIp": "127.0.0.1", "userAgent": "bench" }
        },
        "body": body, "isBase64Encoded": false
    })
}

fn event_for(function: &str) -> Value {
    match function {
        "api" => http_event("GET", "/health", ""),
        // An unsigned callback: verified (and refused) before any AWS call.
        "webhook" => http_event("POST", "/v1/webhooks/openai", "{}"),
        "step" => json!({ "Records": [] }),
        _ => json!({ "id": "bench", "detail-type": "Scheduled Event", "source": "aws.scheduler" }),
    }
}

/// Where the binaries are: `target/release` when it has them, else `target/debug`.
pub fn default_bin_dir(root: &Path) -> PathBuf {
    let release = root.join("target/release");
    if FUNCTIONS.iter().all(|f| release.join(f).exists()) {
        release
    } else {
        root.join("target/debug")
    }
}

/// Measure one binary: (init, first invocation, response body).
async fn measure(
    bin: &Path,
    function: &str,
    env: &[(String, String)],
) -> Result<(Duration, Duration, String), String> {
    let rt = Rt { seen: Arc::default(), event: event_for(function) };
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(response))
        .route("/2018-06-01/runtime/init/error", post(response))
        .with_state(rt.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    let server = tokio::spawn(async move { axum::serve(listener, app).await });
    let started = Instant::now();
    let mut child = std::process::Command::new(bin)
        .envs(env.iter().cloned())
        .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
        .env("AWS_LAMBDA_FUNCTION_NAME", format!("bench-{function}"))
        .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "256")
        .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
        .env("AWS_LAMBDA_LOG_STREAM_NAME", "bench")
        .env("AWS_LAMBDA_LOG_GROUP_NAME", "bench")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e}", bin.display()))?;
    let deadline = Instant::now() + Duration::from_secs(30);
    let out = loop {
        {
            let s = rt.seen.lock().unwrap();
            if let (Some(n), Some((r, body))) = (s.first_next, s.response.as_ref()) {
                break Ok((n - started, *r - n, body.clone()));
            }
        }
        if Instant::now() > deadline {
            break Err(format!("{function}: no response within 30 s"));
        }
        tokio::time::sleep(Duration::from_micros(200)).await;
    };
    let _ = child.kill();
    let _ = child.wait();
    server.abort();
    out
}

/// The size of the `bootstrap` inside an arm64 zip, if it was built.
fn lambda_zip_size(root: &Path, function: &str) -> Option<u64> {
    let zip = root.join("target/lambda").join(function).join("bootstrap.zip");
    let bytes = std::fs::read(zip).ok()?;
    // The zip's central directory: find the entry named "bootstrap" and read its size.
    let name = b"bootstrap";
    let pos = bytes.windows(4).rposition(|w| w == [0x50, 0x4b, 0x01, 0x02])?;
    let entry = &bytes[pos..];
    (entry.get(46..46 + name.len())? == name)
        .then(|| u32::from_le_bytes(entry[24..28].try_into().unwrap()) as u64)
}

/// Run the scenario with the functions' env (`env`); prints its table and returns its JSON.
pub async fn run(root: &Path, env: Vec<(String, String)>) -> Value {
    let dir = default_bin_dir(root);
    let mut rows = Vec::new();
    let mut results = Vec::new();
    for f in FUNCTIONS {
        let bin = dir.join(f);
        let size = std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0);
        let zip = lambda_zip_size(root, f);
        match measure(&bin, f, &env).await {
            Ok((init, first, body)) => {
                let ok = !body.contains("errorType");
                rows.push(vec![
                    f.to_owned(),
                    format!("{:.1}", init.as_secs_f64() * 1e3),
                    format!("{:.1}", first.as_secs_f64() * 1e3),
                    format!("{:.1}", size as f64 / 1e6),
                    zip.map(|z| format!("{:.1}", z as f64 / 1e6)).unwrap_or_else(|| "-".into()),
                    if ok { "ok".into() } else { "error".into() },
                ]);
                results.push(json!({ "function": f, "init_ms": init.as_secs_f64() * 1e3,
                    "first_invocation_ms": first.as_secs_f64() * 1e3, "binary_bytes": size,
                    "arm64_bootstrap_bytes": zip, "response_ok": ok }));
            }
            Err(e) => rows.push(vec![
                f.to_owned(),
                e,
                String::new(),
                String::new(),
                String::new(),
                String::new(),
            ]),
        }
    }
    super::table(
        &format!("Cold start against a local runtime API stand-in ({})", dir.display()),
        &["function", "init ms", "first invoke ms", "binary MB", "arm64 bootstrap MB", "answer"],
        &rows,
    );
    println!("\n  target: init <= 15 ms");
    json!({ "scenario": "cold_start", "bin_dir": dir.display().to_string(), "functions": results })
}
