//! Telegram, as the original MyloWare used it: a chat hears about a run (a notification target,
//! `notify.rs`) and, at a gate, decides it with a button.
//!
//! - **Out**: the notice becomes a `sendMessage` (Bot API) to the configured chat: what happened,
//!   the run's console page, and at a gate Approve / Reject buttons whose `callback_data` names
//!   the run, the gate and the decision (`a:<run>:i`, at most 64 bytes as Telegram allows).
//! - **In**: a button press comes back as an `Update` with a `callback_query` on our webhook,
//!   which checks Telegram's `X-Telegram-Bot-Api-Secret-Token` header first (`myloware-http`),
//!   then here: only the configured chat may decide; the decision goes through
//!   [`Engine::decide`] like the API's (audited as `telegram:<user id>`), and the answer is an
//!   `answerCallbackQuery` returned in the webhook's response (no outbound call, no bot token
//!   needed to take a decision).

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Engine, EngineError};
use crate::domain::{Decision, Gate, RunId};

/// A Bot API update (only what a button press carries).
#[derive(Debug, Clone, Deserialize)]
pub struct Update {
    /// The update's id.
    pub update_id: i64,
    /// A button press.
    #[serde(default)]
    pub callback_query: Option<CallbackQuery>,
}

/// A press of an inline keyboard button.
#[derive(Debug, Clone, Deserialize)]
pub struct CallbackQuery {
    /// Its id (answered with `answerCallbackQuery`).
    pub id: String,
    /// Who pressed.
    pub from: User,
    /// The message with the button.
    #[serde(default)]
    pub message: Option<Message>,
    /// The button's `callback_data`.
    #[serde(default)]
    pub data: Option<String>,
}

/// A Telegram user.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    /// The user's id.
    pub id: i64,
    /// Their @username, if any.
    #[serde(default)]
    pub username: Option<String>,
}

/// A message (only its chat).
#[derive(Debug, Clone, Deserialize)]
pub struct Message {
    /// Where it is.
    pub chat: Chat,
}

/// A chat.
#[derive(Debug, Clone, Deserialize)]
pub struct Chat {
    /// Its id.
    pub id: i64,
}

/// The `callback_data` of a decision button.
pub fn callback_data(run: &RunId, gate: Gate, decision: Decision) -> String {
    let d = if decision == Decision::Approve { 'a' } else { 'r' };
    let g = if gate == Gate::Ideation { 'i' } else { 'p' };
    format!("{d}:{run}:{g}")
}

/// What a decision button's `callback_data` asks for.
pub fn parse_callback_data(data: &str) -> Option<(RunId, Gate, Decision)> {
    let mut parts = data.split(':');
    let decision = match parts.next()? {
        "a" => Decision::Approve,
        "r" => Decision::Reject,
        _ => return None,
    };
    let run: RunId = parts.next()?.parse().ok()?;
    let gate = match parts.next()? {
        "i" => Gate::Ideation,
        "p" => Gate::Publish,
        _ => return None,
    };
    parts.next().is_none().then_some((run, gate, decision))
}

/// The `sendMessage` body for the notice whose payload is `payload` (`Notice::payload`): the
/// event in a sentence, the console link, and at a gate the decision buttons. `chat_id` is a
/// number or an `@channel`.
pub fn send_message(chat_id: &str, payload: &str) -> String {
    let v: Value = serde_json::from_str(payload).unwrap_or_default();
    let d = &v["data"];
    let run = d["run_id"].as_str().unwrap_or_default();
    let short: String = run.chars().take(8).collect();
    let project = d["project"].as_str().unwrap_or_default();
    let gate = d["gate"].as_str();
    let mut text = match (v["type"].as_str().unwrap_or_default(), gate) {
        ("run.awaiting_approval", Some(g)) => {
            format!("Run {short} ({project}) waits at the {g} gate for your decision.")
        }
        ("run.stalled", _) => {
            format!("Run {short} ({project}) stalled: an operator must resume it.")
        }
        ("run.failed", _) => format!("Run {short} ({project}) failed."),
        ("run.completed", _) => {
            format!("Run {short} ({project}) completed: the video is published.")
        }
        (other, _) => format!("Run {short} ({project}): {other}"),
    };
    if let Some(msg) = d["error"]["message"].as_str() {
        let msg: String = msg.chars().take(500).collect();
        text.push_str(&format!("\n{msg}"));
    }
    let console = d["console_url"].as_str();
    if let Some(url) = console {
        text.push_str(&format!("\n{url}"));
    }
    let mut keyboard: Vec<Vec<Value>> = vec![];
    let gate = match gate {
        Some("ideation") => Some(Gate::Ideation),
        Some("publish") => Some(Gate::Publish),
        _ => None,
    };
    if let (Some(gate), Ok(run)) = (gate, run.parse::<RunId>()) {
        keyboard.push(vec![
            json!({"text": "Approve", "callback_data": callback_data(&run, gate, Decision::Approve)}),
            json!({"text": "Reject", "callback_data": callback_data(&run, gate, Decision::Reject)}),
        ]);
    }
    // Telegram takes only https links in buttons; others stay in the text.
    if let Some(url) = console.filter(|u| u.starts_with("https://")) {
        keyboard.push(vec![json!({"text": "Open in the console", "url": url})]);
    }
    let chat: Value = chat_id.parse::<i64>().map(Value::from).unwrap_or_else(|_| chat_id.into());
    let mut body = json!({ "chat_id": chat, "text": text });
    if !keyboard.is_empty() {
        body["reply_markup"] = json!({ "inline_keyboard": keyboard });
    }
    body.to_string()
}

