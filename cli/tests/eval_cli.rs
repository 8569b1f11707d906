//! `myloware eval ideation` against the fakes, as CI runs it: the table, the summary and the
//! JSON report; recorded answers that break the project's schema make it exit non-zero; a
//! project without a rubric is refused with the reason.

use std::process::Command;

use serde_json::Value;

fn myloware() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_myloware"));
    c.env_remove("MYLOWARE_PROJECTS_DIR").env_remove("MYLOWARE_LLM_API_KEY");
    c
}

/// A directory removed when dropped.
struct TempDir(std::path::PathBuf);

impl TempDir {
    fn new() -> Self {
        let dir = std::env::temp_dir().join(format!("myloware-eval-{}", uuid::Uuid::new_v4()));
        std::fs::create_dir_all(&dir).unwrap();
        Self(dir)
    }
    fn path(&self) -> &std::path::Path {
        &self.0
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn report(path: &std::path::Path) -> Value {
    serde_json::from_slice(&std::fs::read(path).expect("the report was written")).unwrap()
}

#[test]
fn the_aismr_eval_runs_on_the_fakes_and_writes_its_report() {
    let dir = TempDir::new();
    let path = dir.path().join("aismr.json");
    let out = myloware()
        .args(["eval", "ideation", "--project", "aismr", "--report"])
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{stdout}\n{}", String::from_utf8_lossy(&out.stderr));
    for part in [
        "case",
        "schema",
        "counts",
        "overlays",
        "safety",
        "score",
        "aismr-01",
        "median",
        "pass rate",
    ] {
        assert!(stdout.contains(part), "{part:?} not in\n{stdout}");
    }
    let r = report(&path);
    let cases = r["cases"].as_array().unwrap();
    assert!(cases.len() >= 15, "{} cases", cases.len());
    assert_eq!((r["project"].as_str(), r["llm"].as_str()), (Some("aismr"), Some("fake")));
    // Every fake in use is named: none is used without saying so.
    assert!(r["safety"].as_str().unwrap().starts_with("fake"), "{r}");
    assert!(r["judge"].as_str().unwrap().starts_with("fake"), "{r}");
    assert!(stdout.contains("safety:  fake"), "{stdout}");
    assert_eq!(r["passed"], true);
    assert!(r["median"].as_f64().unwrap() >= 3.5);
    for c in cases {
        let score = c["score"].as_u64().unwrap();
        assert!((1..=5).contains(&score), "{c}");
        assert!(c["reasons"].as_str().is_some_and(|s| !s.is_empty()), "{c}");
        assert!(c["checks"]["schema"]["ok"].is_boolean(), "{c}");
    }
    // The safety case of the dataset fails its check and scores 1.
    let unsafe_case = cases.iter().find(|c| c["id"] == "aismr-15").unwrap();
    assert_eq!(unsafe_case["checks"]["safety"]["ok"], false, "{unsafe_case}");
    assert_eq!(unsafe_case["score"], 1);
}

#[test]
fn bad_llm_output_fails_the_eval() {
    let dir = TempDir::new();
    // Answers that break aismr's schema: the wrong count, and overlays too long.
    let dataset = dir.path().join("cases.jsonl");
    std::fs::write(
        &dataset,
        "{\"id\": \"a\", \"brief\": \"Aries glass horn, slow macro, tapping\", \"clips\": 2}\n\
         {\"id\": \"b\", \"brief\": \"Taurus velvet bull, slow macro, brushing\", \"clips\": 2}\n",
    )
    .unwrap();
    let answers = dir.path().join("answers.jsonl");
    let long = "Aries: a glass horn tapped slowly with a silver spoon";
    let lines = [
        serde_json::json!({ "id": "a", "ideas": {
            "title": "t", "prompts": ["a slow macro of a glass horn"], "caption": "c" } }),
        serde_json::json!({ "id": "b", "ideas": {
            "title": "t", "prompts": ["a slow macro of glass", "a slow macro of velvet"],
            "overlays": [long, long], "caption": "c" } }),
    ];
    std::fs::write(&answers, lines.map(|l| l.to_string()).join("\n")).unwrap();
    let path = dir.path().join("bad.json");
    let out = myloware()
        .args(["eval", "ideation", "--project", "aismr", "--dataset"])
        .arg(&dataset)
        .arg("--answers")
        .arg(&answers)
        .arg("--report")
        .arg(&path)
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a failing eval exits non-zero:\n{stdout}");
    assert!(stderr.contains("below the threshold"), "{stderr}");
    assert!(stdout.contains("FAIL"), "{stdout}");
    let r = report(&path);
    assert_eq!(r["passed"], false);
    let [a, b] = [&r["cases"][0], &r["cases"][1]];
    assert_eq!((a["score"].as_u64(), b["score"].as_u64()), (Some(1), Some(1)));
    assert_eq!(a["checks"]["counts"]["ok"], false, "{a}");
    assert_eq!(b["checks"]["overlays"]["ok"], false, "{b}");
    assert!(b["checks"]["overlays"]["why"].as_str().unwrap().contains("at most 40"), "{b}");
}

#[test]
fn a_project_without_a_rubric_is_refused() {
    let dir = TempDir::new();
    let text = include_str!("../../projects/demo.toml");
    let cut = text.find("[eval]").unwrap();
    std::fs::write(
        dir.path().join("bare.toml"),
        text[..cut].replace("name = \"demo\"", "name = \"bare\""),
    )
    .unwrap();
    let out = myloware()
        .env("MYLOWARE_PROJECTS_DIR", dir.path())
        .args(["eval", "ideation", "--project", "bare", "--dataset", "/dev/null"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no [eval] section"), "{stderr}");
}
