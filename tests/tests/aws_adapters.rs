//! What the shared conformance suite cannot check from the ports alone: an S3 presigned URL
//! really serves the object to a plain HTTP client.

use std::time::Duration;

use myloware_tests::{App, Options};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_presigned_s3_url_serves_the_object() {
    let app = App::spawn(Options { no_driver: true, ..Default::default() }).await;
    let blobs = &app.engine.blobs;
    blobs.put("runs/x/clips/00.mp4", b"abc".to_vec(), "video/mp4").await.unwrap();
    let url = blobs.presign_get("runs/x/clips/00.mp4", Duration::from_secs(60)).await.unwrap();
    let resp = reqwest::get(&url).await.unwrap();
    assert_eq!(resp.status(), 200);
    assert_eq!(resp.bytes().await.unwrap().as_ref(), b"abc");
}
