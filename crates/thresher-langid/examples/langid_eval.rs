//! Accuracy and speed of thresher's language identifier on lingua's test data.
//!
//!   cargo run --release -p thresher-langid --example langid_eval -- [DIR] [--table]
//!
//! DIR defaults to ../shared/corpus/lingua-langid (files `<kind>.tsv.gz`, lines `<lang>\t<text>`).
//! `--only KIND` (sentences, word-pairs or single-words) measures one kind (for profilers);
//! `--passes N` sets the number of timed passes (default 3; the best is reported).
//! Prints, per kind, the accuracy over all lines and the lines per second on one core (best of 3 passes);
//! with `--table`, the accuracy per language as a Markdown table.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::time::Instant;
use thresher_langid::{detect, Language, LanguageSet};

fn read(path: &std::path::Path) -> Vec<(String, String)> {
    let f = std::fs::File::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut rows = Vec::new();
    for line in BufReader::new(flate2::read::GzDecoder::new(f)).split(b'\n') {
        let line = String::from_utf8(line.expect("read")).expect("utf-8");
        if let Some((l, t)) = line.split_once('\t') {
            rows.push((l.to_string(), t.to_string()));
        }
    }
    rows
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let table = args.iter().any(|a| a == "--table");
    let only = args
        .iter()
        .position(|a| a == "--only")
        .and_then(|i| args.get(i + 1))
        .cloned();
    let passes: usize = args
        .iter()
        .position(|a| a == "--passes")
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(3)
        .max(1);
    let dir = args
        .iter()
        .enumerate()
        .find(|(i, a)| {
            !a.starts_with("--")
                && (*i == 0 || !["--only", "--passes"].contains(&args[i - 1].as_str()))
        })
        .map(|(_, a)| a)
        .cloned()
        .unwrap_or_else(|| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../../../shared/corpus/lingua-langid"
            )
            .into()
        });
    let t = Instant::now();
    let _ = detect("warm up the model", LanguageSet::all());
    eprintln!(
        "model ready in {:.1} ms ({} MB)",
        t.elapsed().as_secs_f64() * 1e3,
        thresher_langid::model_size() / 1_000_000
    );
    let mut per_lang: BTreeMap<String, [(u32, u32); 3]> = BTreeMap::new();
    for (k, kind) in ["sentences", "word-pairs", "single-words"]
        .iter()
        .enumerate()
    {
        if only.as_deref().is_some_and(|o| o != *kind) {
            continue;
        }
        let rows = read(&std::path::Path::new(&dir).join(format!("{kind}.tsv.gz")));
        let mut got: Vec<Option<Language>> = Vec::new();
        let mut secs = f64::INFINITY;
        for _ in 0..passes {
            let t = Instant::now();
            got = rows
                .iter()
                .map(|(_, text)| detect(text, LanguageSet::all()).language)
                .collect();
            secs = secs.min(t.elapsed().as_secs_f64());
        }
        let mut ok = 0;
        for ((lang, _), g) in rows.iter().zip(&got) {
            let hit = g.map(|l| l.code()) == Some(lang.as_str());
            ok += u32::from(hit);
            let e = &mut per_lang.entry(lang.clone()).or_default()[k];
            e.0 += u32::from(hit);
            e.1 += 1;
        }
        println!(
            "{kind:13} {:6} lines  accuracy {:6.2}%  {:9.0} lines/s  ({:.2} s)",
            rows.len(),
            100.0 * f64::from(ok) / rows.len() as f64,
            rows.len() as f64 / secs,
            secs
        );
    }
    if table {
        println!("\n| language | code | sentences | word pairs | single words |\n|---|---|---:|---:|---:|");
        for (code, v) in &per_lang {
            let name = Language::from_code(code).map_or("?", |l| l.name());
            let pct = |(a, b): (u32, u32)| {
                if b == 0 {
                    0.0
                } else {
                    100.0 * f64::from(a) / f64::from(b)
                }
            };
            println!(
                "| {name} | {code} | {:.1} | {:.1} | {:.1} |",
                pct(v[0]),
                pct(v[1]),
                pct(v[2])
            );
        }
    }
}
