//! Accuracy of the page metadata (title, author, date, canonical URL, declared language)
//! against the trafilatura-eval metadata gold (`annotations.jsonl` of the set).
//!
//! ```text
//! cargo run --release -p thresher-extract --example meta_eval -- ../shared/corpus/trafilatura-eval
//! ```
//! Pages are split in two halves by the FNV-1a hash of their id (even: the half the extractors
//! were tuned on, odd: held out). Per field and half it prints, over the pages whose gold has
//! the field, how many the extraction got right under these rules:
//!
//! - title: equal after lower-casing, folding whitespace and trimming quotes and punctuation at
//!   the ends;
//! - date: the extracted date (YYYY-MM-DD) equals the gold date;
//! - author: the word sets (lower case, letters and digits) overlap by at least half of the
//!   gold's words and half of the extracted words; `exact` also requires equal word sequences;
//! - canonical URL: no gold; compared with the page URL the annotators give (scheme, `www.`,
//!   query, fragment and trailing `/` ignored), only on pages whose key is a URL;
//! - lang: no gold; how many pages declare a language.
//!
//! `META_EVAL_SHOW=title|author|date` prints the misses of the tuning half (never the held-out
//! half: looking at it would make it a tuning half).

use std::io::Read;
use std::path::Path;

use serde_json::Value;
use thresher_extract::{extract_html, Extracted, Limits, Options};

/// FNV-1a over the id's bytes: a stable split that does not depend on file order.
fn half(id: &str) -> usize {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in id.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    (h % 2) as usize
}

fn norm_title(s: &str) -> String {
    let s = s
        .split_whitespace()
        .collect::<Vec<_>>()
        .join(" ")
        .to_lowercase();
    s.trim_matches(|c: char| c.is_ascii_punctuation() || "«»“”„‘’".contains(c) || c.is_whitespace())
        .to_string()
}

fn words(s: &str) -> Vec<String> {
    s.to_lowercase()
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(str::to_string)
        .collect()
}

fn author_match(gold: &str, got: &str) -> (bool, bool) {
    let (g, x) = (words(gold), words(got));
    if g.is_empty() || x.is_empty() {
        return (false, false);
    }
    let common = |a: &[String], b: &[String]| a.iter().filter(|w| b.contains(w)).count();
    let overlap = 2 * common(&g, &x) >= g.len() && 2 * common(&x, &g) >= x.len();
    (overlap, g == x)
}

fn norm_url(u: &str) -> String {
    let u = u.trim().to_lowercase();
    let u = u
        .strip_prefix("https://")
        .or_else(|| u.strip_prefix("http://"))
        .unwrap_or(&u);
    let u = u.strip_prefix("www.").unwrap_or(u);
    let u = u.split(['?', '#']).next().unwrap_or("");
    u.trim_end_matches('/').to_string()
}

/// Counts for one field in one half.
#[derive(Default, Clone, Copy)]
struct Count {
    gold: u32,
    found: u32,
    right: u32,
    exact: u32,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(set) = args.first() else {
        eprintln!("usage: meta_eval SET_DIR (trafilatura-eval, with annotations.jsonl)");
        std::process::exit(2);
    };
    let set = Path::new(set);
    let ann = match std::fs::read_to_string(set.join("annotations.jsonl")) {
        Ok(a) => a,
        Err(e) => {
            eprintln!("{}: {e}", set.join("annotations.jsonl").display());
            std::process::exit(1);
        }
    };
    let show = std::env::var("META_EVAL_SHOW").unwrap_or_default();
    const FIELDS: [&str; 6] = ["title", "author", "date", "canonical_url", "lang", "pages"];
    let mut counts = [[Count::default(); FIELDS.len()]; 2];
    for line in ann.lines() {
        let Ok(row) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let Some(id) = row["id"].as_str() else {
            continue;
        };
        let path = set.join(format!("{id}.html.gz"));
        let mut raw = Vec::new();
        if std::fs::File::open(&path)
            .and_then(|f| flate2::read::GzDecoder::new(f).read_to_end(&mut raw))
            .is_err()
        {
            eprintln!("cannot read {}", path.display());
            continue;
        }
        let html = thresher_io::charset::decode_html(&raw, None).text;
        let e: Extracted =
            extract_html(&html, &Limits::default(), &Options::default()).unwrap_or_default();
        let h = half(id);
        let c = &mut counts[h];
        c[5].gold += 1;
        let gold = |k: &str| row[k].as_str().map(str::trim).filter(|s| !s.is_empty());
        let miss = |field: &str, g: &str, got: &Option<String>| {
            if h == 0 && show == field {
                println!(
                    "{id}\n  gold: {g}\n  got:  {}",
                    got.as_deref().unwrap_or("-")
                );
            }
        };
        if let Some(g) = gold("title") {
            c[0].gold += 1;
            c[0].found += u32::from(e.title.is_some());
            let ok = e
                .title
                .as_deref()
                .is_some_and(|t| norm_title(t) == norm_title(g));
            c[0].right += u32::from(ok);
            c[0].exact += u32::from(ok);
            if !ok {
                miss("title", g, &e.title);
            }
        }
        if let Some(g) = gold("author") {
            c[1].gold += 1;
            c[1].found += u32::from(e.author.is_some());
            let (ok, exact) = e
                .author
                .as_deref()
                .map_or((false, false), |a| author_match(g, a));
            c[1].right += u32::from(ok);
            c[1].exact += u32::from(exact);
            if !ok {
                miss("author", g, &e.author);
            }
        }
        if let Some(g) = gold("date") {
            c[2].gold += 1;
            c[2].found += u32::from(e.date.is_some());
            let ok = e.date.as_deref() == Some(g);
            c[2].right += u32::from(ok);
            c[2].exact += u32::from(ok);
            if !ok {
                miss("date", g, &e.date);
            }
        }
        if let Some(g) = gold("url").filter(|u| u.starts_with("http")) {
            c[3].gold += 1;
            c[3].found += u32::from(e.canonical_url.is_some());
            let ok = e
                .canonical_url
                .as_deref()
                .is_some_and(|u| norm_url(u) == norm_url(g));
            c[3].right += u32::from(ok);
            c[3].exact += u32::from(ok);
        }
        c[4].gold += 1;
        c[4].found += u32::from(e.lang.is_some());
    }
    for (h, name) in ["tuning (even)", "held-out (odd)"].iter().enumerate() {
        let c = &counts[h];
        println!("{name}: {} pages", c[5].gold);
        for (f, field) in FIELDS.iter().enumerate().take(5) {
            let x = c[f];
            let pct = |n: u32| 100.0 * f64::from(n) / f64::from(x.gold.max(1));
            if *field == "lang" {
                println!(
                    "  {field:<14} declared on {} ({:.1}%)",
                    x.found,
                    pct(x.found)
                );
            } else {
                println!(
                    "  {field:<14} {:>3}/{:<3} right {:5.1}%  (exact {:5.1}%, extracted on {:5.1}%)",
                    x.right,
                    x.gold,
                    pct(x.right),
                    pct(x.exact),
                    pct(x.found)
                );
            }
        }
    }
}
