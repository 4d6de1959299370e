//! Times the filter stack single-threaded, the way `../shared/tools/datatrove_filters.py` times
//! datatrove's: documents are read and parsed first, and only the loop that applies the filters
//! is timed. Prints documents/s and MB/s (1 MB = 10^6 bytes of UTF-8 text) and writes the
//! decisions in the script's output format, so the two outputs can be compared line by line.
//!
//! ```text
//! cargo run --release -p thresher-filters --example stack_speed -- DOCS.jsonl[.gz] \
//!     [--stack datatrove|fineweb] [--repeat N] [-o OUT.jsonl]
//! ```
//! `--stack datatrove` (default) is the script's stack: GopherRepetition -> GopherQuality ->
//! C4Quality (defaults) -> FineWebQuality. `--stack fineweb` runs C4 with FineWeb's option.

use std::io::{BufRead, BufReader, Write};
use std::time::Instant;

use thresher_core::{Document, Outcome, Step, StepConfig, StepCx};
use thresher_filters::{
    C4QualityConfig, FineWebQualityConfig, GopherQualityConfig, GopherRepetitionConfig,
};

/// CPU time (user + system) of this process, in seconds, from /proc (0 where unavailable).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    let Some((_, rest)) = stat.rsplit_once(')') else {
        return 0.0;
    };
    let f: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| f.get(i).and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
    // Fields 14 and 15 of /proc/[pid]/stat (utime, stime) are at 11 and 12 after the ")".
    (ticks(11) + ticks(12)) / 100.0
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let mut input = None;
    let (mut stack, mut repeat, mut out_path) = ("datatrove".to_string(), 1usize, None);
    let mut it = args.into_iter();
    while let Some(a) = it.next() {
        match a.as_str() {
            "--stack" => stack = it.next().ok_or("--stack needs a value")?,
            "--repeat" => repeat = it.next().ok_or("--repeat needs a value")?.parse()?,
            "-o" => out_path = Some(it.next().ok_or("-o needs a value")?),
            _ => input = Some(a),
        }
    }
    let input = input.ok_or("usage: stack_speed DOCS.jsonl[.gz] [--stack datatrove|fineweb]")?;
    let file = std::fs::File::open(&input)?;
    let reader: Box<dyn BufRead> = if input.ends_with(".gz") {
        Box::new(BufReader::new(flate2::read::GzDecoder::new(file)))
    } else {
        Box::new(BufReader::new(file))
    };
    let mut docs = Vec::new();
    for line in reader.lines() {
        let line = line?;
        if line.trim().is_empty() {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line)?;
        let id = match &v["id"] {
            serde_json::Value::String(s) => s.clone(),
            other => other.to_string(),
        };
        docs.push((id, v["text"].as_str().unwrap_or("").to_string()));
    }
    let n_bytes: usize = docs.iter().map(|(_, t)| t.len()).sum();

    let c4 = match stack.as_str() {
        "datatrove" => C4QualityConfig::default(),
        "fineweb" => C4QualityConfig {
            filter_no_terminal_punct: false,
            ..Default::default()
        },
        other => return Err(format!("unknown stack {other:?}").into()),
    };
    let steps: Vec<(&str, Box<dyn Step>)> = vec![
        (
            "GopherRepetitionFilter",
            GopherRepetitionConfig::default().build()?,
        ),
        (
            "GopherQualityFilter",
            GopherQualityConfig::default().build()?,
        ),
        ("C4QualityFilter", c4.build()?),
        (
            "FineWebQualityFilter",
            FineWebQualityConfig::default().build()?,
        ),
    ];

    let mut cx = StepCx::default();
    let mut best = f64::INFINITY;
    let mut results = Vec::new();
    let mut per_step = vec![0f64; steps.len()];
    for _ in 0..repeat {
        per_step.iter_mut().for_each(|t| *t = 0.0);
        // Documents are made before the clock starts, as the script parses them first.
        let batch: Vec<Document> = docs
            .iter()
            .map(|(id, t)| Document::new(id.clone(), t.clone()))
            .collect();
        results.clear();
        let (t0, c0) = (Instant::now(), cpu_seconds());
        for mut doc in batch {
            let mut verdict = None;
            for (k, (name, step)) in steps.iter().enumerate() {
                let t = Instant::now();
                let outcome = step.process(doc, &mut cx);
                per_step[k] += t.elapsed().as_secs_f64();
                match outcome {
                    Outcome::Keep(d) => doc = d,
                    Outcome::Reject { doc: d, reason } => {
                        verdict = Some((*name, reason.code.into_owned()));
                        doc = d;
                        break;
                    }
                    Outcome::Error { doc: d, error } => {
                        verdict = Some((*name, format!("error: {error}")));
                        doc = d;
                        break;
                    }
                }
            }
            // The text is what the script keeps; the document's cached analysis is freed here,
            // as a pipeline frees it when it writes the document.
            results.push((doc.take_text(), verdict));
        }
        let (wall, cpu) = (t0.elapsed().as_secs_f64(), cpu_seconds() - c0);
        best = best.min(wall);
        println!(
            "filter stage: {wall:.3} s wall ({cpu:.2} s CPU) for {} docs ({:.2} MB) -> {:.1} docs/s, {:.2} MB/s  [stack={stack}, single thread]",
            docs.len(),
            n_bytes as f64 / 1e6,
            docs.len() as f64 / wall,
            n_bytes as f64 / 1e6 / wall,
        );
    }
    if repeat > 1 {
        println!(
            "best of {repeat}: {:.1} docs/s, {:.2} MB/s",
            docs.len() as f64 / best,
            n_bytes as f64 / 1e6 / best
        );
    }
    let inside: Vec<String> = steps
        .iter()
        .zip(&per_step)
        .map(|((n, _), t)| format!("{n} {t:.3} s"))
        .collect();
    println!("inside each filter (last run): {}", inside.join(", "));
    let kept = results.iter().filter(|(_, v)| v.is_none()).count();
    println!("kept {kept} of {}", docs.len());
    if let Some(path) = out_path {
        let mut w = std::io::BufWriter::new(std::fs::File::create(path)?);
        for ((id, original), (text, verdict)) in docs.iter().zip(&results) {
            let mut rec = serde_json::Map::new();
            rec.insert("id".into(), id.clone().into());
            match verdict {
                None => {
                    rec.insert("decision".into(), "kept".into());
                }
                Some((name, code)) => {
                    rec.insert("decision".into(), (*name).into());
                    let reason = code.split_once(':').map_or(code.as_str(), |(_, r)| r);
                    rec.insert("reason".into(), reason.into());
                }
            }
            // The script records C4's text when C4 passed the document and changed it.
            let c4_passed = verdict
                .as_ref()
                .is_none_or(|(n, _)| *n == "FineWebQualityFilter");
            if c4_passed && text != original {
                rec.insert("text".into(), text.as_str().into());
            }
            writeln!(w, "{}", serde_json::Value::Object(rec))?;
        }
    }
    Ok(())
}
