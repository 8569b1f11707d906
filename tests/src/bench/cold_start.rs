//! Scenario 4: cold start. Each function's binary is started against a minimal stand-in for the
//! Lambda runtime API (the two endpoints a runtime uses: `GET …/invocation/next` and `POST
//! …/invocation/{id}/response`): time from process start to its first `next` (init), from
//! handing it the first event to its response (first invocation), and the process's peak RSS
//! after that response. The step function's first event is a real step (a one-step no-op run's
//! message, received from SQS), so its RSS is the RSS after one step. Binary sizes are reported
//! for the binaries measured and for the arm64 `bootstrap` zips when `scripts/build-lambdas.sh`
//! ran.

use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_lambda_events::event::sqs::{SqsBatchResponse, SqsEvent};
use axum::Router;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::{get, post};
use myloware::domain::RunId;
use myloware::fakes::{CallbackMode, FakeSet};
use myloware::time::SystemClock;
use myloware::webhooks::WebhookSecret;
use myloware_aws::{AwsClients, Resources, SqsDriver};
use myloware_runtime::{HttpCallbackSink, RuntimeConfig, aws_engine};
use serde_json::{Value, json};

const FUNCTIONS: [&str; 5] = ["api", "webhook", "step", "sweeper", "render"];

/// What one cold start measured.
struct Measured {
    init: Duration,
    first: Duration,
    body: String,
    peak_rss: Option<u64>,
}

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

fn event_for(function: &str, step: &Value) -> Value {
    match function {
        "api" => http_event("GET", "/health", ""),
        // An unsigned callback: verified (and refused) before any AWS call.
        "webhook" => http_event("POST", "/v1/webhooks/openai", "{}"),
        "step" => step.clone(),
        "render" => json!({ "Records": [] }),
        _ => json!({ "id": "bench", "detail-type": "Scheduled Event", "source": "aws.scheduler" }),
    }
}

/// Peak resident set of a running process (`VmHWM`), in bytes.
fn peak_rss(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kb: u64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kb * 1024)
}

/// Where the binaries are: built as they ship (`cargo build --profile lambda-release`), else
/// `target/release`, else `target/debug`, whichever has them all.
pub fn default_bin_dir(root: &Path) -> PathBuf {
    ["target/lambda-release", "target/release"]
        .into_iter()
        .map(|d| root.join(d))
        .find(|d| FUNCTIONS.iter().all(|f| d.join(f).exists()))
        .unwrap_or_else(|| root.join("target/debug"))
}

/// Start one binary, hand it `event`, and measure it.
async fn measure(
    bin: &Path,
    function: &str,
    env: &[(String, String)],
    event: Value,
) -> Result<Measured, String> {
    let rt = Rt { seen: Arc::default(), event };
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
        // Lambda sets neither: with SSL_CERT_DIR set (as on some build machines) the AWS
        // client's native root store reads every file in that directory at start-up, a cost a
        // function never pays.
        .env_remove("SSL_CERT_DIR")
        .env_remove("SSL_CERT_FILE")
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
                break Ok(Measured {
                    init: n - started,
                    first: *r - n,
                    body: body.clone(),
                    peak_rss: peak_rss(child.id()),
                });
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

/// Run the scenario with the functions' env (`env`), handing the step function `step_event` (an
/// SQS event holding one step's message); prints its table and returns its JSON.
pub async fn run(root: &Path, env: Vec<(String, String)>, step_event: Value) -> Value {
    let dir = default_bin_dir(root);
    let mut rows = Vec::new();
    let mut results = Vec::new();
    for f in FUNCTIONS {
        let bin = dir.join(f);
        let size = std::fs::metadata(&bin).map(|m| m.len()).unwrap_or(0);
        let zip = lambda_zip_size(root, f);
        match measure(&bin, f, &env, event_for(f, &step_event)).await {
            Ok(m) => {
                // A step reports failed records in the body; an error answer names its type.
                let ok = !m.body.contains("errorType") && !m.body.contains("itemIdentifier");
                let mb = |b: u64| format!("{:.1}", b as f64 / 1e6);
                rows.push(vec![
                    f.to_owned(),
                    format!("{:.1}", m.init.as_secs_f64() * 1e3),
                    format!("{:.1}", m.first.as_secs_f64() * 1e3),
                    m.peak_rss.map(mb).unwrap_or_else(|| "-".into()),
                    mb(size),
                    zip.map(mb).unwrap_or_else(|| "-".into()),
                    if ok { "ok".into() } else { "error".into() },
                ]);
                results.push(json!({ "function": f, "init_ms": m.init.as_secs_f64() * 1e3,
                    "first_invocation_ms": m.first.as_secs_f64() * 1e3,
                    "peak_rss_bytes": m.peak_rss, "binary_bytes": size,
                    "arm64_bootstrap_bytes": zip, "response_ok": ok }));
            }
            Err(e) => {
                let mut row = vec![f.to_owned(), e];
                row.resize(7, String::new());
                rows.push(row);
            }
        }
    }
    super::table(
        &format!("Cold start against a local runtime API stand-in ({})", dir.display()),
        &[
            "function",
            "init ms",
            "first invoke ms",
            "peak RSS MB",
            "binary MB",
            "arm64 bootstrap MB",
            "answer",
        ],
        &rows,
    );
    println!(
        "\n  targets: init <= 10 ms; peak RSS after one step (step) <= 30 MB; arm64 bootstrap <= 8 MB"
    );
    json!({ "scenario": "cold_start", "bin_dir": dir.display().to_string(), "functions": results })
}

/// A one-step no-op run started on `resources`, and the SQS event carrying its first (and only)
/// step's message as SQS delivered it (real receipt handle), for the step function to run.
pub async fn one_step_event(clients: &AwsClients, resources: &Resources) -> (RunId, Value) {
    let cfg = RuntimeConfig::all_fake(myloware::config::EngineConfig::from_env().expect("config"));
    // The no-op workflow calls no provider; the engine still needs a set to be built.
    let secret = WebhookSecret::parse(crate::OPENAI_SECRET).expect("a secret");
    let fakes = FakeSet::new(
        secret.clone(),
        secret,
        Arc::new(HttpCallbackSink::new("http://127.0.0.1:9")),
        CallbackMode::Manual,
        Arc::new(SystemClock),
    );
    let engine = aws_engine(clients, resources, &cfg, fakes.providers()).expect("engine");
    let run = engine.start_noop(1, None).await.expect("start a one-step run");
    let driver = SqsDriver::new(clients.sqs().clone(), &resources.queue_url);
    let got: Arc<Mutex<Option<SqsEvent>>> = Arc::default();
    for _ in 0..20 {
        let g = got.clone();
        let keep = |ev: SqsEvent| {
            // Every record reported failed: the message stays for the step function to settle.
            let mut resp = SqsBatchResponse::default();
            for r in &ev.records {
                let mut f = aws_lambda_events::event::sqs::BatchItemFailure::default();
                f.item_identifier = r.message_id.clone().unwrap_or_default();
                resp.batch_item_failures.push(f);
            }
            *g.lock().unwrap() = Some(ev);
            async move { resp }
        };
        if driver.poll_once(&keep).await.expect("receive") > 0 {
            break;
        }
    }
    let event = got.lock().unwrap().take().expect("the step's message within 20 polls");
    (run.run_id, serde_json::to_value(event).expect("an SQS event"))
}
