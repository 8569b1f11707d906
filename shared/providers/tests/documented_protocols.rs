//! Each real adapter against its provider's documentation: the request it sends (method, path,
//! headers, JSON) is compared with the documented example, and the documented answers, webhook
//! bodies and error shapes are parsed. The examples live in `tests/fixtures/*.json`, each with
//! its sources. A recording server stands in for the provider: it answers the documented body
//! and keeps what it was sent.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use myloware::domain::{
    ArrivalOutcome, Ideas, IdeationGuide, JobId, OverlayStyle, ProjectName, RunId, VideoModel,
};
use myloware::ports::{
    IdeationAsk, JobStatus, LlmProvider, ProviderError, RenderProvider, RenderRequest,
    SafetyProvider, SafetyVerdict, VideoProvider, VideoRequest, collect,
};
use myloware::webhooks::{
    VideoEvent, WebhookSecret, operation_of_job, parse_openai_video_event, parse_remotion_event,
    parse_replicate_prediction,
};
use myloware_providers::clients::{
    ApiSettings, Gemini, GeminiSettings, OpenAiChat, OpenAiModeration, OpenAiVideoSettings,
    OpenAiVideos, REPLICATE_MODEL_TABLE, RemotionRender, RenderSettings, Replicate,
    ReplicateSettings, default_webhook_secret, input_template, plain_client, request_schema,
};
use myloware_providers::server::{FakeConfig, FakeSecrets, FakeServer};
use serde_json::{Value, json};

fn fixture(name: &str) -> Value {
    let path = format!("{}/tests/fixtures/{name}.json", env!("CARGO_MANIFEST_DIR"));
    let v: Value = serde_json::from_str(&std::fs::read_to_string(&path).expect("fixture"))
        .expect("fixture JSON");
    assert!(v["source"].as_array().is_some_and(|s| !s.is_empty()), "{name}: no source");
    v
}

/// One request as the provider received it.
#[derive(Debug, Clone)]
struct Received {
    method: Method,
    path: String,
    headers: HeaderMap,
    body: Bytes,
}

impl Received {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body).expect("a JSON body")
    }
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

#[derive(Default)]
struct Script {
    answers: VecDeque<Response>,
    received: Vec<Received>,
}

/// The provider: answers what it is given, in order, and keeps what it receives.
#[derive(Clone)]
struct Provider {
    base: String,
    /// The same server under another host name (`localhost`): a "storage" host for redirects.
    other_host: String,
    script: Arc<Mutex<Script>>,
}

async fn record(State(s): State<Arc<Mutex<Script>>>, req: Request) -> Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 1 << 20).await.unwrap_or_default();
    let mut s = s.lock().unwrap();
    s.received.push(Received {
        method: parts.method,
        path: parts.uri.path_and_query().map(|p| p.to_string()).unwrap_or_default(),
        headers: parts.headers,
        body,
    });
    s.answers
        .pop_front()
        .unwrap_or_else(|| (StatusCode::IM_A_TEAPOT, "nothing scripted").into_response())
}

