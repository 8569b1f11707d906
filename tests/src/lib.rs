//! Test harness: a whole MyloWare deployment in one process against LocalStack: per-test
//! resources, the API + webhook routers on a random local port, the SQS event-source driver
//! calling the step handler, and fake providers that call back over real HTTP.

pub mod adapter_checks;
pub mod adapter_run;
pub mod backend;
pub mod bench;
pub mod chaos;
pub mod contract;
pub mod http;
pub mod interop;
pub mod listener;
pub mod notify_scenarios;
pub mod parity;
pub mod scenarios;

use std::sync::Arc;
use std::time::Duration;

use aws_sdk_sqs::types::QueueAttributeName;
use myloware::Engine;
use myloware::domain::{
    Correlation, ExpectedJob, Gate, JobId, OpenWait, ProjectName, Provider, RunRecord, RunStatus,
    Step, WaitKind,
};
use myloware::fakes::{CallbackMode, FakeSet};
use myloware::ports::Checkpoint;
use myloware::time::SystemClock;
use myloware::time::{Clock, Timestamp};
use myloware::webhooks::WebhookSecret;
use myloware_aws::resources::{ResourceNames, bootstrap};
use myloware_aws::{AwsClients, Resources, SqsDriver};
use myloware_runtime::{HttpCallbackSink, RuntimeConfig, app_state, aws_engine};
use serde_json::Value;
use tokio::sync::watch;

const FAR: Timestamp = Timestamp(4_102_444_800_000);

/// Secret the fake OpenAI-compatible video provider signs with (and the webhook accepts).
pub const OPENAI_SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
/// Replicate's webhook signing secret in the tests (the account's `whsec_…`).
pub const REPLICATE_SECRET: &str = "whsec_cmVwbGljYXRlLXRlc3Qtc2lnbmluZy1zZWNyZXQ=";
/// Secret the fake Remotion signs with.
pub const REMOTION_SECRET: &str = "remotion-test-secret";
/// The API key tests use.
pub const API_KEY: &str = "test-api-key";
/// A key with the admin scope (`/v1/admin/*`).
pub const ADMIN_KEY: &str = "test-admin-key";
/// The operator key (resume and fork).
pub const OPERATOR_KEY: &str = "test-operator-key";

/// Serve `router` on `listener` in the background until `stop` is sent.
pub fn serve_until(
    listener: tokio::net::TcpListener,
    router: axum::Router,
    stop: &watch::Sender<bool>,
) {
    let mut stopped = stop.subscribe();
    tokio::spawn(async move {
        let _ = axum::serve(listener, router)
            .with_graceful_shutdown(async move {
                let _ = stopped.changed().await;
            })
            .await;
    });
}

/// How to spawn the app.
#[derive(Clone, Default)]
pub struct Options {
    /// The driver re-sends every message once (at-least-once on purpose).
    pub duplicate_messages: bool,
    /// Do not run the driver (messages stay in the queue, for counting).
    pub no_driver: bool,
    /// Engine settings to change from the defaults.
    pub tune: Option<fn(&mut myloware::config::EngineConfig)>,
    /// Count every request the SDK clients send: the HTTP functions' (api, webhook) in the
    /// first, the step handler's in the second. The event-source driver's own receives and
    /// deletes are not counted: they are Lambda's polling, not the functions'.
    pub counters: Option<(myloware_aws::CallCounter, myloware_aws::CallCounter)>,
    /// Messages per event-source batch (default 10).
    pub batch_size: Option<i32>,
    /// A render provider in place of the in-process fake (a real client, say).
    pub render: Option<Arc<dyn myloware::ports::RenderProvider>>,
}

/// A running deployment.
pub struct App {
    /// `http://127.0.0.1:<port>`.
    pub base_url: String,
    /// The fake providers (counts, outboxes).
    pub fakes: FakeSet,
    /// The engine (for reading history through the real store).
    pub engine: Engine,
    /// The test's own resources.
    pub resources: Resources,
    /// SDK clients.
    pub clients: AwsClients,
    /// The configuration the app runs with.
    pub cfg: RuntimeConfig,
    /// The event-source driver (absent with `no_driver`).
    pub driver: Option<SqsDriver>,
    render: Option<Arc<dyn myloware::ports::RenderProvider>>,
    http: reqwest::Client,
    stop: watch::Sender<bool>,
}

