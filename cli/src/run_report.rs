//! `myloware runs get ID` for a person: what a reviewer needs to decide — status and step, what
//! the run waits for, the ideas (title, each clip's prompt and overlay, caption), the clips and
//! the final video, the decisions so far and the last error — and the command that decides.
//!
//! The brief and everything the LLM wrote are outside text: control characters (terminal escape
//! sequences among them) are shown escaped, never written to the terminal as they are.

use std::fmt::Write;

use myloware::domain::{Decision, WaitKind};
use myloware_http::api::RunView;

/// `text` safe to print: control characters other than newlines are escaped (`\u{1b}`), so an
/// escape sequence in a brief or an idea cannot drive the reader's terminal.
pub fn shown(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        if c.is_control() && c != '\n' {
            out.extend(c.escape_default());
        } else {
            out.push(c);
        }
    }
    out
}

/// Multi-line text indented under a label.
fn block(out: &mut String, label: &str, text: &str) {
    let pad = " ".repeat(label.chars().count() + 2);
    let text = shown(text);
    let mut lines = text.lines();
    let _ = writeln!(out, "{label}: {}", lines.next().unwrap_or_default());
    for l in lines {
        let _ = writeln!(out, "{pad}{l}");
    }
}

fn waits_for(kind: &WaitKind) -> String {
    match kind {
        WaitKind::Videos => "the video provider's clips".into(),
        WaitKind::Render => "the renderer's final cut".into(),
        WaitKind::Publish => "the publication".into(),
        WaitKind::Gate(g) => format!("a person's decision at the {} gate", g.as_str()),
    }
}

