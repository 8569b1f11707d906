//! `myloware eval ideation`: score a project's ideation over a dataset of briefs (deterministic
//! checks, then a judge against the project's rubric), print a table and a summary, write a
//! JSON report, and exit non-zero when the median is below the threshold. Against the fakes by
//! default (no keys: it proves the machinery, not the quality); `--llm real` and `--judge real`
//! (or `--judge-model`) use the OpenAI-compatible API configured by `MYLOWARE_LLM_*`.

use std::collections::HashMap;
use std::path::PathBuf;

use anyhow::{Context, bail};
use async_trait::async_trait;
use clap::{Args, Subcommand, ValueEnum};
use myloware::domain::Ideas;
use myloware::eval::{
    CaseResult, EvalCase, EvalRun, FakeJudge, Judge, Report, parse_dataset, rubric, shipped_dataset,
};
use myloware::fakes::{FakeLlm, FakeSafety};
use myloware::ports::{IdeationAsk, LlmProvider, ProviderError, SafetyProvider};
use myloware::projects::Catalog;
use myloware_providers::clients::{Kind, OpenAiChat, OpenAiJudge, OpenAiModeration, plain_client};
use myloware_runtime::provider_config::chat;

use crate::client::ApiArgs;
use myloware_http::api::{FeedbackList, RunList, RunView};

#[derive(Subcommand)]
pub enum EvalCommand {
    /// Score a project's ideation over a dataset of briefs.
    Ideation(IdeationArgs),
    /// Turn rated runs (from a running API) into dataset lines for `eval ideation --dataset`.
    ExportFeedback(ExportArgs),
}

#[derive(Args)]
pub struct ExportArgs {
    #[command(flatten)]
    api: ApiArgs,
    /// Only runs of this project.
    #[arg(long)]
    project: Option<String>,
    /// Only runs whose average rating is at least this.
    #[arg(long, default_value_t = 1.0)]
    min_rating: f64,
    /// Only runs whose average rating is at most this (e.g. 2 to collect the failures).
    #[arg(long, default_value_t = 5.0)]
    max_rating: f64,
    /// Look at this many runs at most, newest first.
    #[arg(long, default_value_t = 500)]
    limit: usize,
    /// Write the lines here (standard output by default).
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Who answers: the fake (no keys) or the real API.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum Who {
    /// The deterministic fake.
    Fake,
    /// The OpenAI-compatible API in `MYLOWARE_LLM_*` (and `MYLOWARE_MODERATION_*`).
    Real,
}

#[derive(Args)]
pub struct IdeationArgs {
    /// The project.
    #[arg(long)]
    project: String,
    /// A dataset (JSON Lines of {"id", "brief", "clips"?, "tags"?}); the project's shipped
    /// one (projects/eval/<project>.jsonl) by default.
    #[arg(long)]
    dataset: Option<PathBuf>,
    /// The ideator and the safety checker.
    #[arg(long, value_enum, default_value = "fake")]
    llm: Who,
    /// The judge.
    #[arg(long, value_enum, default_value = "fake")]
    judge: Who,
    /// The judge's model (a real judge; default: the project's `eval.judge_model`, else
    /// `MYLOWARE_LLM_MODEL`).
    #[arg(long)]
    judge_model: Option<String>,
    /// The median to reach (default: the project's `eval.threshold`).
    #[arg(long)]
    threshold: Option<f64>,
    /// Where to write the JSON report.
    #[arg(long, default_value = "eval-report.json")]
    report: PathBuf,
    /// Score recorded answers instead of asking an LLM: JSON Lines of {"id", "ideas"}.
    #[arg(long, conflicts_with = "llm")]
    answers: Option<PathBuf>,
}

pub async fn run(command: EvalCommand) -> anyhow::Result<()> {
    match command {
        EvalCommand::Ideation(args) => ideation(args).await,
        EvalCommand::ExportFeedback(args) => export_feedback(args).await,
    }
}

/// Rated runs as dataset lines: `{"id": "run-<id>", "brief", "clips", "tags": ["feedback",
/// "rating-<average>", <comment words>?]}`; the ratings and comments go in a `//` line above.
async fn export_feedback(args: ExportArgs) -> anyhow::Result<()> {
    let api = ApiArgs { json: false, ..args.api.clone() };
    let http = reqwest::Client::new();
    let (mut seen, mut cursor, mut lines) = (0usize, None::<String>, Vec::new());
    'pages: loop {
        let mut q = vec![("limit", "100".to_owned())];
        q.extend(cursor.clone().map(|c| ("cursor", c)));
        let page: RunList =
            serde_json::from_value(api.call(http.get(api.url("/v1/runs")).query(&q)).await?)?;
        for r in &page.runs {
            if seen == args.limit {
                break 'pages;
            }
            seen += 1;
            if args.project.as_deref().is_some_and(|p| r.project != p) {
                continue;
            }
            let id = &r.run_id;
            let fb: FeedbackList = serde_json::from_value(
                api.call(http.get(api.url(&format!("/v1/runs/{id}/feedback")))).await?,
            )?;
            let Some(average) = fb.average else { continue };
            if average < args.min_rating || average > args.max_rating {
                continue;
            }
            let run: RunView = serde_json::from_value(
                api.call(http.get(api.url(&format!("/v1/runs/{id}")))).await?,
            )?;
            let comments: Vec<String> = fb
                .feedback
                .iter()
                .map(|f| format!("{}: {}", f.rating, f.comment.as_deref().unwrap_or("")))
                .collect();
            lines.push(format!("// {id}: {}", comments.join(" | ").replace('\n', " ")));
            let case = EvalCase {
                id: format!("run-{id}"),
                brief: run.brief.clone(),
                clips: Some(run.clip_count),
                tags: vec!["feedback".into(), format!("rating-{average:.1}"), run.project.clone()],
            };
            lines.push(serde_json::to_string(&case)?);
        }
        cursor = page.next_cursor;
        if cursor.is_none() {
            break;
        }
    }
    let text = lines.iter().map(|l| format!("{l}\n")).collect::<String>();
    match &args.out {
        Some(path) => {
            std::fs::write(path, &text).with_context(|| format!("writing {}", path.display()))?
        }
        None => print!("{text}"),
    }
    eprintln!("{} rated run(s) of {seen} looked at", lines.len() / 2);
    Ok(())
}

