//! The built-in renderer: ffmpeg on this machine cuts the clips into the final video, then
//! calls back exactly as the render service does (a signed `x-remotion-signature` callback to
//! the request's callback URL), so the engine cannot tell which one rendered.
//!
//! Each job lives in `<dir>/<job>/`: `request.json` (written before the job id is returned),
//! `out.mp4` once rendered, `error.txt` if it failed. The job id follows from the idempotency
//! key, so a retried submit finds its job; a job whose process died mid-render is started
//! again by the next status poll. Rendering is free: doing it twice costs time, not money.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use myloware::domain::{JobId, OverlayStyle};
use myloware::ports::{
    CallbackSink, FileSource, JobStatus, Media, ProviderError, RenderProvider, RenderRequest,
    builtin_render_job, builtin_render_output, builtin_render_output_job,
};
use myloware::webhooks::{WebhookSecret, render_callback};
use myloware_media::{Cut, Ffmpeg, MediaError};
use tokio::sync::Semaphore;

/// Settings of the built-in renderer.
#[derive(Debug, Clone)]
pub struct FfmpegRenderSettings {
    /// Where jobs are kept (`MYLOWARE_RENDER_DIR`).
    pub dir: PathBuf,
    /// Renders at once (2 cores: one).
    pub concurrency: usize,
}

/// The built-in renderer.
#[derive(Clone)]
pub struct FfmpegRender {
    inner: Arc<Inner>,
}

struct Inner {
    ffmpeg: Ffmpeg,
    dir: PathBuf,
    secret: WebhookSecret,
    sink: Arc<dyn CallbackSink>,
    running: Mutex<HashSet<JobId>>,
    slots: Semaphore,
}

fn terminal(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::Terminal(e.to_string())
}

fn retryable(e: impl std::fmt::Display) -> ProviderError {
    ProviderError::Retryable(e.to_string())
}

/// The path and query of a callback URL: where the sink delivers it.
fn callback_path(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) => match u.query() {
            Some(q) => format!("{}?{q}", u.path()),
            None => u.path().to_owned(),
        },
        Err(_) => "/v1/webhooks/remotion".into(),
    }
}

/// A clip URL as an ffmpeg input: a local file by its path, anything else as given (our own
/// blob store's presigned URLs, never a provider's).
fn input_of(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(u) if u.scheme() == "file" => {
            u.to_file_path().map(|p| p.display().to_string()).unwrap_or_else(|_| url.into())
        }
        _ => url.to_owned(),
    }
}

impl FfmpegRender {
    /// A renderer keeping its jobs under `s.dir`, signing callbacks with `secret` and sending
    /// them through `sink`.
    pub fn new(
        ffmpeg: Ffmpeg,
        s: &FfmpegRenderSettings,
        secret: WebhookSecret,
        sink: Arc<dyn CallbackSink>,
    ) -> Result<Self, MediaError> {
        std::fs::create_dir_all(&s.dir)?;
        Ok(Self {
            inner: Arc::new(Inner {
                ffmpeg,
                dir: s.dir.clone(),
                secret,
                sink,
                running: Mutex::new(HashSet::new()),
                slots: Semaphore::new(s.concurrency.max(1)),
            }),
        })
    }

    fn job_dir(&self, job: &JobId) -> PathBuf {
        self.inner.dir.join(job.as_str())
    }

    /// The rendered file of `job`.
    pub fn output_path(&self, job: &JobId) -> PathBuf {
        self.job_dir(job).join("out.mp4")
    }

    /// Start rendering `job` in the background unless it is already running here.
    fn spawn(&self, job: JobId, req: RenderRequest) {
        if !self.inner.running.lock().unwrap().insert(job.clone()) {
            return;
        }
        let this = self.clone();
        tokio::spawn(async move {
            let outcome = this.render(&job, &req).await;
            this.inner.running.lock().unwrap().remove(&job);
            this.call_back(&job, &req, outcome).await;
        });
    }

    async fn render(&self, job: &JobId, req: &RenderRequest) -> Result<(), String> {
        let _slot = self.inner.slots.acquire().await.map_err(|e| e.to_string())?;
        let dir = self.job_dir(job);
        let out = dir.join("out.mp4");
        let cut = cut_job(&self.inner.ffmpeg, job, req, &dir.join("work"), &out).await;
        if let Err(why) = &cut {
            let _ = std::fs::write(dir.join("error.txt"), why);
        }
        cut
    }

    async fn call_back(&self, job: &JobId, req: &RenderRequest, outcome: Result<(), String>) {
        send_callback(self.inner.sink.as_ref(), &self.inner.secret, job, req, outcome).await
    }

    fn saved_request(&self, job: &JobId) -> Option<RenderRequest> {
        let raw = std::fs::read(self.job_dir(job).join("request.json")).ok()?;
        serde_json::from_slice(&raw).ok()
    }
}

