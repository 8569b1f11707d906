//! Projects are configuration checked at start-up: the shipped ones validate, a malformed file
//! is refused by `projects validate`, by `config check` and by `serve` with the file, the line
//! and the field, and `list` / `show` read what a process would.

use std::process::{Command, Output};

fn myloware(args: &[&str], env: &[(&str, &str)]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_myloware"))
        .args(args)
        .env_remove("MYLOWARE_PROJECTS_DIR")
        .envs(env.iter().copied())
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .expect("run myloware")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

const BAD: &str = "name = \"bad\"\ndescription = \"d\"\n\n[ideation]\npersona = \"p\"\nsystem_prompt = \"s\"\n\n[video]\nclips = 40\nseconds = 8\naspect_ratio = \"9:16\"\n\n[render]\ntemplate = \"t\"\nduration_seconds = 10\n\n[publish]\nplatforms = [\"tiktok\"]\n";

#[test]
fn the_shipped_projects_validate_and_list() {
    let files =
        ["../projects/aismr.toml", "../projects/motivational.toml", "../projects/demo.toml"];
    let mut args = vec!["projects", "validate"];
    args.extend(files);
    let out = myloware(&args, &[]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert_eq!(text(&out.stdout).matches("ok  ").count(), 3, "{}", text(&out.stdout));
    let list = myloware(&["projects", "list"], &[]);
    let listed = text(&list.stdout);
    assert!(listed.contains("aismr") && listed.contains("12 x  8 s ->  74 s"), "{listed}");
    let show = myloware(&["projects", "show", "motivational"], &[]);
    let shown: serde_json::Value = serde_json::from_slice(&show.stdout).expect("JSON");
    assert_eq!(shown["project"]["video"]["clips"], 2, "{shown}");
    assert_eq!(shown["project"]["render"]["template"], "motivational", "{shown}");
    assert!(!myloware(&["projects", "show", "nope"], &[]).status.success());
}

#[test]
fn a_malformed_project_is_refused_with_its_file_line_and_field() {
    let dir = std::env::temp_dir().join(format!("myloware-projects-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bad.toml");
    std::fs::write(&file, BAD).unwrap();
    let where_ = format!("{}:9:9: video.clips: must be 1 to 12, not 40", file.display());

    let out = myloware(&["projects", "validate", file.to_str().unwrap()], &[]);
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains(&where_), "{}", text(&out.stderr));

    // At start-up: every process reads MYLOWARE_PROJECTS_DIR and refuses to start.
    let env = [
        ("MYLOWARE_PROJECTS_DIR", dir.to_str().unwrap()),
        ("MYLOWARE_PROVIDERS", "all=fake"),
        ("MYLOWARE_OPENAI_WEBHOOK_SECRETS", "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"),
        ("MYLOWARE_REMOTION_WEBHOOK_SECRETS", "render-secret"),
    ];
    let check = myloware(&["config", "check"], &env);
    assert_eq!(check.status.code(), Some(2), "{}", text(&check.stdout));
    assert!(text(&check.stderr).contains(&where_), "{}", text(&check.stderr));
    let data = dir.join("data");
    let serve =
        myloware(&["serve", "--addr", "127.0.0.1:0", "--data-dir", data.to_str().unwrap()], &env);
    assert!(!serve.status.success());
    assert!(text(&serve.stderr).contains(&where_), "{}", text(&serve.stderr));
    assert!(!data.exists(), "serve wrote its data directory before refusing");

    // Fixed, it is listed beside the shipped ones.
    std::fs::write(&file, BAD.replace("clips = 40", "clips = 4")).unwrap();
    let check = myloware(&["config", "check"], &env);
    assert!(check.status.success(), "{}", text(&check.stderr));
    assert!(text(&check.stdout).contains("bad ("), "{}", text(&check.stdout));
    std::fs::remove_dir_all(dir).unwrap();
}
