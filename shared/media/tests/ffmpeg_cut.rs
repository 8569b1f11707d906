//! The real tool, end to end (CI installs ffmpeg; without it these fail saying how to get it):
//! three distinct test clips of different sizes cut into one 9:16 video with hostile overlay
//! text — H.264 + AAC at the asked size, the clips' total length, each clip's frames in its
//! own interval — and a contact sheet.

use std::path::PathBuf;

use myloware_media::{Cut, Ffmpeg, TestClip};

fn work(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("myloware-media-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn diff(a: &[u8], b: &[u8]) -> f64 {
    a.iter().zip(b).map(|(x, y)| (*x as f64 - *y as f64).abs()).sum::<f64>() / a.len() as f64
}

#[tokio::test]
async fn clips_are_cut_in_order_at_the_asked_size_with_overlays() {
    let ff = Ffmpeg::locate().expect("ffmpeg is needed for this test").with_preset("ultrafast");
    let dir = work("cut");
    let sizes = [(360, 640), (640, 360), (300, 300)];
    let seconds = [1.5, 2.0, 1.0];
    let mut clips = Vec::new();
    for (i, ((w, h), s)) in sizes.iter().zip(seconds).enumerate() {
        let clip = TestClip {
            title: format!("clip {}", i + 1),
            text: format!("prompt {i}: a %{{localtime}} ' : ; [x] \\ <script>"),
            index: i as u32,
            seconds: s,
            width: *w,
            height: *h,
        };
        let bytes = ff.test_clip(&clip, &dir.join(format!("c{i}"))).await.unwrap();
        let path = dir.join(format!("clip{i}.mp4"));
        std::fs::write(&path, bytes).unwrap();
        let p = ff.probe(&path.to_string_lossy()).await.unwrap();
        assert_eq!((p.width, p.height, p.video_codec.as_str()), (*w, *h, "h264"), "{p}");
        clips.push(path);
    }
    // One clip without audio: silence takes its place.
    let silent = dir.join("silent.mp4");
    std::process::Command::new(ff.path())
        .args(["-v", "error", "-y", "-i"])
        .arg(&clips[2])
        .args(["-an", "-c", "copy"])
        .arg(&silent)
        .status()
        .unwrap();
    clips[2] = silent;
    let cut = Cut {
        clips: clips.iter().map(|c| c.to_string_lossy().into_owned()).collect(),
        width: 540,
        height: 960,
        fps: 30,
        title: "A title: with 'quotes', %{pts} and ; [brackets]".into(),
        caption: "caption #one #two".into(),
        texts: vec!["first".into(), String::new(), "third's".into()],
        labels: false,
        max_seconds: None,
    };
    let out = dir.join("final.mp4");
    let p = ff.cut(&cut, &dir.join("work"), &out).await.unwrap();
    assert_eq!((p.width, p.height, p.video_codec.as_str()), (540, 960, "h264"), "{p}");
    assert_eq!(p.audio_codec.as_deref(), Some("aac"), "{p}");
    let total: f64 = seconds.iter().sum();
    assert!((p.duration - total).abs() < 0.5, "{p} vs {total}");
    // A frame from the middle of each clip's interval: all different.
    let mids = [0.75, 2.5, 4.0];
    let mut frames = Vec::new();
    for t in mids {
        frames.push(ff.rgb_frame(&out, t, 32).await.unwrap());
    }
    for i in 0..frames.len() {
        for j in i + 1..frames.len() {
            assert!(diff(&frames[i], &frames[j]) > 2.0, "clips {i} and {j} look the same");
        }
    }
    // A composition shorter than its clips is cut at its length.
    let short = Cut { max_seconds: Some(2.0), ..cut.clone() };
    let p = ff.cut(&short, &dir.join("work2"), &dir.join("short.mp4")).await.unwrap();
    assert!((p.duration - 2.0).abs() < 0.2, "{p}");
    let sheet = dir.join("sheet.png");
    ff.contact_sheet(&out, &mids, 120, &sheet, &dir).await.unwrap();
    let png = std::fs::read(&sheet).unwrap();
    assert_eq!(&png[1..4], b"PNG");
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_cut_of_nothing_or_an_odd_size_is_refused() {
    let ff = Ffmpeg::locate().expect("ffmpeg is needed for this test");
    let dir = work("refuse");
    let base = Cut {
        clips: vec![],
        width: 540,
        height: 960,
        fps: 30,
        title: String::new(),
        caption: String::new(),
        texts: vec![],
        labels: false,
        max_seconds: None,
    };
    let e = ff.cut(&base, &dir, &dir.join("x.mp4")).await.unwrap_err();
    assert_eq!(e.code(), "not_a_video");
    let odd = Cut { clips: vec!["x.mp4".into()], width: 541, ..base.clone() };
    assert_eq!(ff.cut(&odd, &dir, &dir.join("x.mp4")).await.unwrap_err().code(), "not_a_video");
    let missing = Cut { clips: vec![dir.join("nope.mp4").to_string_lossy().into()], ..base };
    assert_eq!(
        ff.cut(&missing, &dir, &dir.join("x.mp4")).await.unwrap_err().code(),
        "ffmpeg_failed"
    );
    let _ = std::fs::remove_dir_all(dir);
}
