//! Reading the lines of an uncompressed file through memory maps, one map per batch.
//!
//! The reader's other path ([`LineSplitter`](crate::LineSplitter)) copies every byte from the
//! page cache into a buffer (`read`), and the workers then read that copy. Mapped, the workers
//! read the page cache itself: one pass over the bytes less, which on a run that does little
//! else (read, exact dedup, write) was the largest single cost after the output's own copy.
//!
//! Each batch maps its own region (about the batch size, whole lines), which is unmapped when
//! the last document pointing into it is written: memory stays bounded by the batches in
//! flight, whatever the file's size.
//!
//! A memory map sees the file as it is when a page is read: a file truncated by another
//! process while it is read makes the access fail (SIGBUS), which `read` would not. The size is
//! checked before each map (a shrunk file is an error record), so only a cut while a mapped
//! batch is in flight does it; the `thresher` command then stops with a message and exit code 3
//! (the output so far stays consistent for `--resume`). Inputs that may change while read
//! should be read with `mmap = false` (see [`ReadOptions::mmap`](crate::ReadOptions::mmap)).

use std::fs::File;
use std::ops::Range;
use std::sync::Arc;

use memmap2::{Mmap, MmapOptions};
use thresher_core::InputBuf;

use crate::lines::BOM;

/// Files smaller than this are read, not mapped: their lines join other files' in one batch
/// (a mapped batch holds one file's lines), and a map costs a few system calls.
pub(crate) const MMAP_MIN_BYTES: u64 = 4 << 20;

/// One record of a mapped batch.
#[derive(Debug)]
pub(crate) enum MappedItem {
    /// A line: its bytes (without `\n` and a `\r` before it) are `buf[range]`.
    Line {
        range: Range<usize>,
        line: u64,
        offset: u64,
    },
    /// A line over the length limit (not mapped whole).
    TooLong { line: u64, offset: u64, len: u64 },
}

/// What [`MappedLines::next_chunk`] read.
#[derive(Debug)]
pub(crate) enum Chunk {
    /// Consecutive records, and the bytes they cover in the file (newlines and blank lines
    /// included).
    Lines {
        buf: InputBuf,
        items: Vec<MappedItem>,
        bytes: u64,
    },
    /// The file cannot be read on (it shrank, or a map failed); nothing more is read from it.
    Error {
        line: u64,
        offset: u64,
        message: String,
    },
    /// End of the file.
    End,
}

/// The lines of one file, read through memory maps.
pub(crate) struct MappedLines {
    file: File,
    /// The file's size when opened: bytes past it (appended later) are not read.
    len: u64,
    /// File offset of the next line.
    pos: u64,
    /// Lines read so far (blank ones included).
    line: u64,
    max_line: usize,
    /// Bytes mapped per batch (more for a longer line).
    chunk: usize,
    failed: bool,
    /// File offset up to which the line at `pos` is known to have no newline.
    no_newline_until: u64,
    /// Bytes of a byte-order mark skipped at the start, not yet counted in a chunk's bytes.
    bom: u64,
    /// No line that starts at or after this offset is read (the end of a byte range).
    stop: u64,
}

/// Bytes mapped at a time to scan a file without holding it (newline counts and searches).
const WINDOW: usize = 16 << 20;

impl MappedLines {
    /// Lines of `file` (of `len` bytes), at most `max_line` bytes each, about `chunk` bytes per
    /// batch. A UTF-8 byte-order mark at the start is skipped (as the read path does).
    pub(crate) fn new(file: File, len: u64, max_line: usize, chunk: usize) -> Self {
        use std::os::unix::fs::FileExt;
        let mut head = [0u8; 3];
        let bom = if len >= 3 && file.read_exact_at(&mut head, 0).is_ok() && head == *BOM {
            BOM.len() as u64
        } else {
            0
        };
        // Read once, front to back: a larger readahead when the file is not cached (the maps
        // are populated when made, so this is what reads a cold file).
        #[cfg(target_os = "linux")]
        {
            use std::os::unix::io::AsRawFd;
            // SAFETY: an advice on an open file descriptor of ours; it changes no memory.
            let _ =
                unsafe { libc::posix_fadvise(file.as_raw_fd(), 0, 0, libc::POSIX_FADV_SEQUENTIAL) };
        }
        MappedLines {
            file,
            len,
            pos: bom,
            line: 0,
            max_line,
            chunk: chunk.max(1),
            failed: false,
            no_newline_until: 0,
            bom,
            stop: len,
        }
    }

