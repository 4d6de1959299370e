//! Throughput of the spaCy-compatible English word tokenizer over the 4,563 reference documents
//! (`../shared/reference/datatrove-filters/docs.jsonl.gz`, skipped when absent).
//!
//! `cargo bench -p thresher-text --bench tokenize`
#![allow(missing_docs)] // criterion's macros generate undocumented items

use std::io::BufRead;
use std::path::PathBuf;

use criterion::{black_box, criterion_group, criterion_main, Criterion, Throughput};
use thresher_text::{for_each_word, tokenizer_for};

fn load_docs() -> Option<Vec<String>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/datatrove-filters/docs.jsonl.gz");
    let file = std::fs::File::open(&path).ok()?;
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(file));
    let mut docs = Vec::new();
    for line in reader.lines() {
        let v: serde_json::Value = serde_json::from_str(&line.ok()?).ok()?;
        docs.push(v["text"].as_str()?.to_string());
    }
    Some(docs)
}

fn bench(c: &mut Criterion) {
    let Some(docs) = load_docs() else {
        eprintln!("skipping: ../shared/reference/datatrove-filters/docs.jsonl.gz absent");
        return;
    };
    let bytes: usize = docs.iter().map(String::len).sum();
    let mut g = c.benchmark_group("spacy_en");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(10);
    let Some(tok) = tokenizer_for("en") else {
        return;
    };
    g.bench_function("tokenize_spans_into", |b| {
        let mut spans = Vec::new();
        b.iter(|| {
            let mut n = 0;
            for d in &docs {
                spans.clear();
                tok.tokenize_spans_into(d, &mut spans);
                n += spans.len();
            }
            black_box(n)
        });
    });
    g.bench_function("for_each_word", |b| {
        b.iter(|| {
            let mut n = 0usize;
            for d in &docs {
                for_each_word(d, |w| n += w.len());
            }
            black_box(n)
        });
    });
    g.bench_function("split_into_words", |b| {
        b.iter(|| {
            let mut n = 0;
            for d in &docs {
                n += thresher_text::split_into_words(d).len();
            }
            black_box(n)
        });
    });
    g.finish();
}

criterion_group! {
    name = benches;
    config = Criterion::default();
    targets = bench
}
criterion_main!(benches);
