//! The review console in a real browser: headless Chromium (Debian's `chromium` and
//! `chromium-driver`, installed by `.ci/run`) driven over WebDriver. `myloware demo` without
//! `--auto-approve` prints its console page and waits; the browser signs in with the demo's key,
//! edits one idea at the ideation gate and approves, waits for the publish gate, checks that the
//! three clips and the final video play, approves, and sees the run completed. Screenshots of
//! the run page at both gates are kept in `artifacts/console/` (CI keeps that folder).

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use fantoccini::{Client, ClientBuilder, Locator};
use myloware_tests::http::{ChildGuard, Demo, free_port};
use serde_json::{Value, json};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";

fn artifacts() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../artifacts/console");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

async fn browser(profile: &std::path::Path) -> (ChildGuard, Client) {
    let port = free_port();
    let driver = Command::new(CHROMEDRIVER)
        .arg(format!("--port={port}"))
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("chromedriver (Debian's chromium-driver; .ci/run installs it)");
    let driver = ChildGuard(driver);
    let caps = json!({
        "goog:chromeOptions": {
            "binary": CHROMIUM,
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--mute-audio",
                "--window-size=1280,1800",
                format!("--user-data-dir={}", profile.display()),
            ]
        }
    });
    let caps: fantoccini::wd::Capabilities = caps.as_object().unwrap().clone();
    let url = format!("http://127.0.0.1:{port}");
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let connector = hyper_util::client::legacy::connect::HttpConnector::new();
        match ClientBuilder::new(connector).capabilities(caps.clone()).connect(&url).await {
            Ok(c) => return (driver, c),
            Err(e) if Instant::now() < until => {
                let _ = e;
                tokio::time::sleep(Duration::from_millis(200)).await;
            }
            Err(e) => panic!("no WebDriver session: {e}"),
        }
    }
}

