//! Throughput helper for comparing against `wc -w` on a loaded machine: loads the reference
//! documents, then tokenizes all of them PASSES times and prints words, bytes and wall-clock MB/s.
//! Measure CPU time with `perf stat -e task-clock` for PASSES=0 and PASSES=N and take the difference.
//!
//! `cargo run --release -p thresher-text --example tokbench -- DOCS.jsonl.gz PASSES`

use std::io::BufRead;
use std::time::Instant;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1);
    let path = args.next().ok_or("usage: tokbench DOCS.jsonl.gz PASSES")?;
    let passes: usize = args.next().unwrap_or_else(|| "1".into()).parse()?;
    let reader = std::io::BufReader::new(flate2::read::GzDecoder::new(std::fs::File::open(path)?));
    let mut docs = Vec::new();
    for line in reader.lines() {
        let v: serde_json::Value = serde_json::from_str(&line?)?;
        docs.push(v["text"].as_str().unwrap_or_default().to_string());
    }
    let bytes: usize = docs.iter().map(String::len).sum();
    let tok = thresher_text::tokenizer_for("en").ok_or("no English tokenizer")?;
    let mut spans = Vec::new();
    let t = Instant::now();
    let mut words = 0;
    for _ in 0..passes {
        for d in &docs {
            spans.clear();
            tok.tokenize_spans_into(d, &mut spans);
            words += spans.len();
        }
    }
    let secs = t.elapsed().as_secs_f64();
    println!(
        "docs={} bytes={bytes} passes={passes} words={words} wall={secs:.3}s wall_MB/s={:.1}",
        docs.len(),
        (bytes * passes) as f64 / secs.max(1e-9) / 1e6
    );
    Ok(())
}
