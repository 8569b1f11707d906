//! Short, distinct, real test-pattern clips: what the fake video providers hand out when ffmpeg
//! is present, so a demo ends with a video a person can watch.

use std::path::Path;

use crate::text::{chars_per_line, drawtext, wrap, write};
use crate::tool::{absolute, args};
use crate::{Ffmpeg, MediaError};

/// One test clip.
#[derive(Debug, Clone, PartialEq)]
pub struct TestClip {
    /// Written large on it.
    pub title: String,
    /// Written under the title (the clip's prompt).
    pub text: String,
    /// The pattern's hue and the tone's pitch follow it.
    pub index: u32,
    /// Length in seconds.
    pub seconds: f64,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
}

/// ffmpeg's test sources, one per clip in turn: each clip looks unlike its neighbours.
const PATTERNS: [&str; 4] = ["testsrc2", "smptehdbars", "rgbtestsrc", "testsrc"];

impl Ffmpeg {
    /// Make `clip` as an MP4 (H.264 + AAC) and return its bytes; `work` is a directory of the
    /// caller's own.
    pub async fn test_clip(&self, clip: &TestClip, work: &Path) -> Result<Vec<u8>, MediaError> {
        let work = &absolute(work)?;
        std::fs::create_dir_all(work)?;
        let (w, h) = (clip.width, clip.height);
        let s = clip.seconds.max(0.2);
        let size = (w / 14).max(10);
        write(work, "label.txt", &wrap(&clip.title, chars_per_line(w, size * 2), 2))?;
        write(work, "prompt.txt", &wrap(&clip.text, chars_per_line(w, size), 6))?;
        let vf = format!(
            "hue=h={}:s=1.5,{},{}",
            (clip.index * 97) % 360,
            drawtext("label.txt", size * 2, "h*0.15", None),
            drawtext("prompt.txt", size, "h*0.55", None)
        );
        let out = work.join("clip.mp4");
        let mut a = args(["-v", "error", "-y", "-nostdin", "-f", "lavfi", "-i"]);
        a.extend(args([
            format!("{}=size={w}x{h}:rate=30:duration={s:.3}", PATTERNS[clip.index as usize % 4]),
            "-f".into(),
            "lavfi".into(),
            "-i".into(),
            format!("sine=frequency={}:duration={s:.3}", 220 + 110 * (clip.index % 8)),
            "-vf".into(),
            vf,
        ]));
        a.extend(args([
            "-c:v",
            "libx264",
            "-preset",
            "ultrafast",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-shortest",
            "-movflags",
            "+faststart",
        ]));
        a.push(out.clone().into_os_string());
        self.ffmpeg(a, work).await?;
        Ok(std::fs::read(&out)?)
    }
}
