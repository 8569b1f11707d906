//! Overlay text: wrapped into lines and written to a file ffmpeg's drawtext reads with
//! expansion off, so nothing in it is interpreted.

use std::path::Path;

use crate::MediaError;

/// Characters per line for a given frame width and font size (a rough average glyph width).
pub(crate) fn chars_per_line(width: u32, font_size: u32) -> usize {
    ((width as f64 * 0.9) / (font_size as f64 * 0.55)).floor().max(8.0) as usize
}

/// `text` on lines of at most `per_line` characters (words kept whole when they fit), at most
/// `max_lines` lines, the last ending in `…` when cut. Control characters become spaces.
pub(crate) fn wrap(text: &str, per_line: usize, max_lines: usize) -> String {
    let clean: String = text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let mut lines: Vec<String> = Vec::new();
    let mut line = String::new();
    for word in clean.split_whitespace() {
        let word: String = word.chars().take(per_line).collect();
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > per_line {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(&word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    if lines.len() > max_lines {
        lines.truncate(max_lines);
        if let Some(last) = lines.last_mut() {
            last.push('…');
        }
    }
    lines.join("\n")
}

/// Write `text` for drawtext's `textfile`.
pub(crate) fn write(dir: &Path, name: &str, text: &str) -> Result<(), MediaError> {
    std::fs::write(dir.join(name), text.as_bytes()).map_err(MediaError::from)
}

/// A drawtext filter reading `file` (a plain name in the working directory), centred
/// horizontally at `y`, shown while `enable` holds (an ffmpeg expression we build, never text
/// from a run).
pub(crate) fn drawtext(file: &str, size: u32, y: &str, enable: Option<&str>) -> String {
    let font = font_option();
    let mut f = format!(
        "drawtext={font}textfile={file}:expansion=none:fontsize={size}:fontcolor=white:\
         borderw=3:bordercolor=black@0.8:line_spacing=8:x=(w-text_w)/2:y={y}"
    );
    if let Some(e) = enable {
        f.push_str(&format!(":enable='{e}'"));
    }
    f
}

/// A font file when one of the usual ones is present (`MYLOWARE_FONT` first); fontconfig's
/// default otherwise.
fn font_option() -> String {
    let candidates = [
        std::env::var("MYLOWARE_FONT").unwrap_or_default(),
        "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf".into(),
        "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf".into(),
        "/System/Library/Fonts/Supplemental/Arial Bold.ttf".into(),
    ];
    candidates
        .iter()
        .find(|p| !p.is_empty() && Path::new(p).is_file() && !p.contains(['\'', ':', '\\']))
        .map(|p| format!("fontfile='{p}':"))
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wraps_on_words_and_cuts_with_an_ellipsis() {
        assert_eq!(wrap("one two three four", 9, 3), "one two\nthree\nfour");
        assert_eq!(wrap("one two three four", 9, 2), "one two\nthree…");
        assert_eq!(wrap("a\u{7}b %{localtime}", 40, 2), "a b %{localtime}");
        assert_eq!(wrap("", 10, 2), "");
    }
}
