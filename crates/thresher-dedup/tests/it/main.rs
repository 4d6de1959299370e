//! Integration tests of thresher-dedup against real data in `../shared` (skipped when absent).

mod sentence;

use std::path::PathBuf;

use thresher_core::{Document, Outcome, Step, StepCx};
use thresher_dedup::{Keeper, MinhashDedupConfig};

fn shared(rel: &str) -> Option<PathBuf> {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared")
        .join(rel);
    if p.exists() {
        Some(p)
    } else {
        assert!(
            std::env::var_os("THRESHER_REQUIRE_SHARED").is_none(),
            "../shared is required (THRESHER_REQUIRE_SHARED is set) but absent"
        );
        println!("skipping: ../shared/{rel} absent");
        None
    }
}

/// The Clough & Stevenson answers in file-name order (the order the datatrove run read them).
fn clough_docs(dir: &PathBuf) -> Vec<Document> {
    let mut names: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".txt"))
        .collect();
    names.sort();
    names
        .iter()
        .enumerate()
        .map(|(i, n)| {
            let text = std::fs::read_to_string(dir.join(n)).unwrap();
            let mut d = Document::new(n.trim_end_matches(".txt"), text);
            d.seq = i as u64;
            d
        })
        .collect()
}

fn removed(cfg: MinhashDedupConfig, docs: &[Document]) -> Vec<String> {
    let step = cfg.build_step().unwrap();
    docs.iter().for_each(|d| step.observe(d).unwrap());
    step.end_observe().unwrap();
    docs.iter()
        .filter_map(|d| match step.process(d.clone(), &mut StepCx::default()) {
            Outcome::Reject { doc, .. } => Some(doc.id),
            _ => None,
        })
        .collect()
}

/// datatrove 0.10.1's MinHash (default config, `../shared/tools/datatrove_minhash.py` on the
/// same 60 files in file-name order) removed these two documents.
#[test]
fn clough_stevenson_same_removals_as_datatrove() {
    let Some(dir) = shared("corpus/clough-stevenson-plagiarism") else {
        return;
    };
    let docs = clough_docs(&dir);
    assert_eq!(docs.len(), 60);
    for keeper in [Keeper::LowestSeq, Keeper::Datatrove] {
        let cfg = MinhashDedupConfig {
            keeper,
            ..MinhashDedupConfig::default()
        };
        assert_eq!(
            removed(cfg, &docs),
            ["g4pC_taska", "orig_taska"],
            "{keeper:?}"
        );
    }
    // The high-recall profile finds more of the graded copies, never an independent answer.
    let hr = removed(
        MinhashDedupConfig {
            profile: "high_recall".into(),
            ..MinhashDedupConfig::default()
        },
        &docs,
    );
    assert!(hr.len() > 2);
    let info = std::fs::read_to_string(dir.join("file_information.csv")).unwrap();
    for id in &hr {
        let cat = info
            .lines()
            .find(|l| l.starts_with(&format!("{id}.txt,")))
            .map_or("orig", |l| l.rsplit(',').next().unwrap_or(""));
        assert_ne!(cat, "non", "{id} was written independently");
    }
}