/// Cut `req`'s clips into `out` (`work` for ffmpeg's files, removed after): the probe's
/// summary is logged; a failure is `<code>: <ffmpeg's words>`.
pub async fn cut_job(
    ffmpeg: &Ffmpeg,
    job: &JobId,
    req: &RenderRequest,
    work: &Path,
    out: &Path,
) -> Result<(), String> {
    let cut = Cut {
        clips: req.clip_urls.iter().map(|u| input_of(u)).collect(),
        width: req.width,
        height: req.height,
        fps: req.fps,
        title: req.title.clone(),
        caption: req.caption.clone(),
        texts: req.texts.clone(),
        labels: req.overlay_style == Some(OverlayStyle::Label),
        max_seconds: (req.fps > 0 && req.duration_frames > 0)
            .then(|| req.duration_frames as f64 / req.fps as f64),
    };
    let started = std::time::Instant::now();
    let result = ffmpeg.cut(&cut, work, out).await;
    let _ = std::fs::remove_dir_all(work);
    match result {
        Ok(probe) => {
            let took_ms = started.elapsed().as_millis() as u64;
            tracing::info!(job_id = %job, run_id = %req.run_id, %probe, took_ms, "rendered");
            Ok(())
        }
        Err(e) => {
            tracing::warn!(job_id = %job, run_id = %req.run_id, error = %e, "render failed");
            Err(format!("{}: {e}", e.code()))
        }
    }
}

/// The render service's signed callback for `job` (done, naming the built-in output, or
/// failed with its reason) through `sink`, retried a few times with backoff; a 4xx other than
/// 429 is final. The status API covers a callback that never lands.
pub async fn send_callback(
    sink: &dyn CallbackSink,
    secret: &WebhookSecret,
    job: &JobId,
    req: &RenderRequest,
    outcome: Result<(), String>,
) {
    let output = outcome.map(|()| builtin_render_output(job));
    let d = render_callback(
        secret,
        callback_path(&req.callback_url),
        job.as_str(),
        Some(req.run_id.to_string()),
        match &output {
            Ok(url) => Ok(url.clone()),
            Err(why) => Err(why.as_str()),
        },
    );
    for attempt in 0..5u32 {
        match sink.deliver(&d).await {
            Ok(s) if s < 300 => return,
            Ok(s) if (400..500).contains(&s) && s != 429 => {
                tracing::warn!(job_id = %job, status = s, "render callback refused");
                return;
            }
            other => {
                tracing::warn!(job_id = %job, attempt, answer = ?other, "render callback not delivered");
            }
        }
        tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
    }
}

fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let tmp = path.with_extension("tmp");
    std::fs::write(&tmp, bytes)?;
    std::fs::File::open(&tmp)?.sync_all()?;
    std::fs::rename(tmp, path)
}

#[async_trait]
impl RenderProvider for FfmpegRender {
    async fn submit(&self, key: &str, req: &RenderRequest) -> Result<JobId, ProviderError> {
        let job = builtin_render_job(key);
        let dir = self.job_dir(&job);
        if self.output_path(&job).is_file() {
            // Already rendered (a retried submit): say so again.
            let (this, job2, req) = (self.clone(), job.clone(), req.clone());
            tokio::spawn(async move { this.call_back(&job2, &req, Ok(())).await });
            return Ok(job);
        }
        if self.saved_request(&job).is_none() {
            std::fs::create_dir_all(&dir).map_err(retryable)?;
            let body = serde_json::to_vec(req).map_err(terminal)?;
            write_atomically(&dir.join("request.json"), &body).map_err(retryable)?;
        }
        let _ = std::fs::remove_file(dir.join("error.txt"));
        self.spawn(job.clone(), req.clone());
        Ok(job)
    }

    async fn fetch_output(
        &self,
        job: &JobId,
        _output_url: Option<&str>,
    ) -> Result<Media, ProviderError> {
        // Its own file, whatever a callback said.
        FileSource::open(&self.output_path(job))
            .await
            .map_err(|e| terminal(format!("render {job} has no output: {e}")))
    }

    async fn status(&self, job: &JobId) -> Result<JobStatus, ProviderError> {
        if self.output_path(job).is_file() {
            return Ok(JobStatus::Completed { output_url: Some(builtin_render_output(job)) });
        }
        if let Ok(reason) = std::fs::read_to_string(self.job_dir(job).join("error.txt")) {
            return Ok(JobStatus::Failed { reason });
        }
        if self.inner.running.lock().unwrap().contains(job) {
            return Ok(JobStatus::Pending);
        }
        match self.saved_request(job) {
            // Its process stopped mid-render: render it again.
            Some(req) => {
                tracing::info!(job_id = %job, "render restarted after an interruption");
                self.spawn(job.clone(), req);
                Ok(JobStatus::Pending)
            }
            None => Ok(JobStatus::Unknown { detail: format!("no render {job} here") }),
        }
    }

    async fn check_media_url(&self, url: &str) -> Result<(), String> {
        match builtin_render_output_job(url) {
            Some(_) => Ok(()),
            None => Err(format!("{url} is not the built-in renderer's output")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_and_inputs() {
        assert_eq!(
            callback_path("http://h:1/v1/webhooks/remotion?run_id=x"),
            "/v1/webhooks/remotion?run_id=x"
        );
        assert_eq!(input_of("file:///tmp/a%20b.mp4"), "/tmp/a b.mp4");
        assert_eq!(input_of("https://s3/x.mp4?sig=1"), "https://s3/x.mp4?sig=1");
        assert_eq!(builtin_render_job("k"), builtin_render_job("k"));
        assert_ne!(builtin_render_job("k"), builtin_render_job("k2"));
    }
}
