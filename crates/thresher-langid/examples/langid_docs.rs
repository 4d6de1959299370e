//! Language ID over whole documents: time per document and the labels, for the speed target
//! ("within 2x of `wc -w` over the same bytes") and the comparison with fastText.
//!
//!   cargo run --release -p thresher-langid --example langid_docs -- DOCS.jsonl[.gz] [OUT.tsv]
//!
//! Reads `text` (and `id`) of each line, runs the `language_id` step (label only, defaults) over
//! all documents three times and prints the best time; writes `id<TAB>language<TAB>score` lines
//! to OUT.tsv when given. JSON parsing is outside the timed loop.

use std::io::{BufRead, BufReader, Read, Write};
use std::time::Instant;

use thresher_core::{Document, Outcome, StepConfig, StepCx};
use thresher_langid::LanguageIdConfig;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let path = args.first().expect("DOCS.jsonl[.gz]");
    let f = std::fs::File::open(path).expect("open input");
    let reader: Box<dyn Read> = if path.ends_with(".gz") {
        Box::new(flate2::read::GzDecoder::new(f))
    } else {
        Box::new(f)
    };
    let mut docs: Vec<(String, String)> = Vec::new();
    for line in BufReader::new(reader).lines() {
        let line = line.expect("read line");
        let v: serde_json::Value = serde_json::from_str(&line).expect("JSON line");
        let id = v["id"].as_str().unwrap_or("").to_string();
        docs.push((id, v["text"].as_str().unwrap_or("").to_string()));
    }
    let bytes: usize = docs.iter().map(|d| d.1.len()).sum();
    let step = LanguageIdConfig {
        label_only: true,
        ..Default::default()
    }
    .build()
    .expect("config");
    let mut best = f64::MAX;
    let mut labels = Vec::new();
    for _ in 0..3 {
        let input: Vec<Document> = docs
            .iter()
            .map(|(id, t)| Document::new(id.clone(), t.clone()))
            .collect();
        let t = Instant::now();
        let out: Vec<Outcome> = input
            .into_iter()
            .map(|d| step.process(d, &mut StepCx::default()))
            .collect();
        best = best.min(t.elapsed().as_secs_f64());
        labels = out
            .iter()
            .map(|o| {
                let m = &o.doc().metadata;
                (
                    o.doc().id.clone(),
                    m["language"].as_str().unwrap_or("").to_string(),
                    m["language_score"].as_f64().unwrap_or(0.0),
                )
            })
            .collect();
    }
    println!(
        "{} documents, {:.1} MB of text: {:.3} s (best of 3), {:.0} docs/s, {:.0} MB/s",
        docs.len(),
        bytes as f64 / 1e6,
        best,
        docs.len() as f64 / best,
        bytes as f64 / 1e6 / best
    );
    if let Some(out) = args.get(1) {
        let mut w = std::io::BufWriter::new(std::fs::File::create(out).expect("create OUT"));
        for (id, l, s) in &labels {
            writeln!(w, "{id}\t{l}\t{s}").expect("write");
        }
    }
}
