//! Runs `minhash_dedup` over a JSONL file (objects with `id` and `text`) the way a two-pass
//! executor would: the file is streamed twice (observe in parallel, then process in order), so
//! memory does not grow with the corpus. Prints timings, the step report and peak RSS, and
//! writes the removed ids (input order) to `--removed`.
//!
//! ```text
//! cargo run --release -p thresher-dedup --example minhash_jsonl -- IN.jsonl \
//!     [--removed OUT.txt] [--keeper lowest_seq|datatrove] [--budget-mb N] [--verify 0.5] \
//!     [--shards N] [--work-dir DIR] [--threads N] [--profile fineweb]
//! ```
//! `IN.jsonl` may be `synthetic:N`: N generated documents of 150 words, 10% near-duplicates
//! (for memory scaling runs without a corpus that size).
//! With `--shards N` the input is cut into N consecutive shards that run the `signatures`
//! stage one after another (as separate processes would), then `cluster_work_dir`, then each
//! shard's `filter` stage.

use std::fs::File;
use std::io::{BufRead, BufReader, BufWriter, Write};
use std::path::PathBuf;
use std::time::Instant;

use rayon::prelude::*;
use thresher_core::{Document, Outcome, Step, StepCx};
use thresher_dedup::{cluster_work_dir, Keeper, MinhashDedupConfig, Stage};

const BATCH: usize = 2048;

fn peak_rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmHWM:"))
                .and_then(|l| l.split_whitespace().nth(1))
                .and_then(|kb| kb.parse::<f64>().ok())
        })
        .map_or(0.0, |kb| kb / 1024.0)
}

/// Streams the file in batches of documents with their sequence numbers.
fn for_batches(
    path: &PathBuf,
    range: std::ops::Range<u64>,
    mut f: impl FnMut(Vec<Document>),
) -> (u64, u64) {
    let r = BufReader::with_capacity(1 << 20, File::open(path).expect("open input"));
    let (mut n, mut bytes) = (0u64, 0u64);
    let mut batch = Vec::with_capacity(BATCH);
    let mut seq = 0u64;
    for line in r.lines() {
        let line = line.expect("read input");
        if line.trim().is_empty() {
            continue;
        }
        let this = seq;
        seq += 1;
        if !range.contains(&this) {
            continue;
        }
        let v: serde_json::Value = serde_json::from_str(&line).expect("json line");
        let id = v["id"]
            .as_str()
            .map_or_else(|| v["id"].to_string(), str::to_string);
        let text = v["text"].as_str().unwrap_or("").to_string();
        bytes += text.len() as u64;
        let mut d = Document::new(id, text);
        d.seq = this - range.start;
        batch.push(d);
        n += 1;
        if batch.len() == BATCH {
            f(std::mem::take(&mut batch));
        }
    }
    if !batch.is_empty() {
        f(batch);
    }
    (n, bytes)
}

/// Word `n` of a synthetic vocabulary (letters only, so that number normalisation leaves it).
fn synth_word(mut n: u64, out: &mut String) {
    loop {
        out.push(char::from(b'a' + (n % 26) as u8));
        n /= 26;
        if n == 0 {
            return;
        }
    }
}

fn xorshift(x: &mut u64) -> u64 {
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    *x
}

/// Synthetic document `i`: 150 words drawn from a 50,000-word vocabulary; every 10th document
/// is a copy of an earlier one with 3 words changed (so about 10% near-duplicates).
fn synth_doc(i: u64) -> String {
    let mut x = i.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let (src, edits) = if i % 10 == 9 {
        (i - 1 - xorshift(&mut x) % i.min(1000), 3)
    } else {
        (i, 0)
    };
    let mut y = src.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    let mut words: Vec<String> = (0..150)
        .map(|_| {
            let mut w = String::new();
            synth_word(xorshift(&mut y) % 50_000, &mut w);
            w
        })
        .collect();
    for _ in 0..edits {
        let j = (xorshift(&mut x) % 150) as usize;
        words[j] = "edited".into();
    }
    words.join(" ")
}

/// Streams `n` synthetic documents in batches.
fn for_synth_batches(n: u64, mut f: impl FnMut(Vec<Document>)) -> (u64, u64) {
    let mut bytes = 0;
    let mut i = 0;
    while i < n {
        let hi = (i + BATCH as u64).min(n);
        let batch: Vec<Document> = (i..hi)
            .into_par_iter()
            .map(|k| {
                let mut d = Document::new(format!("s{k}"), synth_doc(k));
                d.seq = k;
                d
            })
            .collect();
        bytes += batch.iter().map(|d| d.text().len() as u64).sum::<u64>();
        f(batch);
        i = hi;
    }
    (n, bytes)
}

struct Removed {
    count: u64,
    out: Option<BufWriter<File>>,
}

impl Removed {
    fn push(&mut self, id: String) {
        self.count += 1;
        if let Some(w) = self.out.as_mut() {
            writeln!(w, "{id}").expect("write removed id");
        }
    }
}

fn count_lines(path: &PathBuf) -> u64 {
    let r = BufReader::new(File::open(path).expect("open input"));
    r.lines()
        .map_while(Result::ok)
        .filter(|l| !l.trim().is_empty())
        .count() as u64
}

