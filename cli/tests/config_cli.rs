//! Provider modes fail closed: `myloware config check` and `myloware serve` read the same
//! environment (as the Lambda functions do) and refuse to start with the variable to fix when a
//! real provider lacks its key, URL or webhook secret, when no mode is said, or when a
//! production stage would run fakes. `GET /health?deep=1` reports the modes to an admin.

use std::process::{Command, Output, Stdio};
use std::time::Duration;

use myloware_tests::http::{ChildGuard, free_port, wait_up};

const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

/// `myloware <args>` with exactly `env` (nothing inherited but PATH and HOME).
fn myloware(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_myloware"))
        .args(args)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("HOME", std::env::temp_dir())
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .output()
        .expect("run myloware")
}

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// The configuration is refused, by `config check` and by `serve` alike, naming `var`.
fn refused(env: &[(&str, &str)], var: &str) {
    let check = myloware(&["config", "check"], env);
    assert_eq!(check.status.code(), Some(2), "config check accepted {env:?}");
    assert!(stderr(&check).contains(var), "config check: {:?} does not name {var}", stderr(&check));
    let dir = std::env::temp_dir().join(format!("myloware-cfg-{}", uuid::Uuid::new_v4().simple()));
    let port = free_port().to_string();
    let serve = myloware(
        &["serve", "--addr", &format!("127.0.0.1:{port}"), "--data-dir", dir.to_str().unwrap()],
        env,
    );
    assert!(!serve.status.success(), "serve started with {env:?}");
    assert!(stderr(&serve).contains(var), "serve: {:?} does not name {var}", stderr(&serve));
    assert!(!dir.exists(), "serve wrote its data directory before refusing");
}

const SECRETS: [(&str, &str); 2] = [
    ("MYLOWARE_OPENAI_WEBHOOK_SECRETS", SECRET),
    ("MYLOWARE_REMOTION_WEBHOOK_SECRETS", "render-secret"),
];

fn with<'a>(base: &[(&'a str, &'a str)], more: &[(&'a str, &'a str)]) -> Vec<(&'a str, &'a str)> {
    base.iter().chain(more).copied().collect()
}

#[test]
fn a_real_provider_without_what_it_needs_refuses_to_start_naming_the_variable() {
    // No mode said at all: nothing is chosen for the operator.
    refused(&SECRETS, "MYLOWARE_PROVIDERS");
    refused(&with(&SECRETS, &[("MYLOWARE_PROVIDERS", "all=maybe")]), "MYLOWARE_PROVIDERS");
    // Moderation cannot be switched off.
    refused(
        &with(&SECRETS, &[("MYLOWARE_PROVIDERS", "all=fake,moderation=off")]),
        "MYLOWARE_PROVIDERS",
    );

    let fake_but = |kind: &'static str| format!("all=fake,{kind}=real");
    let (llm, video, publish) = (fake_but("llm"), fake_but("video"), fake_but("publish"));
    refused(&with(&SECRETS, &[("MYLOWARE_PROVIDERS", &llm)]), "MYLOWARE_LLM_API_KEY");
    refused(&with(&SECRETS, &[("MYLOWARE_PROVIDERS", &publish)]), "MYLOWARE_UPLOAD_POST_API_KEY");

    // Each video adapter, real, with its key missing.
    let openai = [
        ("MYLOWARE_PROVIDERS", video.as_str()),
        ("MYLOWARE_OPENAI_VIDEO_BASE_URL", "https://api-gateway.example.com"),
        ("MYLOWARE_OPENAI_VIDEO_MODEL", "minimax/minimax-h3"),
    ];
    refused(&with(&SECRETS, &openai), "MYLOWARE_OPENAI_VIDEO_API_KEY");
    // OpenAI's own Videos API is gone: there is no default base URL to fall back on.
    refused(&with(&SECRETS, &openai[..1]), "MYLOWARE_OPENAI_VIDEO_BASE_URL");
    let replicate = [
        ("MYLOWARE_PROVIDERS", video.as_str()),
        ("MYLOWARE_VIDEO_ADAPTER", "replicate"),
        ("MYLOWARE_REPLICATE_MODEL", "google/veo-3.1-fast"),
    ];
    refused(&with(&SECRETS, &replicate), "MYLOWARE_REPLICATE_API_TOKEN");
    refused(
        &with(
            &SECRETS,
            &[replicate[0], replicate[1], ("MYLOWARE_REPLICATE_MODEL", "someone/unknown")],
        ),
        "MYLOWARE_REPLICATE_MODEL",
    );
    let gemini = [("MYLOWARE_PROVIDERS", video.as_str()), ("MYLOWARE_VIDEO_ADAPTER", "gemini")];
    refused(&with(&SECRETS, &gemini), "MYLOWARE_GEMINI_API_KEY");
    refused(
        &with(&SECRETS, &[gemini[0], ("MYLOWARE_VIDEO_ADAPTER", "sora")]),
        "MYLOWARE_VIDEO_ADAPTER",
    );

    // A real provider that calls back needs the secret its callbacks are signed with.
    let openai_keyed = with(&openai, &[("MYLOWARE_OPENAI_VIDEO_API_KEY", "k")]);
    refused(
        &with(&openai_keyed, &[("MYLOWARE_REMOTION_WEBHOOK_SECRETS", "render-secret")]),
        "MYLOWARE_OPENAI_WEBHOOK_SECRETS",
    );
    // With everything there, it starts.
    let ok = myloware(&["config", "check"], &with(&SECRETS, &openai_keyed));
    assert!(ok.status.success(), "{}", stderr(&ok));
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(out.contains("video=real") && out.contains("minimax/minimax-h3"), "{out}");
    assert!(!out.contains("video-key") && !out.contains(SECRET), "a secret was printed: {out}");
}