    /// [`MappedLines::new`] for the lines that start in `range` of the file (see
    /// [`InputFile::range`](crate::InputFile::range)): a line belongs to the range that holds
    /// its first byte, so one that straddles `range.start` is the previous range's, and the
    /// last line read may end after `range.end`. Line numbers and offsets are those of the
    /// whole file: the newlines before the first line are counted (read once, through maps).
    pub(crate) fn with_range(
        file: File,
        len: u64,
        max_line: usize,
        chunk: usize,
        range: Range<u64>,
    ) -> std::io::Result<Self> {
        let mut m = MappedLines::new(file, len, max_line, chunk);
        m.stop = range.end.min(len);
        if range.start > 0 {
            // The byte-order mark's bytes are the first range's.
            m.bom = 0;
        }
        // A range starting inside the byte-order mark starts with the first line (at its end).
        let start = range.start.min(len);
        if start > m.pos {
            let first = m.line_start_from(start)?;
            m.line = m.count_newlines(first)?;
            m.pos = first;
        }
        Ok(m)
    }

    /// The first line start at or after `at` (`at > 0`): `at` itself right after a newline,
    /// else just after the next newline (the file's length if there is none).
    fn line_start_from(&self, at: u64) -> std::io::Result<u64> {
        let mut from = at - 1;
        while from < self.len {
            let n = usize::try_from(self.len - from)
                .unwrap_or(usize::MAX)
                .min(WINDOW);
            let map = self.map(from, n)?;
            if let Some(i) = memchr::memchr(b'\n', &map) {
                return Ok(from + i as u64 + 1);
            }
            from += n as u64;
        }
        Ok(self.len)
    }

    /// The newlines in the file's first `end` bytes (vectorised count, a window at a time).
    fn count_newlines(&self, end: u64) -> std::io::Result<u64> {
        let mut at = 0;
        let mut count = 0u64;
        while at < end {
            let n = usize::try_from(end - at).unwrap_or(usize::MAX).min(WINDOW);
            let map = self.map(at, n)?;
            count += memchr::memchr_iter(b'\n', &map).count() as u64;
            at += n as u64;
        }
        Ok(count)
    }

    /// Whether the bytes from the end of the range to the end of the file are all ASCII
    /// whitespace (so the file holds no record after the range).
    pub(crate) fn rest_is_blank(&self) -> std::io::Result<bool> {
        let mut at = self.stop;
        while at < self.len {
            let n = usize::try_from(self.len - at)
                .unwrap_or(usize::MAX)
                .min(WINDOW);
            let map = self.map(at, n)?;
            if !map.iter().all(u8::is_ascii_whitespace) {
                return Ok(false);
            }
            at += n as u64;
        }
        Ok(true)
    }

    /// Maps `len` bytes from `offset`.
    fn map(&self, offset: u64, len: usize) -> std::io::Result<Mmap> {
        // SAFETY: the map is read-only and private to this process; the file's size was
        // checked just before (see `next_chunk`), so every mapped byte exists. The remaining
        // hazard, another process truncating or rewriting the file while it is mapped, is the
        // documented limit of this path (see the module docs and `ReadOptions::mmap`).
        let map = unsafe {
            MmapOptions::new()
                .offset(offset)
                .len(len)
                .populate()
                .map(&self.file)?
        };
        Ok(map)
    }

    fn fail(&mut self, message: String) -> Chunk {
        self.failed = true;
        Chunk::Error {
            line: self.line + 1,
            offset: self.pos,
            message,
        }
    }

