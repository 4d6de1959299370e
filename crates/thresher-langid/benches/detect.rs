//! Throughput of language identification on one core: the sentences, word pairs and single
//! words of `../shared/corpus/lingua-langid` (skipped when absent; the bundled 32-sentence
//! fixture is measured instead).
//!
//! `cargo bench -p thresher-langid --bench detect` (criterion reports elements = texts per second)
#![allow(missing_docs)] // criterion's macros generate undocumented items

use std::io::BufRead;
use std::path::PathBuf;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use thresher_langid::{detect, LanguageSet};

fn load(kind: &str) -> Option<Vec<String>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join(format!(
        "../../../shared/corpus/lingua-langid/{kind}.tsv.gz"
    ));
    let file = std::fs::File::open(&path).ok()?;
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
    let mut texts = Vec::new();
    for line in reader.split(b'\n') {
        let line = String::from_utf8(line.ok()?).ok()?;
        texts.push(line.split_once('\t')?.1.to_string());
    }
    Some(texts)
}

fn fixture() -> Vec<String> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/langid/mixed.jsonl");
    std::fs::read_to_string(path)
        .unwrap_or_default()
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| v["text"].as_str().map(str::to_string))
        .collect()
}

fn bench(c: &mut Criterion) {
    let mut g = c.benchmark_group("langid");
    g.sample_size(10);
    let kinds: Vec<(String, Vec<String>)> = match load("sentences") {
        Some(s) => ["word-pairs", "single-words"]
            .iter()
            .filter_map(|k| load(k).map(|t| (k.to_string(), t)))
            .chain(std::iter::once(("sentences".to_string(), s)))
            .collect(),
        None => {
            eprintln!("skipping lingua-langid (../shared absent): measuring fixtures/langid");
            vec![("fixture-sentences".to_string(), fixture())]
        }
    };
    for (kind, texts) in &kinds {
        g.throughput(Throughput::Elements(texts.len() as u64));
        g.bench_function(kind.as_str(), |b| {
            b.iter(|| {
                for t in texts {
                    black_box(detect(black_box(t), LanguageSet::all()));
                }
            })
        });
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
