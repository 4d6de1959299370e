//! `exact_dedup` checks and hashes a document's text in the JSONL reader's pass (its
//! `TextScan`): for every line, the record must be exactly the one the reader makes on its own,
//! and the prepared hash the one `prepare` computes. Random lines of escapes, quotes, control
//! characters, broken and valid UTF-8 at every offset of the 64-byte blocks, plus real web text.

use std::sync::Arc;

use thresher_core::{Document, InputBuf, SourcePos, Step, StepCx, TextScan};
use thresher_dedup::{ExactDedup, ExactDedupConfig};
use thresher_io::{parse_jsonl_line_scanned, parse_jsonl_line_shared, ReadOptions, Record};

/// What a record is, for comparison: a document's fields, or an error's message.
fn describe(r: &Record) -> String {
    match r {
        Record::Doc(d) => format!(
            "doc id={:?} text={:?} json={:?} meta={:?} source={}",
            d.id,
            d.text(),
            d.text_json().map(String::from_utf8_lossy),
            d.metadata,
            d.source
        ),
        Record::Error(e) => format!("error {:?} at {} id={:?}", e.message, e.source, e.id),
        Record::Skipped { source, kind } => format!("skipped {kind} at {source}"),
    }
}

/// The hash `prepare` stores for a document read without the step's scan.
fn prepared_hash(step: &ExactDedup, doc: &mut Document) -> u128 {
    step.prepare(doc, &mut StepCx::default());
    doc.take_prepared::<u128>()
        .expect("exact_dedup prepares a u128")
}

/// Parses `line` both ways and checks that they agree; returns whether it is a document, and
/// whether the scan took the text.
fn check(step: &ExactDedup, line: &[u8]) -> (bool, bool) {
    let buf = Arc::new(InputBuf::owned(line.to_vec()));
    let src = SourcePos {
        file: Arc::from("t.jsonl"),
        line: 1,
        byte_offset: 0,
    };
    let opts = ReadOptions::default();
    let plain = parse_jsonl_line_shared(&buf, 0..line.len(), src.clone(), &opts);
    let scan: &dyn TextScan = step;
    let scanned = parse_jsonl_line_scanned(&buf, 0..line.len(), src, &opts, Some(scan));
    let what = String::from_utf8_lossy(line);
    assert_eq!(describe(&plain), describe(&scanned), "{what:?}");
    match (plain, scanned) {
        (Record::Doc(mut a), Record::Doc(mut b)) if b.has_prepared() => {
            let want = prepared_hash(step, &mut a);
            let got = b.take_prepared::<u128>().expect("the scan stores a u128");
            assert_eq!(got, want, "{what:?}");
            (true, true)
        }
        (Record::Doc(_), _) => (true, false),
        _ => (false, false),
    }
}

#[test]
fn scanned_lines_equal_the_readers_own() {
    let step = ExactDedup::new(ExactDedupConfig::default());
    let pieces: [&[u8]; 34] = [
        b"a",
        b"Plain ASCII Words ",
        b"  ",
        b"\\n",
        b"\\n\\n  \\t",
        b"\\r\\f",
        b"\\\\",
        b"\\\"",
        b"\"",
        b"\\/",
        b"/",
        b"\\b",
        b"\\u00e9",
        b"\\u00E9",
        b"\\u0001",
        b"\\u001f",
        b"\\u000a",
        b"\\ud83d\\ude00",
        b"\\ud83d",
        b"\\x",
        b"\\",
        "é".as_bytes(),
        "ÉCOLE".as_bytes(),
        "Текст".as_bytes(),
        "’—…".as_bytes(),
        "漢字".as_bytes(),
        "😀".as_bytes(),
        "İ".as_bytes(),
        b"\t",
        b"\n",
        b"\x01",
        b"\xff",
        b"\xc3",
        b"\xe2\x80",
    ];
    let mut state = 11u64;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize % n
    };
    let (mut scanned, mut docs) = (0, 0);
    for round in 0..40_000 {
        let mut text = Vec::new();
        // A plain run first, so that the pieces fall at every offset of a 64-byte block.
        text.extend(std::iter::repeat_n(b'p', next(150)));
        for _ in 0..next(if round % 10 == 0 { 60 } else { 12 }) {
            text.extend_from_slice(pieces[next(pieces.len())]);
            if next(3) == 0 {
                text.extend(std::iter::repeat_n(b'q', next(70)));
            }
        }
        let mut line = Vec::new();
        // The text first or last, with metadata after it or not.
        match round % 3 {
            0 => {
                line.extend_from_slice(b"{\"id\":\"d\",\"text\":\"");
                line.extend_from_slice(&text);
                line.extend_from_slice(b"\",\"metadata\":{\"k\":\"v\"}}");
            }
            1 => {
                line.extend_from_slice(b"{\"text\": \"");
                line.extend_from_slice(&text);
                line.extend_from_slice(b"\", \"id\": \"d\"}");
            }
            _ => {
                line.extend_from_slice(b"{\"id\":\"d\",\"text\":\"");
                line.extend_from_slice(&text);
                line.extend_from_slice(b"\"}");
            }
        }
        let (doc, took) = check(&step, &line);
        docs += usize::from(doc);
        scanned += usize::from(took);
    }
    // The cases are a mix: documents and errors, and documents the scan took.
    assert!(docs > 5_000 && docs < 35_000, "{docs}");
    if step.text_scan().is_some() {
        assert!(scanned > 3_000, "{scanned}");
    } else {
        eprintln!("no AVX-512 here: exact_dedup does not offer its scan to the reader");
    }
}

/// Real web text (the parity documents, when ../shared is there): every line agrees, and the
/// scan takes nearly all of them.
#[test]
fn scanned_parity_documents_equal_the_readers_own() {
    let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/datatrove-filters/docs.jsonl.gz");
    let Ok(file) = std::fs::File::open(&path) else {
        assert!(
            std::env::var_os("THRESHER_REQUIRE_SHARED").is_none(),
            "../shared is required (THRESHER_REQUIRE_SHARED is set) but absent"
        );
        eprintln!("skipping: {} absent", path.display());
        return;
    };
    let mut text = String::new();
    std::io::Read::read_to_string(&mut flate2::read::GzDecoder::new(file), &mut text)
        .expect("gzip of UTF-8 text");
    let step = ExactDedup::new(ExactDedupConfig::default());
    let (mut n, mut scanned) = (0, 0);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("valid parity line");
        // As thresher writes it (compact), and as Python writes it (spaces, \u escapes).
        let compact = serde_json::json!({"id": "x", "text": v["text"], "metadata": {}}).to_string();
        for l in [compact.as_str(), line] {
            n += 1;
            scanned += usize::from(check(&step, l.as_bytes()).1);
        }
    }
    assert!(n > 9_000, "{n}");
    if step.text_scan().is_some() {
        assert!(scanned * 10 > n * 9, "{scanned} of {n}");
    }
}
