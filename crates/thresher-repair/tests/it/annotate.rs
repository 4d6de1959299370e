//! Annotate-only mode of the repair steps (`mode = "annotate"`): the seed page keeps its text,
//! and each step records exactly what it would have removed.

use thresher_core::{Document, Outcome, Step, StepCx};

use crate::common::{default_recipe_repair_steps, repo_root};

fn seed() -> String {
    std::fs::read_to_string(repo_root().join("fixtures/seed/000_6cac269eaefacd00.txt"))
        .expect("seed")
}

fn run(step: &dyn Step, doc: Document) -> Document {
    match step.process(doc, &mut StepCx::default()) {
        Outcome::Keep(d) => d,
        o => panic!("{o:?}"),
    }
}

#[test]
fn repair_steps_record_without_removing() {
    let input = seed();
    let editing = default_recipe_repair_steps();
    let mut annotating = default_recipe_repair_steps();
    for s in &mut annotating {
        if s.name() != "flag_encoding_damage" {
            assert!(s.set_annotate_only(), "{} cannot annotate", s.name());
        }
    }
    // collapse_repeats: the same spans as when editing, the text untouched.
    let edited = run(editing[0].as_ref(), Document::new("seed", input.clone()));
    let noted = run(annotating[0].as_ref(), Document::new("seed", input.clone()));
    assert_eq!(editing[0].name(), "collapse_repeats");
    assert_eq!(noted.text(), input);
    let (e, n) = (
        &edited.annotations["collapse_repeats"],
        &noted.annotations["collapse_repeats"],
    );
    assert_eq!(e["spans"], n["spans"]);
    assert_eq!(n["mode"], "annotate");
    assert_eq!(noted.metadata["collapse_repeats"]["lines_removed"], 9);
    // In annotate mode the body spans point into the unedited text: the first copy.
    let body = n["body_spans"][0].as_array().unwrap();
    let start = body[0].as_u64().unwrap() as usize;
    assert!(input[start..].starts_with("Historically"), "{body:?}");

    // strip_chrome on the collapsed text: the same spans, with a score for each removed line.
    let edited2 = run(editing[1].as_ref(), edited.clone());
    let noted2 = run(annotating[1].as_ref(), edited.clone());
    assert_eq!(editing[1].name(), "strip_chrome");
    assert_eq!(noted2.text(), edited.text());
    let (e, n) = (
        &edited2.annotations["strip_chrome"],
        &noted2.annotations["strip_chrome"],
    );
    assert_eq!(e["spans"], n["spans"]);
    assert_eq!(noted2.metadata["strip_chrome"]["lines_removed"], 10);
    // With the classifier, each line it would remove has its score.
    let mut model = thresher_repair::StripChrome::new(thresher_repair::StripChromeConfig {
        method: thresher_repair::ChromeMethod::Model,
        ..Default::default()
    })
    .unwrap();
    assert!(model.set_annotate_only());
    let noted3 = run(&model, edited.clone());
    assert_eq!(noted3.text(), edited.text());
    let n = &noted3.annotations["strip_chrome"];
    let removed = noted3.metadata["strip_chrome"]["lines_removed"]
        .as_u64()
        .unwrap();
    assert!(removed >= 5, "{n}");
    let scores = n["scores"].as_array().expect("scores");
    assert_eq!(scores.len() as u64, removed);
    for s in scores {
        let s = s.as_array().unwrap();
        let (a, b) = (
            s[0].as_u64().unwrap() as usize,
            s[1].as_u64().unwrap() as usize,
        );
        // A removed line is a whole line of the card, never the byline or the article.
        let line = &edited.text()[a..b];
        assert!(
            line.ends_with('\n') && !line.starts_with("by ") && line.len() < 40,
            "{line:?}"
        );
        assert!(s[2].as_f64().unwrap() > 0.0, "{s:?}");
    }

    // The whole chain in annotate mode: nothing is removed, everything is recorded.
    let mut doc = Document::new("seed", input.clone());
    for s in &annotating {
        doc = run(s.as_ref(), doc);
    }
    assert_eq!(doc.text(), input);
    assert!(
        doc.metadata["strip_chrome"]["lines_removed"]
            .as_u64()
            .unwrap()
            > 0
    );
}
