//! Kernel benchmark of `exact_dedup`'s hashing: the normaliser run on the escaped JSON bodies
//! of real web documents (../shared/reference/datatrove-filters/docs.jsonl.gz, the texts the
//! whole-run benchmark is built from), then xxh3-128, in bytes of escaped text per second.
//! Skipped (with a message) when the shared data is absent.
//!
//! Also: the normaliser on the same bodies with every non-ASCII byte made an `x` (what the
//! non-ASCII characters cost), and xxh3-128 of the bodies (a floor: one fast pass over the bytes).

// `criterion_group!` generates an undocumented public function.
#![allow(missing_docs)]

use std::io::{BufRead, BufReader};
use std::path::PathBuf;

use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use thresher_dedup::normalize_json_into;

/// The texts' JSON string bodies (escaped, without the quotes), as a JSONL writer has them.
fn load_bodies() -> Option<Vec<Vec<u8>>> {
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
        let quoted = serde_json::to_string(v.get("text")?.as_str()?).ok()?;
        bodies.push(quoted.as_bytes()[1..quoted.len() - 1].to_vec());
    }
    Some(bodies)
}

fn bench(c: &mut Criterion) {
    let Some(bodies) = load_bodies() else { return };
    let bytes: usize = bodies.iter().map(Vec::len).sum();
    let mut g = c.benchmark_group("exact_dedup");
    g.throughput(Throughput::Bytes(bytes as u64));
    g.sample_size(20);
    g.bench_function("normalize_json_and_hash", |b| {
        let mut buf = Vec::new();
        b.iter(|| {
            let mut x = 0u128;
            for body in &bodies {
                let n = normalize_json_into(body, &mut buf).expect("valid body");
                x ^= twox_hash::XxHash3_128::oneshot(&buf[..n]);
            }
            x
        });
    });
    let ascii: Vec<Vec<u8>> = bodies
        .iter()
        .map(|b| {
            b.iter()
                .map(|&c| if c >= 0x80 { b'x' } else { c })
                .collect()
        })
        .collect();
    g.bench_function("normalize_ascii_only", |b| {
        let mut buf = Vec::new();
        b.iter(|| {
            let mut x = 0usize;
            for body in &ascii {
                x ^= normalize_json_into(body, &mut buf).unwrap_or(0);
            }
            x
        });
    });
    g.bench_function("floor_xxh3_128_of_the_bodies", |b| {
        b.iter(|| {
            bodies
                .iter()
                .map(|body| twox_hash::XxHash3_128::oneshot(body))
                .fold(0, |a, b| a ^ b)
        });
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
