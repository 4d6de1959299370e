//! No input makes extraction panic or hang: huge pages, deep nesting, binary and truncated
//! bytes, malformed crawl files.

use std::sync::Arc;
use std::time::{Duration, Instant};

use thresher_core::{Document, Outcome, StepConfig, StepCx};
use thresher_extract::HtmlExtractConfig;
use thresher_io::{Record, WarcReader};

fn step() -> Box<dyn thresher_core::Step> {
    HtmlExtractConfig::default().build().unwrap()
}

fn run(html: String) -> (Outcome, Duration) {
    let s = step();
    let t = Instant::now();
    let out = s.process(Document::new("p", html), &mut StepCx::default());
    (out, t.elapsed())
}

#[test]
fn fifty_megabyte_page_is_an_error_not_an_oom() {
    let para = "<p>Some words in a paragraph, repeated to fill a very large page.</p>\n";
    let html = para.repeat(50_000_000 / para.len() + 1);
    assert!(html.len() >= 50_000_000);
    let (out, took) = run(html);
    assert!(
        matches!(&out, Outcome::Error { error, .. } if error.contains("size limit")),
        "{out:?}"
    );
    assert!(took < Duration::from_secs(5));
}

#[test]
fn large_page_under_the_limit_is_extracted() {
    let para = "<p>Some words in a paragraph, with a comma, repeated to fill a large page.</p>\n";
    let html = format!(
        "<html><body><article>{}</article></body></html>",
        para.repeat(30_000)
    );
    let (out, took) = run(html);
    let Outcome::Keep(doc) = out else {
        panic!("{out:?}")
    };
    assert_eq!(doc.text().lines().count(), 30_000);
    assert!(took < Duration::from_secs(30), "{took:?}");
}

#[test]
fn hundred_thousand_levels_of_nesting_is_an_error_quickly() {
    for tag in ["div", "span", "b", "table><tr><td", "ul><li", "font"] {
        let html = format!("<{tag}>").repeat(100_000) + "deep text";
        let (out, took) = run(html);
        assert!(
            matches!(&out, Outcome::Error { error, .. } if error.contains("deeper") || error.contains("nodes")),
            "{tag}: {out:?}"
        );
        assert!(took < Duration::from_secs(20), "{tag}: {took:?}");
    }
}

#[test]
fn binary_truncated_and_control_character_input_never_panics() {
    let s = step();
    let mut seed = 0x2545f4914f6cdd1du64;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    let page = "<!DOCTYPE html><html><head><title>x</title><script>var a='</p>';</script></head>\
                <body><table><tr><td><p>cell <b>bold <i>both</b> italic</i></td></tr></table>\
                <!-- c --><pre>code\n  x</pre><svg><text>t</text></svg></body></html>";
    for i in 0..400 {
        // Random bytes, lossily decoded (as a reader would hand them over).
        let bytes: Vec<u8> = (0..(i * 37 % 3000)).map(|_| next() as u8).collect();
        let _ = s.process(
            Document::new("b", String::from_utf8_lossy(&bytes).into_owned()),
            &mut StepCx::default(),
        );
        // A real page cut anywhere, with control characters sprinkled in.
        let cut = (next() as usize) % page.len();
        let mut t: String = page.chars().take(cut).collect();
        if i % 3 == 0 {
            t.insert(t.len() / 2, '\u{0}');
            t.push('\u{7}');
        }
        let _ = s.process(Document::new("t", t), &mut StepCx::default());
    }
}

#[test]
fn wet_text_passes_through_unchanged() {
    let s = step();
    let mut doc = Document::new("w", "plain <b>text</b> from a WET file");
    doc.metadata
        .insert("content_type".into(), "text/plain".into());
    let Outcome::Keep(d) = s.process(doc, &mut StepCx::default()) else {
        panic!()
    };
    assert_eq!(d.text(), "plain <b>text</b> from a WET file");
}

#[test]
fn empty_result_is_a_reject_with_a_reason() {
    let (out, _) = run("<html><body><nav><a href=/>Home</a></nav></body></html>".into());
    assert!(
        matches!(&out, Outcome::Reject { reason, .. } if reason.code == "html_extract:empty"),
        "{out:?}"
    );
}

/// Every crawl sample of ../shared/corpus/warc-samples, read and extracted end to end.
#[test]
fn shared_warc_samples_through_reader_and_step() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/corpus/warc-samples");
    let Ok(rd) = std::fs::read_dir(&dir) else {
        assert!(
            std::env::var_os("THRESHER_REQUIRE_SHARED").is_none(),
            "../shared is required (THRESHER_REQUIRE_SHARED is set) but absent"
        );
        eprintln!("skipping: ../shared/corpus/warc-samples absent");
        return;
    };
    let s = step();
    let (mut docs, mut kept, mut errors) = (0, 0, 0);
    for entry in rd.flatten() {
        let path = entry.path();
        let Ok(f) = std::fs::File::open(&path) else {
            continue;
        };
        let name: Arc<str> = Arc::from(path.to_string_lossy().as_ref());
        for rec in WarcReader::new(f, name) {
            match rec {
                Record::Doc(d) => {
                    docs += 1;
                    match s.process(d, &mut StepCx::default()) {
                        Outcome::Keep(d) => {
                            kept += 1;
                            assert!(!d.text().contains("<script"), "{}", d.id);
                        }
                        Outcome::Error { .. } => errors += 1,
                        Outcome::Reject { .. } => {}
                    }
                }
                Record::Error(e) => assert!(!e.message.is_empty()),
                Record::Skipped { .. } => {}
            }
        }
    }
    eprintln!("{docs} documents, {kept} kept, {errors} errors");
    assert!(
        docs > 100 && kept * 10 > docs * 7,
        "{docs} docs, {kept} kept"
    );
    assert_eq!(errors, 0);
}
