//! What can go wrong running ffmpeg.

use std::time::Duration;

/// ffmpeg failures, each with a stable code.
#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    /// The tool is not installed or not where configured.
    #[error("{0}")]
    Missing(String),
    /// The tool ran and failed; the tail of what it said.
    #[error("{tool} failed ({status}): {stderr}")]
    Failed {
        /// `ffmpeg` or `ffprobe`.
        tool: &'static str,
        /// Its exit status.
        status: String,
        /// The last lines it wrote to stderr.
        stderr: String,
    },
    /// The tool ran longer than allowed and was killed.
    #[error("{0} ran longer than {1:?} and was stopped")]
    Timeout(&'static str, Duration),
    /// A file could not be read or written.
    #[error("media I/O: {0}")]
    Io(String),
    /// ffprobe's answer did not describe a video.
    #[error("not a usable video: {0}")]
    NotAVideo(String),
}

impl MediaError {
    /// A stable machine-readable code.
    pub fn code(&self) -> &'static str {
        match self {
            MediaError::Missing(_) => "ffmpeg_missing",
            MediaError::Failed { .. } => "ffmpeg_failed",
            MediaError::Timeout(..) => "ffmpeg_timeout",
            MediaError::Io(_) => "media_io",
            MediaError::NotAVideo(_) => "not_a_video",
        }
    }
}

impl From<std::io::Error> for MediaError {
    fn from(e: std::io::Error) -> Self {
        MediaError::Io(e.to_string())
    }
}
