//! The README's first command: `myloware demo --auto-approve` completes a 3-clip run and exits 0.

use std::process::{Command, Stdio};

fn data_dir() -> String {
    std::env::temp_dir()
        .join(format!("myloware-demo-{}", uuid::Uuid::new_v4().simple()))
        .display()
        .to_string()
}

#[test]
fn the_demo_completes_a_three_clip_run() {
    let dir = data_dir();
    let out = Command::new(env!("CARGO_BIN_EXE_myloware"))
        .args(["demo", "--auto-approve", "--clips", "3", "--data-dir", &dir])
        .env_remove("RUST_LOG")
        .output()
        .expect("run the demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains(": completed"), "{stdout}");
    // Counted in calls the fake providers received: no call was repeated.
    assert!(
        stdout.contains(
            "provider calls: 3 video submissions (3 jobs), 1 render (1 job), 1 upload POST(s)"
        ),
        "{stdout}"
    );
    assert_eq!(stdout.matches("  clip ").count(), 3, "{stdout}");
    // The artifacts are real files on disk.
    let video =
        stdout.lines().find_map(|l| l.trim().strip_prefix("video")).expect("video path").trim();
    let bytes = std::fs::read(video).expect("rendered video on disk");
    assert_eq!(&bytes[4..8], b"ftyp", "an MP4");
}

#[test]
fn rejecting_a_gate_exits_non_zero() {
    use std::io::Write;
    let dir = data_dir();
    let mut child = Command::new(env!("CARGO_BIN_EXE_myloware"))
        .args(["demo", "--clips", "1", "--data-dir", &dir])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn");
    child.stdin.take().unwrap().write_all(b"n\n").unwrap();
    let out = child.wait_with_output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("rejected"));
}

#[test]
fn the_demo_runs_with_each_video_protocol() {
    for provider in ["replicate", "gemini"] {
        let dir = data_dir();
        let out = Command::new(env!("CARGO_BIN_EXE_myloware"))
            .args(["demo", "--auto-approve", "--clips", "2", "--data-dir", &dir])
            .args(["--video-provider", provider])
            .env_remove("RUST_LOG")
            .output()
            .expect("run the demo");
        let stdout = String::from_utf8_lossy(&out.stdout);
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(out.status.success(), "{provider}: demo failed:\n{stdout}\n{stderr}");
        assert!(stderr.contains(&format!("(video: {provider})")), "{stderr}");
        assert!(stdout.contains(": completed"), "{provider}: {stdout}");
        assert!(stdout.contains("2 video submissions (2 jobs)"), "{provider}: {stdout}");
        let _ = std::fs::remove_dir_all(&dir);
    }
}
