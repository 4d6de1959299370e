//! Kernel benchmark of `exact_dedup`'s hashing: the normaliser run on the texts of real web
//! documents (../shared/reference/datatrove-filters/docs.jsonl.gz, the texts the whole-run
//! benchmark is built from), then xxh3-128, in bytes of text per second.
//! Skipped (with a message) when the shared data is absent.
//!
//! Also: the normaliser on the same texts with every non-ASCII character made an `x` (what the
//! non-ASCII characters cost), and xxh3-128 of the texts (a floor: one fast pass over the bytes).

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use thresher_dedup::normalize_bytes;

/// The texts.
fn load_texts() -> Option<Vec<String>> {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/datatrove-filters/docs.jsonl.gz");
    let Ok(file) = std::fs::File::open(&path) else {
        eprintln!("skipping: ../shared/reference/datatrove-filters/docs.jsonl.gz absent");
        return None;
    };
    let reader = BufReader::new(flate2::read::GzDecoder::new(file));
    let mut bodies = Vec::new();
    for line in reader.lines() {
        let line = line.ok()?;
        let v: serde_json::Value = serde_json::from_str(&line).ok()?;
        bodies.push(v.get("text")?.as_str()?.to_string());
    }
    Some(bodies)
}

fn bench(c: &mut Criterion) {
    let Some(bodies) = load_texts() else { return };
    let bytes: usize = bodies.iter().map(String::len).sum();
    let mut g = c.benchmark_group("exact_dedup");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(20);
    g.bench_function("normalize_and_hash", |b| {
        let mut buf = Vec::new();
        b.iter(|| {
            let mut x = 0u128;
            for body in &bodies {
                normalize_bytes(body, &mut buf);
                x ^= twox_hash::XxHash3_128::oneshot(&buf);
            }
            x
        });
    });
    let ascii: Vec<String> = bodies
        .iter()
        .map(|b| {
            b.chars()
                .map(|c| if c.is_ascii() { c } else { 'x' })
                .collect()
        })
        .collect();
    g.bench_function("normalize_ascii_only", |b| {
        let mut buf = Vec::new();
        b.iter(|| {
            let mut x = 0usize;
            for body in &ascii {
                normalize_bytes(body, &mut buf);
                x ^= buf.len();
            }
            x
        });
    });
    g.bench_function("floor_xxh3_128_of_the_bodies", |b| {
        b.iter(|| {
            bodies
                .iter()
                .map(|body| twox_hash::XxHash3_128::oneshot(body.as_bytes()))
                .fold(0, |a, b| a ^ b)
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
