//! The deterministic checks of one answer: the project's schema, the counts, the overlay
//! lengths and the safety verdict (the project's blocked terms, then the safety checker).

use serde::Serialize;

use crate::domain::{Ideas, MAX_OVERLAY_CHARS};
use crate::engine::ideas::{blocked_term, texts_of};
use crate::ports::{IdeationAsk, SafetyProvider, SafetyVerdict};
use crate::projects::ideas_schema::validate_ideas;

/// Each check: `ok`, or what is wrong (in the report: `{"ok": true}` or
/// `{"ok": false, "why": …}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checks {
    /// The project's JSON Schema (and every bound a run keeps).
    #[serde(serialize_with = "outcome")]
    pub schema: Result<(), String>,
    /// One prompt per clip, and one overlay per clip where there are overlays.
    #[serde(serialize_with = "outcome")]
    pub counts: Result<(), String>,
    /// Each overlay within the project's length.
    #[serde(serialize_with = "outcome")]
    pub overlays: Result<(), String>,
    /// Blocked terms and the safety checker.
    #[serde(serialize_with = "outcome")]
    pub safety: Result<(), String>,
}

fn outcome<S: serde::Serializer>(r: &Result<(), String>, s: S) -> Result<S::Ok, S::Error> {
    match r {
        Ok(()) => serde_json::json!({ "ok": true }).serialize(s),
        Err(why) => serde_json::json!({ "ok": false, "why": why }).serialize(s),
    }
}

impl Checks {
    /// Checks of an answer that never came.
    pub fn not_run(why: &str) -> Self {
        let no = || Err(format!("no answer ({why})"));
        Self { schema: no(), counts: no(), overlays: no(), safety: no() }
    }

    /// The first failed check, named.
    pub fn first_failure(&self) -> Option<String> {
        [
            ("schema", &self.schema),
            ("counts", &self.counts),
            ("overlays", &self.overlays),
            ("safety", &self.safety),
        ]
        .into_iter()
        .find_map(|(name, r)| r.as_ref().err().map(|e| format!("{name}: {e}")))
    }
}

/// Check `ideas`, the answer to `ask`.
pub async fn check_answer(ask: &IdeationAsk, ideas: &Ideas, safety: &dyn SafetyProvider) -> Checks {
    let guide = ask.guide.as_ref();
    let schema = guide.and_then(|g| g.schema.as_ref());
    let value = serde_json::to_value(ideas).unwrap_or_default();
    let clips = ask.clips as usize;
    let counts = if ideas.prompts.len() != clips {
        Err(format!("{} prompts for {clips} clips", ideas.prompts.len()))
    } else if !ideas.overlays.is_empty() && ideas.overlays.len() != clips {
        Err(format!("{} overlays for {clips} clips", ideas.overlays.len()))
    } else {
        Ok(())
    };
    let limit = schema
        .and_then(|s| s.pointer("/properties/overlays/items/maxLength"))
        .and_then(serde_json::Value::as_u64)
        .map_or(MAX_OVERLAY_CHARS, |n| n as usize);
    let overlays = match ideas.overlays.iter().position(|o| o.chars().count() > limit) {
        Some(i) => Err(format!(
            "overlay {} has {} characters (at most {limit})",
            i + 1,
            ideas.overlays[i].chars().count()
        )),
        None => Ok(()),
    };
    Checks {
        schema: validate_ideas(schema, &value, ask.clips).map(|_| ()),
        counts,
        overlays,
        safety: safe(ideas, guide.map(|g| g.blocked_terms.as_slice()).unwrap_or(&[]), safety).await,
    }
}

async fn safe(
    ideas: &Ideas,
    blocked: &[String],
    safety: &dyn SafetyProvider,
) -> Result<(), String> {
    let texts = texts_of(ideas);
    if let Some(why) = blocked_term(&texts, blocked) {
        return Err(why);
    }
    for text in &texts {
        match safety.check(text).await {
            Ok(SafetyVerdict::Safe) => {}
            Ok(SafetyVerdict::Blocked(why)) => return Err(why),
            Err(e) => return Err(format!("the safety checker failed (blocked): {e}")),
        }
    }
    Ok(())
}
