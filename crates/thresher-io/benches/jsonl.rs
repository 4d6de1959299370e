//! Kernel benchmark of the JSONL reader's parse of one line (the hot path of every run): the
//! parity documents (../shared/reference/datatrove-filters/docs.jsonl.gz, real web text, the
//! texts the whole-run benchmark is built from) as `{"id", "text", "metadata"}` lines in one
//! shared buffer, parsed with `parse_jsonl_line_shared`, in bytes of input per second.
//! Skipped (with a message) when the shared data is absent.
//!
//! A second group follows each line to `exact_dedup`'s hash: the parse and then the step's
//! `prepare` (two passes over the text, plus the reader's UTF-8 check), against the parse with
//! the step's `TextScan` (one pass).

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use thresher_core::{InputBuf, SourcePos, Step, StepCx, TextScan};
use thresher_dedup::{ExactDedup, ExactDedupConfig};
use thresher_io::{parse_jsonl_line_scanned, parse_jsonl_line_shared, ReadOptions, Record};

/// The lines, one buffer, and where each line is in it.
fn load() -> Option<(Arc<InputBuf>, Vec<std::ops::Range<usize>>)> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/datatrove-filters/docs.jsonl.gz");
    let Ok(file) = std::fs::File::open(&path) else {
        eprintln!("skipping: ../shared/reference/datatrove-filters/docs.jsonl.gz absent");
        return None;
    };
    let reader = BufReader::new(flate2::read::GzDecoder::new(file));
    let (mut buf, mut ranges) = (Vec::new(), Vec::new());
    for (i, line) in reader.lines().enumerate() {
        let v: serde_json::Value = serde_json::from_str(&line.ok()?).ok()?;
        let out = serde_json::json!({
            "id": format!("doc-{i}"),
            "text": v.get("text")?,
            "metadata": v.get("metadata").cloned().unwrap_or_default(),
        });
        let start = buf.len();
        serde_json::to_writer(&mut buf, &out).ok()?;
        ranges.push(start..buf.len());
        buf.push(b'\n');
    }
    Some((Arc::new(InputBuf::owned(buf)), ranges))
}

fn bench(c: &mut Criterion) {
    let Some((buf, ranges)) = load() else { return };
    let opts = ReadOptions::default();
    let mut g = c.benchmark_group("jsonl");
    g.throughput(Throughput::Bytes(buf.len() as u64));
    g.sample_size(20);
    g.bench_function("parse_shared_lines", |b| {
        b.iter(|| {
            let mut docs = 0;
            for r in &ranges {
                let rec = parse_jsonl_line_shared(&buf, r.clone(), SourcePos::default(), &opts);
                docs += usize::from(matches!(rec, Record::Doc(_)));
            }
            assert_eq!(docs, ranges.len());
            docs
        });
    });
    g.finish();

    let step = ExactDedup::new(ExactDedupConfig::default());
    let scan: &dyn TextScan = &step;
    if step.text_scan().is_none() {
        eprintln!("no AVX-512 here: a run would not use the scan (measured anyway)");
    }
    let mut g = c.benchmark_group("exact_dedup_hash_from_jsonl");
    g.throughput(Throughput::Bytes(buf.len() as u64));
    g.sample_size(20);
    g.bench_function("parse_then_prepare", |b| {
        let mut cx = StepCx::default();
        b.iter(|| {
            let mut x = 0u128;
            for r in &ranges {
                let rec = parse_jsonl_line_shared(&buf, r.clone(), SourcePos::default(), &opts);
                let Record::Doc(mut d) = rec else {
                    panic!("a parity line is a document")
                };
                step.prepare(&mut d, &mut cx);
                x ^= d.take_prepared::<u128>().expect("prepared");
            }
            x
        });
    });
    g.bench_function("parse_with_text_scan", |b| {
        b.iter(|| {
            let mut x = 0u128;
            for r in &ranges {
                let (src, range) = (SourcePos::default(), r.clone());
                let rec = parse_jsonl_line_scanned(&buf, range, src, &opts, Some(scan));
                let Record::Doc(mut d) = rec else {
                    panic!("a parity line is a document")
                };
                x ^= d.take_prepared::<u128>().expect("scanned");
            }
            x
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
