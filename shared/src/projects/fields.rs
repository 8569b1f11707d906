//! The project file's values that carry a rule, each checked as it is read, so an error points
//! at the value's line and names its field.

use serde::{Deserialize, Deserializer, de::Error};

use crate::config::size_for_aspect;
use crate::domain::MAX_CAPTION_CHARS;

macro_rules! bounded_number {
    ($name:ident, $field:literal, $min:expr, $max:expr, $what:literal) => {
        #[doc = concat!("`", $field, "`: ", $what, " (", stringify!($min), " to ", stringify!($max), ").")]
        #[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
        pub struct $name(pub u32);

        impl<'de> Deserialize<'de> for $name {
            fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                let n = i64::deserialize(d)?;
                if !($min..=$max).contains(&n) {
                    return Err(D::Error::custom(format!(
                        concat!($field, ": must be ", stringify!($min), " to ", stringify!($max), ", not {}"),
                        n
                    )));
                }
                Ok(Self(n as u32))
            }
        }
    };
}

bounded_number!(ClipCount, "video.clips", 1, 12, "clips per run");
bounded_number!(ClipSeconds, "video.seconds", 1, 20, "seconds per clip");
bounded_number!(RenderSeconds, "render.duration_seconds", 1, 600, "the final video's length");

/// `video.aspect_ratio`: one the renderers know (`9:16`, `16:9`, `1:1`, `4:5`).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AspectRatio(pub String);

impl AspectRatio {
    /// Width and height in pixels.
    pub fn size(&self) -> (u32, u32) {
        size_for_aspect(&self.0).expect("checked when read")
    }
}

impl<'de> Deserialize<'de> for AspectRatio {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        match size_for_aspect(&s) {
            Some(_) => Ok(Self(s.trim().to_owned())),
            None => Err(D::Error::custom(format!(
                "video.aspect_ratio: {s:?} is not one of 9:16, 16:9, 1:1, 4:5"
            ))),
        }
    }
}

/// A non-empty text of at most `MAX` characters (prompts, personas, rules).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Text<const MAX: usize>(pub String);

impl<'de, const MAX: usize> Deserialize<'de> for Text<MAX> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let n = s.chars().count();
        if s.trim().is_empty() {
            return Err(D::Error::custom("must not be empty"));
        }
        if n > MAX {
            return Err(D::Error::custom(format!("has {n} characters, at most {MAX}")));
        }
        Ok(Self(s.trim().to_owned()))
    }
}

/// A name of lower-case letters, digits, `-` and `_` (templates, platforms).
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub struct Slug(pub String);

impl<'de> Deserialize<'de> for Slug {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let ok = !s.is_empty()
            && s.len() <= 64
            && s.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "-_".contains(c));
        if ok {
            Ok(Self(s))
        } else {
            Err(D::Error::custom(format!("{s:?}: use a-z, 0-9, - and _")))
        }
    }
}

/// A hashtag: `#` and letters, digits or `_`.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Hashtag(pub String);

impl<'de> Deserialize<'de> for Hashtag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let body = s.strip_prefix('#').unwrap_or("");
        let ok = !body.is_empty()
            && body.chars().count() <= 100
            && body.chars().all(|c| c.is_alphanumeric() || c == '_');
        if ok {
            Ok(Self(s))
        } else {
            Err(D::Error::custom(format!("publish.hashtags: {s:?} is not a #hashtag")))
        }
    }
}

/// A caption limit: 1 to the longest caption a run keeps.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct CaptionLimit(pub u32);

impl<'de> Deserialize<'de> for CaptionLimit {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = i64::deserialize(d)?;
        if !(1..=MAX_CAPTION_CHARS as i64).contains(&n) {
            return Err(D::Error::custom(format!(
                "publish.caption_max_chars: must be 1 to {MAX_CAPTION_CHARS}, not {n}"
            )));
        }
        Ok(Self(n as u32))
    }
}

/// `ideation.output_schema`: the JSON Schema of the ideas, as JSON text, checked to be one of
/// the ideas' shape (`ideas_schema::check_ideas_schema`).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct OutputSchema(pub serde_json::Value);

impl<'de> Deserialize<'de> for OutputSchema {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        let v: serde_json::Value = serde_json::from_str(&s)
            .map_err(|e| D::Error::custom(format!("ideation.output_schema: not JSON ({e})")))?;
        super::ideas_schema::check_ideas_schema(&v)
            .map_err(|e| D::Error::custom(format!("ideation.output_schema: {e}")))?;
        Ok(Self(v))
    }
}

/// `eval.threshold`: a median score from 1 to 5.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Threshold(pub f64);

impl<'de> Deserialize<'de> for Threshold {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let n = f64::deserialize(d)?;
        if !(1.0..=5.0).contains(&n) {
            return Err(D::Error::custom(format!("eval.threshold: must be 1 to 5, not {n}")));
        }
        Ok(Self(n))
    }
}