    /// The next batch of at most `max_docs` records, or the end.
    pub(crate) fn next_chunk(&mut self, max_docs: usize) -> Chunk {
        if self.failed || self.pos >= self.stop {
            if self.bom > 0 && !self.failed {
                // A file of a byte-order mark alone: its bytes still count.
                return Chunk::Lines {
                    buf: InputBuf::default(),
                    items: Vec::new(),
                    bytes: std::mem::take(&mut self.bom),
                };
            }
            return Chunk::End;
        }
        match self.file.metadata() {
            Ok(m) if m.len() < self.len => {
                return self.fail(format!(
                    "input file shrank from {} to {} bytes while being read",
                    self.len,
                    m.len()
                ))
            }
            Ok(_) => {}
            Err(e) => return self.fail(format!("cannot read the file's size: {e}")),
        }
        let rest = self.len - self.pos;
        let want = usize::try_from(rest).unwrap_or(usize::MAX).min(self.chunk);
        let map = match self.map(self.pos, want) {
            Ok(m) => m,
            Err(e) => return self.fail(format!("cannot map the file: {e}")),
        };
        let at_eof = want as u64 == rest;
        let map: Arc<Mmap> = Arc::new(map);
        let mut items = Vec::new();
        let mut start = 0;
        // The first line's bytes that the last batch searched for a newline in vain: a line
        // cut by the end of a map is not searched twice.
        let mut searched = usize::try_from(self.no_newline_until.saturating_sub(self.pos))
            .unwrap_or(usize::MAX)
            .min(map.len());
        // Whole lines only: up to the last newline, or to the end of the file.
        while start < map.len() && items.len() < max_docs && self.pos + (start as u64) < self.stop {
            let from = searched.max(start);
            searched = 0;
            let nl = match memchr::memchr(b'\n', &map[from..]) {
                Some(k) => from + k,
                None if at_eof => map.len(), // the last line, without a newline
                None => {
                    self.no_newline_until = self.pos + map.len() as u64;
                    break; // a line cut by the map's end: the next batch starts with it
                }
            };
            let next = (nl + 1).min(map.len());
            let mut line_end = nl;
            if line_end > start && map[line_end - 1] == b'\r' {
                line_end -= 1;
            }
            self.line += 1;
            let offset = self.pos + start as u64;
            let len = nl - start;
            if len > self.max_line {
                items.push(MappedItem::TooLong {
                    line: self.line,
                    offset,
                    len: len as u64,
                });
            } else if !map[start..line_end].iter().all(u8::is_ascii_whitespace) {
                items.push(MappedItem::Line {
                    range: start..line_end,
                    line: self.line,
                    offset,
                });
            }
            start = next;
        }
        if start == 0 {
            // Not one whole line in the map: a line longer than a batch's map.
            drop(map);
            return self.long_line();
        }
        self.pos += start as u64;
        let bytes = start as u64 + std::mem::take(&mut self.bom);
        let shared: Arc<dyn AsRef<[u8]> + Send + Sync> = map;
        match InputBuf::mapped(shared, 0..start) {
            Some(buf) => Chunk::Lines { buf, items, bytes },
            None => self.fail("mapped region shorter than asked".into()), // not reached
        }
    }

