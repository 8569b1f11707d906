//! Eval datasets: JSON Lines of `{"id", "brief", "clips"?, "tags"?}`, one case per line
//! (blank lines and lines starting with `//` are skipped). Each shipped project has one,
//! compiled in (`projects/eval/<name>.jsonl`).

use serde::{Deserialize, Serialize};

/// One case.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EvalCase {
    /// A stable id.
    pub id: String,
    /// The brief the ideator gets.
    pub brief: String,
    /// Clips to ask for (the project's count when absent).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub clips: Option<u32>,
    /// Free labels.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
}

const SHIPPED: [(&str, &str); 3] = [
    ("aismr", include_str!("../../../projects/eval/aismr.jsonl")),
    ("motivational", include_str!("../../../projects/eval/motivational.jsonl")),
    ("demo", include_str!("../../../projects/eval/demo.jsonl")),
];

/// The dataset shipped for `project`, with the name it goes by.
pub fn shipped_dataset(project: &str) -> Option<(String, &'static str)> {
    SHIPPED
        .iter()
        .find(|(name, _)| *name == project)
        .map(|(name, text)| (format!("projects/eval/{name}.jsonl"), *text))
}

/// The cases in `text` (from `file`); an error names the line.
pub fn parse_dataset(file: &str, text: &str) -> Result<Vec<EvalCase>, String> {
    let mut cases: Vec<EvalCase> = Vec::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with("//") {
            continue;
        }
        let case: EvalCase =
            serde_json::from_str(line).map_err(|e| format!("{file}:{}: {e}", n + 1))?;
        if case.brief.trim().is_empty() {
            return Err(format!("{file}:{}: the brief is empty", n + 1));
        }
        if case.clips.is_some_and(|c| !(1..=12).contains(&c)) {
            return Err(format!("{file}:{}: clips must be 1 to 12", n + 1));
        }
        if cases.iter().any(|c| c.id == case.id) {
            return Err(format!("{file}:{}: id {:?} is used twice", n + 1, case.id));
        }
        cases.push(case);
    }
    if cases.is_empty() {
        return Err(format!("{file}: no cases"));
    }
    Ok(cases)
}
