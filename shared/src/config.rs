//! Engine configuration, read from `MYLOWARE_*` environment variables with production defaults.

use std::collections::BTreeMap;
use std::time::Duration;

use crate::domain::{ProjectName, WaitKind};
pub use crate::engine::{RetryPolicies, RetryPolicy};
use crate::projects::{Catalog, ENV_PROJECTS_DIR};

/// A configuration value that could not be used.
#[derive(Debug, thiserror::Error)]
#[error("{var}: {why}")]
pub struct ConfigError {
    /// The variable.
    pub var: &'static str,
    /// What is wrong, and what to do.
    pub why: String,
}

/// Knobs of the step runner and workflow.
#[derive(Debug, Clone)]
pub struct EngineConfig {
    /// Clips per project overriding the project files (`MYLOWARE_PROJECT_CLIPS`, e.g.
    /// `aismr=3,motivational=2`).
    pub project_clips: BTreeMap<String, u32>,
    /// Upper bound on clips per run (`MYLOWARE_MAX_CLIPS`, 12).
    pub max_clip_count: u32,
    /// Seconds per clip asked of the video provider (`MYLOWARE_CLIP_SECONDS`, 8).
    pub clip_seconds: u32,
    /// How long a step's lease lasts; keep it below the queue's visibility timeout
    /// (`MYLOWARE_LEASE_SECS`, 60).
    pub lease_ttl: Duration,
    /// How long a start `Idempotency-Key` is remembered (`MYLOWARE_START_KEY_TTL_SECS`, 86400).
    pub start_key_ttl: Duration,
    /// How long the safety checker may take before it counts as unavailable (5 s).
    pub safety_timeout: Duration,
    /// Runs allowed to start in any 24 hours (`MYLOWARE_MAX_RUNS_24H`, 1000).
    pub max_runs_24h: u64,
    /// Estimated spend allowed per UTC day (`MYLOWARE_DAILY_BUDGET_USD`, 200).
    pub daily_budget_usd: f64,
    /// Estimated cost of one run (`MYLOWARE_EST_COST_PER_RUN_USD`, 0.5).
    pub cost_per_run_usd: f64,
    /// Run starts allowed per API key per minute (`MYLOWARE_RATE_LIMIT_PER_MIN`, 60).
    pub rate_limit_per_min: u64,
    /// Lifetime of presigned artifact URLs (`MYLOWARE_PRESIGN_SECS`, 3600).
    pub presign_ttl: Duration,
    /// Public base URL of the webhook endpoint, for per-request callback URLs
    /// (`MYLOWARE_WEBHOOK_BASE_URL`).
    pub webhook_base_url: String,
    /// Retries per step (`MYLOWARE_MAX_ATTEMPTS`, `MYLOWARE_RETRY_BASE_MS`,
    /// `MYLOWARE_RETRY_CAP_SECS` override every step's policy).
    pub retries: RetryPolicies,
    /// Deadlines and polling of waits.
    pub waits: WaitConfig,
    /// The final video's template, size and frame rate.
    pub video: VideoFormat,
    /// The projects (the shipped ones and `MYLOWARE_PROJECTS_DIR`'s).
    pub projects: Catalog,
}

/// What the final video looks like: the render template, its size and frame rate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VideoFormat {
    /// The render service's template (`MYLOWARE_RENDER_TEMPLATE`; the run's project name when
    /// unset, as the original's `aismr` and `motivational` templates are named).
    pub template: Option<String>,
    /// Pixels (`MYLOWARE_ASPECT_RATIO` 9:16 → 1080×1920, or `MYLOWARE_VIDEO_SIZE` as `WxH`).
    pub width: u32,
    /// Pixels.
    pub height: u32,
    /// Frames per second (30: the render service refuses any other with a template).
    pub fps: u32,
}

impl Default for VideoFormat {
    fn default() -> Self {
        Self { template: None, width: 1080, height: 1920, fps: 30 }
    }
}

/// Width and height for an aspect ratio the original MyloWare knew, 1080 on the short side.
pub fn size_for_aspect(aspect: &str) -> Option<(u32, u32)> {
    match aspect.trim() {
        "9:16" => Some((1080, 1920)),
        "16:9" => Some((1920, 1080)),
        "1:1" => Some((1080, 1080)),
        "4:5" => Some((1080, 1350)),
        _ => None,
    }
}

