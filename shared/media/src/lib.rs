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
pub use tool::Ffmpeg;

/// Width and height in pixels for an aspect ratio the original MyloWare knew (`9:16`, `16:9`,
/// `1:1`, `4:5`), at 1080 on the short side; `None` for anything else.
pub fn size_for_aspect(aspect: &str) -> Option<(u32, u32)> {
    match aspect.trim() {
        "9:16" => Some((1080, 1920)),
        "16:9" => Some((1920, 1080)),
        "1:1" => Some((1080, 1080)),
        "4:5" => Some((1080, 1350)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_aspects_have_sizes() {
        assert_eq!(super::size_for_aspect("9:16"), Some((1080, 1920)));
        assert_eq!(super::size_for_aspect(" 16:9 "), Some((1920, 1080)));
        assert_eq!(super::size_for_aspect("3:2"), None);
    }
}