#[test]
fn fakes_in_a_production_stage_refuse_to_start_unless_allowed() {
    let prod = with(&SECRETS, &[("MYLOWARE_PROVIDERS", "all=fake"), ("MYLOWARE_STAGE", "prod")]);
    refused(&prod, "MYLOWARE_ALLOW_FAKE_PROVIDERS");
    let allowed = with(&prod, &[("MYLOWARE_ALLOW_FAKE_PROVIDERS", "true")]);
    let ok = myloware(&["config", "check"], &allowed);
    assert!(ok.status.success(), "{}", stderr(&ok));
    // Off is not fake: a production stage may switch publishing off.
    let off = with(
        &SECRETS,
        &[
            ("MYLOWARE_PROVIDERS", "all=real,video=off,render=off,publish=off"),
            ("MYLOWARE_STAGE", "production"),
            ("MYLOWARE_LLM_API_KEY", "k1"),
            ("MYLOWARE_MODERATION_API_KEY", "k2"),
        ],
    );
    let ok = myloware(&["config", "check"], &off);
    assert!(ok.status.success(), "{}", stderr(&ok));
}

/// The built-in renderer is a real renderer: asked for with render fake it is refused, a
/// configured ffmpeg that is not there is refused, and a working one is what `config check`
/// describes.
#[test]
fn the_built_in_renderer_is_real_and_needs_ffmpeg() {
    let base = with(&SECRETS, &[("MYLOWARE_RENDERER", "ffmpeg")]);
    refused(&with(&base, &[("MYLOWARE_PROVIDERS", "all=fake")]), "MYLOWARE_RENDERER");
    refused(
        &with(&SECRETS, &[("MYLOWARE_PROVIDERS", "all=fake"), ("MYLOWARE_RENDERER", "gpu")]),
        "MYLOWARE_RENDERER",
    );
    let real = with(&base, &[("MYLOWARE_PROVIDERS", "all=fake,render=real")]);
    refused(&with(&real, &[("MYLOWARE_FFMPEG", "/nonexistent/ffmpeg")]), "MYLOWARE_FFMPEG");
    // CI installs ffmpeg: found on the PATH, no render service settings needed.
    let ok = myloware(&["config", "check"], &real);
    let out = String::from_utf8_lossy(&ok.stdout);
    assert!(ok.status.success(), "{}", stderr(&ok));
    assert!(out.contains("real, built in"), "{out}");
}

#[tokio::test]
async fn deep_health_reports_the_modes_to_an_admin() {
    let port = free_port();
    let dir =
        std::env::temp_dir().join(format!("myloware-health-{}", uuid::Uuid::new_v4().simple()));
    let _serve = ChildGuard(
        Command::new(env!("CARGO_BIN_EXE_myloware"))
            .args(["serve", "--addr", &format!("127.0.0.1:{port}"), "--data-dir"])
            .arg(&dir)
            .envs(SECRETS)
            .env("MYLOWARE_PROVIDERS", "all=fake,publish=off")
            .env("MYLOWARE_API_KEYS", "runs-key,ops:admin")
            .env_remove("MYLOWARE_PROVIDER_BASE_URL")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve"),
    );
    let base = format!("http://127.0.0.1:{port}");
    wait_up(&format!("{base}/health")).await;
    let http = reqwest::Client::builder().timeout(Duration::from_secs(10)).build().unwrap();
    let get = |key: Option<&'static str>| {
        let mut r = http.get(format!("{base}/health?deep=1"));
        if let Some(k) = key {
            r = r.header("x-api-key", k);
        }
        r.send()
    };
    let shallow: serde_json::Value =
        http.get(format!("{base}/health")).send().await.unwrap().json().await.unwrap();
    assert_eq!(shallow, serde_json::json!({ "status": "ok" }), "the public check says no more");
    assert_eq!(get(None).await.unwrap().status(), 401);
    assert_eq!(get(Some("runs-key")).await.unwrap().status(), 403);
    let deep = get(Some("ops")).await.unwrap();
    assert_eq!(deep.status(), 200);
    let body: serde_json::Value = deep.json().await.unwrap();
    assert_eq!(body["providers"]["video"], "fake", "{body}");
    assert_eq!(body["providers"]["publish"], "off", "{body}");
    assert_eq!(
        (body["video_adapter"].as_str(), body["stage"].as_str()),
        (Some("openai"), Some("dev"))
    );
    for dependency in ["store", "queue", "blobs"] {
        assert_eq!(body["checks"][dependency]["ok"], true, "{dependency}: {body}");
        assert!(body["checks"][dependency]["ms"].is_u64(), "{body}");
    }
    assert!(body["checks"]["queue"]["depth"].is_u64(), "the embedded queue says its depth: {body}");
    let _ = std::fs::remove_dir_all(&dir);
}
