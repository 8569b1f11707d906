//! Chaos on LocalStack (DynamoDB, SQS, S3): 50 runs with crashes injected at random fault points
//! and every message and callback duplicated; every run completes with exactly N video jobs, one
//! render and one publication. Prints the table per fault point.

use std::time::Duration;

use myloware_tests::chaos::{ChaosBackend, ChaosOptions, run_chaos};

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn fifty_runs_on_localstack_survive_crashes_at_every_fault_point() {
    myloware_tests::init_logs();
    assert!(std::env::var("AWS_ENDPOINT_URL").is_ok(), "start LocalStack (see .ci/run)");
    let runs: usize = std::env::var("CHAOS_RUNS").ok().and_then(|v| v.parse().ok()).unwrap_or(50);
    let seed = std::env::var("CHAOS_SEED").ok().and_then(|v| v.parse().ok()).unwrap_or_else(|| {
        std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos()
            as u64
    });
    let b = ChaosBackend::localstack(2, 30).await;
    let opts = ChaosOptions {
        runs,
        clips: 2,
        p: 0.02,
        seed,
        workers: 4,
        timeout: Duration::from_secs(600),
    };
    run_chaos(b, opts).await.check(runs, 2, seed);
}
