//! Finding ffmpeg and ffprobe, and running them with a time limit.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::Duration;

use crate::MediaError;

/// The ffmpeg binary to use (`MYLOWARE_FFMPEG`, else `ffmpeg` on `PATH`).
pub const ENV_FFMPEG: &str = "MYLOWARE_FFMPEG";
/// The ffprobe binary to use (`MYLOWARE_FFPROBE`, else `ffprobe` beside ffmpeg or on `PATH`).
pub const ENV_FFPROBE: &str = "MYLOWARE_FFPROBE";
/// How to get it, for messages.
pub const HOW_TO_GET: &str = "install ffmpeg (Debian/Ubuntu: apt-get install ffmpeg; macOS: \
                              brew install ffmpeg) or set MYLOWARE_FFMPEG to its path";

/// ffmpeg and ffprobe, located.
#[derive(Debug, Clone)]
pub struct Ffmpeg {
    ffmpeg: PathBuf,
    ffprobe: PathBuf,
    timeout: Duration,
    preset: String,
}

fn on_path(name: &str) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join(name)).find(|p| is_executable(p))
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    p.metadata().is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

fn configured(var: &str) -> Result<Option<PathBuf>, MediaError> {
    match std::env::var_os(var).filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(p) if is_executable(Path::new(&p)) => Ok(Some(PathBuf::from(p))),
        Some(p) => Err(MediaError::Missing(format!(
            "{var}={} is not an executable file",
            Path::new(&p).display()
        ))),
    }
}

impl Ffmpeg {
    /// ffmpeg as configured or on `PATH`; a clear error saying how to get it when it is not.
    pub fn locate() -> Result<Self, MediaError> {
        let ffmpeg = match configured(ENV_FFMPEG)? {
            Some(p) => p,
            None => on_path("ffmpeg")
                .ok_or_else(|| MediaError::Missing(format!("ffmpeg not found: {HOW_TO_GET}")))?,
        };
        let beside = ffmpeg.with_file_name("ffprobe");
        let ffprobe = match configured(ENV_FFPROBE)? {
            Some(p) => p,
            None if is_executable(&beside) => beside,
            None => on_path("ffprobe")
                .ok_or_else(|| MediaError::Missing(format!("ffprobe not found: {HOW_TO_GET}")))?,
        };
        Ok(Self::at(ffmpeg, ffprobe))
    }

    /// These binaries, as given.
    pub fn at(ffmpeg: PathBuf, ffprobe: PathBuf) -> Self {
        Self { ffmpeg, ffprobe, timeout: Duration::from_secs(600), preset: "veryfast".into() }
    }

    /// Stop any one invocation after `timeout` (10 minutes unless set).
    pub fn with_timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// The x264 preset for final cuts (`veryfast` unless set; `ultrafast` for tests).
    pub fn with_preset(mut self, preset: &str) -> Self {
        self.preset = preset.to_owned();
        self
    }

    pub(crate) fn preset(&self) -> &str {
        &self.preset
    }

    /// Where ffmpeg is.
    pub fn path(&self) -> &Path {
        &self.ffmpeg
    }

    pub(crate) async fn ffmpeg(
        &self,
        args: Vec<OsString>,
        dir: &Path,
    ) -> Result<Vec<u8>, MediaError> {
        self.run("ffmpeg", &self.ffmpeg, args, Some(dir)).await
    }

    pub(crate) async fn ffprobe(&self, args: Vec<OsString>) -> Result<Vec<u8>, MediaError> {
        self.run("ffprobe", &self.ffprobe, args, None).await
    }

    async fn run(
        &self,
        tool: &'static str,
        bin: &Path,
        args: Vec<OsString>,
        dir: Option<&Path>,
    ) -> Result<Vec<u8>, MediaError> {
        let mut cmd = tokio::process::Command::new(bin);
        cmd.args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .kill_on_drop(true);
        if let Some(d) = dir {
            cmd.current_dir(d);
        }
        let child = cmd.spawn().map_err(|e| MediaError::Missing(format!("{tool}: {e}")))?;
        let out = tokio::time::timeout(self.timeout, child.wait_with_output())
            .await
            .map_err(|_| MediaError::Timeout(tool, self.timeout))??;
        if !out.status.success() {
            let err = String::from_utf8_lossy(&out.stderr);
            let tail: Vec<&str> = err.lines().rev().take(6).collect();
            let stderr = tail.into_iter().rev().collect::<Vec<_>>().join(" | ");
            return Err(MediaError::Failed { tool, status: out.status.to_string(), stderr });
        }
        Ok(out.stdout)
    }
}

/// `p` as seen from this process: ffmpeg runs in a directory of its own (its filter graphs name
/// text files relative to it), so a relative path given to it would mean another file.
pub(crate) fn absolute(p: &Path) -> Result<PathBuf, MediaError> {
    Ok(std::path::absolute(p)?)
}

/// An ffmpeg input: a URL as given, a local path made [`absolute`].
pub(crate) fn absolute_input(input: &str) -> Result<String, MediaError> {
    if input.contains("://") {
        return Ok(input.to_owned());
    }
    Ok(absolute(Path::new(input))?.to_string_lossy().into_owned())
}

/// Arguments from string slices.
pub(crate) fn args<I, S>(items: I) -> Vec<OsString>
where
    I: IntoIterator<Item = S>,
    S: Into<OsString>,
{
    items.into_iter().map(Into::into).collect()
}