impl Provider {
    async fn start() -> Self {
        let script = Arc::new(Mutex::new(Script::default()));
        let app = Router::new().fallback(record).with_state(script.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self {
            base: format!("http://127.0.0.1:{port}"),
            other_host: format!("http://localhost:{port}"),
            script,
        }
    }

    /// Answer the next request with a fixture's documented `response`.
    fn answer(&self, exchange: &Value) {
        let r = &exchange["response"];
        let status = StatusCode::from_u16(r["status"].as_u64().unwrap() as u16).unwrap();
        let resp = match r.get("bytes").and_then(Value::as_str) {
            Some(b64) => {
                let bytes = base64::engine::general_purpose::STANDARD.decode(b64).unwrap();
                (status, [("content-type", "video/mp4")], bytes).into_response()
            }
            None => (status, axum::Json(r["json"].clone())).into_response(),
        };
        self.answer_with(resp);
    }

    fn answer_with(&self, resp: Response) {
        self.script.lock().unwrap().answers.push_back(resp);
    }

    fn received(&self) -> Vec<Received> {
        std::mem::take(&mut self.script.lock().unwrap().received)
    }

    fn last(&self) -> Received {
        self.received().pop().expect("a request")
    }
}

/// Remove a dotted path (`a.b`) from a JSON value.
fn without(mut v: Value, path: &str) -> Value {
    let parts: Vec<&str> = path.split('.').collect();
    let (last, parents) = parts.split_last().unwrap();
    let mut cur = &mut v;
    for p in parents {
        cur = cur.get_mut(*p).expect("path in the example");
    }
    cur.as_object_mut().unwrap().remove(*last).expect("field in the example");
    v
}

/// The request is the documented one: method, path, every documented header with its value,
/// and the JSON body equal to the example (less the fields listed as `not_sent`).
fn assert_documented(got: &Received, exchange: &Value) {
    let want = &exchange["request"];
    assert_eq!(got.method.as_str(), want["method"].as_str().unwrap(), "method");
    assert_eq!(got.path, want["path"].as_str().unwrap(), "path");
    for (name, value) in want["headers"].as_object().into_iter().flatten() {
        assert_eq!(got.header(name), value.as_str(), "header {name}");
    }
    if let Some(example) = want.get("json") {
        let mut expected = example.clone();
        for p in want["not_sent"].as_array().into_iter().flatten() {
            expected = without(expected, p.as_str().unwrap());
        }
        assert_eq!(got.json(), expected, "body");
    }
    if let Some(shape) = want.get("json_shape") {
        assert_same_shape(&got.json(), shape, "body");
    }
}

/// Same keys at every object level as the documented example (values are ours).
fn assert_same_shape(got: &Value, example: &Value, at: &str) {
    match (got, example) {
        (Value::Object(g), Value::Object(e)) if !e.is_empty() => {
            let gk: std::collections::BTreeSet<_> = g.keys().collect();
            let ek: std::collections::BTreeSet<_> = e.keys().collect();
            assert_eq!(gk, ek, "keys at {at}");
            for (k, ev) in e {
                assert_same_shape(&g[k], ev, &format!("{at}.{k}"));
            }
        }
        (Value::Array(g), Value::Array(e)) if !e.is_empty() => {
            assert!(!g.is_empty(), "{at}: empty array");
            for gv in g {
                assert_same_shape(gv, &e[0], &format!("{at}[]"));
            }
        }
        (Value::Object(_), Value::Object(_)) => {}
        (g, e) => assert_eq!(
            std::mem::discriminant(g),
            std::mem::discriminant(e),
            "type at {at}: {g} vs {e}"
        ),
    }
}

fn request(prompt: &str, seconds: u32) -> VideoRequest {
    VideoRequest {
        run_id: RunId::new(),
        index: 0,
        prompt: prompt.into(),
        seconds,
        model: None,
        aspect_ratio: None,
    }
}

fn terminal(e: ProviderError) -> String {
    match e {
        ProviderError::Terminal(m) => m,
        other => panic!("expected a terminal error, got {other:?}"),
    }
}

fn retryable(e: ProviderError) -> String {
    match e {
        ProviderError::Retryable(m) => m,
        other => panic!("expected a retryable error, got {other:?}"),
    }
}

#[tokio::test]
async fn openai_compatible_videos_as_documented() {
    let doc = fixture("openai_videos");
    let p = Provider::start().await;
    let client = OpenAiVideos::new(
        plain_client(),
        OpenAiVideoSettings {
            base: p.base.clone(),
            key: "test-video-key".into(),
            model: "sora-2".into(),
            size: "720x1280".into(),
            seconds_as_number: false,
            media_origins: vec![],
        },
    );

    p.answer(&doc["create"]);
    let job = client.submit("intent-run-clip-0", &request("A cat on a piano", 8)).await.unwrap();
    assert_eq!(job.as_str(), "video_123");
    let sent = p.last();
    assert_documented(&sent, &doc["create"]);
    assert_eq!(sent.header("idempotency-key"), Some("intent-run-clip-0"));
    // A project's own model (a gateway's slug) replaces the configured one.
    let own = VideoRequest {
        model: Some(VideoModel { model: "minimax/minimax-h3".into(), input: None }),
        ..request("A cat on a piano", 8)
    };
    assert_eq!(client.create_body(&own)["model"], "minimax/minimax-h3");
    // The project's orientation: a landscape project asks for a landscape size.
    let wide = VideoRequest { aspect_ratio: Some("16:9".into()), ..request("A cat", 8) };
    assert_eq!(client.create_body(&wide)["size"], "1280x720");
    let tall = VideoRequest { aspect_ratio: Some("9:16".into()), ..request("A cat", 8) };
    assert_eq!(client.create_body(&tall)["size"], "720x1280");

    p.answer(&doc["retrieve_completed"]);
    assert_eq!(client.status(&job).await.unwrap(), JobStatus::Completed { output_url: None });
    assert_documented(&p.last(), &doc["retrieve_completed"]);

    p.answer(&doc["retrieve_failed"]);
    let JobStatus::Failed { reason } = client.status(&job).await.unwrap() else { panic!() };
    assert!(reason.starts_with("moderation_blocked: Your request was blocked"), "{reason}");

    p.answer(&doc["retrieve_unknown"]);
    let gone = JobId::parse("video_gone").unwrap();
    let JobStatus::Unknown { detail } = client.status(&gone).await.unwrap() else { panic!() };
    assert!(detail.contains("not found"), "{detail}");
    assert_documented(&p.last(), &doc["retrieve_unknown"]);

    p.answer(&doc["content"]);
    let bytes = collect(client.download(&job, None).await).await.unwrap();
    assert_eq!(&bytes[4..8], b"ftyp");
    assert_documented(&p.last(), &doc["content"]);

    p.answer(&doc["rate_limited"]);
    let why = retryable(client.submit("k", &request("x", 4)).await.unwrap_err());
    assert!(why.contains("429") && why.contains("Rate limit"), "{why}");
    p.answer(&doc["invalid"]);
    let why = terminal(client.submit("k", &request("x", 4)).await.unwrap_err());
    assert!(why.contains("400") && why.contains("'seconds'"), "{why}");

    // The events the gateway posts: the job id, and what happened.
    let body = serde_json::to_vec(&doc["webhook_completed"]["json"]).unwrap();
    assert_eq!(
        parse_openai_video_event(&body).unwrap(),
        VideoEvent::Job {
            event_id: "evt_abc123".into(),
            job_id: job.clone(),
            outcome: ArrivalOutcome::Completed { output_url: None },
        }
    );
    let body = serde_json::to_vec(&doc["webhook_failed"]["json"]).unwrap();
    assert!(matches!(
        parse_openai_video_event(&body).unwrap(),
        VideoEvent::Job { outcome: ArrivalOutcome::Failed { .. }, job_id, .. } if job_id == job
    ));
}

#[tokio::test]
async fn openai_compatible_gateways_that_take_seconds_as_a_number() {
    // Merge Gateway (docs.merge.dev/merge-gateway/api-overview/videos/create): seconds is a
    // number, sizes and model slugs are the gateway's own, ids `vid_…`, answer 202.
    let p = Provider::start().await;
    let client = OpenAiVideos::new(
        plain_client(),
        OpenAiVideoSettings {
            base: format!("{}/", p.base),
            key: "merge-key".into(),
            model: "minimax/minimax-h3".into(),
            size: "768P".into(),
            seconds_as_number: true,
            media_origins: vec![],
        },
    );
    p.answer_with(
        (StatusCode::ACCEPTED, axum::Json(json!({"id": "vid_01JX", "status": "queued"})))
            .into_response(),
    );
    let job = client.submit("k", &request("A kite", 6)).await.unwrap();
    assert_eq!(job.as_str(), "vid_01JX");
    let sent = p.last();
    assert_eq!(sent.path, "/v1/videos");
    assert_eq!(
        sent.json(),
        json!({"model": "minimax/minimax-h3", "prompt": "A kite", "seconds": 6, "size": "768P"})
    );
}

#[tokio::test]
async fn replicate_predictions_as_documented() {
    let doc = fixture("replicate");
    let p = Provider::start().await;
    let model = doc["model"].as_str().unwrap();
    let settings = ReplicateSettings {
        base: p.base.clone(),
        token: "r8_test_token".into(),
        model: model.into(),
        version: None,
        input: input_template(REPLICATE_MODEL_TABLE, model).unwrap().expect("in the table"),
        webhook_url: "https://api.example.com/v1/webhooks/replicate".into(),
        // The recording server's other name stands in for replicate.delivery.
        media_origins: vec![p.other_host.clone()],
    };
    let client = Replicate::new(plain_client(), settings.clone());

    p.answer(&doc["create"]);
    let job = client.submit("intent", &request("Bicycle at dawn", 5)).await.unwrap();
    assert_eq!(job.as_str(), "qz7mvx2p9srm80cqmq0b3v8gkc");
    assert_documented(&p.last(), &doc["create"]);

    // A pinned version goes to /v1/predictions with the version id.
    let pinned = Replicate::new(
        plain_client(),
        ReplicateSettings { version: Some("a5fd5508".into()), ..settings },
    );
    p.answer(&doc["create_version"]);
    pinned.submit("intent", &request("Bicycle at dawn", 5)).await.unwrap();
    assert_documented(&p.last(), &doc["create_version"]);

    // A project's own model: its latest version, its input from the model table or from the
    // project file; a model with neither, or not `owner/name`, is refused before any call.
    let with_model = |model: &str, input: Option<Value>| VideoRequest {
        model: Some(VideoModel {
            model: model.into(),
            input: input.map(|i| i.as_object().unwrap().clone()),
        }),
        ..request("Bicycle at dawn", 5)
    };
    p.answer(&doc["create"]);
    pinned.submit("intent", &with_model("minimax/hailuo-02", None)).await.unwrap();
    let sent = p.last();
    assert_eq!(sent.path, "/v1/models/minimax/hailuo-02/predictions", "the model's, unpinned");
    assert_eq!(sent.json()["input"]["prompt_optimizer"], true, "the table's input");
    let wide = VideoRequest {
        aspect_ratio: Some("16:9".into()),
        ..with_model("kwaivgi/kling-v2.1-master", None)
    };
    let (_, body) = pinned.create_request(&wide).unwrap();
    assert_eq!(body["input"]["aspect_ratio"], "16:9", "the project's ratio in the input");
    assert!(sent.json().get("version").is_none());
    p.answer(&doc["create"]);
    let own = json!({ "prompt": "{prompt}", "length": "{seconds}" });
    client.submit("intent", &with_model("acme/clipper-1", Some(own))).await.unwrap();
    let sent = p.last();
    assert_eq!(sent.path, "/v1/models/acme/clipper-1/predictions");
    assert_eq!(sent.json()["input"], json!({ "prompt": "Bicycle at dawn", "length": 5 }));
    let why = terminal(client.submit("k", &with_model("acme/unknown", None)).await.unwrap_err());
    assert!(why.contains("video.input"), "{why}");
    let why = terminal(client.submit("k", &with_model("../../v1/x", None)).await.unwrap_err());
    assert!(why.contains("not a Replicate model"), "{why}");
    assert!(p.received().is_empty(), "nothing was sent for the refused ones");

    // The output lives on Replicate's delivery host: the token must not go there.
    let mut succeeded = doc["get_succeeded"].clone();
    let output = format!("{}/xezq/abc/output.mp4", p.other_host);
    succeeded["response"]["json"]["output"] = json!(output);
    p.answer(&succeeded);
    assert_eq!(
        client.status(&job).await.unwrap(),
        JobStatus::Completed { output_url: Some(output.clone()) }
    );
    assert_documented(&p.last(), &doc["get_succeeded"]);
    p.answer_with((StatusCode::OK, b"\0\0\0\x18ftypmp42".to_vec()).into_response());
    let bytes = collect(client.download(&job, Some(&output)).await).await.unwrap();
    assert_eq!(&bytes[4..8], b"ftyp");
    let fetched = p.last();
    assert_eq!(fetched.path, "/xezq/abc/output.mp4");
    assert_eq!(fetched.header("authorization"), None, "the token went to the file host");

    p.answer(&doc["get_failed"]);
    let JobStatus::Failed { reason } = client.status(&job).await.unwrap() else { panic!() };
    assert!(reason.starts_with("E005: The input or output was flagged"), "{reason}");
    p.answer(&doc["get_expired"]);
    let JobStatus::Failed { reason } = client.status(&job).await.unwrap() else { panic!() };
    assert!(reason.contains("deleted"), "{reason}");
    p.answer(&doc["get_unknown"]);
    assert!(matches!(client.status(&job).await.unwrap(), JobStatus::Unknown { .. }));

    // A file already gone (an hour after the prediction) is said so.
    p.answer_with((StatusCode::NOT_FOUND, "gone").into_response());
    let why = terminal(collect(client.download(&job, Some(&output)).await).await.unwrap_err());
    assert!(why.contains("keeps files for an hour"), "{why}");

    p.answer(&doc["throttled"]);
    let why = retryable(client.submit("k", &request("x", 5)).await.unwrap_err());
    assert!(why.contains("throttled"), "{why}");
    p.answer(&doc["invalid"]);
    let why = terminal(client.submit("k", &request("x", 5)).await.unwrap_err());
    assert!(why.contains("422") && why.contains("input.duration"), "{why}");

    p.answer(&doc["secret"]);
    let key = default_webhook_secret(&plain_client(), &p.base, "r8_test_token").await.unwrap();
    assert!(key.starts_with("whsec_"));
    assert_documented(&p.last(), &doc["secret"]);

    // The webhook is the prediction object; its webhook-id is the event id.
    let body = serde_json::to_vec(&doc["webhook_succeeded"]["json"]).unwrap();
    assert_eq!(
        parse_replicate_prediction(&body, Some("msg_2fd")).unwrap(),
        VideoEvent::Job {
            event_id: "msg_2fd".into(),
            job_id: job.clone(),
            outcome: ArrivalOutcome::Completed {
                output_url: Some("https://replicate.delivery/xezq/abc/output.mp4".into())
            },
        }
    );
    let body = serde_json::to_vec(&doc["webhook_processing"]["json"]).unwrap();
    assert!(matches!(
        parse_replicate_prediction(&body, Some("msg_1")).unwrap(),
        VideoEvent::Ignored { .. }
    ));
}

#[tokio::test]
async fn gemini_veo_operations_as_documented() {
    let doc = fixture("gemini");
    let p = Provider::start().await;
    let client = Gemini::new(
        plain_client(),
        GeminiSettings {
            base: p.base.clone(),
            key: "test-gemini-key".into(),
            model: doc["model"].as_str().unwrap().into(),
            aspect_ratio: "9:16".into(),
            resolution: "720p".into(),
            webhooks: false,
            media_origins: vec![p.other_host.clone()],
        },
    );
    assert!(!client.calls_back(), "polled: no callback expected");

    p.answer(&doc["create"]);
    let job = client.submit("intent", &request("Neon city at night, slow dolly", 8)).await.unwrap();
    assert_documented(&p.last(), &doc["create"]);
    let name = doc["create"]["response"]["json"]["name"].as_str().unwrap();
    assert_eq!(operation_of_job(&job).as_deref(), Some(name));

    // A project's own model goes in the path; one that is not a model id is refused.
    p.answer(&doc["create"]);
    let own = VideoRequest {
        model: Some(VideoModel { model: "veo-3.1-generate-preview".into(), input: None }),
        ..request("Neon city at night", 8)
    };
    client.submit("intent", &own).await.unwrap();
    assert_eq!(p.last().path, "/v1beta/models/veo-3.1-generate-preview:predictLongRunning");
    let bad = VideoRequest {
        model: Some(VideoModel { model: "../files/x".into(), input: None }),
        ..request("Neon city at night", 8)
    };
    assert!(terminal(client.submit("k", &bad).await.unwrap_err()).contains("not a Gemini model"));

    p.answer(&doc["operation_running"]);
    assert_eq!(client.status(&job).await.unwrap(), JobStatus::Pending);
    assert_documented(&p.last(), &doc["operation_running"]);

    p.answer(&doc["operation_done"]);
    let JobStatus::Completed { output_url: Some(uri) } = client.status(&job).await.unwrap() else {
        panic!()
    };
    assert!(uri.ends_with("/v1beta/files/xyz:download?alt=media"), "{uri}");

    p.answer(&doc["operation_error"]);
    let JobStatus::Failed { reason } = client.status(&job).await.unwrap() else { panic!() };
    assert!(reason.contains("usage guidelines"), "{reason}");

    p.answer(&doc["operation_unknown"]);
    assert!(matches!(client.status(&job).await.unwrap(), JobStatus::Unknown { .. }));

    // The download: the key goes to the API's host, not to the storage it redirects to.
    p.received();
    let storage = format!("{}/blob/xyz.mp4", p.other_host);
    p.answer_with((StatusCode::FOUND, [("location", storage.as_str())]).into_response());
    p.answer_with((StatusCode::OK, b"\0\0\0\x18ftypmp42".to_vec()).into_response());
    let file = format!("{}/v1beta/files/xyz:download?alt=media", p.base);
    let bytes = collect(client.download(&job, Some(&file)).await).await.unwrap();
    assert_eq!(&bytes[4..8], b"ftyp");
    let [at_api, at_storage] = <[Received; 2]>::try_from(p.received()).unwrap();
    assert_eq!(at_api.header("x-goog-api-key"), Some("test-gemini-key"));
    assert_eq!(at_storage.path, "/blob/xyz.mp4");
    assert_eq!(at_storage.header("x-goog-api-key"), None, "the key went to storage");

    p.answer(&doc["quota"]);
    let why = retryable(client.submit("k", &request("x", 8)).await.unwrap_err());
    assert!(why.contains("RESOURCE_EXHAUSTED"), "{why}");
    p.answer(&doc["invalid_key"]);
    let why = terminal(client.submit("k", &request("x", 8)).await.unwrap_err());
    assert!(why.contains("API key not valid"), "{why}");
}

/// The schema of the shipped `aismr` project.
fn aismr_schema() -> serde_json::Value {
    let catalog = myloware::projects::Catalog::shipped();
    let spec = catalog.get("aismr").unwrap().project.spec("v");
    spec.ideation.unwrap().schema.expect("aismr has its own ideas schema")
}

#[tokio::test]
async fn chat_and_moderation_as_documented() {
    let doc = fixture("chat");
    let p = Provider::start().await;
    let settings = |key: &str, model: &str| ApiSettings {
        base: p.base.clone(),
        key: key.into(),
        model: model.into(),
    };
    let llm = OpenAiChat::new(plain_client(), settings("test-llm-key", "gpt-4o-mini"));
    let ask = IdeationAsk {
        project: ProjectName::parse("aismr").unwrap(),
        brief: "a dawn ride".into(),
        clips: 2,
        guide: None,
    };

    p.answer(&doc["ideate"]);
    let ideas: Ideas = llm.ideate(&ask).await.unwrap();
    assert_eq!(ideas.prompts.len(), 2);
    assert_eq!(ideas.title, "Dawn ride");
    let sent = p.last();
    assert_documented(&sent, &doc["ideate"]);
    let format = &sent.json()["response_format"]["json_schema"];
    assert_eq!(format["strict"], true);
    assert_eq!(format["schema"], request_schema(&ask));
    assert_eq!(format["schema"]["properties"]["prompts"]["maxItems"], 2, "the run's clip count");
    let name = format["name"].as_str().unwrap();
    assert!(
        name.len() <= 64
            && name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_' || b == b'-')
    );

    // A project's ideator: its persona, prompt and rules in the system message, its model.
    let guided = IdeationAsk {
        guide: Some(IdeationGuide {
            persona: "an ASMR director".into(),
            system_prompt: "Plan twelve zodiac objects.".into(),
            model: Some("gpt-4o-2024-08-06".into()),
            rules: vec!["no faces".into()],
            schema: Some(aismr_schema()),
            blocked_terms: vec![],
        }),
        ..ask.clone()
    };
    p.answer(&doc["ideate_labelled"]);
    llm.ideate(&guided).await.unwrap();
    let sent = p.last().json();
    assert_eq!(sent["model"], "gpt-4o-2024-08-06");
    let system = sent["messages"][0]["content"].as_str().unwrap();
    for part in ["an ASMR director", "Plan twelve zodiac objects.", "- no faces"] {
        assert!(system.contains(part), "{part:?} not in {system:?}");
    }
    // Its schema, as strict mode takes it: lengths are checked after the answer, not sent.
    let schema = &sent["response_format"]["json_schema"]["schema"];
    assert_eq!(schema["properties"]["overlays"]["description"], "The zodiac sign and the object");
    assert!(schema["properties"]["overlays"]["items"].get("maxLength").is_none());

    // An answer that breaks the project's schema (an overlay too long for it) is asked again
    // once with the validation message; the second, valid answer is used.
    p.answer(&doc["long_overlay"]);
    p.answer(&doc["ideate_labelled"]);
    llm.ideate(&guided).await.unwrap();
    let [_, again] = <[Received; 2]>::try_from(p.received()).unwrap();
    let reask = again.json()["messages"][3]["content"].as_str().unwrap().to_owned();
    assert!(reask.contains("/overlays/0"), "{reask}");

    // A cut-off answer is asked again once, with the reason; the second answer is used.
    p.answer(&doc["truncated"]);
    p.answer(&doc["ideate"]);
    llm.ideate(&ask).await.unwrap();
    let [_, again] = <[Received; 2]>::try_from(p.received()).unwrap();
    let messages = again.json()["messages"].as_array().unwrap().clone();
    assert_eq!(messages.len(), 4);
    assert_eq!(messages[2]["role"], "assistant");
    assert!(messages[3]["content"].as_str().unwrap().contains("cut off"));

    // Wrong twice: a clear error, after exactly one re-ask.
    p.answer(&doc["wrong_count"]);
    p.answer(&doc["wrong_count"]);
    let why = terminal(llm.ideate(&ask).await.unwrap_err());
    assert!(why.contains("after one re-ask") && why.contains("2"), "{why}");
    assert_eq!(p.received().len(), 2);

    // The eval's judge: the rubric in the system message, the plan in the user message, the
    // verdict as structured output.
    let judge = myloware_providers::clients::OpenAiJudge::new(
        plain_client(),
        settings("test-llm-key", "gpt-4o-2024-08-06"),
    );
    let catalog = myloware::projects::Catalog::shipped();
    let eval = catalog.get("aismr").unwrap().project.eval.clone().unwrap();
    let ideas = Ideas {
        title: "t".into(),
        prompts: vec!["a slow macro of a glass horn".into(), "velvet".into()],
        caption: "c".into(),
        overlays: vec![],
    };
    p.answer(&doc["judge"]);
    let asked = myloware::eval::JudgeAsk { eval: &eval, ask: &ask, ideas: &ideas };
    let verdict = myloware::eval::Judge::judge(&judge, &asked).await.unwrap();
    assert_eq!(verdict.score, 4);
    let sent = p.last();
    assert_documented(&sent, &doc["ideate"]);
    let body = sent.json();
    assert!(body["messages"][0]["content"].as_str().unwrap().contains("- tactile sound: "));
    assert!(body["messages"][1]["content"].as_str().unwrap().contains("glass horn"));
    assert_eq!(
        body["response_format"]["json_schema"]["schema"]["properties"]["score"]["enum"],
        serde_json::json!([1, 2, 3, 4, 5])
    );

    p.answer(&doc["refusal"]);
    let why = terminal(llm.ideate(&ask).await.unwrap_err());
    assert!(why.contains("I'm sorry"), "{why}");
    p.answer(&doc["unauthorized"]);
    let why = terminal(llm.ideate(&ask).await.unwrap_err());
    assert!(why.contains("401") && why.contains("invalid_api_key"), "{why}");
    p.received();

    let moderation = OpenAiModeration::new(
        plain_client(),
        settings("test-moderation-key", "omni-moderation-latest"),
    );
    p.answer(&doc["moderate"]);
    assert_eq!(
        moderation.check("a violent scene").await.unwrap(),
        SafetyVerdict::Blocked("flagged by moderation: violence, violence/graphic".into())
    );
    let sent = p.last();
    assert_documented(&sent, &doc["moderate"]);
    assert_eq!(sent.json()["input"], "a violent scene");
    p.answer(&doc["moderate_clean"]);
    assert_eq!(moderation.check("a calm sea").await.unwrap(), SafetyVerdict::Safe);
    // Fail closed: an error is an error, never "safe".
    p.answer(&doc["unauthorized"]);
    assert!(moderation.check("a calm sea").await.is_err());
}

#[tokio::test]
async fn the_render_service_contract_field_by_field() {
    let doc = fixture("render_service");
    let p = Provider::start().await;
    let settings = RenderSettings {
        base: p.base.clone(),
        key: "test-render-key".into(),
        media_origins: vec![],
    };
    let client = RemotionRender::new(plain_client(), &settings);
    let example = &doc["render"]["request"]["json"];
    let run_id: RunId = example["run_id"].as_str().unwrap().parse().unwrap();
    let strings = |v: &Value| -> Vec<String> {
        v.as_array().unwrap().iter().map(|s| s.as_str().unwrap().to_owned()).collect()
    };
    let req = RenderRequest {
        run_id,
        overlay_style: None,
        template: "motivational".into(),
        clip_urls: strings(&example["clips"]),
        texts: strings(&example["texts"]),
        title: "not part of the contract".into(),
        caption: "nor this".into(),
        duration_frames: 450,
        fps: 30,
        width: 1080,
        height: 1920,
        callback_url: example["callback_url"].as_str().unwrap().into(),
    };
    p.answer(&doc["render"]);
    let job = client.submit("intent-render", &req).await.unwrap();
    assert_eq!(job.as_str(), "V1StGXR8_Z5jdHi6B-myT");
    let sent = p.last();
    assert_documented(&sent, &doc["render"]);
    assert_eq!(sent.header("idempotency-key"), Some("intent-render"));
    // The aismr template takes its overlays as `objects`.
    p.answer(&doc["render"]);
    client.submit("k2", &RenderRequest { template: "aismr".into(), ..req.clone() }).await.unwrap();
    let body = p.last().json();
    assert_eq!(body["objects"], example["texts"]);
    assert!(body.get("texts").is_none(), "{body}");
    // The project's overlay style decides, whatever the template's name.
    let labelled = RenderRequest { overlay_style: Some(OverlayStyle::Label), ..req.clone() };
    p.answer(&doc["render"]);
    client.submit("k4", &labelled).await.unwrap();
    let body = p.last().json();
    assert_eq!(
        (body["template"].as_str(), &body["objects"]),
        (Some("motivational"), &example["texts"])
    );
    let lines = RenderRequest {
        overlay_style: Some(OverlayStyle::Lines),
        template: "aismr".into(),
        ..req.clone()
    };
    p.answer(&doc["render"]);
    client.submit("k5", &lines).await.unwrap();
    assert_eq!(p.last().json()["texts"], example["texts"]);
    // No overlays: neither field.
    p.answer(&doc["render"]);
    client.submit("k3", &RenderRequest { texts: vec![], ..req.clone() }).await.unwrap();
    let body = p.last().json();
    assert!(body.get("texts").is_none() && body.get("objects").is_none(), "{body}");

    // The documented callback is what the webhook parses.
    let body = serde_json::to_vec(&doc["callback"]["json"]).unwrap();
    let event = parse_remotion_event(&body).unwrap();
    assert_eq!(event.job_id.as_str(), "V1StGXR8_Z5jdHi6B-myT");
    assert_eq!(event.run_id, Some(run_id));
    assert_eq!(
        event.outcome,
        Some(ArrivalOutcome::Completed {
            output_url: Some("https://render.example.com/output/V1StGXR8_Z5jdHi6B-myT.mp4".into())
        })
    );
}

/// The fake render server refuses what the real service refuses, with 400 and its `error`.
#[tokio::test]
async fn the_fake_render_service_refuses_what_the_real_one_refuses() {
    let doc = fixture("render_service");
    let secret = |s: &str| WebhookSecret::parse(s).unwrap();
    let secrets = FakeSecrets {
        openai: secret("whsec_ZGVtby1zb3JhLXNlY3JldC0wMTIzNDU2Nzg5YWJjZGVm"),
        replicate: secret("whsec_ZGVtby1yZXBsaWNhdGUtc2VjcmV0LTAxMjM0NTY3ODk="),
        remotion: secret("render-secret"),
    };
    let fake = FakeServer::spawn("127.0.0.1:0".parse().unwrap(), secrets, FakeConfig::default())
        .await
        .unwrap();
    let http = plain_client();
    let example = doc["render"]["request"]["json"].clone();
    let post = |body: Value| {
        let (http, url) = (http.clone(), format!("{}/api/render", fake.base_url()));
        async move {
            let r = http.post(url).bearer_auth("k").json(&body).send().await.unwrap();
            (r.status().as_u16(), r.json::<Value>().await.unwrap())
        }
    };
    for case in doc["refusals"].as_array().unwrap() {
        let mut body = example.clone();
        if let Some(field) = case["drop"].as_str() {
            body.as_object_mut().unwrap().remove(field);
        }
        for (k, v) in case["set"].as_object().into_iter().flatten() {
            body[k] = v.clone();
        }
        let (status, answer) = post(body).await;
        assert_eq!(status as u64, case["status"].as_u64().unwrap(), "{}: {answer}", case["why"]);
        assert!(answer["error"].as_str().is_some_and(|e| !e.is_empty()), "{answer}");
    }
    assert_eq!(fake.stats().render_jobs, 0, "a refused request started a render");
    let (status, answer) = post(example).await;
    assert_eq!((status, answer["status"].as_str()), (202, Some("queued")), "{answer}");
    assert_eq!(answer["template"], "motivational");
}
