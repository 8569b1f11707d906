//! Bytes the fakes hand out as videos: a small real MP4, so whatever reads them (the built-in
//! renderer, ffprobe, a person) gets a video.

/// A small real MP4 (1 s, 64×112, H.264), the fakes' clip and render output.
pub const SAMPLE_MP4: &[u8] = include_bytes!("../../assets/clip.mp4");

/// The fakes' video content.
pub(crate) fn fake_mp4() -> Vec<u8> {
    SAMPLE_MP4.to_vec()
}
