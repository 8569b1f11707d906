//! `myloware runs watch ID`: follow a run through its event stream (`GET /v1/runs/{id}/events`)
//! until it ends. Each event is printed as a line; on a terminal, progress bars show the step
//! and the clips that arrived of N. Exits 0 when the run completed, 1 when it ended otherwise.

use anyhow::{Context, bail};
use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::Value;

use crate::client::{ApiArgs, s};

/// One SSE block's event name and data.
fn parse_block(block: &str) -> (String, Value) {
    let (mut name, mut data) = (String::from("message"), String::new());
    for line in block.lines() {
        if let Some(v) = line.strip_prefix("event:") {
            name = v.trim().to_owned();
        } else if let Some(v) = line.strip_prefix("data:") {
            data.push_str(v.trim_start());
        }
    }
    (name, serde_json::from_str(&data).unwrap_or(Value::Null))
}

pub async fn watch(api: &ApiArgs, id: &str) -> anyhow::Result<()> {
    let mut resp = reqwest::Client::new()
        .get(api.url(&format!("/v1/runs/{id}/events")))
        .header("x-api-key", &api.api_key)
        .header("accept", "text/event-stream")
        .send()
        .await
        .with_context(|| format!("calling {}", api.api_url))?;
    if !resp.status().is_success() {
        let status = resp.status();
        let body: Value = resp.json().await.unwrap_or(Value::Null);
        bail!("{status}: {} ({})", s(&body, "error"), s(&body, "detail"));
    }
    let bars = MultiProgress::new();
    let step = bars.add(ProgressBar::new_spinner());
    step.set_style(ProgressStyle::with_template("{spinner} {msg}").expect("template"));
    step.enable_steady_tick(std::time::Duration::from_millis(120));
    let mut clips: Option<ProgressBar> = None;
    let mut buf = String::new();
    let mut last_status = Value::Null;
    let say = |line: String| bars.suspend(|| println!("{line}"));
    while let Some(chunk) = resp.chunk().await.context("reading the event stream")? {
        buf.push_str(&String::from_utf8_lossy(&chunk));
        while let Some(end) = buf.find("\n\n") {
            let block: String = buf.drain(..end + 2).collect();
            let (name, data) = parse_block(&block);
            match name.as_str() {
                "checkpoint" => {
                    let line = format!(
                        "v{:<3} {:<20} {}",
                        data["version"],
                        s(&data, "step"),
                        s(&data, "status")
                    );
                    step.set_message(format!("{} · {}", s(&data, "step"), s(&data, "status")));
                    say(line);
                    last_status = data["status"].clone();
                }
                "clips" => {
                    let (arrived, of) =
                        (data["arrived"].as_u64().unwrap_or(0), data["of"].as_u64().unwrap_or(0));
                    let bar = clips.get_or_insert_with(|| {
                        let b = bars.add(ProgressBar::new(of));
                        b.set_style(
                            ProgressStyle::with_template("clips {bar:30} {pos}/{len}")
                                .expect("template"),
                        );
                        b
                    });
                    bar.set_position(arrived);
                    say(format!("clips {arrived}/{of}"));
                }
                "gate" => say(format!(
                    "waiting at the {} gate: myloware runs approve {id} --gate {}",
                    s(&data, "gate"),
                    s(&data, "gate")
                )),
                "error" => say(format!("(the stream says: {})", s(&data, "error"))),
                "end" => {
                    step.finish_and_clear();
                    if let Some(b) = &clips {
                        b.finish_and_clear();
                    }
                    let status = s(&data, "status").to_owned();
                    println!("final: {status}");
                    if status != "completed" {
                        let why = &data["error"];
                        bail!("run {id} ended {status}: {} {}", s(why, "code"), s(why, "message"));
                    }
                    return Ok(());
                }
                _ => {}
            }
        }
    }
    step.finish_and_clear();
    bail!("the event stream closed before the run ended (last status {last_status})")
}

#[cfg(test)]
mod tests {
    use super::parse_block;

    #[test]
    fn blocks_parse_into_name_and_data() {
        let (name, data) = parse_block("event: clips\ndata: {\"arrived\":1,\"of\":3}");
        assert_eq!((name.as_str(), data["of"].as_u64()), ("clips", Some(3)));
        let (name, data) = parse_block(": keep-alive");
        assert_eq!((name.as_str(), data), ("message", serde_json::Value::Null));
    }
}
