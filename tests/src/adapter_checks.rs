//! What a whole run through each video adapter must show, on any backend.

use myloware::domain::{Provider, RunStatus};

use crate::adapter_run::whole_run;
use crate::backend::Backend;

const CLIPS: u32 = 2;

/// Each adapter completes a run against its fake: every clip paid once (counted in requests),
/// callbacks where the adapter has them and polling where it does not, no key sent to a file
/// host, the clips and the final video stored.
pub async fn every_adapter_completes_a_run(b: &Backend) {
    for adapter in Provider::VIDEO {
        let r = whole_run(b, adapter, CLIPS, |_| {}).await;
        let s = &r.stats;
        assert_eq!(r.run.status, RunStatus::Completed, "{adapter}: {:?}", r.run.error);
        assert_eq!(r.run.state.video_provider, Some(adapter), "{adapter}");
        assert_eq!(
            (s.video_submissions, s.video_jobs),
            (CLIPS as u64, CLIPS as u64),
            "{adapter}: {s:?}"
        );
        assert_eq!((s.render_submissions, s.publish_posts), (1, 1), "{adapter}: {s:?}");
        assert_eq!(s.credential_leaks, 0, "{adapter}: a key went to a file host");
        match adapter {
            // Finished by the callbacks alone: the first status poll is ten minutes away.
            Provider::OpenAi | Provider::Replicate => {
                assert_eq!(s.video_status_polls, 0, "{adapter}: {s:?}")
            }
            // No callback at all: the status API is how it ends.
            _ => assert!(s.video_status_polls >= CLIPS as u64, "{adapter}: {s:?}"),
        }
        for clip in &r.run.state.clips {
            let key = clip.blob_key.as_ref().expect("every clip stored");
            let bytes = r.engine.blobs.get(key).await.expect("the clip");
            assert_eq!(&bytes[4..8], b"ftyp", "{adapter}: clip {} is an MP4", clip.index);
        }
        assert!(r.run.state.published_url.is_some(), "{adapter}: published");
    }
}

/// A job the provider no longer knows ends the wait at the first answer: the run fails with
/// the provider's words, each job asked about once, nothing paid again.
pub async fn a_forgotten_job_fails_the_run_at_once(b: &Backend) {
    let r = whole_run(b, Provider::Gemini, CLIPS, |c| c.forget_video_jobs = true).await;
    let s = &r.stats;
    assert_eq!(r.run.status, RunStatus::Failed, "{:?}", r.run);
    let why = r.run.error.as_ref().expect("a reason").message.clone();
    assert!(why.contains("no longer knows") && why.contains("not found"), "{why}");
    assert_eq!(s.video_jobs, CLIPS as u64, "no job was started again: {s:?}");
    assert_eq!(s.video_status_polls, CLIPS as u64, "each job asked about once: {s:?}");
}
