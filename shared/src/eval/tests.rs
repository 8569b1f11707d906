use std::sync::Arc;

use super::*;
use crate::fakes::{FakeLlm, FakeSafety};
use crate::projects::Catalog;

async fn eval_with(llm: &dyn LlmProvider, cases: Vec<EvalCase>) -> Report {
    let catalog = Catalog::shipped();
    let entry = catalog.get("aismr").unwrap();
    let safety = FakeSafety::default();
    EvalRun {
        project: entry,
        cases,
        dataset: "test".into(),
        llm,
        llm_name: "fake".into(),
        safety: &safety,
        safety_name: "fake".into(),
        judge: &FakeJudge,
        judge_name: "fake".into(),
        threshold: 3.5,
    }
    .run(|_| {})
    .await
    .unwrap()
}

#[test]
fn every_shipped_dataset_reads_and_aismr_has_fifteen_cases() {
    for name in ["aismr", "motivational", "demo"] {
        let (file, text) = shipped_dataset(name).unwrap();
        let cases = parse_dataset(&file, text).unwrap();
        assert!(!cases.is_empty());
        assert!(
            Catalog::shipped().get(name).unwrap().project.eval.is_some(),
            "{name} has a rubric"
        );
    }
    let (file, text) = shipped_dataset("aismr").unwrap();
    assert!(parse_dataset(&file, text).unwrap().len() >= 15);
}

#[test]
fn a_bad_dataset_line_is_named() {
    let e =
        parse_dataset("d.jsonl", "{\"id\":\"a\",\"brief\":\"b\"}\n{\"id\":\"a\",\"brief\":\"c\"}")
            .unwrap_err();
    assert!(e.starts_with("d.jsonl:2:") && e.contains("twice"), "{e}");
    let e = parse_dataset("d.jsonl", "{\"brief\":\"b\"}").unwrap_err();
    assert!(e.starts_with("d.jsonl:1:") && e.contains("id"), "{e}");
}

#[test]
fn the_median_of_odd_and_even_counts() {
    assert_eq!(median(&[1, 5, 3]), 3.0);
    assert_eq!(median(&[1, 2, 4, 5]), 3.0);
    assert_eq!(median(&[]), 0.0);
}

#[tokio::test]
async fn checks_fail_the_case_before_the_judge_and_score_it_one() {
    let case = |id: &str, brief: &str| EvalCase {
        id: id.into(),
        brief: brief.into(),
        clips: Some(3),
        tags: vec![],
    };
    // A good answer: all four criteria's words are in it.
    let good =
        eval_with(&FakeLlm::default(), vec![case("g", "Aries glass horn, slow macro, tapping")])
            .await;
    assert_eq!(good.cases[0].score, 5, "{:?}", good.cases[0]);
    assert!(good.passed);
    // A rambling LLM breaks the schema: score 1, the judge never asked, the eval fails.
    let rambling = Arc::new(FakeLlm::default());
    rambling.ramble(5000);
    let bad = eval_with(rambling.as_ref(), vec![case("b", "Aries glass horn, slow macro")]).await;
    let r = &bad.cases[0];
    assert_eq!(r.score, 1);
    assert!(r.checks.schema.is_err() && r.reasons.starts_with("failed a check: schema"), "{r:?}");
    assert!(!bad.passed && bad.pass_rate == 0.0);
    // A blocked term fails the safety check.
    let unsafe_ = eval_with(&FakeLlm::default(), vec![case("s", "a glass lion with a face")]).await;
    assert!(unsafe_.cases[0].checks.safety.as_ref().unwrap_err().contains("face"));
}
