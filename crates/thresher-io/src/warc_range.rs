//! Reading a local WARC (or WET) file in byte ranges ([`crate::InputFile::range`]), so that one
//! huge crawl file is read by several shards.
//!
//! A range `[a, b)` holds the records that start in it:
//!
//! - Uncompressed: the records whose version line (`WARC/1.x`) starts in `[a, b)`; the last one
//!   may end after `b`. A range reads from the first record start at or after `a` (0 for the
//!   first range) and stops at the first one at or after `b`. A record start is a `WARC/` line
//!   at a line start whose header block parses and whose Content-Length ends the record on a
//!   blank line followed by another version line or the end of the file, and so on for the
//!   next records (16 of them, or to the end): a payload can hold such a line (even a whole
//!   archived WARC file), which is then not taken for a record. Offsets are file offsets.
//! - Gzip, one member per record (the Common Crawl layout): the records of the members whose
//!   first compressed byte is in `[a, b)`. A range starts at a member that holds one whole
//!   record: the gzip magic with a plausible header, whose first inflated bytes are a WARC
//!   header block, and whose trailer (the 4 bytes before the next such member, or the end of
//!   the file) gives the size that header block and its Content-Length say. Record offsets are offsets in
//!   the decompressed stream, so a range needs the decompressed size of every member before
//!   its first one: the members before are found by the same scan, and each one's size is its
//!   trailer's ISIZE when that is its header block plus its Content-Length plus the 4 bytes of
//!   the blank line (a per-record member); any other member (a corrupt one, one followed by
//!   garbage, one of several records) is inflated as the whole-file reader would, up to the
//!   next member start. The cost: each range re-reads the compressed bytes before it
//!   (memchr for the gzip magic, plus inflating each member's header block: about 11 µs a
//!   member, see docs/dedup.md), as a JSONL range counts the newlines before it.
//! - A file that is one gzip stream has no member start after offset 0: the first range reads
//!   it all and the others are empty.
//!
//! The ranges of a file give a whole-file read's records, skips and errors, with its offsets
//! and messages, each once: a range's reader stops exactly where the next one starts, at a
//! record (or member) start that the whole-file reader also starts a record at. (It would not,
//! and a record could be read twice or lost, only if a verified record start lay inside
//! another record that the whole-file reader reads past it: an uncompressed record whose
//! block is an archived WARC file of more than 16 records, cut inside by a range boundary, or
//! junk whose last line is a `WARC/` line right before a real record.)
//!
//! ARC files (`.arc`, `.arc.gz`, or a file whose first record is not a WARC version line),
//! zstd-compressed files and HTML pages are read whole.

use std::ops::Range;

/// Where a range of a WARC file is read: from which byte, at which decompressed offset, up
/// to where.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    /// File offset where reading starts: a record's first byte (uncompressed) or a gzip
    /// member's (0 for the first range).
    pub start: u64,
    /// The decompressed offset of `start` in a whole-file read (`start` when uncompressed).
    pub out_start: u64,
    /// File offset of the next range's first record or member; `None`: to the end of the file.
    pub stop: Option<u64>,
}

impl Span {
    /// The whole file.
    pub fn whole() -> Span {
        Span {
            start: 0,
            out_start: 0,
            stop: None,
        }
    }

    /// Whether the range holds no record start.
    pub fn is_empty(&self) -> bool {
        self.stop.is_some_and(|s| s <= self.start)
    }
}

/// The gzip magic and the deflate method.
const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];
/// Largest WARC header block looked at (the reader's limit).
const MAX_HEADER_BYTES: usize = 64 * 1024;

/// Whether `data` (a whole file, compressed or not) can be read in ranges: it starts with a
/// WARC version line, or with a gzip member that does.
pub(crate) fn can_split(data: &[u8]) -> bool {
    if data.starts_with(&[0x1f, 0x8b]) {
        member_head(data, 0).is_some()
    } else {
        data.starts_with(b"WARC/")
    }
}

