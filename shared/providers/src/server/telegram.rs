//! A Telegram Bot API as the console's notifications use it: `sendMessage` (checked as Telegram
//! checks it: the bot token in the path, a chat, 1–4096 characters of text, inline buttons
//! with 1–64 bytes of `callback_data`) and `answerCallbackQuery`; and a person pressing a
//! button: `POST /_fake/telegram/press` sends the `Update` Telegram would to the configured
//! webhook, with the configured `X-Telegram-Bot-Api-Secret-Token` (or another, to test the
//! refusal), and performs the `answerCallbackQuery` the webhook answers with, as Telegram does.
//! Docs: <https://core.telegram.org/bots/api> (sendMessage, answerCallbackQuery, setWebhook,
//! "Making requests when getting updates").

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use super::{AppState, Shared};

/// A message the bot sent.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct SentMessage {
    /// Its id.
    pub message_id: i64,
    /// The chat (as sent: a number or `@channel`).
    pub chat_id: Value,
    /// The text.
    pub text: String,
    /// Its inline keyboard, if any.
    #[serde(default)]
    pub reply_markup: Option<Value>,
}

/// A press of a button of a sent message.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct Press {
    /// The message (the last one sent when absent).
    pub message_id: Option<i64>,
    /// The button's text (`Approve`, `Reject`).
    pub button: String,
    /// The chat it is pressed in (the message's chat when absent).
    pub chat_id: Option<i64>,
    /// Who presses.
    pub user_id: i64,
    /// The secret token to send (the configured one when absent).
    pub secret_token: Option<String>,
}

/// What the webhook answered a press with.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Pressed {
    /// Its HTTP status.
    pub status: u16,
    /// Its body (an `answerCallbackQuery` for a press it took).
    pub answer: Value,
}

fn refused(status: StatusCode, description: &str) -> Response {
    let body = json!({"ok": false, "error_code": status.as_u16(), "description": description});
    (status, Json(body)).into_response()
}

/// The path's `bot<token>` is the configured bot's.
fn authorised(s: &Shared, bot: &str) -> bool {
    let cfg = s.config.read().unwrap();
    cfg.telegram_token.as_deref().is_some_and(|t| bot.strip_prefix("bot") == Some(t))
}

/// `POST /bot<token>/sendMessage`.
pub(super) async fn send_message(
    State(s): State<AppState>,
    Path(bot): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    if !authorised(&s, &bot) {
        return refused(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    s.bump(|st| st.telegram_requests += 1);
    let chat_ok = body["chat_id"].is_i64()
        || body["chat_id"].as_str().is_some_and(|c| c.starts_with('@') && c.len() > 1);
    if !chat_ok {
        return refused(StatusCode::BAD_REQUEST, "Bad Request: chat not found");
    }
    let text = body["text"].as_str().unwrap_or_default();
    if text.is_empty() || text.chars().count() > 4096 {
        return refused(StatusCode::BAD_REQUEST, "Bad Request: message text is empty or too long");
    }
    let rows = body["reply_markup"]["inline_keyboard"].as_array().cloned().unwrap_or_default();
    for button in rows.iter().filter_map(Value::as_array).flatten() {
        let data = button["callback_data"].as_str();
        let url = button["url"].as_str();
        let ok = match (data, url) {
            (Some(d), None) => (1..=64).contains(&d.len()),
            (None, Some(u)) => u.starts_with("https://"),
            _ => false,
        };
        if !ok || button["text"].as_str().is_none_or(str::is_empty) {
            return refused(StatusCode::BAD_REQUEST, "Bad Request: BUTTON_DATA_INVALID");
        }
    }
    let message = {
        let mut jobs = s.jobs.lock().unwrap();
        let message = SentMessage {
            message_id: jobs.telegram_messages.len() as i64 + 1,
            chat_id: body["chat_id"].clone(),
            text: text.to_owned(),
            reply_markup: body.get("reply_markup").cloned(),
        };
        jobs.telegram_messages.push(message.clone());
        message
    };
    s.persist();
    let chat = json!({"id": message.chat_id, "type": "group"});
    let result = json!({"message_id": message.message_id, "chat": chat, "date": Shared::now_ms() / 1000, "text": message.text});
    Json(json!({"ok": true, "result": result})).into_response()
}

/// `POST /bot<token>/answerCallbackQuery`.
pub(super) async fn answer_callback_query(
    State(s): State<AppState>,
    Path(bot): Path<String>,
    Json(body): Json<Value>,
) -> Response {
    if !authorised(&s, &bot) {
        return refused(StatusCode::UNAUTHORIZED, "Unauthorized");
    }
    record_answer(&s, body);
    Json(json!({"ok": true, "result": true})).into_response()
}

fn record_answer(s: &Shared, body: Value) {
    s.jobs.lock().unwrap().telegram_answers.push(body);
    s.persist();
}

/// `POST /_fake/telegram/press`: a person presses a button.
pub(super) async fn press(State(s): State<AppState>, Json(p): Json<Press>) -> Response {
    match press_button(&s, &p).await {
        Ok(pressed) => Json(pressed).into_response(),
        Err(why) => (StatusCode::BAD_REQUEST, why).into_response(),
    }
}

pub(super) async fn press_button(s: &Shared, p: &Press) -> Result<Pressed, String> {
    let (url, secret) = {
        let cfg = s.config.read().unwrap();
        (cfg.telegram_webhook_url.clone(), cfg.telegram_secret_token.clone())
    };
    let url = url.ok_or("no telegram_webhook_url is configured")?;
    let message = {
        let jobs = s.jobs.lock().unwrap();
        let found = match p.message_id {
            Some(id) => jobs.telegram_messages.iter().find(|m| m.message_id == id),
            None => jobs.telegram_messages.last(),
        };
        found.cloned().ok_or("no such message")?
    };
    let rows = message.reply_markup.as_ref().map(|m| m["inline_keyboard"].clone());
    let data = rows
        .as_ref()
        .and_then(Value::as_array)
        .into_iter()
        .flatten()
        .filter_map(Value::as_array)
        .flatten()
        .find(|b| b["text"] == p.button.as_str())
        .and_then(|b| b["callback_data"].as_str())
        .ok_or_else(|| format!("no {:?} button on message {}", p.button, message.message_id))?
        .to_owned();
    let chat = p.chat_id.map(Value::from).unwrap_or(message.chat_id.clone());
    let update_id = s.jobs.lock().unwrap().telegram_answers.len() as i64 + 1000;
    let update = json!({
        "update_id": update_id,
        "callback_query": {
            "id": format!("cbq{update_id}"),
            "from": {"id": p.user_id, "is_bot": false, "first_name": "Reviewer"},
            "message": {"message_id": message.message_id, "date": Shared::now_ms() / 1000,
                        "chat": {"id": chat, "type": "group"}},
            "chat_instance": "fake-chat-instance",
            "data": data,
        }
    });
    let token = p.secret_token.clone().or(secret).unwrap_or_default();
    let resp = s
        .http
        .post(&url)
        .header("x-telegram-bot-api-secret-token", token)
        .json(&update)
        .send()
        .await
        .map_err(|e| format!("the webhook did not answer: {e}"))?;
    let status = resp.status().as_u16();
    let answer: Value = resp.json().await.unwrap_or_default();
    // Telegram performs a method given in the webhook's answer.
    if status == 200 && answer["method"] == "answerCallbackQuery" {
        record_answer(s, answer.clone());
    }
    Ok(Pressed { status, answer })
}
