//! Looking at a video without playing it: a contact sheet (one frame per point in time, side
//! by side) and tiny frames to compare.

use std::path::Path;

use crate::tool::{absolute, args};
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
        let (video, out, work) = (&absolute(video)?, &absolute(out)?, &absolute(work)?);
        // One input per time, each sought to its frame: exact whatever the frame rate.
        let mut a = args(["-v", "error", "-y", "-nostdin"]);
        let mut graph = Vec::new();
        for (i, t) in times.iter().enumerate() {
            a.extend(args(["-ss", &format!("{t:.3}"), "-i"]));
            a.push(video.as_os_str().to_owned());
            graph.push(format!(
                "[{i}:v]scale={thumb_width}:-2,setsar=1,pad=iw+8:ih:4:0:white[f{i}]"
            ));
        }
        let inputs: String = (0..times.len()).map(|i| format!("[f{i}]")).collect();
        graph.push(match times.len() {
            1 => format!("{inputs}null[sheet]"),
            n => format!("{inputs}hstack=inputs={n}[sheet]"),
        });
        a.extend(args(["-filter_complex", &graph.join(";"), "-map", "[sheet]", "-frames:v", "1"]));
        a.push(out.as_os_str().to_owned());
        std::fs::create_dir_all(work)?;
        self.ffmpeg(a, work).await?;
        Ok(())
    }

    /// The frame of `video` at `at` seconds as `side`×`side` RGB pixels (3 bytes each).
    pub async fn rgb_frame(&self, video: &Path, at: f64, side: u32) -> Result<Vec<u8>, MediaError> {
        let video = &absolute(video)?;
        let mut a = args(["-v", "error", "-nostdin", "-ss", &format!("{at:.3}"), "-i"]);
        a.push(video.as_os_str().to_owned());
        let vf = format!("scale={side}:{side},format=rgb24");
        a.extend(args(["-frames:v", "1", "-vf", vf.as_str(), "-f", "rawvideo", "-"]));
        let dir = video.parent().unwrap_or(Path::new("."));
        let px = self.ffmpeg(a, dir).await?;
        if px.len() != (side * side * 3) as usize {
            return Err(MediaError::NotAVideo(format!("no frame at {at:.2} s")));
        }
        Ok(px)
    }
}
