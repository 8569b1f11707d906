//! Vetting ideas, the LLM's or a reviewer's edit alike, before anything is paid for them: the
//! project's schema and the run's clip count, the project's blocked terms, then the safety
//! checker on every text (verdicts cached per run, failing closed).

use serde_json::Value;

use super::safety::SafetyOutcome;
use super::{Engine, EngineError};
use crate::domain::{Ideas, RunRecord};
use crate::projects::ideas_schema::validate_ideas;

/// Why ideas cannot be used.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum IdeasProblem {
    /// They break the schema or a bound (where, and how).
    Invalid(String),
    /// A blocked term or the safety checker refused them.
    Blocked(String),
    /// The safety checker could not answer (fail closed: not usable for now).
    Unavailable(String),
}

impl Engine {
    /// `answer` as ideas for `run`, or what is wrong with it.
    pub async fn vet_ideas(
        &self,
        run: &RunRecord,
        answer: &Value,
    ) -> Result<Result<Ideas, IdeasProblem>, EngineError> {
        let guide = run.state.spec.as_ref().and_then(|s| s.ideation.as_ref());
        let schema = guide.and_then(|g| g.schema.as_ref());
        let ideas = match validate_ideas(schema, answer, run.clip_count) {
            Ok(ideas) => ideas,
            Err(why) => return Ok(Err(IdeasProblem::Invalid(why))),
        };
        let texts = texts_of(&ideas);
        let terms = guide.map(|g| g.blocked_terms.as_slice()).unwrap_or_default();
        if let Some(why) = blocked_term(&texts, terms) {
            return Ok(Err(IdeasProblem::Blocked(why)));
        }
        for text in &texts {
            match self.check_safety(Some(&run.run_id), text).await? {
                SafetyOutcome::Safe => {}
                SafetyOutcome::Blocked(why) => return Ok(Err(IdeasProblem::Blocked(why))),
                SafetyOutcome::Unavailable(why) => {
                    return Ok(Err(IdeasProblem::Unavailable(why)));
                }
            }
        }
        Ok(Ok(ideas))
    }
}

/// The texts checked: title and caption together, each prompt, the overlays together.
pub(crate) fn texts_of(ideas: &Ideas) -> Vec<String> {
    let mut texts = vec![format!("{}\n{}", ideas.title, ideas.caption)];
    texts.extend(ideas.prompts.iter().cloned());
    if !ideas.overlays.is_empty() {
        texts.push(ideas.overlays.join("\n"));
    }
    texts
}

/// The first of the project's blocked `terms` found in `texts`, said as a reason.
pub(crate) fn blocked_term(texts: &[String], terms: &[String]) -> Option<String> {
    texts.iter().find_map(|text| {
        let lower = text.to_lowercase();
        terms.iter().find(|t| contains_term(&lower, t)).map(|term| {
            format!(
                "the project blocks {term:?} (found in {:?})",
                crate::domain::bounded(text.as_str(), 80)
            )
        })
    })
}

/// Whether `text` (lower case) holds `term` as whole words.
pub(crate) fn contains_term(text: &str, term: &str) -> bool {
    let is_word = |c: char| c.is_alphanumeric() || c == '_';
    text.match_indices(term).any(|(at, _)| {
        let before = text[..at].chars().next_back();
        let after = text[at + term.len()..].chars().next();
        !before.is_some_and(is_word) && !after.is_some_and(is_word)
    })
}

#[cfg(test)]
mod tests {
    use super::contains_term;

    #[test]
    fn terms_match_whole_words_only() {
        assert!(contains_term("a face in the glass", "face"));
        assert!(contains_term("face.", "face"));
        assert!(contains_term("a red logo here", "red logo"));
        assert!(!contains_term("the surface glows", "face"));
        assert!(!contains_term("faces", "face"));
    }
}
