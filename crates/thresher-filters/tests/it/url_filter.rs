//! `url_filter` against datatrove 0.10.1's `URLFilter` with its bundled lists, URL for URL.
//!
//! `parity_with_datatrove` collects real URLs from ../shared (the WARC samples' target URIs,
//! the `url` fields of the corpora's JSONL and WAT records, the `href` links of the corpora's
//! HTML pages), runs `scripts/url_filter_reference.py` on them (datatrove itself, which also
//! adds URLs built from its lists: blocked domains with subdomains, ports, user info, case
//! changes; blocked URLs; banned, soft-banned and sub-words in paths) and compares each decision
//! and rule with the step's, built from the same assets folder and the same Public Suffix List
//! (tldextract's snapshot, found beside datatrove by the step itself). Needs Python with
//! datatrove 0.10.1, tldextract and pyahocorasick (`THRESHER_PYTHON`, else `python3`); with
//! THRESHER_REQUIRE_SHARED set, a missing Python, package or ../shared fails the test.

use std::collections::BTreeSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::path::{Path, PathBuf};
use std::process::Command;

use regex::Regex;
use serde_json::{json, Value};
use thresher_core::{Document, Outcome, Step, StepCx};
use thresher_filters::{UrlFilter, UrlFilterConfig};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The Python to run datatrove with, if it has datatrove 0.10.1 and the URL filter's packages.
fn python() -> Option<String> {
    let py = std::env::var("THRESHER_PYTHON").unwrap_or_else(|_| "python3".into());
    let ok = Command::new(&py)
        .args([
            "-c",
            "import importlib.metadata as m, tldextract, ahocorasick, \
             datatrove.pipeline.filters.url_filter; \
             assert m.version('datatrove') == '0.10.1'",
        ])
        .output()
        .is_ok_and(|o| o.status.success());
    ok.then_some(py)
}

/// A whole file, gunzipped when it is gzip (several members, as WARC files are).
fn read_maybe_gz(path: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        // A truncated or damaged sample still gives what came before the damage.
        let _ = flate2::read::MultiGzDecoder::new(&raw[..]).read_to_end(&mut out);
        out
    } else {
        raw
    }
}