/// `WxH` with both even and within 16..=4096 (H.264 in 4:2:0 needs even sizes).
fn parse_size(raw: &str) -> Option<(u32, u32)> {
    let (w, h) = raw.trim().split_once(['x', 'X'])?;
    let (w, h): (u32, u32) = (w.trim().parse().ok()?, h.trim().parse().ok()?);
    let ok = |n: u32| (16..=4096).contains(&n) && n.is_multiple_of(2);
    (ok(w) && ok(h)).then_some((w, h))
}

impl VideoFormat {
    fn from_env() -> Result<Self, ConfigError> {
        let mut f = Self::default();
        let var = |n: &str| std::env::var(n).ok().filter(|v| !v.trim().is_empty());
        f.template = var("MYLOWARE_RENDER_TEMPLATE").map(|t| t.trim().to_owned());
        if let Some(a) = var("MYLOWARE_ASPECT_RATIO") {
            (f.width, f.height) = size_for_aspect(&a).ok_or(ConfigError {
                var: "MYLOWARE_ASPECT_RATIO",
                why: format!("{a:?}: say 9:16, 16:9, 1:1 or 4:5"),
            })?;
        }
        if let Some(s) = var("MYLOWARE_VIDEO_SIZE") {
            (f.width, f.height) = parse_size(&s).ok_or(ConfigError {
                var: "MYLOWARE_VIDEO_SIZE",
                why: format!("{s:?}: say WIDTHxHEIGHT, both even, 16 to 4096"),
            })?;
        }
        Ok(f)
    }

    /// The template for a run of `project`.
    pub fn template_for(&self, project: &ProjectName) -> String {
        self.template.clone().unwrap_or_else(|| project.as_str().to_owned())
    }
}

/// When a wait asks the provider's status API.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PollPolicy {
    /// First poll this long after the wait opened.
    pub after: Duration,
    /// Then every this long.
    pub interval: Duration,
    /// At most this many polls per wait.
    pub max: u32,
}

/// How long waits may last and when callback waits poll the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WaitConfig {
    /// A callback wait polls the provider once no callback came for this long
    /// (`MYLOWARE_POLL_AFTER_SECS`, 600).
    pub poll_after: Duration,
    /// Time between polls (`MYLOWARE_POLL_INTERVAL_SECS`, 60).
    pub poll_interval: Duration,
    /// Polls allowed per wait (`MYLOWARE_MAX_POLLS`, 60).
    pub max_polls: u32,
    /// Deadline of the video wait (`MYLOWARE_VIDEO_DEADLINE_SECS`, 7200).
    pub videos: Duration,
    /// Deadline of the render wait (`MYLOWARE_RENDER_DEADLINE_SECS`, 3600).
    pub render: Duration,
    /// Deadline of a human gate (`MYLOWARE_GATE_DEADLINE_SECS`, 7 days).
    pub gate: Duration,
    /// Deadline of the publish wait (`MYLOWARE_PUBLISH_DEADLINE_SECS`, 7200; Upload-Post fails
    /// an upload with no activity for an hour).
    pub publish: Duration,
    /// The publish wait has no callback: polling is how it ends (`MYLOWARE_PUBLISH_POLL_AFTER_SECS`
    /// 5, `MYLOWARE_PUBLISH_POLL_INTERVAL_SECS` 15, at most 500 polls).
    pub publish_poll: PollPolicy,
    /// A video provider that does not call back (Gemini by default) is polled from the start
    /// (`MYLOWARE_POLLED_AFTER_SECS` 10, `MYLOWARE_POLLED_INTERVAL_SECS` 10, at most 720 polls).
    pub polled: PollPolicy,
    /// Longest delay of one timer message (SQS allows 15 minutes).
    pub max_timer: Duration,
    /// The sweeper re-enqueues a run that has not moved for this long
    /// (`MYLOWARE_STUCK_AFTER_SECS`, 1200; keep it above `max_timer`).
    pub stuck_after: Duration,
}

impl WaitConfig {
    /// How long a wait of `kind` may last.
    pub fn deadline(&self, kind: WaitKind) -> Duration {
        match kind {
            WaitKind::Videos => self.videos,
            WaitKind::Render => self.render,
            WaitKind::Publish => self.publish,
            WaitKind::Gate(_) => self.gate,
        }
    }

    /// How a wait of `kind` polls its provider (`None`: it does not, a gate); `polled`: no
    /// callback is expected.
    pub fn polling(&self, kind: WaitKind, polled: bool) -> Option<PollPolicy> {
        let callbacks = PollPolicy {
            after: self.poll_after,
            interval: self.poll_interval,
            max: self.max_polls,
        };
        match kind {
            WaitKind::Videos | WaitKind::Render if polled => Some(self.polled),
            WaitKind::Videos | WaitKind::Render => Some(callbacks),
            WaitKind::Publish => Some(self.publish_poll),
            WaitKind::Gate(_) => None,
        }
    }
}

