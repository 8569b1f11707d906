//! ffmpeg as a tool, found on `PATH` or configured (`MYLOWARE_FFMPEG`, `MYLOWARE_FFPROBE`):
//! probing a video ([`Probe`]), cutting clips into one video with overlays ([`Cut`]), short
//! test-pattern clips ([`TestClip`]) and contact sheets. No text from a run ever enters a
//! command line or a filter graph: overlays are written to files ffmpeg reads with expansion
//! off, so hostile LLM or brief text is only ever drawn.

mod cut;
mod error;
mod pattern;
mod probe;
mod sheet;
mod text;
mod tool;

pub use cut::Cut;
pub use error::MediaError;
pub use pattern::TestClip;
pub use probe::Probe;
pub use tool::{ENV_FFMPEG, ENV_FFPROBE, Ffmpeg, HOW_TO_GET};