    /// The line at `pos` is longer than a batch's map: find its end, then map it whole, or
    /// report it as too long without holding it.
    fn long_line(&mut self) -> Chunk {
        // Scan for its newline one window at a time.
        let mut at = self.pos;
        let end = loop {
            if at >= self.len {
                break self.len; // the last line, without a newline
            }
            let n = usize::try_from(self.len - at)
                .unwrap_or(usize::MAX)
                .min(WINDOW);
            let map = match self.map(at, n) {
                Ok(m) => m,
                Err(e) => return self.fail(format!("cannot map the file: {e}")),
            };
            if let Some(i) = memchr::memchr(b'\n', &map) {
                break at + i as u64;
            }
            at += n as u64;
        };
        let len = end - self.pos;
        let next = (end + 1).min(self.len);
        self.line += 1;
        let offset = self.pos;
        if len > self.max_line as u64 {
            self.pos = next;
            return Chunk::Lines {
                buf: InputBuf::default(),
                items: vec![MappedItem::TooLong {
                    line: self.line,
                    offset,
                    len,
                }],
                bytes: next - offset + std::mem::take(&mut self.bom),
            };
        }
        // Within the limit (so it fits in memory): map it with its newline.
        let Ok(n) = usize::try_from(next - offset) else {
            return self.fail("line too long for this platform".into());
        };
        let map = match self.map(offset, n) {
            Ok(m) => m,
            Err(e) => return self.fail(format!("cannot map the file: {e}")),
        };
        let mut line_end = usize::try_from(len).unwrap_or(n);
        if line_end > 0 && map[line_end - 1] == b'\r' {
            line_end -= 1;
        }
        let blank = map[..line_end].iter().all(u8::is_ascii_whitespace);
        self.pos = next;
        let shared: Arc<dyn AsRef<[u8]> + Send + Sync> = Arc::new(map);
        let Some(buf) = InputBuf::mapped(shared, 0..n) else {
            return self.fail("mapped region shorter than asked".into()); // not reached
        };
        let items = if blank {
            Vec::new()
        } else {
            vec![MappedItem::Line {
                range: 0..line_end,
                line: self.line,
                offset,
            }]
        };
        Chunk::Lines {
            buf,
            items,
            bytes: next - offset + std::mem::take(&mut self.bom),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lines::{LineEvent, LineSplitter};
    use std::io::Write;

    /// Lines as the read path gives them: (text, line, offset) or the length of a long one.
    fn by_splitter(data: &[u8], max: usize) -> Vec<(String, u64, u64)> {
        let mut s = LineSplitter::new(Box::new(std::io::Cursor::new(data.to_vec())), max);
        let mut out = Vec::new();
        loop {
            match s.next_line() {
                LineEvent::Line {
                    range,
                    line,
                    offset,
                } => {
                    let t = String::from_utf8_lossy(&s.buf()[range]).into_owned();
                    if !t.bytes().all(|b| b.is_ascii_whitespace()) {
                        out.push((t, line, offset));
                    }
                }
                LineEvent::TooLong { line, offset, len } => {
                    out.push((format!("<too long: {len}>"), line, offset))
                }
                LineEvent::End => return out,
                other => panic!("{other:?}"),
            }
        }
    }

    fn by_maps(
        data: &[u8],
        max: usize,
        chunk: usize,
        max_docs: usize,
    ) -> (Vec<(String, u64, u64)>, u64) {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(data).unwrap();
        let mut m = MappedLines::new(f, data.len() as u64, max, chunk);
        let (mut out, mut bytes) = (Vec::new(), 0);
        loop {
            match m.next_chunk(max_docs) {
                Chunk::Lines {
                    buf,
                    items,
                    bytes: b,
                } => {
                    bytes += b;
                    for it in items {
                        match it {
                            MappedItem::Line {
                                range,
                                line,
                                offset,
                            } => out.push((
                                String::from_utf8_lossy(&buf[range]).into_owned(),
                                line,
                                offset,
                            )),
                            MappedItem::TooLong { line, offset, len } => {
                                out.push((format!("<too long: {len}>"), line, offset))
                            }
                        }
                    }
                }
                Chunk::End => return (out, bytes),
                Chunk::Error { message, .. } => panic!("{message}"),
            }
        }
    }

    /// Input files as the splitter meets them: lines of 0, 1-19 or 50-249 bytes of `ab c\r`
    /// (a lone `\r` is not a line end), ended by `\n` or `\r\n`; sometimes a last line without
    /// a newline, sometimes a BOM in front (the same lines, from offset 3).
    fn input_file() -> impl proptest::strategy::Strategy<Value = Vec<u8>> {
        use proptest::prelude::*;
        let byte = || prop::sample::select(&b"ab c\r"[..]);
        let body = prop_oneof![
            1 => Just(Vec::new()),
            1 => prop::collection::vec(byte(), 50..250),
            8 => prop::collection::vec(byte(), 1..20),
        ];
        let line = (body, prop::bool::weighted(1.0 / 6.0)).prop_map(|(mut line, crlf)| {
            line.extend_from_slice(if crlf { b"\r\n" } else { b"\n" });
            line
        });
        (
            prop::collection::vec(line, 0..40),
            prop::bool::weighted(1.0 / 3.0),
            prop::bool::weighted(1.0 / 5.0),
        )
            .prop_map(|(lines, unterminated, bom)| {
                let mut data = if bom { BOM.to_vec() } else { Vec::new() };
                data.extend(lines.concat());
                if unterminated {
                    data.extend_from_slice(b"last line without a newline");
                }
                data
            })
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        #[test]
        fn maps_give_the_lines_the_splitter_gives(data in input_file()) {
            for (max, chunk, docs) in [
                (1 << 20, 4096, 1024),
                (60, 64, 3),
                (100, 7, 1024),
                (1 << 20, 1, 2),
            ] {
                let want = by_splitter(&data, max);
                let (got, bytes) = by_maps(&data, max, chunk, docs);
                proptest::prop_assert_eq!(got, want, "max {}, chunk {}", max, chunk);
                proptest::prop_assert_eq!(bytes, data.len() as u64);
            }
        }
    }

    #[test]
    fn a_shrunk_file_is_an_error_not_a_crash() {
        let mut f = tempfile::NamedTempFile::new().unwrap();
        f.write_all(&b"line one\n".repeat(1000)).unwrap();
        let file = File::open(f.path()).unwrap();
        let mut m = MappedLines::new(file, 9000, 1 << 20, 4096);
        assert!(matches!(m.next_chunk(1024), Chunk::Lines { .. }));
        f.as_file().set_len(100).unwrap();
        match m.next_chunk(1024) {
            Chunk::Error { message, .. } => assert!(message.contains("shrank"), "{message}"),
            other => panic!("{other:?}"),
        }
        assert!(matches!(m.next_chunk(1024), Chunk::End));
    }
}