async fn ideation(args: IdeationArgs) -> anyhow::Result<()> {
    let catalog = Catalog::from_env().map_err(|errors| {
        let lines: Vec<String> = errors.iter().map(ToString::to_string).collect();
        anyhow::anyhow!("invalid project files:\n{}", lines.join("\n"))
    })?;
    let entry = catalog
        .get(&args.project)
        .with_context(|| format!("no project {:?} (see `myloware projects list`)", args.project))?;
    let eval = rubric(entry).map_err(anyhow::Error::msg)?;
    let (dataset, text) = match &args.dataset {
        Some(path) => (
            path.display().to_string(),
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?,
        ),
        None => {
            let (name, text) = shipped_dataset(&args.project).with_context(|| {
                format!("no dataset ships with {:?}: pass --dataset FILE", args.project)
            })?;
            (name, text.to_owned())
        }
    };
    let cases = parse_dataset(&dataset, &text).map_err(anyhow::Error::msg)?;
    let threshold = args.threshold.unwrap_or(eval.threshold.0);
    if !(1.0..=5.0).contains(&threshold) {
        bail!("--threshold must be 1 to 5, not {threshold}");
    }

    let http = plain_client();
    // Every provider the eval uses is named in its output and its report: with recorded
    // answers or the fake ideator, the safety check is the fake keyword checker too.
    let fake_safety = || -> (Box<dyn SafetyProvider>, String) {
        (Box::new(FakeSafety::default()), "fake (keyword checker)".into())
    };
    type Ideator = (Box<dyn LlmProvider>, String, (Box<dyn SafetyProvider>, String));
    let (llm, llm_name, (safety, safety_name)): Ideator = match (&args.answers, args.llm) {
        (Some(path), _) => (
            Box::new(Recorded::read(path, &cases)?),
            format!("recorded ({})", path.display()),
            fake_safety(),
        ),
        (None, Who::Fake) => (Box::new(FakeLlm::default()), "fake".into(), fake_safety()),
        (None, Who::Real) => {
            let s = chat(Kind::Llm, "gpt-4o-mini")?;
            let model = entry.project.ideation.model.as_ref().map_or(&s.model, |m| &m.0);
            let name = format!("{model} at {}", s.base);
            let moderation = chat(Kind::Moderation, "omni-moderation-latest")?;
            let safety_name = format!("{} at {}", moderation.model, moderation.base);
            (
                Box::new(OpenAiChat::new(http.clone(), s)),
                name,
                (Box::new(OpenAiModeration::new(http.clone(), moderation)), safety_name),
            )
        }
    };
    let real_judge = args.judge == Who::Real || args.judge_model.is_some();
    let (judge, judge_name): (Box<dyn Judge>, String) = if real_judge {
        let mut s = chat(Kind::Llm, "gpt-4o-mini")?;
        if let Some(m) = args.judge_model.clone().or(eval.judge_model.as_ref().map(|m| m.0.clone()))
        {
            s.model = m;
        }
        let name = format!("{} at {}", s.model, s.base);
        (Box::new(OpenAiJudge::new(http, s)), name)
    } else {
        (Box::new(FakeJudge), "fake (looks for each criterion's words)".into())
    };

    println!(
        "eval ideation: project {} ({}), {} cases from {dataset}\n  ideator: {llm_name}\n  safety:  {safety_name}\n  judge:   {judge_name}\n",
        args.project,
        entry.version,
        cases.len()
    );
    println!(
        "{:<12} {:>5}  {:<6} {:<6} {:<8} {:<6} {:>5}  reasons",
        "case", "clips", "schema", "counts", "overlays", "safety", "score"
    );
    let report = EvalRun {
        project: entry,
        cases,
        dataset,
        llm: llm.as_ref(),
        llm_name,
        safety: safety.as_ref(),
        safety_name,
        judge: judge.as_ref(),
        judge_name,
        threshold,
    }
    .run(print_row)
    .await
    .map_err(anyhow::Error::msg)?;
    std::fs::write(&args.report, serde_json::to_vec_pretty(&report)?)
        .with_context(|| format!("writing {}", args.report.display()))?;
    summary(&report);
    println!("report: {}", args.report.display());
    if !report.passed {
        bail!("the median {:.1} is below the threshold {:.1}", report.median, report.threshold);
    }
    Ok(())
}