impl Engine {
    /// Take the decision a button press asks for, if it came from `chat_id` (the configured
    /// chat): the webhook's answer, an `answerCallbackQuery` for the press (`None` for updates
    /// that are not presses).
    pub async fn telegram_update(
        &self,
        update: &Update,
        chat_id: &str,
    ) -> Result<Option<Value>, EngineError> {
        let Some(q) = &update.callback_query else { return Ok(None) };
        let answer = |text: &str| json!({"method": "answerCallbackQuery", "callback_query_id": q.id, "text": text});
        let from_chat = q.message.as_ref().map(|m| m.chat.id.to_string());
        if from_chat.as_deref() != Some(chat_id) {
            tracing::warn!(user = q.from.id, "a Telegram button press from another chat; refused");
            return Ok(Some(answer("Not allowed from this chat.")));
        }
        let Some((run, gate, decision)) = q.data.as_deref().and_then(parse_callback_data) else {
            return Ok(Some(answer("Not a button of ours.")));
        };
        let actor = format!("telegram:{}", q.from.id);
        let done = match decision {
            Decision::Approve => "Approved.",
            Decision::Reject => "Rejected.",
        };
        Ok(Some(match self.decide(&run, gate, decision, None, &actor, None).await {
            Ok(out) if out.replayed => answer("Already decided so."),
            Ok(_) => {
                tracing::info!(run_id = %run, gate = gate.as_str(), decision = decision.as_str(), %actor, "Telegram decision");
                answer(done)
            }
            Err(EngineError::Conflict { .. }) => {
                answer("The run is not waiting at that gate any more.")
            }
            Err(EngineError::NotFound(_)) => answer("No such run."),
            Err(e) => return Err(e),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn callback_data_round_trips_within_telegrams_64_bytes() {
        let run = RunId::new();
        for gate in [Gate::Ideation, Gate::Publish] {
            for decision in [Decision::Approve, Decision::Reject] {
                let data = callback_data(&run, gate, decision);
                assert!(data.len() <= 64, "{data}");
                assert_eq!(parse_callback_data(&data), Some((run, gate, decision)));
            }
        }
        for bad in
            ["", "x:1:i", "a:not-a-run:i", &format!("a:{run}:x"), &format!("a:{run}:i:extra")]
        {
            assert_eq!(parse_callback_data(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_gate_notice_becomes_a_message_with_buttons() {
        let run = RunId::new();
        let payload = json!({
            "type": "run.awaiting_approval",
            "data": {"run_id": run, "project": "aismr", "gate": "publish",
                     "console_url": format!("https://c.example.com/console/runs/{run}")},
        });
        let body: Value =
            serde_json::from_str(&send_message("-100123", &payload.to_string())).unwrap();
        assert_eq!(body["chat_id"], -100123);
        assert!(body["text"].as_str().unwrap().contains("publish gate"));
        let rows = body["reply_markup"]["inline_keyboard"].as_array().unwrap();
        assert_eq!(
            rows[0][0]["callback_data"],
            callback_data(&run, Gate::Publish, Decision::Approve)
        );
        assert_eq!(rows[0][1]["text"], "Reject");
        assert!(rows[1][0]["url"].as_str().unwrap().starts_with("https://"));
        // A local console link stays in the text (Telegram refuses http buttons); no gate, no
        // decision buttons.
        let done = json!({"type": "run.completed", "data": {"run_id": run, "project": "aismr",
            "console_url": "http://127.0.0.1:8080/console/runs/x"}});
        let body: Value = serde_json::from_str(&send_message("@ops", &done.to_string())).unwrap();
        assert_eq!(body["chat_id"], "@ops");
        assert!(body.get("reply_markup").is_none());
        assert!(body["text"].as_str().unwrap().contains("http://127.0.0.1:8080"));
    }
}
