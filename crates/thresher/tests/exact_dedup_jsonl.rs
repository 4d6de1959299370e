//! A document read from JSONL keeps its text as the escaped bytes of the input line (a
//! `RawText` in `JsonString`): `exact_dedup` must hash it exactly as it hashes the same text
//! given plainly, and the JSONL writer must write it exactly as it writes the plain text. Random
//! lines of escapes, quotes, control characters, broken and valid UTF-8 at every offset of the
//! 64-byte blocks of the reader's scan, plus real web text.

use std::sync::Arc;

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
    let mut state = 11u64;
    let mut next = |n: usize| {
        state = state
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (state >> 33) as usize % n
    };
    let (mut kept_raw, mut docs) = (0, 0);
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
        let (doc, raw) = check(&step, &line);
        docs += usize::from(doc);
        kept_raw += usize::from(raw);
    }
    // The cases are a mix: documents and errors, and documents whose text stayed raw.
    assert!(docs > 5_000 && docs < 35_000, "{docs}");
    assert!(kept_raw > 3_000, "{kept_raw}");
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
