//! Blob keys of a run's artifacts: deterministic, so a retried step rewrites the same object.

use crate::domain::RunId;

/// Where clip `index` of a run is stored.
pub fn clip_key(run: &RunId, index: u32) -> String {
    format!("runs/{run}/clips/{index:02}.mp4")
}

/// Where a run's rendered video is stored.
pub fn final_video_key(run: &RunId) -> String {
    format!("runs/{run}/final.mp4")
}