impl Default for WaitConfig {
    fn default() -> Self {
        Self {
            poll_after: Duration::from_secs(600),
            poll_interval: Duration::from_secs(60),
            max_polls: 60,
            videos: Duration::from_secs(7200),
            render: Duration::from_secs(3600),
            gate: Duration::from_secs(7 * 86_400),
            publish: Duration::from_secs(7200),
            publish_poll: PollPolicy {
                after: Duration::from_secs(5),
                interval: Duration::from_secs(15),
                max: 500,
            },
            polled: PollPolicy {
                after: Duration::from_secs(10),
                interval: Duration::from_secs(10),
                max: 720,
            },
            max_timer: Duration::from_secs(900),
            stuck_after: Duration::from_secs(1200),
        }
    }
}

impl Default for EngineConfig {
    fn default() -> Self {
        Self {
            project_clips: BTreeMap::new(),
            max_clip_count: 12,
            clip_seconds: 8,
            lease_ttl: Duration::from_secs(60),
            presign_ttl: Duration::from_secs(3600),
            safety_timeout: Duration::from_secs(5),
            max_runs_24h: 1000,
            daily_budget_usd: 200.0,
            cost_per_run_usd: 0.5,
            rate_limit_per_min: 60,
            start_key_ttl: Duration::from_secs(86_400),
            webhook_base_url: "http://127.0.0.1:8080".into(),
            retries: RetryPolicies::default(),
            waits: WaitConfig::default(),
            video: VideoFormat::default(),
            projects: Catalog::shipped(),
        }
    }
}

impl EngineConfig {
    /// Read from the environment; unset variables keep their defaults.
    pub fn from_env() -> Result<Self, ConfigError> {
        let mut c = Self::default();
        c.max_clip_count = env_num("MYLOWARE_MAX_CLIPS", c.max_clip_count)?;
        c.clip_seconds = env_num("MYLOWARE_CLIP_SECONDS", c.clip_seconds)?;
        c.lease_ttl = Duration::from_secs(env_num("MYLOWARE_LEASE_SECS", 60)?);
        c.presign_ttl = Duration::from_secs(env_num("MYLOWARE_PRESIGN_SECS", 3600)?);
        c.start_key_ttl = Duration::from_secs(env_num("MYLOWARE_START_KEY_TTL_SECS", 86_400)?);
        c.safety_timeout = Duration::from_millis(env_num("MYLOWARE_SAFETY_TIMEOUT_MS", 5000)?);
        c.max_runs_24h = env_num("MYLOWARE_MAX_RUNS_24H", c.max_runs_24h)?;
        c.daily_budget_usd = env_num("MYLOWARE_DAILY_BUDGET_USD", c.daily_budget_usd)?;
        c.cost_per_run_usd = env_num("MYLOWARE_EST_COST_PER_RUN_USD", c.cost_per_run_usd)?;
        c.rate_limit_per_min = env_num("MYLOWARE_RATE_LIMIT_PER_MIN", c.rate_limit_per_min)?;
        let attempts = env_num("MYLOWARE_MAX_ATTEMPTS", c.retries.default.max_attempts)?;
        if attempts == 0 {
            return Err(ConfigError {
                var: "MYLOWARE_MAX_ATTEMPTS",
                why: "must be at least 1".into(),
            });
        }
        c.retries = c.retries.with_max_attempts(attempts);
        if std::env::var("MYLOWARE_RETRY_BASE_MS").is_ok() {
            let base = Duration::from_millis(env_num("MYLOWARE_RETRY_BASE_MS", 2000)?);
            let cap = Duration::from_secs(env_num("MYLOWARE_RETRY_CAP_SECS", 300)?);
            c.retries = c.retries.with_backoff(base, cap);
        }
        let secs = |var, d: Duration| env_num(var, d.as_secs()).map(Duration::from_secs);
        let w = &mut c.waits;
        w.poll_after = secs("MYLOWARE_POLL_AFTER_SECS", w.poll_after)?;
        w.poll_interval = secs("MYLOWARE_POLL_INTERVAL_SECS", w.poll_interval)?;
        w.max_polls = env_num("MYLOWARE_MAX_POLLS", w.max_polls)?;
        w.videos = secs("MYLOWARE_VIDEO_DEADLINE_SECS", w.videos)?;
        w.render = secs("MYLOWARE_RENDER_DEADLINE_SECS", w.render)?;
        w.gate = secs("MYLOWARE_GATE_DEADLINE_SECS", w.gate)?;
        w.publish = secs("MYLOWARE_PUBLISH_DEADLINE_SECS", w.publish)?;
        w.publish_poll.after = secs("MYLOWARE_PUBLISH_POLL_AFTER_SECS", w.publish_poll.after)?;
        w.publish_poll.interval =
            secs("MYLOWARE_PUBLISH_POLL_INTERVAL_SECS", w.publish_poll.interval)?;
        w.polled.after = secs("MYLOWARE_POLLED_AFTER_SECS", w.polled.after)?;
        w.polled.interval = secs("MYLOWARE_POLLED_INTERVAL_SECS", w.polled.interval)?;
        w.stuck_after = secs("MYLOWARE_STUCK_AFTER_SECS", w.stuck_after)?;
        c.video = VideoFormat::from_env()?;
        c.projects = Catalog::from_env().map_err(|errors| ConfigError {
            var: ENV_PROJECTS_DIR,
            why: errors.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "),
        })?;
        if let Ok(v) = std::env::var("MYLOWARE_WEBHOOK_BASE_URL") {
            c.webhook_base_url = v.trim_end_matches('/').to_owned();
        }
        c.project_clips = parse_project_clips(
            &std::env::var("MYLOWARE_PROJECT_CLIPS").unwrap_or_default(),
            c.max_clip_count,
        )?;
        Ok(c)
    }

