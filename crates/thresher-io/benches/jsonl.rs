//! Kernel benchmark of the JSONL reader's parse of one line (the hot path of every run): the
//! parity documents (../shared/reference/datatrove-filters/docs.jsonl.gz, real web text, the
//! texts the whole-run benchmark is built from) as `{"id", "text", "metadata"}` lines in one
//! shared buffer, parsed with `parse_jsonl_line_shared`, in bytes of input per second.
//! Skipped (with a message) when the shared data is absent.
//!
//! `parse_then_text` also asks each document for its text, which unescapes the text the parse
//! left escaped in the buffer: what a run whose steps read the text pays for reading.

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::sync::Arc;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use thresher_core::{InputBuf, SourcePos};
use thresher_io::{parse_jsonl_line_shared, ReadOptions, Record};

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
    g.bench_function("parse_then_text", |b| {
        b.iter(|| {
            let mut chars = 0;
            for r in &ranges {
                let rec = parse_jsonl_line_shared(&buf, r.clone(), SourcePos::default(), &opts);
                let Record::Doc(d) = rec else {
                    panic!("a parity line is a document")
                };
                chars += d.text().len();
            }
            chars
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