/// The text of the first element matching `css`, read in one script (the page reloads itself
/// when the run moves on, so an element found in one call may be gone by the next).
async fn text(c: &Client, css: &str) -> Option<String> {
    let script = "const e = document.querySelector(arguments[0]); return e ? e.innerText : null;";
    for _ in 0..50 {
        match c.execute(script, vec![Value::from(css)]).await {
            Ok(Value::String(t)) => return Some(t),
            Ok(_) => return None,
            // The page was being replaced: read the new one.
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
    panic!("{css}: the page never settled");
}

/// Reload the run page until its status is `want` (the page also reloads itself on the run's
/// events; reloading here keeps the test independent of that).
async fn wait_for_status(c: &Client, page: &str, want: &str, within: Duration) {
    let until = Instant::now() + within;
    loop {
        c.goto(page).await.unwrap();
        let Some(status) = text(c, "#status").await else {
            let url = c.current_url().await.unwrap();
            panic!("not a run page: {url}: {}", c.source().await.unwrap_or_default());
        };
        if status == want {
            return;
        }
        assert!(Instant::now() < until, "the run is {status}, not {want}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// Click the button `id` and wait until the page it leads to has loaded (a form's answer).
async fn submit(c: &Client, id: &str) {
    c.execute("window.__before_submit = true;", vec![]).await.unwrap();
    c.find(Locator::Id(id)).await.unwrap().click().await.unwrap();
    let until = Instant::now() + Duration::from_secs(30);
    loop {
        let old = c.execute("return window.__before_submit === true;", vec![]).await;
        let ready = c.execute("return document.readyState;", vec![]).await;
        if matches!((old, ready), (Ok(Value::Bool(false)), Ok(Value::String(r))) if r == "complete")
        {
            return;
        }
        assert!(Instant::now() < until, "the form {id} did not lead anywhere");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The whole page as a PNG in `artifacts/console/name`.
async fn screenshot(c: &Client, name: &str) {
    let height = c.execute("return document.documentElement.scrollHeight;", vec![]).await;
    let height = height.ok().and_then(|h| h.as_u64()).unwrap_or(1800).clamp(600, 6000);
    c.set_window_size(1280, height as u32 + 120).await.unwrap();
    let png = c.screenshot().await.unwrap();
    assert!(png.starts_with(b"\x89PNG"), "a PNG");
    let path = artifacts().join(name);
    std::fs::write(&path, &png).unwrap();
    println!("screenshot {} ({} bytes)", path.display(), png.len());
}

/// Every video on the page loaded far enough to play: `[duration, width, height]` each.
async fn playable_videos(c: &Client) -> Vec<Value> {
    let script = r#"
        const done = arguments[arguments.length - 1];
        const vids = Array.from(document.querySelectorAll('video'));
        Promise.all(vids.map(v => v.readyState >= 2 ? Promise.resolve() : new Promise((ok, bad) => {
            v.addEventListener('loadeddata', () => ok(), { once: true });
            v.addEventListener('error', () => bad('error ' + (v.error && v.error.code) + ' ' + v.currentSrc), { once: true });
            v.preload = 'auto';
            v.load();
        }))).then(() => done(vids.map(v => [v.duration, v.videoWidth, v.videoHeight, v.className])),
                  e => done('failed: ' + e));
    "#;
    let got = c.execute_async(script, vec![]).await.unwrap();
    got.as_array().unwrap_or_else(|| panic!("videos did not load: {got}")).clone()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reviewer_signs_in_edits_an_idea_and_approves_both_gates_in_chromium() {
    let tmp =
        std::env::temp_dir().join(format!("console-browser-{}", uuid::Uuid::new_v4().simple()));
    let data = tmp.join("data");
    let demo = Demo::start(env!("CARGO_BIN_EXE_myloware"), &["--data-dir", data.to_str().unwrap()]);
    let (_driver, c) = browser(&tmp.join("profile")).await;

    // Not signed in: the run page sends us to the sign-in form, and back after it.
    c.goto(&demo.run_page).await.unwrap();
    assert!(c.current_url().await.unwrap().path().ends_with("/console/login"));
    c.find(Locator::Id("api_key")).await.unwrap().send_keys(&demo.key).await.unwrap();
    submit(&c, "sign-in").await;
    wait_for_status(&c, &demo.run_page, "awaiting_ideation_approval", Duration::from_secs(60))
        .await;
    assert!(text(&c, "#decide h2").await.unwrap_or_default().contains("Ideation gate"));
    screenshot(&c, "1-ideation-gate.png").await;

    // Edit the second clip's prompt, then approve.
    let edited = "EDITED in the browser: a lighthouse at dusk, slow pan";
    let prompt = c.find(Locator::Id("prompt_1")).await.unwrap();
    prompt.clear().await.unwrap();
    prompt.send_keys(edited).await.unwrap();
    submit(&c, "approve").await;
    wait_for_status(&c, &demo.run_page, "awaiting_publish_approval", Duration::from_secs(120))
        .await;
    let ideas = text(&c, "ol.ideas").await.unwrap_or_default();
    assert!(ideas.contains(edited), "the edit is what was produced: {ideas}");
    assert_eq!(c.find_all(Locator::Css("video.clip")).await.unwrap().len(), 3, "three clips");
    let videos = playable_videos(&c).await;
    assert_eq!(videos.len(), 4, "three clips and the final video: {videos:?}");
    for v in &videos {
        let (duration, width) = (v[0].as_f64().unwrap_or(0.0), v[1].as_u64().unwrap_or(0));
        assert!(duration > 0.5 && width > 0, "a playable video: {v}");
    }
    screenshot(&c, "2-publish-gate.png").await;

    submit(&c, "approve").await;
    wait_for_status(&c, &demo.run_page, "completed", Duration::from_secs(60)).await;
    let decisions = text(&c, "main").await.unwrap_or_default();
    assert!(decisions.contains("ideation approve (ideas edited)"), "{decisions}");
    screenshot(&c, "3-completed.png").await;
    c.close().await.unwrap();
    let _ = std::fs::remove_dir_all(&tmp);
}
