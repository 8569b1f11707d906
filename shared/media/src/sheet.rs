//! Looking at a video without playing it: a contact sheet (one frame per point in time, side
//! by side) and tiny grey frames to compare.

use std::path::Path;

use crate::tool::args;
use crate::{Ffmpeg, MediaError};

impl Ffmpeg {
    /// A PNG of the frames of `video` at `times` (seconds), side by side, each `thumb_width`
    /// wide. `work` is where ffmpeg runs.
    pub async fn contact_sheet(
        &self,
        video: &Path,
        times: &[f64],
        thumb_width: u32,
        out: &Path,
        work: &Path,
    ) -> Result<(), MediaError> {
        if times.is_empty() {
            return Err(MediaError::NotAVideo("a contact sheet needs at least one time".into()));
        }
        // The frames within 40 ms after each time (one at 25 fps and up).
        let select: Vec<String> =
            times.iter().map(|t| format!("between(t,{t:.3},{:.3})", t + 0.04)).collect();
        let vf = format!(
            "select='{}',scale={thumb_width}:-2,tile={}x1:padding=4:color=white",
            select.join("+"),
            times.len()
        );
        let mut a = args(["-v", "error", "-y", "-nostdin", "-i"]);
        a.push(video.as_os_str().to_owned());
        a.extend(args(["-vf", vf.as_str(), "-fps_mode", "vfr", "-frames:v", "1"]));
        a.push(out.as_os_str().to_owned());
        std::fs::create_dir_all(work)?;
        self.ffmpeg(a, work).await?;
        Ok(())
    }

    /// The frame of `video` at `at` seconds as `side`×`side` grey pixels.
    pub async fn grey_frame(
        &self,
        video: &Path,
        at: f64,
        side: u32,
    ) -> Result<Vec<u8>, MediaError> {
        let mut a = args(["-v", "error", "-nostdin", "-ss", &format!("{at:.3}"), "-i"]);
        a.push(video.as_os_str().to_owned());
        let vf = format!("scale={side}:{side},format=gray");
        a.extend(args(["-frames:v", "1", "-vf", vf.as_str(), "-f", "rawvideo", "-"]));
        let dir = video.parent().unwrap_or(Path::new("."));
        let px = self.ffmpeg(a, dir).await?;
        if px.len() != (side * side) as usize {
            return Err(MediaError::NotAVideo(format!("no frame at {at:.2} s")));
        }
        Ok(px)
    }
}
