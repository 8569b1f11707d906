//! The judge: scores an answer against the project's rubric, 1 to 5 with reasons. An LLM judge
//! reads the criteria's descriptions (`myloware-providers`' `OpenAiJudge`); the fake judge here
//! reads them deterministically — a criterion is met when one of its `look_for` words is in
//! the answer — so CI proves the machinery without judging quality.

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

use crate::domain::Ideas;
use crate::engine::ideas::{contains_term, texts_of};
use crate::ports::{IdeationAsk, ProviderError};
use crate::projects::Eval;

/// What the judge is asked.
pub struct JudgeAsk<'a> {
    /// The rubric.
    pub eval: &'a Eval,
    /// The ideation ask (brief, clips, the project's guide).
    pub ask: &'a IdeationAsk,
    /// The answer.
    pub ideas: &'a Ideas,
}

/// The judge's verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verdict {
    /// 1 (poor) to 5 (excellent).
    pub score: u8,
    /// Why, criterion by criterion.
    pub reasons: String,
}

/// A judge.
#[async_trait]
pub trait Judge: Send + Sync {
    /// Score one answer.
    async fn judge(&self, ask: &JudgeAsk<'_>) -> Result<Verdict, ProviderError>;
}

/// The deterministic judge: 1 + 4 × the share of criteria met, rounded.
#[derive(Debug, Default)]
pub struct FakeJudge;

#[async_trait]
impl Judge for FakeJudge {
    async fn judge(&self, ask: &JudgeAsk<'_>) -> Result<Verdict, ProviderError> {
        let text = texts_of(ask.ideas).join("\n").to_lowercase();
        let (mut met, mut missed) = (Vec::new(), Vec::new());
        for c in &ask.eval.criteria {
            let found = c.look_for.iter().any(|w| contains_term(&text, &w.0.to_lowercase()));
            if found { met.push(c.name.0.as_str()) } else { missed.push(c.name.0.as_str()) }
        }
        let total = ask.eval.criteria.len().max(1) as f64;
        let score = (1.0 + 4.0 * met.len() as f64 / total).round() as u8;
        let list = |v: &[&str]| if v.is_empty() { "none".to_owned() } else { v.join(", ") };
        Ok(Verdict { score, reasons: format!("met: {}; missed: {}", list(&met), list(&missed)) })
    }
}
