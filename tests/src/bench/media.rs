//! Scenario 5: media streaming. A 200 MB clip goes from an HTTP server through the providers'
//! media fetcher (the path every clip and render output takes) into the blob store — a file on
//! the embedded backend, an S3 multipart upload on LocalStack — and the process's peak resident
//! memory is printed beside the target (< 64 MB). Each store is measured in a process of its
//! own (`bench --media-probe disk|s3 BYTES`), so nothing else the bench did counts.

use std::time::Instant;

use myloware::ports::BlobStore;
use myloware_providers::clients::{MediaFetcher, MediaPolicy};
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// The target: peak RSS while storing a 200 MB clip.
pub const TARGET_PEAK_MB: f64 = 64.0;

/// The process's peak resident memory so far (`VmHWM`), in MB.
pub fn peak_rss_mb() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap_or_default();
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<f64>().ok())
        .map(|kb| kb / 1024.0)
        .unwrap_or(f64::NAN)
}

/// A server answering every request with `bytes` bytes of a pattern, written 1 MiB at a time.
async fn serve(bytes: u64) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(async move {
        while let Ok((mut sock, _)) = listener.accept().await {
            tokio::spawn(async move {
                let mut head = vec![0; 4096];
                let _ = sock.read(&mut head).await;
                let header = format!(
                    "HTTP/1.1 200 OK\r\ncontent-type: video/mp4\r\ncontent-length: {bytes}\r\n\
                     connection: close\r\n\r\n"
                );
                sock.write_all(header.as_bytes()).await?;
                let chunk: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
                let mut left = bytes;
                while left > 0 {
                    let n = left.min(chunk.len() as u64) as usize;
                    sock.write_all(&chunk[..n]).await?;
                    left -= n as u64;
                }
                sock.shutdown().await
            });
        }
    });
    port
}

/// One measurement in this process: `bytes` from a local server into `store`.
pub async fn probe(store: &str, bytes: u64) -> Value {
    let port = serve(bytes).await;
    let base = format!("http://127.0.0.1:{port}");
    let fetcher = MediaFetcher::new(MediaPolicy::new(&base, &[]));
    let (blobs, cleanup): (Box<dyn BlobStore>, Box<dyn FnOnce()>) = match store {
        "disk" => {
            let dir = std::env::temp_dir().join(format!("myloware-media-{}", uuid::Uuid::new_v4()));
            let d = dir.clone();
            let blobs = myloware_sqlite::DiskBlobs::new(dir).expect("blob dir");
            (Box::new(blobs), Box::new(move || drop(std::fs::remove_dir_all(d))))
        }
        "s3" => {
            let clients = myloware_aws::AwsClients::from_env().await;
            let prefix = format!("media{}", &uuid::Uuid::new_v4().simple().to_string()[..8]);
            let names = myloware_aws::ResourceNames::with_prefix(&prefix);
            let res =
                myloware_aws::resources::bootstrap(&clients, &names).await.expect("bootstrap");
            let s3 = myloware_aws::S3Blobs::new(clients.s3().clone(), &res.names.bucket);
            (Box::new(s3), Box::new(|| ()))
        }
        other => panic!("unknown store {other}"),
    };
    let before = peak_rss_mb();
    let started = Instant::now();
    let media = fetcher.fetch(&format!("{base}/clip.mp4"), None, "bench clip").await.unwrap();
    let stored = blobs
        .put_stream(
            "runs/bench/clips/00.mp4",
            media,
            "video/mp4",
            myloware::workflow::MAX_MEDIA_BYTES,
        )
        .await
        .unwrap();
    let secs = started.elapsed().as_secs_f64();
    cleanup();
    json!({
        "store": store, "bytes": stored, "secs": secs,
        "peak_rss_mb_before": before, "peak_rss_mb": peak_rss_mb(),
    })
}

/// Run the probe in a fresh process of this binary for each store and print the table.
pub async fn run(bytes: u64) -> Value {
    let exe = std::env::current_exe().expect("the bench binary");
    let mut rows = Vec::new();
    let mut out = Vec::new();
    for store in ["disk", "s3"] {
        let o = tokio::process::Command::new(&exe)
            .args(["--media-probe", store, &bytes.to_string()])
            .output()
            .await
            .expect("the probe process");
        let text = String::from_utf8_lossy(&o.stdout);
        let Some(v) = text.lines().rev().find_map(|l| serde_json::from_str::<Value>(l).ok()) else {
            panic!("{store} probe: {text}\n{}", String::from_utf8_lossy(&o.stderr));
        };
        let peak = v["peak_rss_mb"].as_f64().unwrap_or(f64::NAN);
        let mb = v["bytes"].as_f64().unwrap_or(0.0) / 1e6;
        rows.push(vec![
            store.to_owned(),
            format!("{mb:.0}"),
            format!("{:.1}", mb / v["secs"].as_f64().unwrap_or(f64::NAN)),
            format!("{peak:.1}"),
            format!("{TARGET_PEAK_MB:.0}"),
            if peak < TARGET_PEAK_MB { "met" } else { "MISSED" }.to_owned(),
        ]);
        out.push(v);
    }
    super::table(
        "media streaming: one clip from HTTP into the blob store, peak RSS of its own process",
        &["store", "MB", "MB/s", "peak RSS MB", "target", ""],
        &rows,
    );
    json!({ "scenario": "media", "results": out })
}
