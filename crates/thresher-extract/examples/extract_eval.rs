//! Runs thresher's extraction over gold sets and writes `<id>.txt` outputs for
//! `../shared/tools/extract_eval.py --pred-dir`.
//!
//! ```text
//! cargo run --release -p thresher-extract --example extract_eval -- OUT_DIR SET_DIR...
//! ```
//! For each SET_DIR (a folder of `<id>.html.gz`) it writes OUT_DIR/<set name>/<id>.txt and
//! prints one JSON line per set with the page count and the extraction speed on one core
//! (timing covers the extraction call only, as the Python tool times its extractors; reading,
//! gunzip and charset decoding are outside the timer).
//!
//! Settings for the cross-validation (`scripts/extract-cv`), never read by the library itself:
//! - `EXTRACT_TUNING="mld=0.6 prose=200 -same_class"`: a configuration (see [`apply`]);
//! - `EXTRACT_GRID=FILE`: one configuration per line, `NAME SETTINGS...`; the pages are read
//!   once and each configuration's outputs go to OUT_DIR/NAME/<set name>/<id>.txt.

use std::io::Read;
use std::path::Path;
use std::time::Instant;

use thresher_extract::{extract_html, Favor, Limits, Options};

/// The late rules that a configuration can switch off by name (`-name`) or on (`+name`).
const RULES: &[(&str, u32)] = &[
    ("same_class", thresher_extract::extract::R_SAME_CLASS),
    ("h1_box", thresher_extract::extract::R_H1_BOX),
    ("lead_far", thresher_extract::extract::R_LEAD_FAR),
    ("link_label", thresher_extract::extract::R_LINK_LABEL),
    ("credit", thresher_extract::extract::R_CREDIT),
    (
        "lead_beats_weak",
        thresher_extract::extract::R_LEAD_BEATS_WEAK,
    ),
    ("short_links", thresher_extract::extract::R_SHORT_LINKS),
    ("lead", thresher_extract::extract::R_LEAD),
    ("headings", thresher_extract::extract::R_HEADINGS),
    ("deck", thresher_extract::extract::R_DECK),
    ("cells", thresher_extract::extract::R_CELLS),
];