/// Real URLs from ../shared/corpus, deduplicated, in a stable order.
fn shared_urls(corpus: &Path) -> BTreeSet<String> {
    let target = Regex::new(r"(?m)^WARC-Target-URI:[ \t]*([^\r\n]*)").unwrap();
    let json_url = Regex::new(r#""url"\s*:\s*("(?:[^"\\]|\\.)*")"#).unwrap();
    let href = Regex::new(r#"(?i)href\s*=\s*["']((?:https?:)?//[^"'\s<>]+)"#).unwrap();
    let mut urls = BTreeSet::new();
    let mut dirs = vec![corpus.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            let warc = name.contains(".warc") || name.contains(".arc");
            let html = name.ends_with(".html") || name.ends_with(".html.gz");
            if !(warc || html || name.ends_with(".jsonl")) {
                continue;
            }
            let bytes = read_maybe_gz(&path);
            let text = String::from_utf8_lossy(&bytes);
            if warc {
                for c in target.captures_iter(&text) {
                    let u = c[1].trim().trim_start_matches('<').trim_end_matches('>');
                    urls.insert(u.to_string());
                }
            }
            if warc || name.ends_with(".jsonl") {
                for c in json_url.captures_iter(&text) {
                    if let Ok(Value::String(u)) = serde_json::from_str(&c[1]) {
                        urls.insert(u);
                    }
                }
            }
            if html || warc {
                for c in href.captures_iter(&text) {
                    urls.insert(c[1].replace("&amp;", "&"));
                }
            }
        }
    }
    urls.remove("");
    urls
}

/// thresher's reason code for datatrove's reason: the same name under the step's.
fn thresher_code(datatrove: &str) -> String {
    format!("url_filter:{datatrove}")
}

#[test]
fn parity_with_datatrove() {
    let corpus = root().join("../shared/corpus");
    let required = std::env::var_os("THRESHER_REQUIRE_SHARED").is_some();
    let (Some(py), true) = (python(), corpus.exists()) else {
        assert!(
            !required,
            "THRESHER_REQUIRE_SHARED is set but ../shared or Python with datatrove 0.10.1, \
             tldextract and pyahocorasick (THRESHER_PYTHON) is missing"
        );
        println!("skipping: needs ../shared and Python with datatrove 0.10.1 and tldextract");
        return;
    };
    let real = shared_urls(&corpus);
    assert!(real.len() > 5000, "real URLs collected: {}", real.len());
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("url_filter_parity");
    std::fs::create_dir_all(&dir).unwrap();
    let (inp, outp) = (dir.join("in.jsonl"), dir.join("out.jsonl"));
    let mut w = std::io::BufWriter::new(std::fs::File::create(&inp).unwrap());
    for u in &real {
        writeln!(w, "{}", json!({ "url": u })).unwrap();
    }
    w.into_inner().unwrap().sync_all().unwrap();
    let out = Command::new(&py)
        .arg(root().join("scripts/url_filter_reference.py"))
        .args([&inp, &outp])
        .args(["--from-lists", "30000", "--seed", "1"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "url_filter_reference.py failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let info: Value = serde_json::from_slice(&out.stdout).unwrap();
    let assets = PathBuf::from(info["datatrove_assets"].as_str().unwrap());
    let psl = PathBuf::from(info["public_suffix_list"].as_str().unwrap());

    // The step finds tldextract's snapshot beside datatrove by itself.
    let step = UrlFilter::new(UrlFilterConfig {
        datatrove_assets: Some(assets),
        ..Default::default()
    })
    .unwrap();
    let report = step.report();
    let used = PathBuf::from(report["public_suffix_list"].as_str().unwrap());
    assert_eq!(
        used.canonicalize().unwrap(),
        psl.canonicalize().unwrap(),
        "the Public Suffix List tldextract used"
    );
    println!("lists: {report:?}");

    let theirs: Vec<Value> = BufReader::new(std::fs::File::open(&outp).unwrap())
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect();
    assert!(
        theirs.len() > real.len() + 30000,
        "edge cases and built URLs added"
    );
    let mut cx = StepCx::default();
    let (mut differ, mut by_rule) = (0, std::collections::BTreeMap::<String, [u32; 2]>::new());
    for (i, rec) in theirs.iter().enumerate() {
        let url = rec["url"].as_str().unwrap();
        let expected = rec["reason"].as_str().map(thresher_code);
        let expected = expected.as_deref();
        let mut doc = Document::new(format!("u{i}"), "");
        doc.metadata.insert("url".into(), url.into());
        let got = match step.process(doc, &mut cx) {
            Outcome::Keep(_) => None,
            Outcome::Reject { reason, .. } => Some(reason.code.into_owned()),
            Outcome::Error { error, .. } => panic!("{url}: {error}"),
        };
        let part = usize::from(i >= real.len());
        by_rule
            .entry(expected.unwrap_or("kept").to_string())
            .or_default()[part] += 1;
        if got.as_deref() != expected {
            differ += 1;
            if differ <= 20 {
                println!("{url:?}: thresher {got:?}, datatrove {expected:?}");
            }
        }
    }
    println!(
        "{} real URLs, {} edge cases and URLs built from the lists; datatrove's decisions \
         [real, built]: {by_rule:?}",
        real.len(),
        theirs.len() - real.len()
    );
    // Every rule is exercised, on built URLs at least, and some real URLs are dropped.
    for rule in [
        "url_filter:domain",
        "url_filter:subdomain",
        "url_filter:url",
        "url_filter:hard_blacklisted",
        "url_filter:soft_blacklisted",
        "url_filter:blacklisted_subword",
        "kept",
    ] {
        assert!(
            by_rule.get(rule).is_some_and(|c| c[1] > 50),
            "{rule} exercised"
        );
    }
    assert_eq!(differ, 0, "decisions identical to datatrove's");
    let _ = std::fs::remove_dir_all(&dir);
}
