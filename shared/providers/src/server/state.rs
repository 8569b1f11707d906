//! The fake server's state file: jobs, counts and the address, written after every change
//! (to a temporary file, then renamed over the old one), read back when it starts again.

use std::net::SocketAddr;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::{Jobs, Shared, Stats};

/// What the file holds.
#[derive(Default, Serialize, Deserialize)]
#[serde(default)]
pub(super) struct Saved {
    pub(super) addr: Option<SocketAddr>,
    pub(super) jobs: Jobs,
    pub(super) stats: Stats,
}

/// The saved state in `file`, if there is one.
pub(super) fn load(file: &Path) -> std::io::Result<Option<Saved>> {
    match std::fs::read(file) {
        Ok(bytes) => serde_json::from_slice(&bytes).map(Some).map_err(|e| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidData,
                format!(
                    "{}: unreadable fake provider state ({e}); remove it to start over",
                    file.display()
                ),
            )
        }),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e),
    }
}

/// Bind `addr`; when it asks for any port, the address used before if it is free (output URLs
/// handed out before a restart keep working).
pub(super) async fn bind(
    addr: SocketAddr,
    before: Option<SocketAddr>,
) -> std::io::Result<tokio::net::TcpListener> {
    if addr.port() == 0
        && let Some(old) = before.filter(|b| b.ip() == addr.ip())
        && let Ok(l) = tokio::net::TcpListener::bind(old).await
    {
        return Ok(l);
    }
    tokio::net::TcpListener::bind(addr).await
}

impl Shared {
    /// Write the state file (a no-op without one). Failures are logged: the fake then only
    /// forgets more than a real provider would.
    pub(super) fn persist(&self) {
        let Some(file) = &self.file else { return };
        let _one_at_a_time = self.saving.lock().unwrap();
        let addr = self.base_url.strip_prefix("http://").and_then(|a| a.parse().ok());
        let bytes = {
            let (jobs, stats) = (self.jobs.lock().unwrap(), self.stats.lock().unwrap());
            serde_json::to_vec(&SavedRef { addr, jobs: &jobs, stats: &stats })
                .expect("state serialises")
        };
        let tmp = file.with_extension("tmp");
        if let Err(e) = std::fs::write(&tmp, bytes).and_then(|_| std::fs::rename(&tmp, file)) {
            tracing::warn!(file = %file.display(), error = %e, "could not save the fake provider state");
        }
    }
}

#[derive(Serialize)]
struct SavedRef<'a> {
    addr: Option<SocketAddr>,
    jobs: &'a Jobs,
    stats: &'a Stats,
}