/// Applies settings (space-separated `key=value`, `-rule`, `+rule`) to options: `favor=`
/// (precision|balanced|recall, applied first), `mld` (main_max_link_density), `prose`
/// (prose_min_chars), `weak` (weak_max_chars), `sib` (sibling_min_share), `fallback`
/// (fallback_max_kept), `cells` (cells_max_levels), `levels` (union_max_levels), `share` (union_dominant_share),
/// `union=0|1`, `comments=0|1`, `tables=0|1`.
fn apply(mut opts: Options, spec: &str) -> Result<Options, String> {
    let items: Vec<&str> = spec.split_whitespace().collect();
    for it in &items {
        if let Some(f) = it.strip_prefix("favor=") {
            let favor = match f {
                "precision" => Favor::Precision,
                "recall" => Favor::Recall,
                "balanced" => Favor::Balanced,
                _ => return Err(format!("bad favor {f}")),
            };
            opts = opts.favor(favor);
        }
    }
    for it in items {
        if let Some(name) = it.strip_prefix('-').or_else(|| it.strip_prefix('+')) {
            let bit = RULES
                .iter()
                .find(|(n, _)| *n == name)
                .ok_or(format!("unknown rule {name}"))?
                .1;
            if it.starts_with('-') {
                opts.tuning.rules &= !bit;
            } else {
                opts.tuning.rules |= bit;
            }
            continue;
        }
        let (k, v) = it.split_once('=').ok_or(format!("bad setting {it}"))?;
        let f = |v: &str| v.parse::<f32>().map_err(|e| format!("{k}: {e}"));
        let u = |v: &str| v.parse::<u32>().map_err(|e| format!("{k}: {e}"));
        let t = &mut opts.tuning;
        match k {
            "favor" => {}
            "mld" => t.main_max_link_density = f(v)?,
            "prose" => t.prose_min_chars = u(v)?,
            "weak" => t.weak_max_chars = u(v)?,
            "sib" => t.sibling_min_share = f(v)?,
            "fallback" => t.fallback_max_kept = u(v)?,
            "cells" => t.cells_max_levels = u(v)?,
            "levels" => opts.union_max_levels = u(v)?,
            "share" => opts.union_dominant_share = f(v)?,
            "union" => opts.union_outside_prose = u(v)? != 0,
            "comments" => opts.include_comments = u(v)? != 0,
            "tables" => opts.include_tables = u(v)? != 0,
            _ => return Err(format!("unknown setting {k}")),
        }
    }
    Ok(opts)
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    if args.len() < 2 {
        eprintln!(
            "usage: extract_eval OUT_DIR SET_DIR... (env EXTRACT_MODE=main|union, \
             EXTRACT_FORMAT=text|markdown)"
        );
        std::process::exit(2);
    }
    let mut opts = Options::default();
    if std::env::var("EXTRACT_MODE").is_ok_and(|m| m == "main") {
        opts.union_outside_prose = false;
    }
    if let Some(l) = std::env::var("EXTRACT_UNION_SHARE")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        opts.union_dominant_share = l;
    }
    if let Some(l) = std::env::var("EXTRACT_UNION_LEVELS")
        .ok()
        .and_then(|v| v.parse().ok())
    {
        opts.union_max_levels = l;
    }
    if let Ok(spec) = std::env::var("EXTRACT_TUNING") {
        opts = apply(opts, &spec).unwrap_or_else(|e| {
            eprintln!("EXTRACT_TUNING: {e}");
            std::process::exit(2)
        });
    }
    // Configurations of a grid: (output subfolder, options).
    let mut grid: Vec<(String, Options)> = Vec::new();
    if let Ok(path) = std::env::var("EXTRACT_GRID") {
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            eprintln!("{path}: {e}");
            std::process::exit(2)
        });
        for line in text.lines().filter(|l| !l.trim().is_empty()) {
            let (name, spec) = line.trim().split_once(' ').unwrap_or((line.trim(), ""));
            let o = apply(opts, spec).unwrap_or_else(|e| {
                eprintln!("{path}: {name}: {e}");
                std::process::exit(2)
            });
            grid.push((name.to_string(), o));
        }
    }
    // EXTRACT_FORMAT=markdown renders Markdown (the separate render path) instead of text;
    // EXTRACT_LINKS=1 keeps links in it.
    if std::env::var("EXTRACT_FORMAT").is_ok_and(|m| m == "markdown") {
        opts.output_format = thresher_extract::OutputFormat::Markdown;
    }
    opts.include_links = std::env::var("EXTRACT_LINKS").is_ok_and(|v| v == "1");
    // EXTRACT_PROFILE=parse times the HTML parser alone, to see where the time goes.
    let parse_only = std::env::var("EXTRACT_PROFILE").is_ok_and(|m| m == "parse");
    let out_root = Path::new(&args[0]);
    for set in &args[1..] {
        let set_dir = Path::new(set);
        let name = set_dir
            .file_name()
            .map_or("set".into(), |n| n.to_string_lossy().into_owned());
        let out_dir = out_root.join(&name);
        if let Err(e) = std::fs::create_dir_all(&out_dir) {
            eprintln!("{}: {e}", out_dir.display());
            std::process::exit(1);
        }
        let mut pages = Vec::new();
        let Ok(entries) = std::fs::read_dir(set_dir) else {
            eprintln!("skipping: {set} absent");
            continue;
        };
        let mut paths: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        paths.sort();
        for p in paths {
            let f = p
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default();
            let Some(id) = f.strip_suffix(".html.gz") else {
                continue;
            };
            if id.ends_with(".annotated") {
                continue;
            }
            let mut raw = Vec::new();
            let ok = std::fs::File::open(&p)
                .and_then(|fh| flate2::read::GzDecoder::new(fh).read_to_end(&mut raw));
            if ok.is_err() {
                eprintln!("cannot read {}", p.display());
                continue;
            }
            let text = thresher_io::charset::decode_html(&raw, None).text;
            pages.push((id.to_string(), text, raw.len()));
        }
        let limits = Limits::default();
        // EXTRACT_CHECK_PARSER=1 checks that the fast tokenizer builds the same tree as
        // html5ever's own on every page, and counts the pages it leaves to html5ever's.
        if std::env::var("EXTRACT_CHECK_PARSER").is_ok_and(|v| v == "1") {
            let budget = thresher_extract::dom::Budget {
                max_nodes: limits.max_dom_nodes,
                max_depth: limits.max_depth,
            };
            let (mut slow, mut differ) = (0, 0);
            for (id, html, _) in &pages {
                if !thresher_extract::dom::parses_fast(html) {
                    slow += 1;
                    eprintln!("{name}/{id}: html5ever tokenizer");
                }
                let same = match (
                    thresher_extract::dom::parse(html, budget),
                    thresher_extract::dom::parse_with_html5ever(html, budget),
                ) {
                    (Ok(a), Ok(b)) => a.same_tree(&b),
                    (Err(a), Err(b)) => a == b,
                    _ => false,
                };
                if !same {
                    differ += 1;
                    eprintln!("{name}/{id}: trees differ");
                }
            }
            eprintln!(
                "{name}: {} pages, {slow} left to html5ever's tokenizer, {differ} trees differ",
                pages.len()
            );
        }
        // Warm-up, as the Python tool does.
        let _ = extract_html(
            "<html><body><p>warm up text</p></body></html>",
            &limits,
            &opts,
        );
        let mut total = std::time::Duration::ZERO;
        let mut errors = 0;
        let mut bytes = 0usize;
        for (id, html, n) in &pages {
            bytes += n;
            let t = Instant::now();
            let res = if parse_only {
                let _ = thresher_extract::dom::parse(
                    html,
                    thresher_extract::dom::Budget {
                        max_nodes: limits.max_dom_nodes,
                        max_depth: limits.max_depth,
                    },
                );
                Ok(Default::default())
            } else {
                extract_html(html, &limits, &opts)
            };
            total += t.elapsed();
            let text = match res {
                Ok(e) => e.text,
                Err(e) => {
                    errors += 1;
                    eprintln!("{id}: {e}");
                    String::new()
                }
            };
            if let Err(e) = std::fs::write(out_dir.join(format!("{id}.txt")), text) {
                eprintln!("write {id}: {e}");
            }
        }
        for (gname, gopts) in &grid {
            let dir = out_root.join(gname).join(&name);
            if let Err(e) = std::fs::create_dir_all(&dir) {
                eprintln!("{}: {e}", dir.display());
                std::process::exit(1);
            }
            for (id, html, _) in &pages {
                let text = extract_html(html, &limits, gopts).map_or(String::new(), |e| e.text);
                if let Err(e) = std::fs::write(dir.join(format!("{id}.txt")), text) {
                    eprintln!("write {id}: {e}");
                }
            }
        }
        let secs = total.as_secs_f64().max(1e-9);
        println!(
            "{{\"set\": \"{name}\", \"pages\": {}, \"errors\": {errors}, \"extract_s\": {:.3}, \"pages_per_s\": {:.1}, \"MB_per_s\": {:.2}}}",
            pages.len(),
            secs,
            pages.len() as f64 / secs,
            bytes as f64 / 1e6 / secs
        );
    }
}
