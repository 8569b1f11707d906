//! A run uses its project: the clip count, the seconds and the size from the project file in
//! every video request, its template, length and overlays in the render request; an unknown
//! project is refused before anything is stored; and the run keeps the project's spec, so a
//! project changed after the start does not change the run.

mod common;

use common::Harness;
use myloware::domain::{Gate, ProjectName, RunStatus};
use myloware::engine::StartRequest;

/// A start of `project` with its own clip count.
fn start_request(project: &str) -> StartRequest {
    StartRequest {
        project: ProjectName::parse(project).unwrap(),
        brief: "b".into(),
        clips: None,
        idempotency_key: None,
        request_id: None,
        caller: None,
        owner: None,
    }
}

#[tokio::test]
async fn an_aismr_run_asks_for_the_projects_clips_and_renders_its_template() {
    let h = Harness::new();
    let id = h.start_project("aismr", None).await;
    let run = h.run(&id).await;
    assert_eq!(run.clip_count, 12, "the project's count");
    let spec = run.state.spec.clone().expect("the run keeps its project's spec");
    assert_eq!((spec.seconds, spec.width, spec.height), (8, 1080, 1920));
    assert_eq!((spec.template.as_str(), spec.duration_seconds), ("aismr", 74));
    assert_eq!(spec.version, h.engine.config.projects.get("aismr").unwrap().version);
    h.pump(1).await;
    // The ideator was asked as the project says: its persona, prompt, model and rules.
    let ask = h.fakes.llm.last_ask().expect("ideation ran");
    let guide = ask.guide.expect("the project's guide");
    assert!(guide.persona.contains("ASMR director"), "{guide:?}");
    assert!(guide.system_prompt.contains("zodiac"), "{guide:?}");
    assert_eq!(guide.model.as_deref(), Some("gpt-4o-mini"));
    assert!(guide.rules.iter().any(|r| r.contains("no people")), "{guide:?}");
    assert_eq!((ask.clips, ask.project.as_str()), (12, "aismr"));
    h.approve(&id, Gate::Ideation).await;
    h.pump(1).await;
    let requests = h.fakes.video.requests();
    assert_eq!(requests.len(), 12, "one request per clip");
    assert!(requests.iter().all(|r| r.seconds == 8), "{requests:?}");
    assert!(requests.iter().all(|r| r.aspect_ratio.as_deref() == Some("9:16")), "{requests:?}");
    for job in h.fakes.video.take_outbox() {
        h.fakes.video.send(&job).await.unwrap();
        h.pump(1).await;
    }
    assert_eq!(h.run(&id).await.status, RunStatus::AwaitingRender);
    let renders = h.fakes.render.requests();
    assert_eq!(renders.len(), 1);
    let r = &renders[0];
    assert_eq!((r.template.as_str(), r.width, r.height, r.fps), ("aismr", 1080, 1920, 30));
    assert_eq!(r.duration_frames, 74 * 30, "the composition's 74 s");
    assert_eq!(r.clip_urls.len(), 12);
    let ideas = h.run(&id).await.state.ideas.unwrap();
    assert_eq!(r.texts, ideas.overlays, "the ideation's overlays");
    assert_eq!(r.texts.len(), 12);
    assert_eq!(r.overlay_style, Some(myloware::domain::OverlayStyle::Label), "aismr's labels");

    // Published where and as the project says, each caption within its platform's limit.
    for job in h.fakes.render.take_outbox() {
        h.fakes.render.send(&job).await.unwrap();
        h.pump(1).await;
    }
    h.approve(&id, Gate::Publish).await;
    h.pump(1).await;
    let posts = h.fakes.publish.requests();
    assert_eq!(posts.len(), 1, "one upload POST");
    let post = &posts[0];
    assert_eq!(post.platforms, ["tiktok", "instagram"]);
    for platform in ["tiktok", "instagram"] {
        let caption = &post.captions[platform];
        assert!(caption.starts_with(&ideas.caption), "{caption}");
        for tag in ["#asmr", "#aismr", "#zodiac", "#satisfying"] {
            assert_eq!(caption.split_whitespace().filter(|w| *w == tag).count(), 1, "{caption}");
        }
        assert!(caption.chars().count() <= 2200);
    }
}

#[tokio::test]
async fn an_unknown_project_is_refused_and_nothing_is_stored() {
    let h = Harness::new();
    let e = h.engine.start_run(start_request("nosuch")).await.unwrap_err();
    assert_eq!(e.code(), "unknown_project", "{e}");
    assert!(h.queue.pop().is_none(), "nothing was enqueued");
}

#[tokio::test]
async fn a_project_changed_after_the_start_does_not_change_the_run() {
    let mut h = Harness::new();
    let id = h.start_project("motivational", None).await;
    assert_eq!(h.run(&id).await.clip_count, 2);
    // The operator edits the project: longer clips, another template.
    let text = include_str!("../../projects/motivational.toml")
        .replace("seconds = 8", "seconds = 4")
        .replace("template = \"motivational\"", "template = \"other\"")
        .replace("duration_seconds = 15", "duration_seconds = 8");
    h.engine.config.projects.add("projects/motivational.toml", &text).unwrap();
    h.pump(1).await;
    h.approve(&id, Gate::Ideation).await;
    h.pump(1).await;
    assert!(h.fakes.video.requests().iter().all(|r| r.seconds == 8), "the run's own seconds");
    for job in h.fakes.video.take_outbox() {
        h.fakes.video.send(&job).await.unwrap();
        h.pump(1).await;
    }
    let r = &h.fakes.render.requests()[0];
    assert_eq!((r.template.as_str(), r.duration_frames), ("motivational", 15 * 30));
    // A run started now gets the new one.
    let later = h.start_project("motivational", None).await;
    assert_eq!(h.run(&later).await.state.spec.unwrap().template, "other");
}

#[tokio::test]
async fn a_project_names_its_video_api_and_model() {
    let mut h = Harness::new();
    let base =
        include_str!("../../projects/demo.toml").replace("name = \"demo\"", "name = \"own\"");
    // Its model goes in every video request of its runs.
    let own = base.replace(
        "aspect_ratio = \"9:16\"",
        "aspect_ratio = \"9:16\"\nprovider = \"openai\"\nmodel = \"minimax/minimax-h3\"",
    );
    h.engine.config.projects.add("projects/own.toml", &own).unwrap();
    let id = h.start_project("own", None).await;
    h.pump(1).await;
    h.approve(&id, Gate::Ideation).await;
    h.pump(1).await;
    let requests = h.fakes.video.requests();
    assert_eq!(requests.len(), 3);
    assert!(
        requests.iter().all(|r| r.model.as_ref().is_some_and(|m| m.model == "minimax/minimax-h3")),
        "{requests:?}"
    );
    // A project made for another video API is refused before anything is stored.
    let gemini =
        base.replace("aspect_ratio = \"9:16\"", "aspect_ratio = \"9:16\"\nprovider = \"gemini\"");
    h.engine.config.projects.add("projects/own.toml", &gemini).unwrap();
    let e = h.engine.start_run(start_request("own")).await.unwrap_err();
    assert_eq!(e.code(), "project_needs_another_video_api", "{e}");
    assert!(e.to_string().contains("gemini"), "{e}");
    assert!(h.queue.pop().is_none());
}
