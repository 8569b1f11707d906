//! `myloware runs …` against a served API: start, list, get, approve, and a clear error.

use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

struct Proc(Child);

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn myloware(api: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_myloware"))
        .args(["runs", "--api-url", api, "--api-key", "cli-key"])
        .args(args)
        .output()
        .expect("run myloware")
}

/// `myloware eval export-feedback` against `api` with `args`.
fn export_feedback(api: &str, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_myloware"))
        .args(["eval", "export-feedback", "--api-url", api, "--api-key", "cli-key"])
        .args(args)
        .output()
        .expect("run myloware")
}

fn json(out: &Output) -> serde_json::Value {
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("JSON on stdout")
}

/// `myloware serve` (embedded, every provider fake) on a free port: the process, the API's
/// base URL and the data directory.
fn serve_embedded() -> (Proc, String, std::path::PathBuf) {
    let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
    let dir = std::env::temp_dir().join(format!("myloware-cli-{}", uuid::Uuid::new_v4().simple()));
    let serve = Proc(
        Command::new(env!("CARGO_BIN_EXE_myloware"))
            .args(["serve", "--backend", "embedded", "--addr", &format!("127.0.0.1:{port}")])
            .arg("--data-dir")
            .arg(&dir)
            .env("MYLOWARE_API_KEYS", "cli-key")
            .env("MYLOWARE_OPENAI_WEBHOOK_SECRETS", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw")
            .env("MYLOWARE_REMOTION_WEBHOOK_SECRETS", "cli-remotion")
            .env("MYLOWARE_FAKE_CALLBACK_DELAY_MS", "100")
            .env_remove("MYLOWARE_PROVIDER_BASE_URL")
            .env("MYLOWARE_PROVIDERS", "all=fake")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("serve"),
    );
    let deadline = Instant::now() + Duration::from_secs(30);
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(Instant::now() < deadline, "serve did not come up");
        std::thread::sleep(Duration::from_millis(50));
    }
    (serve, format!("http://127.0.0.1:{port}"), dir)
}

/// Wait until run `id` has `status`.
fn wait_for(api: &str, id: &str, status: &str) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let view = json(&myloware(api, &["get", id, "--json"]));
        if view["status"] == status {
            return;
        }
        assert!(Instant::now() < deadline, "waiting for {status}: {view}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn watch_follows_a_run_to_its_end() {
    let (_serve, api, _dir) = serve_embedded();
    let started = json(&myloware(&api, &["start", "--brief", "watched", "--clips", "2", "--json"]));
    let id = started["run_id"].as_str().unwrap().to_owned();
    let watcher = Command::new(env!("CARGO_BIN_EXE_myloware"))
        .args(["runs", "--api-url", &api, "--api-key", "cli-key", "watch", &id])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("watch");
    for (status, gate) in
        [("awaiting_ideation_approval", "ideation"), ("awaiting_publish_approval", "publish")]
    {
        wait_for(&api, &id, status);
        // What a reviewer reads before deciding, without --json.
        let shown = myloware(&api, &["get", &id]);
        assert!(shown.status.success(), "{}", String::from_utf8_lossy(&shown.stderr));
        let shown = String::from_utf8_lossy(&shown.stdout);
        let decide = format!("myloware runs approve {id} --gate {gate}");
        let at_gate = format!("waiting for a person's decision at the {gate} gate");
        let mut want = vec![at_gate.as_str(), "brief: watched", "title: ", "  clip 1 prompt: "];
        want.extend(["  clip 2 prompt: ", "caption: ", decide.as_str()]);
        if gate == "publish" {
            want.extend(["clips: 2 of 2 stored", "final video: file://", "ideation approved at"]);
        }
        for w in want {
            assert!(shown.contains(w), "{w:?} not in\n{shown}");
        }
        let waiting = myloware(&api, &["list", "--status", "awaiting_*,stalled"]);
        assert!(String::from_utf8_lossy(&waiting.stdout).contains(&id), "listed while waiting");
        let ok = myloware(&api, &["approve", &id, "--gate", gate]);
        assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    }
    let out = watcher.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    for line in [
        "v1 ",
        "waiting at the ideation gate",
        "clips 2/2",
        "waiting at the publish gate",
        "final: completed",
    ] {
        assert!(stdout.contains(line), "{line:?} not in\n{stdout}");
    }
    // A run that is not there: a clear error, non-zero.
    let missing = myloware(&api, &["watch", "3f0e8a53-5b0e-4c47-9d7e-2f1f7c0f7a11"]);
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("run_not_found"));
}

