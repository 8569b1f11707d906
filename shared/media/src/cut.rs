//! The final cut: clips in order, each scaled and padded to one size, frame rate and pixel
//! format (normalised), audio kept or silence put in its place, the title and caption over
//! the whole video and each clip's text over its interval; H.264 + AAC with `+faststart`.

use std::path::Path;

use crate::text::{chars_per_line, drawtext, wrap, write};
use crate::tool::{absolute, absolute_input, args};
use crate::{Ffmpeg, MediaError, Probe};

/// What to cut.
#[derive(Debug, Clone, PartialEq)]
pub struct Cut {
    /// The clips in order: paths or URLs ffmpeg reads (our own blob store's, never a
    /// provider's: those are fetched and checked first).
    pub clips: Vec<String>,
    /// Output width in pixels.
    pub width: u32,
    /// Output height in pixels.
    pub height: u32,
    /// Output frames per second.
    pub fps: u32,
    /// Over the whole video, at the top.
    pub title: String,
    /// Over the whole video, at the bottom.
    pub caption: String,
    /// One per clip (missing ones draw nothing), during that clip.
    pub texts: Vec<String>,
    /// Draw the texts as labels in the lower third (otherwise centred lines).
    pub labels: bool,
    /// The composition's length when shorter than the clips together (the end is cut).
    pub max_seconds: Option<f64>,
}

fn filter_graph(cut: &Cut, probes: &[Probe], dir: &Path) -> Result<String, MediaError> {
    let (w, h, fps) = (cut.width, cut.height, cut.fps);
    let mut g = Vec::new();
    let mut concat = String::new();
    let mut start = 0.0;
    let mut enables = Vec::new();
    for (i, p) in probes.iter().enumerate() {
        let d = p.duration;
        g.push(format!(
            "[{i}:v]scale={w}:{h}:force_original_aspect_ratio=decrease,\
             pad={w}:{h}:(ow-iw)/2:(oh-ih)/2:color=black,setsar=1,fps={fps},format=yuv420p,\
             trim=duration={d:.3},setpts=PTS-STARTPTS[v{i}]"
        ));
        g.push(match p.audio_codec {
            Some(_) => format!(
                "[{i}:a]aresample=48000,aformat=sample_fmts=fltp:channel_layouts=stereo,apad,\
                 atrim=duration={d:.3},asetpts=PTS-STARTPTS[a{i}]"
            ),
            None => format!(
                "anullsrc=r=48000:cl=stereo,atrim=duration={d:.3},asetpts=PTS-STARTPTS[a{i}]"
            ),
        });
        concat.push_str(&format!("[v{i}][a{i}]"));
        enables.push((start, start + d));
        start += d;
    }
    g.push(format!("{concat}concat=n={}:v=1:a=1[cat][aout]", probes.len()));
    let mut overlays = Vec::new();
    let title_size = (w / 16).max(12);
    let small = (w / 24).max(10);
    if !cut.title.trim().is_empty() {
        write(dir, "title.txt", &wrap(&cut.title, chars_per_line(w, title_size), 3))?;
        overlays.push(drawtext("title.txt", title_size, "h*0.07", None));
    }
    if !cut.caption.trim().is_empty() {
        write(dir, "caption.txt", &wrap(&cut.caption, chars_per_line(w, small), 4))?;
        overlays.push(drawtext("caption.txt", small, "h*0.80", None));
    }
    for (i, text) in cut.texts.iter().enumerate().take(probes.len()) {
        if text.trim().is_empty() {
            continue;
        }
        let name = format!("text{i}.txt");
        let (a, b) = enables[i];
        let enable = format!("between(t,{a:.3},{b:.3})");
        // A label sits in the lower third, above the caption; lines are centred.
        let (size, y) =
            if cut.labels { (small, "h*0.68") } else { ((w / 18).max(10), "(h-text_h)/2") };
        write(dir, &name, &wrap(text, chars_per_line(w, size), 3))?;
        overlays.push(drawtext(&name, size, y, Some(&enable)));
    }
    if overlays.is_empty() {
        g.push("[cat]null[vout]".into());
    } else {
        g.push(format!("[cat]{}[vout]", overlays.join(",")));
    }
    Ok(g.join(";"))
}