/// Where the range `range` of the file `data` is read (see the module documentation).
pub(crate) fn span(data: &[u8], range: Range<u64>) -> Span {
    let len = data.len() as u64;
    let gzip = data.starts_with(&[0x1f, 0x8b]);
    let next = |from: u64| {
        if from >= len {
            None
        } else if gzip {
            next_member(data, from)
        } else {
            next_record(data, from)
        }
    };
    let stop = next(range.end);
    let start = if range.start == 0 {
        Some(0)
    } else {
        next(range.start)
    };
    let Some(start) = start.filter(|&s| stop.is_none_or(|t| s < t)) else {
        // No record starts in the range.
        let at = stop.unwrap_or(len);
        return Span {
            start: at,
            out_start: 0,
            stop: Some(at),
        };
    };
    let out_start = if gzip {
        output_before(data, start)
    } else {
        start
    };
    Span {
        start,
        out_start,
        stop,
    }
}

/// The first verified record start at or after `from` in an uncompressed file.
fn next_record(data: &[u8], from: u64) -> Option<u64> {
    let from = usize::try_from(from).ok()?;
    memchr::memmem::find_iter(&data[from..], b"WARC/")
        .map(|i| from + i)
        .find(|&p| (p == 0 || data[p - 1] == b'\n') && chain_ok(data, p))
        .map(|p| p as u64)
}

/// How many records from a candidate start must be well formed ([`record_end`]) for it to be
/// a record start (or all of them to the end of the file).
const CHAIN: usize = 16;

/// Whether the records from `p` on are well formed, [`CHAIN`] of them or to the end of the
/// file. An archived WARC file inside a record's block has well-formed records, but its last
/// one is followed by the outer record's blank line, not by a record: a cut inside such a
/// block (of fewer than [`CHAIN`] records) finds no start there. A malformed record only
/// moves the cut to a later record start.
fn chain_ok(data: &[u8], mut p: usize) -> bool {
    for _ in 0..CHAIN {
        match record_end(data, p) {
            None => return false,
            Some(end) if end >= data.len() => return true,
            Some(end) => p = end,
        }
    }
    true
}

/// The header block of the WARC record whose version line starts `bytes`: its length
/// (through the blank line) and its Content-Length. `None` if it does not parse.
fn header_block(bytes: &[u8]) -> Option<(usize, u64)> {
    if !bytes.starts_with(b"WARC/") {
        return None;
    }
    let mut at = 0;
    let mut len = None;
    while at < bytes.len().min(MAX_HEADER_BYTES) {
        let nl = memchr::memchr(b'\n', &bytes[at..])?;
        let line = &bytes[at..at + nl];
        let line = line.strip_suffix(b"\r").unwrap_or(line);
        at += nl + 1;
        if line.is_empty() {
            return Some((at, len?));
        }
        if let Some(colon) = memchr::memchr(b':', line) {
            if line[..colon]
                .trim_ascii()
                .eq_ignore_ascii_case(b"content-length")
            {
                len = std::str::from_utf8(&line[colon + 1..])
                    .ok()
                    .and_then(|v| v.trim().parse::<u64>().ok());
            }
        }
    }
    None
}

/// The end of the record that starts at `p` (after its blank line) if it is a record: its
/// header block parses and its Content-Length lands on a blank line followed by a version
/// line or the end of the file.
fn record_end(data: &[u8], p: usize) -> Option<usize> {
    let (head, len) = header_block(&data[p..])?;
    let end = p
        .checked_add(head)?
        .checked_add(usize::try_from(len).ok()?)?;
    let after = data.get(end..)?;
    let rest = after
        .strip_prefix(b"\r\n\r\n")
        .or_else(|| after.strip_prefix(b"\n\n"))?;
    (rest.is_empty() || rest.starts_with(b"WARC/")).then_some(end + (after.len() - rest.len()))
}

