//! The JSONL reader end to end on arbitrary bytes: the file is read by `BatchReader` (which
//! sniffs gzip/zstd and splits lines under `max_doc_bytes`), then every line is parsed both
//! ways the reader may parse it (own copy, shared buffer, where the text may stay escaped).
//!
//! The promise checked: no panic; every record is a document or an error record that names
//! the file and a line; both parses give the same record; for an uncompressed file, one
//! record per non-blank line (an over-long line is one error record), or one "empty file"
//! error when there is none.
//!
//! The first byte picks the options (`max_doc_bytes`, the UTF-8 policy); the rest is the file.
#![no_main]

use std::path::PathBuf;
use std::sync::{Arc, OnceLock};

use libfuzzer_sys::fuzz_target;
use thresher_core::Document;
use thresher_io::{
    parse_jsonl_line, parse_jsonl_line_shared, BatchReader, Compression, Format, InputFile, Item,
    ReadOptions, Record, Utf8Policy,
};

/// A file of this process's own (libFuzzer's `-jobs`/`-workers` run several processes).
fn path() -> &'static PathBuf {
    static PATH: OnceLock<PathBuf> = OnceLock::new();
    PATH.get_or_init(|| {
        let dir = std::env::temp_dir().join(format!("thresher-fuzz-jsonl-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("temp dir");
        dir.join("input.jsonl")
    })
}

/// What a document is, for comparing the parses (the shared parse may keep the text escaped,
/// which the others do not: the unescaped text is compared).
fn describe(r: &Record) -> String {
    match r {
        Record::Doc(d) => describe_doc(d),
        Record::Error(e) => format!("error at {} id={:?}", e.source, e.id),
        Record::Skipped { source, kind } => format!("skipped {kind} at {source}"),
    }
}

fn describe_doc(d: &Document) -> String {
    format!(
        "doc id={:?} text={:?} meta={:?} ann={:?} source={}",
        d.id,
        d.text(),
        d.metadata,
        d.annotations,
        d.source
    )
}

/// How many records an uncompressed file makes: one per line that is not blank, an over-long
/// line being one (error) record.
fn expected_records(data: &[u8], max: usize) -> usize {
    let mut n = 0;
    // A UTF-8 byte-order mark at the start is not part of the first line.
    let mut rest = data.strip_prefix(b"\xef\xbb\xbf").unwrap_or(data);
    while !rest.is_empty() {
        let (line, next) = match memchr(b'\n', rest) {
            Some(i) => (&rest[..i], &rest[i + 1..]),
            None => (rest, &rest[rest.len()..]),
        };
        if line.len() > max {
            n += 1;
        } else {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            if !line.iter().all(u8::is_ascii_whitespace) {
                n += 1;
            }
        }
        rest = next;
    }
    n
}

fn memchr(b: u8, s: &[u8]) -> Option<usize> {
    s.iter().position(|&c| c == b)
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let opts = ReadOptions {
        max_doc_bytes: match mode & 3 {
            0 => 64 << 20,
            1 => 16,
            2 => 200,
            _ => 3000,
        },
        invalid_utf8: if mode & 4 == 0 {
            Utf8Policy::Error
        } else {
            Utf8Policy::Replace
        },
        mmap: false,
        ..ReadOptions::default()
    };
    let path = path();
    std::fs::write(path, body).expect("write the input file");
    let name: Arc<str> = Arc::from(path.to_string_lossy().as_ref());
    let mut reader = BatchReader::new(
        vec![InputFile {
            path: path.clone(),
            format: Format::Jsonl,
            size: None,
            range: None,
        }],
        opts.clone(),
    );
    let mut records = 0usize;
    let mut empty_file_errors = 0usize;
    while let Some(batch) = reader.next_batch() {
        let buf = Arc::new(batch.buf);
        for item in batch.items {
            records += 1;
            match item {
                Item::Line { range, source } => {
                    assert_eq!(source.file, name, "a line names its file");
                    assert!(source.line >= 1, "a line has a line number: {source}");
                    let line = &buf[range.clone()];
                    let own = parse_jsonl_line(line, source.clone(), &opts);
                    let shared = parse_jsonl_line_shared(&buf, range, source.clone(), &opts);
                    let want = describe(&own);
                    assert_eq!(want, describe(&shared), "shared parse of {line:?}");
                    match own {
                        Record::Doc(d) => assert_eq!(d.source, source),
                        Record::Error(e) => {
                            assert_eq!(e.source, source);
                            assert!(!e.message.is_empty());
                        }
                        Record::Skipped { .. } => panic!("a JSONL line is never skipped"),
                    }
                }
                Item::Record(Record::Error(e)) => {
                    assert_eq!(e.source.file, name, "an error names its file");
                    assert!(!e.message.is_empty());
                    if e.message.starts_with("empty file") {
                        empty_file_errors += 1;
                    } else {
                        assert!(e.source.line >= 1, "an error record has its line: {e:?}");
                    }
                }
                Item::Record(r) => panic!("the JSONL reader made {}", describe(&r)),
            }
        }
    }
    if Compression::sniff(body) == Compression::None {
        let max = usize::try_from(opts.max_doc_bytes).unwrap();
        let want = expected_records(body, max);
        assert_eq!(records, want.max(1), "records of an uncompressed file");
        assert_eq!(empty_file_errors, usize::from(want == 0));
    } else {
        assert!(records >= 1, "a compressed file makes at least one record");
    }
});
