//! The videos the fake video APIs hand out: with ffmpeg configured, a real, distinct
//! test-pattern clip per job (its prompt written on it, its length as asked); without, the
//! small sample file. Made when first downloaded, kept for a few downloads more.

use std::sync::Arc;

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use myloware_media::TestClip;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::{AppState, Job};

/// What a video job was asked for.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub(super) struct Clip {
    prompt: String,
    seconds: f64,
    /// Jobs created before this one (the pattern's hue follows it).
    seq: u32,
}

impl Clip {
    /// A clip of `prompt`, `seconds` long (a number or a numeric string; 4 when absent).
    pub(super) fn new(prompt: &Value, seconds: &Value, seq: usize) -> Option<Self> {
        let prompt = prompt.as_str()?.to_owned();
        let seconds = match seconds {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().trim_end_matches('s').parse().ok(),
            _ => None,
        }
        .filter(|s| *s > 0.0 && *s <= 60.0)
        .unwrap_or(4.0);
        Some(Self { prompt, seconds, seq: seq as u32 })
    }

    fn title(&self) -> String {
        match self.prompt.split_once(':') {
            Some((head, _)) if head.chars().count() <= 20 => head.to_owned(),
            _ => format!("clip {}", self.seq + 1),
        }
    }
}

/// Jobs of every video face, for the next one's `seq`.
pub(super) fn created(jobs: &super::Jobs) -> usize {
    jobs.videos.len() + jobs.predictions.len() + jobs.operations.len()
}

fn mp4(bytes: impl IntoResponse) -> Response {
    ([("content-type", "video/mp4")], bytes).into_response()
}

/// The bytes of job `id`'s video.
pub(super) async fn video_file(s: &AppState, id: &str, job: &Job) -> Response {
    let ffmpeg = s.config.read().unwrap().clips.clone();
    let (Some(ffmpeg), Some(clip)) = (ffmpeg, job.clip.clone()) else {
        return mp4(crate::SAMPLE_MP4);
    };
    if let Some(bytes) = s.clip_cache.lock().unwrap().iter().find(|(k, _)| k == id) {
        return mp4(bytes.1.as_ref().clone());
    }
    let work = std::env::temp_dir().join(format!("myloware-fake-clip-{}", uuid::Uuid::new_v4()));
    let spec = TestClip {
        title: clip.title(),
        text: clip.prompt.clone(),
        index: clip.seq,
        seconds: clip.seconds,
        width: 360,
        height: 640,
    };
    let made = ffmpeg.test_clip(&spec, &work).await;
    let _ = std::fs::remove_dir_all(&work);
    match made {
        Ok(bytes) => {
            let bytes = Arc::new(bytes);
            let mut cache = s.clip_cache.lock().unwrap();
            if cache.len() >= 16 {
                cache.remove(0);
            }
            cache.push((id.to_owned(), bytes.clone()));
            mp4(bytes.as_ref().clone())
        }
        Err(e) => {
            (StatusCode::INTERNAL_SERVER_ERROR, format!("making the clip: {e}")).into_response()
        }
    }
}
