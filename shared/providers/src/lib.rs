//! Provider integrations over HTTP: real clients for the provider APIs the workflow calls, and a
//! fake provider server that speaks the same APIs (and signs its callbacks for real), so fake and
//! real differ only by base URL and keys.

pub mod clients;
pub mod server;

/// A small real MP4 (1 s, 64×112, H.264), served as generated video content without ffmpeg.
pub use myloware::fakes::SAMPLE_MP4;