/// The length of the gzip header at the start of `d`, if it is a plausible one.
fn gzip_header_len(d: &[u8]) -> Option<usize> {
    if !d.starts_with(&GZIP_MAGIC) || d.len() < 10 {
        return None;
    }
    let flags = d[3];
    if flags & 0xe0 != 0 {
        return None; // reserved bits
    }
    let mut i = 10;
    if flags & 4 != 0 {
        let x = usize::from(u16::from_le_bytes([*d.get(10)?, *d.get(11)?]));
        i += 2 + x;
    }
    for bit in [8u8, 16] {
        if flags & bit != 0 {
            i += memchr::memchr(0, d.get(i..)?)? + 1;
        }
    }
    if flags & 2 != 0 {
        i += 2;
    }
    (i <= d.len()).then_some(i)
}

/// For a gzip member starting at `p` whose first inflated bytes are a WARC version line: the
/// length of its header block and its Content-Length (`None` for them when the block does not
/// parse). `None` if no such member starts at `p`.
fn member_head(data: &[u8], p: usize) -> Option<Option<(usize, u64)>> {
    let d = &data[p..];
    let h = gzip_header_len(d)?;
    // One decoder (and its 32 KiB window) per thread, reset for each member: a range's scan
    // looks at every member before it.
    thread_local! {
        static Z: std::cell::RefCell<(flate2::Decompress, Vec<u8>)> =
            std::cell::RefCell::new((flate2::Decompress::new(false), Vec::new()));
    }
    Z.with(|z| {
        let (z, buf) = &mut *z.borrow_mut();
        z.reset(false);
        inflate_head(z, buf, &d[h..])
    })
}

/// [`member_head`] of the deflate data `input`, inflated with `z` into `buf` (in steps of
/// 1 KiB, so that little more than the header block is inflated).
fn inflate_head(
    z: &mut flate2::Decompress,
    buf: &mut Vec<u8>,
    input: &[u8],
) -> Option<Option<(usize, u64)>> {
    buf.resize(MAX_HEADER_BYTES + 8, 0);
    let mut n = 0;
    loop {
        let at_in = z.total_in() as usize;
        let upto = (n + 1024).min(buf.len());
        let status = z.decompress(
            &input[at_in..],
            &mut buf[n..upto],
            flate2::FlushDecompress::None,
        );
        let got = z.total_out() as usize;
        let stuck = got == n && z.total_in() as usize == at_in;
        let from = n.saturating_sub(3);
        n = got;
        let out = &buf[..n];
        if n >= 5 && !out.starts_with(b"WARC/") {
            return None;
        }
        let done = stuck || !matches!(status, Ok(flate2::Status::Ok));
        let blank = memchr::memmem::find(&out[from..], b"\n\r\n").is_some()
            || memchr::memmem::find(&out[from..], b"\n\n").is_some();
        if done || blank || n >= MAX_HEADER_BYTES {
            return (n >= 5).then(|| header_block(out));
        }
    }
}

/// The gzip members whose first inflated bytes are a WARC version line, from `from` on:
/// their starts and header blocks (see [`member_head`]).
fn members_from(
    data: &[u8],
    from: usize,
) -> impl Iterator<Item = (usize, Option<(usize, u64)>)> + '_ {
    memchr::memmem::find_iter(&data[from..], &GZIP_MAGIC)
        .map(move |i| from + i)
        .filter_map(|p| member_head(data, p).map(|h| (p, h)))
}

/// Whether the member at `p` with header block `head`, followed by the next member at `next`
/// (or the end of the file), is one whole record: its trailer's ISIZE (the 4 bytes before
/// `next`) is its header block plus its Content-Length plus the blank line (CRLF CRLF, or
/// LF LF). A corrupt member, garbage before the next one, or a wrong Content-Length leaves
/// other bytes there.
fn vouched(data: &[u8], p: usize, head: Option<(usize, u64)>, next: usize) -> Option<u64> {
    let (h, len) = head?;
    if next < p + 18 {
        return None;
    }
    let isize = u64::from(u32::from_le_bytes(data[next - 4..next].try_into().ok()?));
    let want = (h as u64).saturating_add(len);
    (isize == want.saturating_add(4) || isize == want.saturating_add(2)).then_some(isize)
}

