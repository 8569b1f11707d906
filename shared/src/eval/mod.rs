//! Ideation eval: a project's ideation run over a dataset of briefs, each answer scored by
//! deterministic checks (the project's schema, the counts, the overlay lengths, the safety
//! verdict) and by a judge against the project's rubric (1 to 5 with reasons). The summary is
//! the median and the pass rate against the project's threshold; a case that fails a check
//! scores 1 without asking the judge (as the original MyloWare's eval scored a failed case).

mod checks;
mod dataset;
mod judge;

use serde::Serialize;

pub use checks::{Checks, check_answer};
pub use dataset::{EvalCase, parse_dataset, shipped_dataset};
pub use judge::{FakeJudge, Judge, JudgeAsk, Verdict};

use crate::domain::{Ideas, ProjectName};
use crate::ports::{IdeationAsk, LlmProvider, SafetyProvider};
use crate::projects::{Entry, Eval};

/// One case's outcome.
#[derive(Debug, Clone, Serialize)]
pub struct CaseResult {
    /// The case's id.
    pub id: String,
    /// Its brief.
    pub brief: String,
    /// Clips asked for.
    pub clips: u32,
    /// The answer, when the LLM gave one.
    pub ideas: Option<Ideas>,
    /// The deterministic checks.
    pub checks: Checks,
    /// The score, 1 to 5.
    pub score: u8,
    /// Why.
    pub reasons: String,
}

impl CaseResult {
    /// Whether the case reached `threshold`.
    pub fn passed(&self, threshold: f64) -> bool {
        f64::from(self.score) >= threshold
    }
}

/// A whole eval.
#[derive(Debug, Clone, Serialize)]
pub struct Report {
    /// The project.
    pub project: String,
    /// Its file's version.
    pub project_version: String,
    /// Where the cases came from.
    pub dataset: String,
    /// The ideator (`fake`, or the real model).
    pub llm: String,
    /// The safety checker (`fake (keyword checker)`, or the real moderation model).
    pub safety: String,
    /// The judge (`fake`, or the real model).
    pub judge: String,
    /// The pass mark for the median.
    pub threshold: f64,
    /// Each case.
    pub cases: Vec<CaseResult>,
    /// The median score.
    pub median: f64,
    /// The share of cases at or above the threshold.
    pub pass_rate: f64,
    /// Whether the median reached the threshold.
    pub passed: bool,
}

/// What an eval runs with.
pub struct EvalRun<'a> {
    /// The project under test.
    pub project: &'a Entry,
    /// Its cases.
    pub cases: Vec<EvalCase>,
    /// Where they came from.
    pub dataset: String,
    /// The ideator.
    pub llm: &'a dyn LlmProvider,
    /// Its name for the report.
    pub llm_name: String,
    /// The safety checker.
    pub safety: &'a dyn SafetyProvider,
    /// Its name for the report.
    pub safety_name: String,
    /// The judge.
    pub judge: &'a dyn Judge,
    /// Its name for the report.
    pub judge_name: String,
    /// The pass mark (the project's unless overridden).
    pub threshold: f64,
}

/// The project's rubric, or why it cannot be evaluated.
pub fn rubric(project: &Entry) -> Result<&Eval, String> {
    project.project.eval.as_ref().ok_or_else(|| {
        format!(
            "project {:?} ({}) has no [eval] section: add its rubric to evaluate it",
            project.project.name.as_str(),
            project.file
        )
    })
}

impl EvalRun<'_> {
    /// Run every case (one after another: a real LLM's rate limits are the bound) and sum up;
    /// `progress` is told after each case.
    pub async fn run(self, mut progress: impl FnMut(&CaseResult)) -> Result<Report, String> {
        let eval = rubric(self.project)?;
        let spec = self.project.project.spec(&self.project.version);
        let name =
            ProjectName::parse(self.project.project.name.as_str()).map_err(|e| e.to_string())?;
        let mut results = Vec::with_capacity(self.cases.len());
        for case in &self.cases {
            let clips = case.clips.unwrap_or(self.project.project.video.clips.0);
            let ask = IdeationAsk {
                project: name.clone(),
                brief: case.brief.clone(),
                clips,
                guide: spec.ideation.clone(),
            };
            let result = match self.llm.ideate(&ask).await {
                Err(e) => CaseResult {
                    id: case.id.clone(),
                    brief: case.brief.clone(),
                    clips,
                    ideas: None,
                    checks: Checks::not_run(&e.to_string()),
                    score: 1,
                    reasons: format!("no answer: {e}"),
                },
                Ok(ideas) => {
                    let checks = check_answer(&ask, &ideas, self.safety).await;
                    let (score, reasons) = match checks.first_failure() {
                        Some(why) => (1, format!("failed a check: {why}")),
                        None => {
                            let judged = JudgeAsk { eval, ask: &ask, ideas: &ideas };
                            match self.judge.judge(&judged).await {
                                Ok(v) => (v.score, v.reasons),
                                Err(e) => (1, format!("the judge failed: {e}")),
                            }
                        }
                    };
                    CaseResult {
                        id: case.id.clone(),
                        brief: case.brief.clone(),
                        clips,
                        ideas: Some(ideas),
                        checks,
                        score,
                        reasons,
                    }
                }
            };
            progress(&result);
            results.push(result);
        }
        let scores: Vec<u8> = results.iter().map(|r| r.score).collect();
        let median = median(&scores);
        let passing = results.iter().filter(|r| r.passed(self.threshold)).count();
        let pass_rate =
            if results.is_empty() { 0.0 } else { passing as f64 / results.len() as f64 };
        Ok(Report {
            project: name.as_str().to_owned(),
            project_version: self.project.version.clone(),
            dataset: self.dataset,
            llm: self.llm_name,
            safety: self.safety_name,
            judge: self.judge_name,
            threshold: self.threshold,
            cases: results,
            median,
            pass_rate,
            passed: !scores.is_empty() && median >= self.threshold,
        })
    }
}

/// The median of `scores` (0 for none).
pub fn median(scores: &[u8]) -> f64 {
    let mut s: Vec<f64> = scores.iter().map(|s| f64::from(*s)).collect();
    s.sort_by(f64::total_cmp);
    match s.len() {
        0 => 0.0,
        n if n % 2 == 1 => s[n / 2],
        n => (s[n / 2 - 1] + s[n / 2]) / 2.0,
    }
}

#[cfg(test)]
mod tests;