fn main() {
    let mut args = std::env::args().skip(1);
    let input = PathBuf::from(
        args.next()
            .expect("usage: minhash_jsonl IN.jsonl [options]"),
    );
    let mut cfg = MinhashDedupConfig::default();
    let mut removed_path = None;
    let mut shards = 0u32;
    while let Some(a) = args.next() {
        let v = args.next().expect("option value");
        match a.as_str() {
            "--removed" => removed_path = Some(PathBuf::from(v)),
            "--keeper" => {
                cfg.keeper = match v.as_str() {
                    "datatrove" => Keeper::Datatrove,
                    _ => Keeper::LowestSeq,
                }
            }
            "--budget-mb" => cfg.memory_budget_mb = v.parse().expect("number"),
            "--verify" => cfg.verify_jaccard = Some(v.parse().expect("number")),
            "--shards" => shards = v.parse().expect("number"),
            "--work-dir" => cfg.work_dir = Some(PathBuf::from(v)),
            "--profile" => cfg.profile = v,
            "--threads" => {
                rayon::ThreadPoolBuilder::new()
                    .num_threads(v.parse().expect("number"))
                    .build_global()
                    .expect("thread pool");
            }
            other => panic!("unknown option {other}"),
        }
    }
    let t0 = Instant::now();
    // Removed ids go straight to the file, so that the harness itself holds no per-document
    // state (the peak RSS printed is the step's).
    let mut removed = Removed {
        count: 0,
        out: removed_path
            .as_ref()
            .map(|p| BufWriter::new(File::create(p).expect("create removed file"))),
    };
    let (mut n_docs, mut n_bytes) = (0, 0);
    let mut reports = Vec::new();
    let t_observe;
    let t_process;
    let t_cluster;
    let synthetic: Option<u64> = input
        .to_str()
        .and_then(|s| s.strip_prefix("synthetic:"))
        .and_then(|n| n.parse().ok());
    if let Some(n) = synthetic {
        let step = cfg.build_step().expect("config");
        let t = Instant::now();
        (n_docs, n_bytes) = for_synth_batches(n, |batch| {
            batch
                .par_iter()
                .try_for_each(|d| step.observe(d))
                .expect("observe");
        });
        t_observe = t.elapsed().as_secs_f64();
        let t = Instant::now();
        step.end_observe().expect("end_observe");
        t_cluster = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mut cx = StepCx::default();
        for_synth_batches(n, |batch| {
            for d in batch {
                if let Outcome::Reject { doc, .. } = step.process(d, &mut cx) {
                    removed.push(doc.id);
                }
            }
        });
        t_process = t.elapsed().as_secs_f64();
        reports.push(step.report());
    } else if shards == 0 {
        let step = cfg.build_step().expect("config");
        let t = Instant::now();
        (n_docs, n_bytes) = for_batches(&input, 0..u64::MAX, |batch| {
            batch
                .par_iter()
                .try_for_each(|d| step.observe(d))
                .expect("observe");
        });
        t_observe = t.elapsed().as_secs_f64();
        let t = Instant::now();
        step.end_observe().expect("end_observe");
        t_cluster = t.elapsed().as_secs_f64();
        let t = Instant::now();
        let mut cx = StepCx::default();
        for_batches(&input, 0..u64::MAX, |batch| {
            for d in batch {
                if let Outcome::Reject { doc, .. } = step.process(d, &mut cx) {
                    removed.push(doc.id);
                }
            }
        });
        t_process = t.elapsed().as_secs_f64();
        reports.push(step.report());
    } else {
        let total = count_lines(&input);
        let per = total.div_ceil(u64::from(shards));
        let work = cfg.work_dir.clone().expect("--shards needs --work-dir");
        let _ = std::fs::remove_dir_all(&work);
        let mut obs = 0.0;
        for s in 0..shards {
            let mut c = cfg.clone();
            c.stage = Stage::Signatures;
            c.shard_index = s;
            let step = c.build_step().expect("config");
            let lo = u64::from(s) * per;
            let t = Instant::now();
            let (n, b) = for_batches(&input, lo..lo + per, |batch| {
                batch
                    .par_iter()
                    .try_for_each(|d| step.observe(d))
                    .expect("observe");
            });
            step.end_observe().expect("end_observe");
            obs += t.elapsed().as_secs_f64();
            n_docs += n;
            n_bytes += b;
        }
        t_observe = obs;
        let t = Instant::now();
        let rep = cluster_work_dir(&work, &cfg.cluster_options()).expect("cluster");
        t_cluster = t.elapsed().as_secs_f64();
        reports.push(match serde_json::to_value(&rep) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => Default::default(),
        });
        let t = Instant::now();
        for s in 0..shards {
            let mut c = cfg.clone();
            c.stage = Stage::Filter;
            c.shard_index = s;
            let step = c.build_step().expect("config");
            let lo = u64::from(s) * per;
            let mut cx = StepCx::default();
            for_batches(&input, lo..lo + per, |batch| {
                for d in batch {
                    match step.process(d, &mut cx) {
                        Outcome::Reject { doc, .. } => removed.push(doc.id),
                        Outcome::Error { error, .. } => panic!("{error}"),
                        Outcome::Keep(_) => {}
                    }
                }
            });
        }
        t_process = t.elapsed().as_secs_f64();
    }
    let secs = t0.elapsed().as_secs_f64();
    if let Some(w) = removed.out.as_mut() {
        w.flush().expect("write removed ids");
    }
    let summary = serde_json::json!({
        "input": input.display().to_string(),
        "docs": n_docs,
        "text_bytes_utf8": n_bytes,
        "removed": removed.count,
        "seconds": {"observe": t_observe, "cluster": t_cluster, "process": t_process, "total": secs},
        "docs_per_s": n_docs as f64 / secs,
        "MB_per_s": n_bytes as f64 / 1e6 / secs,
        "peak_rss_MiB": peak_rss_mib(),
        "threads": rayon::current_num_threads(),
        "report": reports,
    });
    println!(
        "{}",
        serde_json::to_string_pretty(&summary).unwrap_or_default()
    );
}