/// The first member start at or after `from` of a gzip file where a range may start: a
/// member that holds one whole record ([`vouched`]), so that a whole-file read starts a
/// record there too.
fn next_member(data: &[u8], from: u64) -> Option<u64> {
    let from = usize::try_from(from).ok()?;
    let mut it = members_from(data, from);
    let mut cur = it.next()?;
    loop {
        let next = it.next();
        let end = next.map_or(data.len(), |m| m.0);
        if vouched(data, cur.0, cur.1, end).is_some() {
            return Some(cur.0 as u64);
        }
        cur = next?;
    }
}

/// The decompressed offset, in a whole-file read, of the member starting at `start`: the sum
/// of the sizes of the members before it (see the module documentation).
fn output_before(data: &[u8], start: u64) -> u64 {
    let start = start as usize;
    let mut total = 0u64;
    let members: Vec<_> = members_from(&data[..start], 0).collect();
    if members.first().is_none_or(|m| m.0 != 0) {
        // Not a per-record file from its first byte (not reached: see `can_split`).
        return crate::warc::gzip_output_len(data, 0, start as u64);
    }
    for (k, &(p, head)) in members.iter().enumerate() {
        let next = members.get(k + 1).map_or(start, |m| m.0);
        total += match vouched(data, p, head, next) {
            Some(size) => size,
            // Inflated as the whole-file reader does, to the next member.
            None => crate::warc::gzip_output_len(data, p as u64, next as u64),
        };
    }
    total
}

#[cfg(test)]
mod tests {
    use super::*;

    fn gzip(data: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    fn record(text: &str) -> Vec<u8> {
        format!(
            "WARC/1.0\r\nWARC-Type: conversion\r\nContent-Length: {}\r\n\r\n{text}\r\n\r\n",
            text.len()
        )
        .into_bytes()
    }

    /// Per-record members are found by their trailers: a range's offsets come from ISIZE, and
    /// an uncompressed file's record starts are found past a payload's `WARC/` line.
    #[test]
    fn member_and_record_starts() {
        let recs = [record("one"), record("two two"), record("three")];
        let (a, b) = (gzip(&recs[0]), gzip(&recs[1]));
        let file = [a.clone(), b.clone(), gzip(&recs[2])].concat();
        let p1 = a.len() as u64;
        let p2 = p1 + b.len() as u64;
        assert_eq!(next_member(&file, 1), Some(p1));
        assert_eq!(next_member(&file, p1 + 1), Some(p2));
        assert_eq!(next_member(&file, p2 + 1), None);
        let out = (recs[0].len() + recs[1].len()) as u64;
        assert_eq!(output_before(&file, p2), out);
        assert_eq!(crate::warc::gzip_output_len(&file, 0, p2), out);
        let s = span(&file, 1..p2);
        assert_eq!(
            (s.start, s.out_start, s.stop),
            (p1, recs[0].len() as u64, Some(p2))
        );
        // Uncompressed, with a record inside a payload.
        let inner = record("x");
        let outer = record(std::str::from_utf8(&[b"a\n".as_slice(), &inner].concat()).unwrap());
        let plain = [outer.clone(), record("y")].concat();
        assert_eq!(next_record(&plain, 1), Some(outer.len() as u64));
    }

    #[test]
    fn gzip_headers_are_parsed() {
        assert_eq!(
            gzip_header_len(&[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 3]),
            Some(10)
        );
        assert_eq!(
            gzip_header_len(&[0x1f, 0x8b, 8, 0x20, 0, 0, 0, 0, 0, 3]),
            None
        );
        let named = [0x1f, 0x8b, 8, 8, 0, 0, 0, 0, 0, 3, b'a', 0, 1];
        assert_eq!(gzip_header_len(&named), Some(12));
    }
}
