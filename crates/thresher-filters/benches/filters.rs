//! Kernel benchmarks: each filter alone, and the FineWeb chain, over the parity documents
//! (../shared/reference/datatrove-filters/docs.jsonl.gz), in bytes of text per second.
//! Skipped (with a message) when the shared data is absent.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use thresher_core::{Document, Outcome, Step, StepConfig, StepCx};
use thresher_filters::{
    C4BadWordsConfig, C4QualityConfig, FineWebQualityConfig, GopherQualityConfig,
    GopherRepetitionConfig,
};

fn load_texts() -> Option<Vec<String>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/datatrove-filters/docs.jsonl.gz");
    let file = match std::fs::File::open(&path) {
        Ok(f) => f,
        Err(_) => {
            eprintln!("skipping: ../shared/reference/datatrove-filters/docs.jsonl.gz absent");
            return None;
        }
    };
    let reader = BufReader::new(flate2::read::GzDecoder::new(file));
    let mut texts = Vec::new();
    for line in reader.lines() {
        let line = line.ok()?;
        let v: serde_json::Value = serde_json::from_str(&line).ok()?;
        texts.push(v.get("text")?.as_str()?.to_string());
    }
    Some(texts)
}

fn run(steps: &[Box<dyn Step>], texts: &[String], cx: &mut StepCx) -> usize {
    let mut kept = 0;
    'docs: for t in texts {
        let mut doc = Document::new("d", t.clone());
        for s in steps {
            match s.process(doc, cx) {
                Outcome::Keep(d) => doc = d,
                _ => continue 'docs,
            }
        }
        kept += 1;
    }
    kept
}

fn bench(c: &mut Criterion) {
    let Some(texts) = load_texts() else { return };
    let bytes: u64 = texts.iter().map(|t| t.len() as u64).sum();
    let build =
        |cfg: Result<Box<dyn Step>, thresher_core::Error>| cfg.expect("default config builds");
    let fineweb_c4 = C4QualityConfig {
        filter_no_terminal_punct: false,
        ..Default::default()
    };
    let cases: Vec<(&str, Vec<Box<dyn Step>>)> = vec![
        (
            "gopher_repetition",
            vec![build(GopherRepetitionConfig::default().build())],
        ),
        (
            "gopher_quality",
            vec![build(GopherQualityConfig::default().build())],
        ),
        (
            "c4_quality",
            vec![build(C4QualityConfig::default().build())],
        ),
        (
            "c4_badwords",
            vec![build(C4BadWordsConfig::default().build())],
        ),
        (
            "fineweb_quality",
            vec![build(FineWebQualityConfig::default().build())],
        ),
        (
            "fineweb_chain",
            vec![
                build(GopherRepetitionConfig::default().build()),
                build(GopherQualityConfig::default().build()),
                build(fineweb_c4.build()),
                build(FineWebQualityConfig::default().build()),
            ],
        ),
    ];
    let mut group = c.benchmark_group("filters");
    group.throughput(Throughput::Bytes(bytes));
    group.sample_size(10);
    let mut cx = StepCx::default();
    for (name, steps) in &cases {
        group.bench_function(*name, |b| b.iter(|| run(steps, &texts, &mut cx)));
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
