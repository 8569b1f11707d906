//! Serving a router on a long-lived listener (`myloware serve`) so that it holds up: a client
//! must send its headers within a time (a slow-header client is cut off, not kept), its body
//! within another, and a request is answered within a third (408); at most so many requests
//! are handled at once (the rest wait their turn); shutdown stops accepting and lets the
//! requests in flight finish, within a grace period. hyper's connection builder and tower /
//! tower-http layers do the work.

use std::future::Future;
use std::time::Duration;

use axum::Router;
use axum::http::StatusCode;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::server::graceful::GracefulShutdown;
use hyper_util::service::TowerToHyperService;
use tokio::net::TcpListener;
use tower_http::timeout::{RequestBodyTimeoutLayer, TimeoutLayer};

/// How long a client may take, and how much is handled at once.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServeLimits {
    /// To send the request line and headers (`MYLOWARE_HTTP_HEADER_TIMEOUT_SECS`, 10).
    pub header_read: Duration,
    /// Between the body's chunks (`MYLOWARE_HTTP_BODY_TIMEOUT_SECS`, 30).
    pub body_read: Duration,
    /// For the whole answer (`MYLOWARE_HTTP_REQUEST_TIMEOUT_SECS`, 60): 408 after.
    pub request: Duration,
    /// Requests handled at once (`MYLOWARE_HTTP_CONCURRENCY`, 256); the rest wait.
    pub concurrency: usize,
    /// For requests in flight to finish at shutdown (`MYLOWARE_HTTP_SHUTDOWN_GRACE_SECS`, 30).
    pub shutdown_grace: Duration,
}

impl Default for ServeLimits {
    fn default() -> Self {
        Self {
            header_read: Duration::from_secs(10),
            body_read: Duration::from_secs(30),
            request: Duration::from_secs(60),
            concurrency: 256,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

impl ServeLimits {
    /// The defaults, with `MYLOWARE_HTTP_*` overrides; a value that is not a positive number
    /// is an error naming the variable.
    pub fn from_env() -> Result<Self, String> {
        Self::from_vars(|name| std::env::var(name).ok())
    }

    /// The same, reading each variable with `var`.
    pub fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        let mut l = Self::default();
        let num = |name: &str| -> Result<Option<u64>, String> {
            match var(name) {
                None => Ok(None),
                Some(v) => match v.trim().parse::<u64>() {
                    Ok(n) if n > 0 => Ok(Some(n)),
                    _ => Err(format!("{name}: {v:?} is not a positive whole number")),
                },
            }
        };
        let secs = |name: &str, d: &mut Duration| -> Result<(), String> {
            if let Some(n) = num(name)? {
                *d = Duration::from_secs(n);
            }
            Ok(())
        };
        secs("MYLOWARE_HTTP_HEADER_TIMEOUT_SECS", &mut l.header_read)?;
        secs("MYLOWARE_HTTP_BODY_TIMEOUT_SECS", &mut l.body_read)?;
        secs("MYLOWARE_HTTP_REQUEST_TIMEOUT_SECS", &mut l.request)?;
        secs("MYLOWARE_HTTP_SHUTDOWN_GRACE_SECS", &mut l.shutdown_grace)?;
        if let Some(n) = num("MYLOWARE_HTTP_CONCURRENCY")? {
            l.concurrency = n as usize;
        }
        Ok(l)
    }

    /// `router` with the request and body timeouts and the concurrency limit.
    pub fn apply(&self, router: Router) -> Router {
        router
            .layer(TimeoutLayer::with_status_code(StatusCode::REQUEST_TIMEOUT, self.request))
            .layer(RequestBodyTimeoutLayer::new(self.body_read))
            .layer(tower::limit::GlobalConcurrencyLimitLayer::new(self.concurrency))
    }
}

/// Serve `router` on `listener` within `limits` until `shutdown` completes; then stop
/// accepting and give the requests in flight `limits.shutdown_grace` to finish.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: ServeLimits,
    shutdown: impl Future<Output = ()>,
) {
    let router = limits.apply(router);
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder.timer(TokioTimer::new()).header_read_timeout(limits.header_read);
    let graceful = GracefulShutdown::new();
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(a) => a,
                Err(e) => {
                    // Out of file descriptors and the like: back off instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let service = TowerToHyperService::new(router.clone());
        let conn = graceful.watch(builder.serve_connection(TokioIo::new(stream), service));
        tokio::spawn(async move {
            if let Err(e) = conn.await {
                tracing::debug!(%peer, error = %e, "connection ended");
            }
        });
    }
    drop(listener);
    tracing::info!("shutting down: no new connections; waiting for requests in flight");
    tokio::select! {
        _ = graceful.shutdown() => tracing::info!("every request in flight finished"),
        _ = tokio::time::sleep(limits.shutdown_grace) => {
            tracing::warn!(grace = ?limits.shutdown_grace, "requests still in flight at the end of the grace period");
        }
    }
}