fn print_row(r: &CaseResult) {
    let mark = |c: &Result<(), String>| if c.is_ok() { "ok" } else { "FAIL" };
    let reasons = myloware::domain::bounded(r.reasons.replace('\n', " "), 100);
    println!(
        "{:<12} {:>5}  {:<6} {:<6} {:<8} {:<6} {:>5}  {reasons}",
        myloware::domain::bounded(r.id.as_str(), 12),
        r.clips,
        mark(&r.checks.schema),
        mark(&r.checks.counts),
        mark(&r.checks.overlays),
        mark(&r.checks.safety),
        r.score,
    );
}

fn summary(r: &Report) {
    let passing = r.cases.iter().filter(|c| c.passed(r.threshold)).count();
    println!(
        "\nmedian {:.1} (threshold {:.1}) · pass rate {:.0}% ({passing}/{}) · {}",
        r.median,
        r.threshold,
        r.pass_rate * 100.0,
        r.cases.len(),
        if r.passed { "PASS" } else { "FAIL" }
    );
}

/// Answers recorded earlier (or written by hand), by case id: an ideator that replays them.
struct Recorded {
    by_brief: HashMap<String, Ideas>,
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct RecordedLine {
    id: String,
    ideas: Ideas,
}

impl Recorded {
    fn read(path: &PathBuf, cases: &[EvalCase]) -> anyhow::Result<Self> {
        let text =
            std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
        let mut by_id = HashMap::new();
        for (n, line) in text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty()) {
            let r: RecordedLine = serde_json::from_str(line).with_context(|| {
                format!("{}:{}: not {{\"id\", \"ideas\"}}", path.display(), n + 1)
            })?;
            by_id.insert(r.id, r.ideas);
        }
        let by_brief = cases
            .iter()
            .filter_map(|c| by_id.remove(&c.id).map(|i| (c.brief.clone(), i)))
            .collect();
        Ok(Self { by_brief })
    }
}

#[async_trait]
impl LlmProvider for Recorded {
    async fn ideate(&self, ask: &IdeationAsk) -> Result<Ideas, ProviderError> {
        self.by_brief
            .get(&ask.brief)
            .cloned()
            .ok_or_else(|| ProviderError::Terminal("no recorded answer for this case".into()))
    }
}
