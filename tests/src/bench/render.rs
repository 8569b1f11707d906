//! Scenario 6: the built-in renderer's cost, which sizes the render function (its timeout and
//! memory in `infra/template.yaml`): an aismr-length cut — twelve 6-second 720p clips into a
//! 72-second 1080×1920 video with overlays at the production preset — timed, with ffmpeg's
//! peak resident memory (`getrusage` of the children). Quick mode cuts three 2-second clips.

use std::time::Instant;

use myloware_media::{Cut, Ffmpeg, TestClip};
use serde_json::{Value, json};

/// ffmpeg's (the largest child's) peak RSS so far, in MB.
fn children_peak_rss_mb() -> f64 {
    let mut usage = std::mem::MaybeUninit::<libc::rusage>::zeroed();
    // SAFETY: getrusage fills the struct it is given; RUSAGE_CHILDREN is a valid `who`.
    let ok = unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, usage.as_mut_ptr()) } == 0;
    if !ok {
        return f64::NAN;
    }
    // SAFETY: initialised by the successful call above.
    let usage = unsafe { usage.assume_init() };
    usage.ru_maxrss as f64 / 1024.0
}

/// Cut `clips` clips of `seconds` each (made first at 720×1280) at `preset`.
pub async fn run(clips: u32, seconds: f64, preset: &str) -> Value {
    let Ok(ff) = Ffmpeg::locate() else {
        println!("\nrender: ffmpeg not found, skipped");
        return json!({ "scenario": "render", "skipped": "ffmpeg not found" });
    };
    let ff = ff.with_preset(preset);
    let dir = std::env::temp_dir().join(format!("myloware-bench-render-{}", uuid::Uuid::new_v4()));
    let mut paths = Vec::new();
    for i in 0..clips {
        let spec = TestClip {
            title: format!("clip {}", i + 1),
            text: "a bench clip".into(),
            index: i,
            seconds,
            width: 720,
            height: 1280,
        };
        let bytes = ff.test_clip(&spec, &dir.join(format!("make{i}"))).await.expect("a test clip");
        let path = dir.join(format!("clip{i}.mp4"));
        std::fs::write(&path, bytes).expect("write the clip");
        paths.push(path.to_string_lossy().into_owned());
    }
    let cut = Cut {
        clips: paths,
        width: 1080,
        height: 1920,
        fps: 30,
        title: "A seventy-two second composition".into(),
        caption: "a caption for the bench #myloware".into(),
        texts: (0..clips).map(|i| format!("object {}", i + 1)).collect(),
        labels: true,
        max_seconds: None,
    };
    let started = Instant::now();
    let probe = ff.cut(&cut, &dir.join("work"), &dir.join("out.mp4")).await.expect("the cut");
    let secs = started.elapsed().as_secs_f64();
    let rss = children_peak_rss_mb();
    let _ = std::fs::remove_dir_all(&dir);
    super::table(
        "built-in render (sizes the render function)",
        &["cut", "preset", "video s", "wall s", "x realtime", "ffmpeg peak RSS MB"],
        &[vec![
            format!("{clips} x {seconds} s 720p -> 1080x1920"),
            preset.to_owned(),
            format!("{:.1}", probe.duration),
            format!("{secs:.1}"),
            format!("{:.2}", probe.duration / secs),
            format!("{rss:.0}"),
        ]],
    );
    json!({ "scenario": "render", "clips": clips, "video_secs": probe.duration, "wall_secs": secs,
            "ffmpeg_peak_rss_mb": rss, "preset": preset })
}
