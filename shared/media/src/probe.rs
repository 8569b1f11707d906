//! What ffprobe says about a video: duration, size, codecs.

use std::fmt;

use serde::Deserialize;

use crate::tool::args;
use crate::{Ffmpeg, MediaError};

/// A video's summary.
#[derive(Debug, Clone, PartialEq)]
pub struct Probe {
    /// Seconds (the container's duration).
    pub duration: f64,
    /// Pixels.
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// The first video stream's codec (`h264`, …).
    pub video_codec: String,
    /// The first audio stream's codec, if there is audio.
    pub audio_codec: Option<String>,
}

impl fmt::Display for Probe {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:.2} s, {}x{}, {}", self.duration, self.width, self.height, self.video_codec)?;
        match &self.audio_codec {
            Some(a) => write!(f, " + {a}"),
            None => write!(f, ", no audio"),
        }
    }
}

#[derive(Deserialize)]
struct Answer {
    #[serde(default)]
    streams: Vec<Stream>,
    format: Option<Format>,
}

#[derive(Deserialize)]
struct Stream {
    codec_type: Option<String>,
    codec_name: Option<String>,
    width: Option<u32>,
    height: Option<u32>,
}

#[derive(Deserialize)]
struct Format {
    duration: Option<String>,
}

impl Probe {
    fn from_json(raw: &[u8]) -> Result<Self, MediaError> {
        let a: Answer = serde_json::from_slice(raw)
            .map_err(|e| MediaError::NotAVideo(format!("ffprobe answer: {e}")))?;
        let video = a
            .streams
            .iter()
            .find(|s| s.codec_type.as_deref() == Some("video"))
            .ok_or_else(|| MediaError::NotAVideo("no video stream".into()))?;
        let audio = a.streams.iter().find(|s| s.codec_type.as_deref() == Some("audio"));
        let duration = a
            .format
            .and_then(|f| f.duration)
            .and_then(|d| d.parse::<f64>().ok())
            .filter(|d| d.is_finite() && *d > 0.0)
            .ok_or_else(|| MediaError::NotAVideo("no duration".into()))?;
        Ok(Probe {
            duration,
            width: video.width.unwrap_or(0),
            height: video.height.unwrap_or(0),
            video_codec: video.codec_name.clone().unwrap_or_default(),
            audio_codec: audio.and_then(|s| s.codec_name.clone()),
        })
    }
}

impl Ffmpeg {
    /// Probe `input` (a path or a URL ffmpeg can read).
    pub async fn probe(&self, input: &str) -> Result<Probe, MediaError> {
        let out = self
            .ffprobe(args([
                "-v",
                "error",
                "-show_entries",
                "stream=codec_type,codec_name,width,height:format=duration",
                "-of",
                "json",
                input,
            ]))
            .await?;
        Probe::from_json(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_ffprobe_json() {
        let raw = br#"{"programs":[],"streams":[{"codec_name":"h264","codec_type":"video","width":1080,"height":1920},{"codec_name":"aac","codec_type":"audio"}],"format":{"duration":"24.011000"}}"#;
        let p = Probe::from_json(raw).unwrap();
        assert_eq!((p.width, p.height, p.video_codec.as_str()), (1080, 1920, "h264"));
        assert_eq!(p.audio_codec.as_deref(), Some("aac"));
        assert_eq!(p.to_string(), "24.01 s, 1080x1920, h264 + aac");
        let silent = br#"{"streams":[{"codec_name":"h264","codec_type":"video","width":2,"height":2}],"format":{"duration":"1.5"}}"#;
        assert_eq!(Probe::from_json(silent).unwrap().audio_codec, None);
        let audio_only =
            br#"{"streams":[{"codec_name":"aac","codec_type":"audio"}],"format":{"duration":"1"}}"#;
        assert_eq!(Probe::from_json(audio_only).unwrap_err().code(), "not_a_video");
    }
}