/// The report for `run`.
pub fn render(run: &RunView) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "run {}  (project {})", run.run_id, shown(&run.project));
    let _ = writeln!(
        out,
        "status: {}  step: {}  version {}  created {}  updated {}",
        run.status, run.current_step, run.version, run.created_at, run.updated_at
    );
    block(&mut out, "brief", &run.brief);
    if let Some(w) = &run.open_wait {
        let jobs =
            if w.jobs.is_empty() { String::new() } else { format!(" ({} jobs)", w.jobs.len()) };
        let deadline =
            w.deadline.map(|d| format!(", gives up at {}", d.rfc3339())).unwrap_or_default();
        let _ = writeln!(
            out,
            "waiting for {}{jobs} since {}{deadline}",
            waits_for(&w.kind),
            w.since.rfc3339()
        );
    }

    let a = &run.artifacts;
    out.push('\n');
    match &a.ideas {
        None => out.push_str("ideas: none yet\n"),
        Some(ideas) => {
            block(&mut out, "title", &ideas.title);
            for (i, prompt) in ideas.prompts.iter().enumerate() {
                block(&mut out, &format!("  clip {} prompt", i + 1), prompt);
                if let Some(o) = ideas.overlays.get(i) {
                    block(&mut out, &format!("  clip {} overlay", i + 1), o);
                }
            }
            block(&mut out, "caption", &ideas.caption);
        }
    }

    out.push('\n');
    let stored = a.clips.iter().filter(|c| c.key.is_some()).count();
    let _ = writeln!(out, "clips: {stored} of {} stored", run.clip_count);
    for c in &a.clips {
        let place = c.url.as_deref().or(c.key.as_deref()).unwrap_or("(not yet)");
        let _ = writeln!(out, "  {}  {}  job {}", c.index + 1, shown(place), shown(&c.job_id));
    }
    match &a.final_video {
        Some(f) => {
            let _ = writeln!(out, "final video: {}", shown(&f.url));
        }
        None => out.push_str("final video: not yet\n"),
    }
    if let Some(p) = &a.published_url {
        let _ = writeln!(out, "published: {}", shown(p));
    }

    if !run.decisions.is_empty() {
        out.push_str("\ndecisions:\n");
        for d in &run.decisions {
            let verdict = match d.decision {
                Decision::Approve => "approved",
                Decision::Reject => "rejected",
            };
            let edited = if d.original_ideas.is_some() { "  (ideas edited)" } else { "" };
            let _ = writeln!(out, "  {} {verdict} at {}{edited}", d.gate.as_str(), d.at.rfc3339());
            if let Some(c) = &d.comment {
                block(&mut out, "    comment", c);
            }
        }
    }
    if let Some(e) = &run.error {
        let attempts = e.attempts.map(|n| format!(" after {n} attempts")).unwrap_or_default();
        out.push('\n');
        block(&mut out, &format!("error ({} at {}{attempts})", e.code, e.step), &e.message);
    }

    if let Some(WaitKind::Gate(g)) = run.open_wait.as_ref().map(|w| &w.kind) {
        let _ = write!(
            out,
            "\ndecide: myloware runs approve {id} --gate {g}   or   myloware runs reject {id} --gate {g} --comment WHY\n",
            id = run.run_id,
            g = g.as_str()
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use myloware::domain::{Gate, GateDecision, Ideas, OpenWait, RunError, Step};
    use myloware::time::Timestamp;
    use myloware_http::api::{ArtifactsView, ClipView, FileView};

    fn view() -> RunView {
        RunView {
            run_id: "run-1".into(),
            project: "aismr".into(),
            brief: "calm \u{1b}[2Jocean\nat dawn".into(),
            status: "awaiting_publish_approval".into(),
            current_step: "publish_approval".into(),
            version: 9,
            clip_count: 2,
            open_wait: Some(OpenWait::new(
                WaitKind::Gate(Gate::Publish),
                9,
                None,
                vec![],
                Timestamp(1_000),
                std::time::Duration::from_secs(86_400),
            )),
            artifacts: ArtifactsView {
                ideas: Some(Ideas {
                    title: "Dawn".into(),
                    prompts: vec!["waves roll in".into(), "gulls \u{7}overhead".into()],
                    caption: "a calm morning".into(),
                    overlays: vec!["first".into(), "second".into()],
                }),
                clips: vec![
                    ClipView {
                        index: 0,
                        job_id: "video_a".into(),
                        key: Some("runs/run-1/clips/0.mp4".into()),
                        url: Some("https://blobs.example/0.mp4".into()),
                    },
                    ClipView { index: 1, job_id: "video_b".into(), key: None, url: None },
                ],
                render_job_id: Some("render_1".into()),
                final_video: Some(FileView {
                    key: "runs/run-1/final.mp4".into(),
                    url: "https://blobs.example/final.mp4".into(),
                }),
                published_url: None,
            },
            decisions: vec![GateDecision {
                gate: Gate::Ideation,
                decision: Decision::Approve,
                comment: Some("shorter title".into()),
                at: Timestamp(2_000),
                original_ideas: Some(Ideas {
                    title: "Dawn at sea".into(),
                    prompts: vec![],
                    caption: String::new(),
                    overlays: vec![],
                }),
            }],
            error: Some(RunError {
                code: "provider_error".into(),
                message: "render refused once".into(),
                step: Step::Editing,
                attempts: Some(2),
            }),
            history_length: 9,
            created_at: "2026-12-01T00:00:00Z".into(),
            updated_at: "2026-12-01T00:05:00Z".into(),
        }
    }

    #[test]
    fn a_reviewer_sees_ideas_clips_decisions_error_and_how_to_decide() {
        let r = render(&view());
        for want in [
            "status: awaiting_publish_approval  step: publish_approval",
            "waiting for a person's decision at the publish gate",
            "title: Dawn",
            "  clip 1 prompt: waves roll in",
            "  clip 2 overlay: second",
            "caption: a calm morning",
            "clips: 1 of 2 stored",
            "  1  https://blobs.example/0.mp4  job video_a",
            "  2  (not yet)  job video_b",
            "final video: https://blobs.example/final.mp4",
            "  ideation approved at",
            "(ideas edited)",
            "    comment: shorter title",
            "error (provider_error at editing after 2 attempts): render refused once",
            "myloware runs approve run-1 --gate publish",
        ] {
            assert!(r.contains(want), "missing {want:?} in:\n{r}");
        }
        // A multi-line brief stays readable, indented under its label.
        assert!(r.contains("brief: calm \\u{1b}[2Jocean\n       at dawn\n"), "{r}");
    }

    #[test]
    fn outside_text_cannot_drive_the_terminal() {
        let r = render(&view());
        assert!(!r.contains('\u{1b}') && !r.contains('\u{7}'), "raw control characters in:\n{r}");
        assert!(r.contains("gulls \\u{7}overhead"), "{r}");
        assert_eq!(shown("a\tb\r\nc"), "a\\tb\\r\nc");
    }

    #[test]
    fn a_run_not_yet_ideated_says_so_and_offers_no_decision() {
        let mut v = view();
        v.artifacts.ideas = None;
        v.artifacts.clips.clear();
        v.artifacts.final_video = None;
        v.open_wait = None;
        v.decisions.clear();
        v.error = None;
        let r = render(&v);
        assert!(r.contains("ideas: none yet") && r.contains("final video: not yet"), "{r}");
        assert!(!r.contains("decide:") && !r.contains("error"), "{r}");
    }
}