#[test]
fn runs_commands_talk_to_the_api() {
    let (_serve, api, dir) = serve_embedded();
    let started =
        json(&myloware(&api, &["start", "--brief", "from the cli", "--clips", "1", "--json"]));
    let id = started["run_id"].as_str().unwrap().to_owned();
    let listed = myloware(&api, &["list"]);
    assert!(String::from_utf8_lossy(&listed.stdout).contains(&id), "list shows the run");
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let view = json(&myloware(&api, &["get", &id, "--json"]));
        if view["status"] == "awaiting_ideation_approval" {
            break;
        }
        assert!(Instant::now() < deadline, "{view}");
        std::thread::sleep(Duration::from_millis(50));
    }
    let wrong = myloware(&api, &["approve", &id, "--gate", "publish"]);
    assert!(!wrong.status.success());
    assert!(
        String::from_utf8_lossy(&wrong.stderr).contains("not_waiting_at_gate"),
        "a clear error"
    );
    // An edit of the ideas that breaks the project's schema (two prompts for one clip).
    let edit = dir.with_extension("ideas.json");
    let ideas = serde_json::json!({ "title": "t", "prompts": ["a", "b"], "caption": "c" });
    std::fs::write(&edit, ideas.to_string()).unwrap();
    let refused =
        myloware(&api, &["approve", &id, "--gate", "ideation", "--ideas", edit.to_str().unwrap()]);
    assert!(!refused.status.success());
    let stderr = String::from_utf8_lossy(&refused.stderr);
    assert!(stderr.contains("422") && stderr.contains("invalid_ideas"), "{stderr}");
    let ok = myloware(&api, &["approve", &id, "--gate", "ideation"]);
    assert!(ok.status.success(), "{}", String::from_utf8_lossy(&ok.stderr));
    assert!(String::from_utf8_lossy(&ok.stdout).contains("running"));

    // Feedback, then the rated run as an eval case that the eval runs.
    let first = json(&myloware(&api, &["feedback", &id, "--rating", "2", "--json"]));
    assert_eq!(first["rating"], 2);
    let again =
        json(&myloware(&api, &["feedback", &id, "--rating", "5", "--comment", "calm", "--json"]));
    assert_eq!(
        (again["rating"].as_u64(), again["created_at"].as_str()),
        (Some(5), first["created_at"].as_str())
    );
    let dataset = dir.with_extension("feedback.jsonl");
    let export = export_feedback(&api, &["--min-rating", "4", "--out", dataset.to_str().unwrap()]);
    assert!(export.status.success(), "{}", String::from_utf8_lossy(&export.stderr));
    let text = std::fs::read_to_string(&dataset).unwrap();
    let case: serde_json::Value =
        serde_json::from_str(text.lines().find(|l| !l.starts_with("//")).unwrap()).unwrap();
    assert_eq!(case["id"], format!("run-{id}"));
    assert_eq!((case["brief"].as_str(), case["clips"].as_u64()), (Some("from the cli"), Some(1)));
    assert!(text.contains("5: calm"), "{text}");
    let report = dir.with_extension("report.json");
    let eval = Command::new(env!("CARGO_BIN_EXE_myloware"))
        .args(["eval", "ideation", "--project", "demo", "--dataset"])
        .arg(&dataset)
        .arg("--report")
        .arg(&report)
        .output()
        .unwrap();
    assert!(eval.status.success(), "{}", String::from_utf8_lossy(&eval.stdout));
    // Only the well-rated: none below 4 when asked for the poor ones.
    let poor = export_feedback(&api, &["--max-rating", "3"]);
    assert!(
        poor.status.success() && poor.stdout.is_empty(),
        "{}",
        String::from_utf8_lossy(&poor.stdout)
    );
    let bad_key = Command::new(env!("CARGO_BIN_EXE_myloware"))
        .args(["runs", "--api-url", &api, "--api-key", "wrong", "get", &id])
        .output()
        .unwrap();
    assert!(!bad_key.status.success());
    assert!(String::from_utf8_lossy(&bad_key.stderr).contains("unauthorized"));
}
