//! The README's first command: `myloware demo --auto-approve` completes a 3-clip run, ends with a
//! real video, and exits 0.

use std::process::Command;

use myloware_media::Ffmpeg;
use myloware_tests::http::{ApiClient, Demo};

fn data_dir() -> String {
    std::env::temp_dir()
        .join(format!("myloware-demo-{}", uuid::Uuid::new_v4().simple()))
        .display()
        .to_string()
}

/// `myloware demo --auto-approve <args>` run in `cwd`: its stdout, once it has exited 0 with
/// the run completed.
fn demo_completes(args: &[&str], cwd: &std::path::Path) -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_myloware"))
        .args(["demo", "--auto-approve"])
        .args(args)
        .current_dir(cwd)
        .env_remove("RUST_LOG")
        .output()
        .expect("run the demo");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains(": completed"), "{stdout}");
    stdout
}

fn diff(a: &[u8], b: &[u8]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (*x as f64 - *y as f64).abs()).sum::<f64>() / a.len() as f64
}

/// With ffmpeg (CI installs it), the demo ends with a real video: H.264 at the project's size
/// (9:16, 1080x1920), as long as its clips together, each clip's frames in its own interval,
/// and a contact sheet beside it.
#[tokio::test]
async fn the_demo_completes_a_three_clip_run_with_a_real_video() {
    let ff = Ffmpeg::locate().expect("this test needs ffmpeg (CI installs it)");
    let dir = data_dir();
    let stdout = demo_completes(&["--clips", "3", "--data-dir", &dir], &std::env::temp_dir());
    // Counted in calls the fake providers received: no call was repeated.
    assert!(
        stdout.contains(
            "provider calls: 3 video submissions (3 jobs), render built in, 1 upload POST(s)"
        ),
        "{stdout}"
    );
    let path_after = |label: &str| -> Vec<String> {
        stdout
            .lines()
            .filter_map(|l| l.trim().strip_prefix(label))
            .map(|rest| rest.trim().split(' ').next_back().unwrap().to_owned())
            .collect()
    };
    let clips = path_after("clip ");
    assert_eq!(clips.len(), 3, "{stdout}");
    let video = path_after("video").pop().expect("the video's path");
    let mut starts = Vec::new();
    let mut total = 0.0;
    for c in &clips {
        let p = ff.probe(c).await.unwrap();
        starts.push((total, p.duration));
        total += p.duration;
    }
    let p = ff.probe(&video).await.unwrap();
    assert_eq!((p.video_codec.as_str(), p.width, p.height), ("h264", 1080, 1920), "{p}");
    assert_eq!(p.audio_codec.as_deref(), Some("aac"), "{p}");
    assert!((p.duration - total).abs() <= 0.5, "{p}: the clips last {total:.2} s");
    assert!(stdout.contains(&p.to_string()), "the summary is printed: {stdout}");
    // A frame from the middle of each clip's interval in the cut is nearest to that clip's own
    // middle frame: every clip is in it, in order.
    let at = |path: String, t: f64| {
        let ff = ff.clone();
        async move { ff.rgb_frame(std::path::Path::new(&path), t, 32).await.unwrap() }
    };
    let mut cut = Vec::new();
    let mut own = Vec::new();
    for (c, (start, d)) in clips.iter().zip(&starts) {
        cut.push(at(video.clone(), start + d / 2.0).await);
        own.push(at(c.clone(), d / 2.0).await);
    }
    for (i, frame) in cut.iter().enumerate() {
        let distances: Vec<f64> = own.iter().map(|o| diff(frame, o)).collect();
        let nearest = (0..own.len()).min_by(|a, b| distances[*a].total_cmp(&distances[*b]));
        assert_eq!(nearest, Some(i), "the cut's clip {i} looks like {nearest:?}: {distances:?}");
        for (j, other) in cut.iter().enumerate().skip(i + 1) {
            assert!(diff(frame, other) > 2.0, "clips {i} and {j} look the same in the cut");
        }
    }
    let sheet = stdout
        .lines()
        .find_map(|l| l.trim().strip_prefix("sheet"))
        .and_then(|r| r.split_whitespace().next())
        .expect("a contact sheet");
    let png = std::fs::read(sheet).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let _ = std::fs::remove_dir_all(&dir);
}

/// The README's command as written: no `--data-dir`, so the data directory is `.myloware`
/// relative to where the demo runs, and ffmpeg (run in a directory of its own for each cut)
/// must still find every clip and write where it was asked.
#[test]
fn the_demo_renders_a_real_video_in_its_default_relative_data_directory() {
    Ffmpeg::locate().expect("this test needs ffmpeg (CI installs it)");
    let cwd = std::path::PathBuf::from(data_dir());
    std::fs::create_dir_all(&cwd).unwrap();
    let stdout = demo_completes(&["--clips", "1"], &cwd);
    assert!(stdout.contains("render built in"), "{stdout}");
    assert!(cwd.join(".myloware").is_dir(), "the data directory is where the README says");
    let _ = std::fs::remove_dir_all(&cwd);
}

/// Without ffmpeg the demo still completes, with placeholders, and says how to get a real one.
#[test]
fn without_ffmpeg_the_demo_completes_and_says_how_to_get_a_real_video() {
    let dir = data_dir();
    let out = Command::new(env!("CARGO_BIN_EXE_myloware"))
        .args(["demo", "--auto-approve", "--clips", "2", "--data-dir", &dir])
        .env_remove("RUST_LOG")
        .env_remove("MYLOWARE_FFMPEG")
        .env("PATH", "/nonexistent")
        .output()
        .expect("run the demo");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "demo failed:\n{stdout}\n{stderr}");
    assert!(
        stderr.contains("ffmpeg not found") && stderr.contains("apt-get install ffmpeg"),
        "{stderr}"
    );
    assert!(stdout.contains("2 video submissions (2 jobs), 1 render (1 job)"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
    // A configured ffmpeg that is not there is an error, not a quiet placeholder.
    let out = Command::new(env!("CARGO_BIN_EXE_myloware"))
        .args(["demo", "--auto-approve", "--clips", "1", "--data-dir", &data_dir()])
        .env("MYLOWARE_FFMPEG", "/nonexistent/ffmpeg")
        .output()
        .expect("run the demo");
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("MYLOWARE_FFMPEG"));
}

/// Without `--auto-approve` the demo waits at each gate for a decision in the review console
/// (or the API, as here); a rejection ends the run, and the demo exits non-zero.
#[tokio::test]
async fn rejecting_a_gate_exits_non_zero() {
    let dir = data_dir();
    let mut demo =
        Demo::start(env!("CARGO_BIN_EXE_myloware"), &["--clips", "1", "--data-dir", &dir]);
    let api = ApiClient::new(&demo.base, &demo.key);
    api.wait_status(demo.run_id(), "awaiting_ideation_approval").await;
    assert_eq!(api.decide(demo.run_id(), "reject", "ideation").await, 200);
    assert_eq!(api.wait_status(demo.run_id(), "rejected").await["status"], "rejected");
    let status = demo.wait();
    assert!(!status.success(), "the demo says the run did not complete");
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