    /// Clips for a run of `project` when the request does not say: `MYLOWARE_PROJECT_CLIPS`'s
    /// count, else the project file's (`from_file`).
    pub fn clips_for(&self, project: &ProjectName, from_file: u32) -> u32 {
        self.project_clips.get(project.as_str()).copied().unwrap_or(from_file)
    }
}

/// Parse `project=clips,…`.
pub fn parse_project_clips(raw: &str, max: u32) -> Result<BTreeMap<String, u32>, ConfigError> {
    let err = |why: String| ConfigError { var: "MYLOWARE_PROJECT_CLIPS", why };
    let mut out = BTreeMap::new();
    for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let (name, n) =
            part.split_once('=').ok_or_else(|| err(format!("{part:?} is not project=clips")))?;
        let project = ProjectName::parse(name.trim()).map_err(|e| err(e.to_string()))?;
        let n: u32 = n.trim().parse().map_err(|_| err(format!("{n:?} is not a number")))?;
        if n == 0 || n > max {
            return Err(err(format!("{name}: clips must be 1..={max}")));
        }
        out.insert(project.as_str().to_owned(), n);
    }
    Ok(out)
}

/// Parse a numeric variable, or keep `default` when unset.
pub fn env_num<T: std::str::FromStr>(var: &'static str, default: T) -> Result<T, ConfigError> {
    match std::env::var(var) {
        Ok(v) => {
            v.trim().parse().map_err(|_| ConfigError { var, why: format!("{v:?} is not a number") })
        }
        Err(_) => Ok(default),
    }
}

/// Split a comma-separated variable into its non-empty trimmed parts.
pub fn env_list(var: &str) -> Vec<String> {
    std::env::var(var)
        .unwrap_or_default()
        .split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn project_clips_parse_and_apply() {
        let m = parse_project_clips("aismr=3, motivational=2", 12).unwrap();
        let c = EngineConfig { project_clips: m, ..Default::default() };
        assert_eq!(c.clips_for(&ProjectName::parse("motivational").unwrap(), 7), 2);
        assert_eq!(c.clips_for(&ProjectName::parse("other").unwrap(), 4), 4);
        assert!(parse_project_clips("aismr", 12).is_err());
        assert!(parse_project_clips("aismr=0", 12).is_err());
        assert!(parse_project_clips("aismr=13", 12).is_err());
        assert!(parse_project_clips("Bad=1", 12).is_err());
        assert!(parse_project_clips("", 12).unwrap().is_empty());
    }

    #[test]
    fn video_sizes_parse() {
        assert_eq!(size_for_aspect("16:9"), Some((1920, 1080)));
        assert_eq!(size_for_aspect("3:2"), None);
        assert_eq!(parse_size("540x960"), Some((540, 960)));
        assert_eq!(parse_size("541x960"), None);
        assert_eq!(parse_size("8x8"), None);
        assert_eq!(parse_size("wide"), None);
        let f = VideoFormat::default();
        assert_eq!(f.template_for(&ProjectName::parse("aismr").unwrap()), "aismr");
    }
}
