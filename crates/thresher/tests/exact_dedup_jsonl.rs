//! A document read from JSONL keeps its text as the escaped bytes of the input line (a
//! `RawText` in `JsonString`): `exact_dedup` must hash it exactly as it hashes the same text
//! given plainly, and the JSONL writer must write it exactly as it writes the plain text.
//! Generated lines (proptest) of escapes, quotes, control characters, broken and valid UTF-8 at
//! every offset of the 64-byte blocks of the reader's scan, plus real web text.

use std::cell::Cell;
use std::sync::Arc;

use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};

use thresher_core::{Document, InputBuf, SourcePos, Step, StepCx};
use thresher_dedup::{ExactDedup, ExactDedupConfig};
use thresher_io::jsonl::write::{write_kept, OutBuf};
use thresher_io::{parse_jsonl_line, parse_jsonl_line_shared, ReadOptions, Record};

/// What a record is, for comparison: a document's fields, or an error's message.
fn describe(r: &Record) -> String {
    match r {
        Record::Doc(d) => format!(
            "doc id={:?} text={:?} meta={:?} source={}",
            d.id,
            d.text(),
            d.metadata,
            d.source
        ),
        Record::Error(e) => format!("error {:?} at {} id={:?}", e.message, e.source, e.id),
        Record::Skipped { source, kind } => format!("skipped {kind} at {source}"),
    }
}

/// The hash `exact_dedup`'s `prepare` gives a document.
fn prepared_hash(step: &ExactDedup, doc: &mut Document) -> u128 {
    let mut cx = StepCx::default();
    let prepared = step.prepare(doc, &mut cx);
    cx.set_prepared(prepared);
    cx.take_prepared::<u128>()
        .expect("exact_dedup prepares a u128")
}

/// The kept line the writer makes for `doc`, which may point into `buf`.
fn kept_line(doc: &Document, buf: &Arc<InputBuf>) -> Vec<u8> {
    let mut out = OutBuf::new(Some(buf.clone()));
    write_kept(&mut out, doc);
    out.end_line();
    out.pieces().0.concat()
}

/// Parses `line` from a shared buffer (the text may stay raw) and on its own (the text is
/// unescaped), and checks that they agree: the same record, the same hash as the plain text,
/// the same output line. Returns whether it is a document, and whether its text stayed raw.
fn check(step: &ExactDedup, line: &[u8]) -> (bool, bool) {
    let buf = Arc::new(InputBuf::owned(line.to_vec()));
    let src = SourcePos {
        file: Arc::from("t.jsonl"),
        line: 1,
        byte_offset: 0,
    };
    let opts = ReadOptions::default();
    let shared = parse_jsonl_line_shared(&buf, 0..line.len(), src.clone(), &opts);
    let own = parse_jsonl_line(line, src, &opts);
    let what = String::from_utf8_lossy(line);
    assert_eq!(describe(&shared), describe(&own), "{what:?}");
    match (shared, own) {
        (Record::Doc(mut a), Record::Doc(b)) => {
            let raw = a.raw_text().is_some();
            let mut plain = Document::new(b.id.clone(), b.text());
            plain.metadata = b.metadata.clone();
            assert_eq!(kept_line(&a, &buf), kept_line(&plain, &buf), "{what:?}");
            let want = prepared_hash(step, &mut plain);
            assert_eq!(prepared_hash(step, &mut a), want, "{what:?}");
            (true, raw)
        }
        _ => (false, false),
    }
}

#[test]
fn raw_texts_hash_and_write_as_plain_ones() {
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
    // A text: a plain run first, so that the pieces fall at every offset of a 64-byte block,
    // then pieces (many in one case of ten), some followed by a plain run.
    let piece = (
        prop::sample::select(pieces.to_vec()),
        prop::option::weighted(1.0 / 3.0, 0..70usize),
    );
    let text = (
        0..150usize,
        prop_oneof![
            9 => prop::collection::vec(piece.clone(), 0..12),
            1 => prop::collection::vec(piece, 0..60),
        ],
    )
        .prop_map(|(pad, pieces)| {
            let mut text = vec![b'p'; pad];
            for (piece, run) in pieces {
                text.extend_from_slice(piece);
                text.extend(std::iter::repeat_n(b'q', run.unwrap_or(0)));
            }
            text
        });
    // The text first or last, with metadata after it or not.
    let line = (0..3u8, text).prop_map(|(layout, text)| {
        let (head, tail): (&[u8], &[u8]) = match layout {
            0 => (
                b"{\"id\":\"d\",\"text\":\"",
                b"\",\"metadata\":{\"k\":\"v\"}}",
            ),
            1 => (b"{\"text\": \"", b"\", \"id\": \"d\"}"),
            _ => (b"{\"id\":\"d\",\"text\":\"", b"\"}"),
        };
        [head, &text, tail].concat()
    });
    // Run by hand (not the `proptest!` macro) so that counts over all cases can be checked.
    let (docs, kept_raw) = (Cell::new(0), Cell::new(0));
    let config = Config {
        cases: 2_000,
        source_file: Some(file!()),
        ..Config::default()
    };
    TestRunner::new(config)
        .run(&line, |line| {
            let (doc, raw) = check(&step, &line);
            docs.set(docs.get() + usize::from(doc));
            kept_raw.set(kept_raw.get() + usize::from(raw));
            Ok(())
        })
        .unwrap();
    // The cases are a mix: documents and errors, and documents whose text stayed raw.
    let (docs, kept_raw) = (docs.get(), kept_raw.get());
    assert!(docs > 250 && docs < 1_750, "{docs}");
    assert!(kept_raw > 150, "{kept_raw}");
}

/// Real web text (the parity documents, when ../shared is there): every line agrees, and
/// nearly all texts stay raw.
#[test]
fn parity_documents_hash_and_write_as_plain_ones() {
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
    let (mut n, mut raw) = (0, 0);
    for line in text.lines().filter(|l| !l.trim().is_empty()) {
        let v: serde_json::Value = serde_json::from_str(line).expect("valid parity line");
        // As thresher writes it (compact): canonical escapes, the text stays raw.
        let compact = serde_json::json!({"id": "x", "text": v["text"], "metadata": {}}).to_string();
        n += 1;
        raw += usize::from(check(&step, compact.as_bytes()).1);
        // As Python writes it (spaces, \u escapes): unescaped by the reader.
        check(&step, line.as_bytes());
    }
    assert!(n > 4_000, "{n}");
    assert!(raw * 10 > n * 9, "{raw} of {n}");
}
