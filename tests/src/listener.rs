//! A listener on 127.0.0.1 standing in for an internal service: it counts every request it
//! gets, so a test can prove that nothing was ever asked of it.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The listener's port and its request count.
pub struct Internal {
    /// Where it listens (127.0.0.1).
    pub port: u16,
    hits: Arc<AtomicUsize>,
}

impl Internal {
    /// Start it; it answers every request 200 "secret".
    pub async fn start() -> Self {
        let hits = Arc::new(AtomicUsize::new(0));
        let counted = hits.clone();
        let app = axum::Router::new().fallback(move || {
            counted.fetch_add(1, Ordering::SeqCst);
            async { "internal secret" }
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let port = listener.local_addr().expect("addr").port();
        tokio::spawn(async move { axum::serve(listener, app).await });
        Self { port, hits }
    }

    /// Requests it has received.
    pub fn hits(&self) -> usize {
        self.hits.load(Ordering::SeqCst)
    }
}
