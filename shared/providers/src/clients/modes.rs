//! Provider modes: each kind of provider is `real`, `fake` or `off`, said explicitly
//! (`MYLOWARE_PROVIDERS=llm=real,moderation=real,video=fake,render=fake,publish=off`, or
//! `all=fake` and exceptions after it). Nothing is chosen because a setting is missing.

use std::fmt;

/// What runs in a provider's place.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The provider's real API, with its URL, key and secrets (all required).
    Real,
    /// The fake that speaks its protocol (development, tests, the demo).
    Fake,
    /// Nothing: a step that needs it fails the run with `provider_off`.
    Off,
}

impl Mode {
    fn parse(s: &str) -> Result<Mode, String> {
        match s {
            "real" => Ok(Mode::Real),
            "fake" => Ok(Mode::Fake),
            "off" => Ok(Mode::Off),
            other => Err(format!("{other:?} is not a mode: say real, fake or off")),
        }
    }

    /// `real`, `fake` or `off`.
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Real => "real",
            Mode::Fake => "fake",
            Mode::Off => "off",
        }
    }
}

/// A kind of provider.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Kind {
    /// Ideation.
    Llm,
    /// Content safety.
    Moderation,
    /// Video generation.
    Video,
    /// Rendering.
    Render,
    /// Publishing.
    Publish,
}

impl Kind {
    /// Every kind.
    pub const ALL: [Kind; 5] =
        [Kind::Llm, Kind::Moderation, Kind::Video, Kind::Render, Kind::Publish];

    /// The name in `MYLOWARE_PROVIDERS`.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Llm => "llm",
            Kind::Moderation => "moderation",
            Kind::Video => "video",
            Kind::Render => "render",
            Kind::Publish => "publish",
        }
    }
}

/// The mode of every kind.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Modes([Mode; 5]);

impl Modes {
    /// Every kind in `mode`.
    pub fn all(mode: Mode) -> Self {
        Self([mode; 5])
    }

    /// The mode of `kind`.
    pub fn get(&self, kind: Kind) -> Mode {
        self.0[kind as usize]
    }

    /// Set the mode of `kind`.
    pub fn set(&mut self, kind: Kind, mode: Mode) {
        self.0[kind as usize] = mode;
    }

    /// Parse `kind=mode,…` (`all=mode` sets every kind; later entries win). Every kind must
    /// end up with a mode, and moderation cannot be `off` (safety fails closed).
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut modes: [Option<Mode>; 5] = [None; 5];
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, m) =
                part.split_once('=').ok_or_else(|| format!("{part:?} is not kind=mode"))?;
            let mode = Mode::parse(m.trim())?;
            match k.trim() {
                "all" => modes = [Some(mode); 5],
                name => {
                    let kind = Kind::ALL
                        .into_iter()
                        .find(|k| k.as_str() == name)
                        .ok_or_else(|| format!("{name:?} is not a provider kind (llm, moderation, video, render, publish, all)"))?;
                    modes[kind as usize] = Some(mode);
                }
            }
        }
        let mut out = [Mode::Off; 5];
        for kind in Kind::ALL {
            out[kind as usize] =
                modes[kind as usize].ok_or_else(|| format!("no mode for {}", kind.as_str()))?;
        }
        if out[Kind::Moderation as usize] == Mode::Off {
            return Err(
                "moderation cannot be off: safety fails closed (use fake to develop)".into()
            );
        }
        Ok(Self(out))
    }

    /// Kinds in `mode`.
    pub fn kinds_in(&self, mode: Mode) -> Vec<Kind> {
        Kind::ALL.into_iter().filter(|k| self.get(*k) == mode).collect()
    }
}

impl fmt::Display for Modes {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let parts: Vec<String> =
            Kind::ALL.iter().map(|k| format!("{}={}", k.as_str(), self.get(*k).as_str())).collect();
        f.write_str(&parts.join(","))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_are_explicit() {
        let m = Modes::parse("all=fake,video=real,publish=off").unwrap();
        assert_eq!(
            (m.get(Kind::Llm), m.get(Kind::Video), m.get(Kind::Publish)),
            (Mode::Fake, Mode::Real, Mode::Off)
        );
        assert_eq!(m.to_string(), "llm=fake,moderation=fake,video=real,render=fake,publish=off");
        assert!(Modes::parse("llm=real").unwrap_err().contains("no mode for moderation"));
        assert!(Modes::parse("all=maybe").is_err());
        assert!(Modes::parse("all=real,sora=fake").is_err());
        assert!(Modes::parse("all=fake,moderation=off").unwrap_err().contains("fails closed"));
        assert_eq!(Modes::parse("all=real").unwrap(), Modes::all(Mode::Real));
    }
}
