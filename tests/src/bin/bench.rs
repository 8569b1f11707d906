//! `cargo run --release -p myloware-tests --bin bench -- [--quick] [--json] [--only NAME[,NAME…]]`
//! (`--w2`: W2 alone):
//! the benchmarks of issue #8 (scenarios in `tests/src/bench/`). LocalStack must be running for
//! the AWS scenarios (`scripts/test-all.sh` starts one; so does `localstack/start.sh`).

use myloware_tests::bench;

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if let Some(i) = args.iter().position(|a| a == "--media-probe") {
        // One media measurement in a process of its own (see bench::media).
        let store = args.get(i + 1).expect("--media-probe disk|s3 BYTES");
        let bytes = args.get(i + 2).and_then(|b| b.parse().ok()).unwrap_or(200_000_000);
        println!("{}", bench::media::probe(store, bytes).await);
        return;
    }
    if args.iter().any(|a| a == "--w2") {
        // W2 alone (100 sequential callbacks after 10 warm-up ones), for working on its latency.
        println!("{}", bench::embedded::callbacks(100, 10).await);
        return;
    }
    if args.iter().any(|a| a == "--w1-once") {
        // One synced W1 rep with no warm-up, for counting fsync calls under strace
        // (scripts/bench-peers.sh); its timing is not a figure.
        let runs = args.iter().position(|a| a == "--runs").and_then(|i| args.get(i + 1));
        let t = bench::embedded::Throughput {
            runs: runs.and_then(|r| r.parse().ok()).unwrap_or(200),
            steps: 10,
            in_flight: 50,
            workers: 8,
            warmup: 0,
            reps: 1,
        };
        println!(
            "{}",
            bench::embedded::throughput(t, myloware_sqlite::Durability::PowerLoss).await
        );
        return;
    }
    let json = args.iter().any(|a| a == "--json");
    let only = args.iter().position(|a| a == "--only").and_then(|i| args.get(i + 1)).cloned();
    const SCENARIOS: [&str; 6] =
        ["embedded", "aws_calls", "cold_start", "media", "render", "latency"];
    if let Some(bad) = only.iter().flat_map(|o| o.split(',')).find(|n| !SCENARIOS.contains(n)) {
        eprintln!("unknown scenario {bad:?} in --only: the scenarios are {}", SCENARIOS.join(", "));
        std::process::exit(2);
    }
    let want = |name: &str| only.as_deref().is_none_or(|o| o.split(',').any(|n| n == name));
    let machine = format!(
        "{} cores, {}",
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        std::env::consts::ARCH
    );
    println!(
        "myloware bench on {machine}{}",
        if cfg!(debug_assertions) { " (debug build: figures are not representative)" } else { "" }
    );
    let quick = args.iter().any(|a| a == "--quick");
    let mut results = Vec::new();
    if want("embedded") {
        // The peer bench's W1 and W2 (../shared/peer-bench): R=200, K=10, 50 in flight, 100
        // warm-up runs, median of 3; 100 sequential callbacks.
        let t = bench::embedded::Throughput {
            runs: if quick { 20 } else { 200 },
            steps: 10,
            in_flight: 50,
            workers: 8,
            warmup: if quick { 5 } else { 100 },
            reps: if quick { 1 } else { 3 },
        };
        results.push(bench::embedded::run(t, if quick { 10 } else { 100 }).await);
    }
    if want("cold_start") {
        // First of the AWS scenarios: the others leave work in this process and in LocalStack
        // (drivers finishing their long polls) that would be timed as the functions' init.
        let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("..");
        let clients = myloware_aws::AwsClients::from_env().await;
        let prefix = format!("cold{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
        let names = myloware_aws::ResourceNames::with_prefix(&prefix);
        let res = myloware_aws::resources::bootstrap(&clients, &names).await.expect("bootstrap");
        let mut env: Vec<(String, String)> =
            res.env().into_iter().map(|(k, v)| (k.to_owned(), v)).collect();
        env.push(("MYLOWARE_API_KEYS".into(), "bench-key".into()));
        env.push(("MYLOWARE_PROVIDERS".into(), "all=fake".into()));
        // Nothing in these first events calls back; the render function needs the address.
        env.push(("MYLOWARE_WEBHOOK_BASE_URL".into(), "http://127.0.0.1:9".into()));
        env.push(("MYLOWARE_OPENAI_WEBHOOK_SECRETS".into(), myloware_tests::OPENAI_SECRET.into()));
        env.push((
            "MYLOWARE_REMOTION_WEBHOOK_SECRETS".into(),
            myloware_tests::REMOTION_SECRET.into(),
        ));
        let (step_run, step_event) = bench::cold_start::one_step_event(&clients, &res).await;
        results.push(bench::cold_start::run(&root, env, step_event).await);
        let store = myloware_aws::DynamoStore::new(clients.dynamodb().clone(), &res.names.table);
        let run =
            myloware::ports::RunStore::get_run(&store, &step_run).await.expect("read the run");
        println!(
            "  the step function's one-step run is now: {}",
            run.map(|r| r.status.as_str().to_owned()).unwrap_or_else(|| "missing".into())
        );
    }
    if want("aws_calls") {
        results.push(bench::aws_calls::run().await);
    }
    if want("media") {
        results.push(bench::media::run(200_000_000).await);
    }
    if want("render") {
        let (clips, secs) = if quick { (3, 2.0) } else { (12, 6.0) };
        results.push(bench::render::run(clips, secs, "veryfast").await);
    }
    if want("latency") {
        results.push(bench::latency::run(if quick { 20 } else { 200 }).await);
    }
    if json {
        for r in results {
            println!("{r}");
        }
    }
}
