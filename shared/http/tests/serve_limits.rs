//! `serve` holds up: a client that sends its headers one byte a second is cut off by the header
//! timeout while other requests are answered; at shutdown the listener stops accepting and
//! `serve` returns once the requests in flight are done.

mod common;

use std::time::{Duration, Instant};

use myloware_http::serve::{ServeLimits, serve};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn get_health(addr: std::net::SocketAddr) -> String {
    let mut s = TcpStream::connect(addr).await.unwrap();
    s.write_all(b"GET /health HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n").await.unwrap();
    let mut out = String::new();
    s.read_to_string(&mut out).await.unwrap();
    out
}

#[tokio::test]
async fn a_slow_header_client_is_cut_off_while_others_are_served() {
    let (router, _fakes, _backend) = common::app_with(&["k1"], Default::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let limits = ServeLimits { header_read: Duration::from_secs(2), ..Default::default() };
    let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(serve(listener, router, limits, async {
        let _ = stop_rx.await;
    }));

    // The slow client: one byte a second of a request it never finishes.
    let slow = tokio::spawn(async move {
        let started = Instant::now();
        let mut s = TcpStream::connect(addr).await.unwrap();
        for b in b"GET /health HTTP/1.1\r\nhost: slow\r\nx-pad: aaaaaaaaaaaaaaaaaaaa".iter() {
            if s.write_all(&[*b]).await.is_err() {
                return started.elapsed();
            }
            // A closed connection shows as a read of 0 bytes (or an error).
            let mut buf = [0u8; 256];
            match tokio::time::timeout(Duration::from_secs(1), s.read(&mut buf)).await {
                Ok(Ok(0)) | Ok(Err(_)) => return started.elapsed(),
                Ok(Ok(_)) => return started.elapsed(), // an answer (408): cut off too
                Err(_) => {}                           // still open: one more byte
            }
        }
        panic!("the slow client was never cut off ({:?})", started.elapsed());
    });
    // Meanwhile, others are answered.
    let mut answered = 0;
    for _ in 0..10 {
        let out = get_health(addr).await;
        assert!(out.starts_with("HTTP/1.1 200"), "{out}");
        answered += 1;
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let cut_after = slow.await.unwrap();
    println!(
        "slow client cut off after {cut_after:?}; {answered} other requests answered meanwhile"
    );
    assert!(
        cut_after < Duration::from_secs(10),
        "cut off by the 2 s header timeout: {cut_after:?}"
    );

    // Shutdown: serve returns, and the port no longer accepts.
    stop_tx.send(()).unwrap();
    tokio::time::timeout(Duration::from_secs(5), server).await.expect("serve returned").unwrap();
    assert!(TcpStream::connect(addr).await.is_err(), "no new connections after shutdown");
}

#[test]
fn limits_come_from_the_environment_or_refuse_a_bad_value() {
    let vars = |pairs: &'static [(&'static str, &'static str)]| {
        move |name: &str| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| (*v).to_owned())
    };
    assert_eq!(ServeLimits::from_vars(vars(&[])).unwrap(), ServeLimits::default());
    let set = ServeLimits::from_vars(vars(&[
        ("MYLOWARE_HTTP_HEADER_TIMEOUT_SECS", "3"),
        ("MYLOWARE_HTTP_CONCURRENCY", "16"),
    ]))
    .unwrap();
    assert_eq!((set.header_read, set.concurrency), (Duration::from_secs(3), 16));
    let bad = ServeLimits::from_vars(vars(&[("MYLOWARE_HTTP_REQUEST_TIMEOUT_SECS", "0")]));
    assert!(bad.unwrap_err().starts_with("MYLOWARE_HTTP_REQUEST_TIMEOUT_SECS"));
}