impl Ffmpeg {
    /// Cut `cut` into `out` (written to a temporary name in `work` and renamed: a reader never
    /// sees half a file). `work` is a directory of the caller's own for the overlay files.
    /// Returns the output's probe.
    pub async fn cut(&self, cut: &Cut, work: &Path, out: &Path) -> Result<Probe, MediaError> {
        if cut.clips.is_empty() {
            return Err(MediaError::NotAVideo("a cut needs at least one clip".into()));
        }
        if cut.width < 2
            || cut.height < 2
            || !cut.width.is_multiple_of(2)
            || !cut.height.is_multiple_of(2)
        {
            return Err(MediaError::NotAVideo(format!(
                "{}x{} is not an even H.264 size",
                cut.width, cut.height
            )));
        }
        let (work, out) = (&absolute(work)?, &absolute(out)?);
        let clips: Vec<String> =
            cut.clips.iter().map(|c| absolute_input(c)).collect::<Result<_, _>>()?;
        std::fs::create_dir_all(work)?;
        let mut probes = Vec::with_capacity(clips.len());
        for c in &clips {
            probes.push(self.probe(c).await?);
        }
        let graph = filter_graph(cut, &probes, work)?;
        let tmp = work.join("cut.tmp.mp4");
        let mut a = args(["-v", "error", "-y", "-nostdin"]);
        for c in &clips {
            a.extend(args(["-i", c.as_str()]));
        }
        a.extend(args(["-filter_complex", graph.as_str(), "-map", "[vout]", "-map", "[aout]"]));
        a.extend(args([
            "-c:v",
            "libx264",
            "-preset",
            self.preset(),
            "-crf",
            "23",
            "-pix_fmt",
            "yuv420p",
            "-c:a",
            "aac",
            "-b:a",
            "128k",
            "-movflags",
            "+faststart",
        ]));
        if let Some(t) = cut.max_seconds.filter(|t| *t > 0.0) {
            a.extend(args(["-t", &format!("{t:.3}")]));
        }
        a.push(tmp.clone().into_os_string());
        self.ffmpeg(a, work).await?;
        if let Some(parent) = out.parent() {
            std::fs::create_dir_all(parent)?;
        }
        std::fs::rename(&tmp, out)?;
        self.probe(&out.to_string_lossy()).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn probe(d: f64, audio: bool) -> Probe {
        Probe {
            duration: d,
            width: 360,
            height: 640,
            video_codec: "h264".into(),
            audio_codec: audio.then(|| "aac".into()),
        }
    }

    #[test]
    fn the_graph_normalises_every_clip_and_times_each_text() {
        let dir = std::env::temp_dir().join(format!("myloware-cut-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let cut = Cut {
            clips: vec!["a.mp4".into(), "b.mp4".into()],
            width: 1080,
            height: 1920,
            fps: 30,
            title: "T".into(),
            caption: String::new(),
            texts: vec!["one".into(), "two".into()],
            labels: false,
            max_seconds: None,
        };
        let g = filter_graph(&cut, &[probe(2.0, true), probe(3.5, false)], &dir).unwrap();
        assert!(g.contains("[0:v]scale=1080:1920"), "{g}");
        assert!(g.contains("[0:a]aresample"), "{g}");
        assert!(g.contains("anullsrc=r=48000:cl=stereo,atrim=duration=3.500"), "{g}");
        assert!(g.contains("concat=n=2:v=1:a=1"), "{g}");
        assert!(g.contains("between(t,2.000,5.500)"), "{g}");
        assert!(!g.contains("caption.txt"), "{g}");
        assert_eq!(std::fs::read_to_string(dir.join("text1.txt")).unwrap(), "two");
        assert!(g.contains("textfile=text1.txt") && g.contains("y=(h-text_h)/2"), "lines centred");
        // Labels sit in the lower third.
        let labelled = Cut { labels: true, ..cut };
        let g = filter_graph(&labelled, &[probe(2.0, true), probe(3.5, false)], &dir).unwrap();
        assert!(g.contains("y=h*0.68") && !g.contains("y=(h-text_h)/2"), "{g}");
        std::fs::remove_dir_all(dir).unwrap();
    }
}