/// Every item of `table`, rendered and sorted (a fingerprint any write changes).
pub async fn table_items(clients: &AwsClients, table: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut start = None;
    loop {
        let page = clients
            .dynamodb()
            .scan()
            .table_name(table)
            .consistent_read(true)
            .set_exclusive_start_key(start)
            .send()
            .await
            .expect("scan");
        for item in page.items.unwrap_or_default() {
            let mut kv: Vec<String> = item.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
            kv.sort();
            out.push(kv.join(","));
        }
        start = page.last_evaluated_key;
        if start.is_none() {
            break;
        }
    }
    out.sort();
    out
}

/// Initialise test logging (only when `RUST_LOG` asks for it).
pub fn init_logs() {
    if std::env::var("RUST_LOG").is_ok() {
        myloware_runtime::telemetry::init();
    }
}

fn require_emulator() {
    assert!(
        std::env::var("AWS_ENDPOINT_URL").is_ok(),
        "AWS_ENDPOINT_URL is not set: start LocalStack with localstack/start.sh and export the \
         variables .ci/run exports (or run .ci/run)"
    );
}

impl App {
    /// Create per-test resources and start everything.
    pub async fn spawn(opts: Options) -> App {
        init_logs();
        require_emulator();
        let sdk = myloware_aws::clients::load_sdk_config().await;
        let driver_clients = AwsClients::new(&sdk);
        let (clients, step_clients) = match &opts.counters {
            Some((http, step)) => {
                (AwsClients::counted(&sdk, http), AwsClients::counted(&sdk, step))
            }
            None => (driver_clients.clone(), driver_clients.clone()),
        };
        let prefix = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..12]);
        let resources =
            bootstrap(&clients, &ResourceNames::with_prefix(&prefix)).await.expect("bootstrap");
        // A short visibility timeout so a message left for retry comes back quickly in tests.
        clients
            .sqs()
            .set_queue_attributes()
            .queue_url(&resources.queue_url)
            .attributes(QueueAttributeName::VisibilityTimeout, "4")
            .send()
            .await
            .expect("set visibility");
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base_url = format!("http://{}", listener.local_addr().expect("addr"));

        let engine_cfg = myloware::config::EngineConfig::from_env().expect("engine config");
        let mut cfg = RuntimeConfig::all_fake(engine_cfg);
        let (openai, remotion) = (
            WebhookSecret::parse(OPENAI_SECRET).unwrap(),
            WebhookSecret::parse(REMOTION_SECRET).unwrap(),
        );
        cfg.set_secret(Provider::OpenAi, openai.clone());
        cfg.set_secret(Provider::Remotion, remotion.clone());
        cfg.set_secret(Provider::Replicate, WebhookSecret::parse(REPLICATE_SECRET).unwrap());
        cfg.api_keys =
            vec![API_KEY.into(), format!("{ADMIN_KEY}:admin"), format!("{OPERATOR_KEY}:operator")];
        cfg.engine.webhook_base_url = base_url.clone();
        cfg.engine.lease_ttl = Duration::from_secs(3);
        if let Some(tune) = opts.tune {
            tune(&mut cfg.engine);
        }

        let fakes = FakeSet::new(
            openai,
            remotion,
            Arc::new(HttpCallbackSink::new(&base_url)),
            CallbackMode::Manual,
            Arc::new(SystemClock),
        );
        let providers = |fakes: &FakeSet| {
            let mut p = fakes.providers();
            if let Some(r) = &opts.render {
                p.render = r.clone();
            }
            p
        };
        let engine = aws_engine(&clients, &resources, &cfg, providers(&fakes)).expect("engine");
        let router = myloware_http::local_router(
            app_state(engine.clone(), &cfg, Some(&clients))
                .expect("state")
                .with_dlq(myloware_runtime::step_consumers(&clients, &resources).1),
        );
        let (stop, mut stopped) = watch::channel(false);
        serve_until(listener, router, &stop);
        let mut driver = None;
        if !opts.no_driver {
            let mut d = SqsDriver::new(driver_clients.sqs().clone(), &resources.queue_url);
            d.duplicate = opts.duplicate_messages;
            d.batch_size = opts.batch_size.unwrap_or(d.batch_size);
            driver = Some(d.clone());
            let e = aws_engine(&step_clients, &resources, &cfg, providers(&fakes)).expect("engine");
            let (consumer, dlq) = myloware_runtime::step_consumers(&step_clients, &resources);
            let queues = myloware_step::StepQueues { consumer, dlq };
            tokio::spawn(async move {
                let handler = |ev| {
                    let (e, queues) = (e.clone(), queues.clone());
                    async move { myloware_step::handle_batch(&e, &queues, ev, "test-driver").await }
                };
                d.run(handler, async move {
                    let _ = stopped.changed().await;
                })
                .await;
            });
        }
        App {
            base_url,
            fakes,
            engine,
            resources,
            clients,
            cfg,
            driver,
            render: opts.render.clone(),
            http: reqwest::Client::new(),
            stop,
        }
    }

    /// Another API instance on the same resources (as a second Lambda container would be);
    /// returns its base URL. It lives as long as the test's runtime.
    pub async fn spawn_peer(&self) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let base = format!("http://{}", listener.local_addr().expect("addr"));
        let mut providers = self.fakes.providers();
        if let Some(r) = &self.render {
            providers.render = r.clone();
        }
        let engine =
            aws_engine(&self.clients, &self.resources, &self.cfg, providers).expect("engine");
        let (_, dlq) = myloware_runtime::step_consumers(&self.clients, &self.resources);
        let state = app_state(engine, &self.cfg, Some(&self.clients)).expect("state").with_dlq(dlq);
        tokio::spawn(
            async move { axum::serve(listener, myloware_http::local_router(state)).await },
        );
        base
    }

    /// A request builder for `path` with the API key set.
    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base_url)).header("x-api-key", API_KEY)
    }

    /// POST JSON with the API key; returns status and body.
    pub async fn post(&self, path: &str, body: Value) -> (u16, Value) {
        let r = self.request(reqwest::Method::POST, path).json(&body).send().await.expect("send");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// GET with the API key; returns status and body.
    pub async fn get(&self, path: &str) -> (u16, Value) {
        let r = self.request(reqwest::Method::GET, path).send().await.expect("send");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// A request with the admin key; returns status and body.
    pub async fn admin(&self, method: reqwest::Method, path: &str, body: Value) -> (u16, Value) {
        self.with_key(ADMIN_KEY, method, path, body).await
    }

    /// A POST with the operator key; returns status and body.
    pub async fn operator(&self, path: &str, body: Value) -> (u16, Value) {
        self.with_key(OPERATOR_KEY, reqwest::Method::POST, path, body).await
    }

    /// A request with `key`; returns status and body.
    pub async fn with_key(
        &self,
        key: &str,
        method: reqwest::Method,
        path: &str,
        body: Value,
    ) -> (u16, Value) {
        let mut r = self
            .http
            .request(method.clone(), format!("{}{path}", self.base_url))
            .header("x-api-key", key);
        if method == reqwest::Method::POST {
            r = r.json(&body);
        }
        let r = r.send().await.expect("send");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Send a raw webhook request (no API key); returns status and body.
    pub async fn webhook(&self, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Value) {
        let mut r = self.http.post(format!("{}{path}", self.base_url)).body(body.to_vec());
        for (k, v) in headers {
            r = r.header(*k, *v);
        }
        let r = r.send().await.expect("send");
        let status = r.status().as_u16();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// Send a webhook request with owned header pairs; returns status and body.
    pub async fn webhook_owned(
        &self,
        path: &str,
        headers: &[(String, String)],
        body: &[u8],
    ) -> (u16, Value) {
        let h: Vec<(&str, &str)> = headers.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        self.webhook(path, &h, body).await
    }

    /// Start a run; returns its id.
    pub async fn start_run(&self, clips: u32, brief: &str) -> String {
        let (status, body) =
            self.post("/v1/runs", serde_json::json!({ "brief": brief, "clips": clips })).await;
        assert_eq!(status, 201, "start: {body}");
        body["run_id"].as_str().expect("run_id").to_owned()
    }

    /// Poll `GET /v1/runs/{id}` until its status is `want` (panics after 60 s or on a terminal
    /// status that is not `want`).
    pub async fn wait_for(&self, run_id: &str, want: &str) -> Value {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let (code, body) = self.get(&format!("/v1/runs/{run_id}")).await;
            assert_eq!(code, 200, "{body}");
            let status = body["status"].as_str().unwrap_or_default().to_owned();
            if status == want {
                return body;
            }
            let terminal =
                ["completed", "failed", "rejected", "cancelled"].contains(&status.as_str());
            assert!(
                !terminal && tokio::time::Instant::now() < deadline,
                "run {run_id} is {status}, wanted {want}: {body}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Poll until the run has ended (completed, failed, rejected or cancelled).
    pub async fn wait_for_terminal(&self, run_id: &str) -> Value {
        for _ in 0..600 {
            let (_, body) = self.get(&format!("/v1/runs/{run_id}")).await;
            let status = body["status"].as_str().unwrap_or_default();
            if ["completed", "failed", "rejected", "cancelled"].contains(&status) {
                return body;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("run {run_id} did not end within 60 s");
    }

    /// Approve or reject a gate over HTTP.
    pub async fn decide(&self, run_id: &str, action: &str, gate: &str) -> (u16, Value) {
        self.post(&format!("/v1/runs/{run_id}/{action}"), serde_json::json!({ "gate": gate })).await
    }

    /// A run moved (through real checkpoints) to `status` at `step`, waiting on `jobs` if any.
    pub async fn craft(
        &self,
        step: Step,
        status: RunStatus,
        jobs: &[&str],
        provider: Provider,
    ) -> RunRecord {
        let store = &self.engine.store;
        let run = RunRecord::new(
            ProjectName::parse("aismr").unwrap(),
            "hostile".into(),
            2,
            None,
            SystemClock.now(),
        );
        store.create_run(&run, FAR).await.unwrap();
        let mut next = run.clone();
        next.version = 2;
        next.step = step;
        next.status = status;
        let expected: Vec<ExpectedJob> = jobs
            .iter()
            .enumerate()
            .map(|(i, j)| ExpectedJob { job_id: JobId::parse(j).unwrap(), index: i as u32 })
            .collect();
        let kind = match step {
            Step::IdeationApproval => WaitKind::Gate(Gate::Ideation),
            Step::WaitForRender => WaitKind::Render,
            _ => WaitKind::Videos,
        };
        if kind == WaitKind::Videos {
            next.state.clips = expected
                .iter()
                .map(|e| myloware::domain::ClipRef {
                    index: e.index,
                    job_id: e.job_id.clone(),
                    blob_key: None,
                    output_url: None,
                })
                .collect();
        }
        next.open_wait = Some(OpenWait::new(
            kind,
            2,
            (!jobs.is_empty()).then_some(provider),
            expected.clone(),
            next.updated_at,
            Duration::from_secs(3600),
        ));
        store.checkpoint(Checkpoint::new(&next, 1)).await.unwrap();
        for e in &expected {
            let c = Correlation { run_id: run.run_id, generation: 2, index: e.index };
            store.correlate(provider, &e.job_id, &c).await.unwrap();
        }
        next
    }

    /// Every item of the test's table, rendered and sorted (to prove a request wrote nothing).
    pub async fn table_snapshot(&self) -> Vec<String> {
        table_items(&self.clients, &self.resources.names.table).await
    }

    /// Messages in the step queue (visible, in flight and delayed).
    pub async fn queue_messages(&self) -> u64 {
        let attrs = self
            .clients
            .sqs()
            .get_queue_attributes()
            .queue_url(&self.resources.queue_url)
            .attribute_names(QueueAttributeName::All)
            .send()
            .await
            .expect("attrs")
            .attributes
            .unwrap_or_default();
        [
            QueueAttributeName::ApproximateNumberOfMessages,
            QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
            QueueAttributeName::ApproximateNumberOfMessagesDelayed,
        ]
        .iter()
        .map(|k| attrs.get(k).and_then(|v| v.parse::<u64>().ok()).unwrap_or(0))
        .sum()
    }
}

impl Drop for App {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}
