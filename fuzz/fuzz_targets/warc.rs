//! The WARC/WET/ARC reader on arbitrary bytes, plain or gzipped.
//!
//! The promise checked: no panic, the reader ends, and every record names the file, with a
//! byte offset inside the (decompressed) input.
//!
//! The first byte picks the layout and the record size limit: the rest as it is, the rest
//! gzipped as one member, or gzipped one member per `WARC/` record (as crawlers write them).
#![no_main]

use std::io::Write;
use std::sync::Arc;

use flate2::write::GzEncoder;
use libfuzzer_sys::fuzz_target;
use thresher_io::{Record, WarcReader};

fn gzip(parts: &[&[u8]]) -> Vec<u8> {
    let mut out = Vec::new();
    for p in parts {
        let mut e = GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(p).expect("gzip to memory");
        out.extend(e.finish().expect("gzip to memory"));
    }
    out
}

/// `data` cut before each `WARC/` at the start of a line.
fn records(data: &[u8]) -> Vec<&[u8]> {
    let mut cuts = vec![0];
    for i in 1..data.len() {
        if data[i - 1] == b'\n' && data[i..].starts_with(b"WARC/") {
            cuts.push(i);
        }
    }
    cuts.push(data.len());
    cuts.windows(2).map(|w| &data[w[0]..w[1]]).collect()
}

fuzz_target!(|data: &[u8]| {
    let Some((&mode, body)) = data.split_first() else {
        return;
    };
    let input = match mode % 3 {
        0 => body.to_vec(),
        1 => gzip(&[body]),
        _ => gzip(&records(body)),
    };
    let max = if mode & 4 == 0 { 1 << 20 } else { 64 };
    let name: Arc<str> = Arc::from("fuzz.warc");
    let reader =
        WarcReader::new(std::io::Cursor::new(input), name.clone()).with_max_record_bytes(max);
    let plain = mode % 3 == 0 && !body.starts_with(&[0x1f, 0x8b]);
    let mut n = 0usize;
    for rec in reader {
        n += 1;
        // Every record consumes at least one byte of the decompressed input, and a gzip
        // member of these inputs decompresses to at most `body.len()` bytes.
        assert!(n <= 2 * body.len() + 2, "the reader does not end");
        let source = match &rec {
            Record::Doc(d) => &d.source,
            Record::Error(e) => {
                assert!(!e.message.is_empty());
                &e.source
            }
            Record::Skipped { source, kind } => {
                assert!(!kind.is_empty());
                source
            }
        };
        assert_eq!(source.file, name);
        if plain {
            assert!(
                source.byte_offset <= body.len() as u64,
                "offset {} past the end of {} bytes",
                source.byte_offset,
                body.len()
            );
        }
    }
});
