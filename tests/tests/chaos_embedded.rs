//! Chaos on the embedded backend (SQLite): 500 runs with crashes injected at random fault points
//! and every message and callback duplicated. Every run completes with exactly N video jobs, one
//! render and one publication. Prints the table per fault point.

use std::sync::Arc;
use std::time::Duration;

use myloware::time::SystemClock;
use myloware_sqlite::{Embedded, QueueSettings};
use myloware_tests::chaos::{ChaosBackend, ChaosOptions, run_chaos};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn five_hundred_runs_survive_crashes_at_every_fault_point() {
    let runs: usize = std::env::var("CHAOS_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(500);
    let seed =
        std::env::var("CHAOS_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(rand_seed);
    let dir =
        std::env::temp_dir().join(format!("myloware-chaos-{}", uuid::Uuid::new_v4().simple()));
    let visibility = Duration::from_millis(800);
    let settings = QueueSettings { visibility_timeout: visibility, max_receive_count: 30 };
    let backend = Embedded::open(&dir, Arc::new(SystemClock), settings).unwrap();
    let b = ChaosBackend {
        store: backend.store.clone(),
        queue: backend.queue.clone(),
        consumer: backend.queue.clone(),
        dlq: backend.queue.clone(),
        blobs: backend.blobs.clone(),
        visibility,
    };
    let opts = ChaosOptions {
        runs,
        clips: 3,
        p: 0.02,
        seed,
        workers: 4,
        timeout: Duration::from_secs(600),
    };
    let report = run_chaos(b, opts).await;
    report.check(runs, 3, seed);
    let _ = std::fs::remove_dir_all(&dir);
}

fn rand_seed() -> u64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos() as u64
}
