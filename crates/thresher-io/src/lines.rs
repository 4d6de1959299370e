//! Splitting a byte stream into lines with a bound on line length.

use std::io::{ErrorKind, Read};
use std::ops::Range;

/// What [`LineSplitter::next_line`] found.
#[derive(Debug)]
pub enum LineEvent {
    /// A line (without its `\n` and any `\r` before it): its bytes are `splitter.buf()[range]`.
    Line {
        /// Where the line's bytes are in [`LineSplitter::buf`].
        range: Range<usize>,
        /// 1-based line number.
        line: u64,
        /// Byte offset of the line's first byte in the stream.
        offset: u64,
    },
    /// A line longer than the limit: its bytes were skipped without being held in memory.
    TooLong {
        /// 1-based line number.
        line: u64,
        /// Byte offset of the line's first byte.
        offset: u64,
        /// The line's length in bytes.
        len: u64,
    },
    /// The stream failed (truncated gzip, I/O error); nothing more is read from it.
    ReadError {
        /// Number of the line being read when it failed.
        line: u64,
        /// Byte offset where the unfinished line started.
        offset: u64,
        /// Bytes of the unfinished line that were dropped.
        dropped: u64,
        /// The error.
        error: std::io::Error,
    },
    /// Only when pinned (see [`LineSplitter::set_pinned`]): the buffer is full of lines already
    /// handed out, so nothing more can be read until it is swapped (see
    /// [`LineSplitter::swap_buffer`]).
    Full,
    /// End of the stream.
    End,
}

/// The UTF-8 byte-order mark, which some tools write at the start of a text file.
pub(crate) const BOM: &[u8] = b"\xef\xbb\xbf";

/// Splits a stream into lines, holding at most `max_line` bytes of one line in memory.
///
/// A UTF-8 byte-order mark at the start of the stream is skipped (it is not part of the first
/// line: left in, it would make a valid first JSON record invalid); offsets stay those of the
/// stream, so the first line is at offset 3 then.
pub struct LineSplitter {
    inner: Box<dyn Read + Send>,
    buf: Vec<u8>,
    start: usize,
    end: usize,
    eof: bool,
    failed: bool,
    line: u64,
    offset: u64,
    max_line: usize,
    /// The lines handed out must stay where they are (see [`LineSplitter::set_pinned`]).
    pinned: bool,
    /// Whether the stream's start has been looked at for a byte-order mark.
    bom_checked: bool,
    /// Total bytes read from the stream.
    pub bytes_read: u64,
}

const CHUNK: usize = 1 << 20;

impl LineSplitter {
    /// A splitter over `inner` with a maximum line length in bytes.
    pub fn new(inner: Box<dyn Read + Send>, max_line: usize) -> Self {
        Self::with_capacity(inner, max_line, CHUNK)
    }

    /// A splitter whose buffer starts at `capacity` bytes (it still grows for a longer line).
    pub fn with_capacity(inner: Box<dyn Read + Send>, max_line: usize, capacity: usize) -> Self {
        LineSplitter {
            inner,
            buf: vec![0; capacity.max(1)],
            start: 0,
            end: 0,
            eof: false,
            failed: false,
            line: 0,
            offset: 0,
            max_line,
            pinned: false,
            bom_checked: false,
            bytes_read: 0,
        }
    }

    /// While pinned, the bytes of the lines already handed out are never moved or overwritten
    /// (the caller keeps ranges into the buffer instead of copying each line); when the buffer
    /// is full, [`LineEvent::Full`] asks for [`LineSplitter::swap_buffer`].
    pub fn set_pinned(&mut self, pinned: bool) {
        self.pinned = pinned;
    }

    /// The buffer, with every line handed out so far (their ranges stay valid in it; it is cut
    /// after the last one), when the splitter is done with.
    pub fn into_buffer(mut self) -> Vec<u8> {
        self.buf.truncate(self.start);
        self.buf
    }

    /// Gives the buffer away, with every line handed out so far (their ranges stay valid in it;
    /// it is cut after the last one), and goes on in `fresh`: the bytes not handed out yet
    /// are moved to its start. `fresh`'s content does not matter; it is grown to the old
    /// buffer's size.
    pub fn swap_buffer(&mut self, mut fresh: Vec<u8>) -> Vec<u8> {
        let pending = self.end - self.start;
        let size = self.buf.len().max(pending + 1);
        if fresh.capacity() < size {
            // Zeroed pages from the allocator, not a memset of the whole buffer.
            fresh = vec![0; size];
        } else if fresh.len() < size {
            fresh.resize(size, 0);
        }
        fresh[..pending].copy_from_slice(&self.buf[self.start..self.end]);
        let mut old = std::mem::replace(&mut self.buf, fresh);
        old.truncate(self.start);
        self.start = 0;
        self.end = pending;
        old
    }

    /// The buffer that [`LineEvent::Line`] ranges point into (valid until the next call).
    pub fn buf(&self) -> &[u8] {
        &self.buf
    }

    /// Reads more bytes after `end`, growing or compacting the buffer. Returns false at EOF.
    fn fill(&mut self) -> std::io::Result<bool> {
        if self.start > 0
            && (self.end == self.buf.len() || (self.start == self.end && !self.pinned))
        {
            self.buf.copy_within(self.start..self.end, 0);
            self.end -= self.start;
            self.start = 0;
        }
        if self.end == self.buf.len() {
            let grow = self.buf.len().min(self.max_line.saturating_add(1));
            self.buf.resize(self.buf.len() + grow.max(CHUNK), 0);
        }
        loop {
            match self.inner.read(&mut self.buf[self.end..]) {
                Ok(0) => return Ok(false),
                Ok(n) => {
                    self.end += n;
                    self.bytes_read += n as u64;
                    return Ok(true);
                }
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
        }
    }

    /// The next line, or what went wrong.
    pub fn next_line(&mut self) -> LineEvent {
        if self.failed {
            return LineEvent::End;
        }
        if !self.bom_checked {
            self.bom_checked = true;
            while self.end - self.start < BOM.len() && !self.eof {
                match self.fill() {
                    Ok(true) => {}
                    Ok(false) => self.eof = true,
                    Err(error) => return self.fail(error),
                }
            }
            if self.buf[self.start..self.end].starts_with(BOM) {
                self.start += BOM.len();
                self.offset += BOM.len() as u64;
            }
        }
        let mut searched = self.start;
        loop {
            if let Some(i) = memchr::memchr(b'\n', &self.buf[searched..self.end]) {
                let nl = searched + i;
                let len = nl - self.start;
                if len > self.max_line {
                    return self.too_long_done(len as u64, nl + 1);
                }
                return self.emit(nl, nl + 1);
            }
            searched = self.end;
            if self.eof {
                if self.start == self.end {
                    return LineEvent::End;
                }
                let end = self.end;
                return self.emit(end, end);
            }
            if self.pinned && self.start > 0 {
                // Reading on would move or drop the lines handed out.
                let full = self.end == self.buf.len() || self.end - self.start > self.max_line;
                if full {
                    return LineEvent::Full;
                }
            }
            if self.end - self.start > self.max_line {
                return self.skip_long_line();
            }
            let before = self.start;
            match self.fill() {
                Ok(true) => {}
                Ok(false) => self.eof = true,
                Err(error) => return self.fail(error),
            }
            // `fill` may have moved the pending bytes to the front.
            searched -= before - self.start;
        }
    }

    fn emit(&mut self, line_end: usize, next: usize) -> LineEvent {
        self.line += 1;
        let mut end = line_end;
        if end > self.start && self.buf[end - 1] == b'\r' {
            end -= 1;
        }
        let ev = LineEvent::Line {
            range: self.start..end,
            line: self.line,
            offset: self.offset,
        };
        self.offset += (next - self.start) as u64;
        self.start = next;
        ev
    }

    fn too_long_done(&mut self, len: u64, next: usize) -> LineEvent {
        self.line += 1;
        let ev = LineEvent::TooLong {
            line: self.line,
            offset: self.offset,
            len,
        };
        self.offset += (next - self.start) as u64;
        self.start = next;
        ev
    }

    /// The pending line is already over the limit: drop bytes until its newline.
    fn skip_long_line(&mut self) -> LineEvent {
        let mut len = (self.end - self.start) as u64;
        self.start = 0;
        self.end = 0;
        loop {
            match self.fill() {
                Ok(true) => {
                    if let Some(i) = memchr::memchr(b'\n', &self.buf[..self.end]) {
                        len += i as u64;
                        self.line += 1;
                        let ev = LineEvent::TooLong {
                            line: self.line,
                            offset: self.offset,
                            len,
                        };
                        self.offset += len + 1;
                        self.start = i + 1;
                        return ev;
                    }
                    len += self.end as u64;
                    self.end = 0;
                }
                Ok(false) => {
                    self.eof = true;
                    self.line += 1;
                    let ev = LineEvent::TooLong {
                        line: self.line,
                        offset: self.offset,
                        len,
                    };
                    self.offset += len;
                    return ev;
                }
                Err(error) => {
                    self.start = 0;
                    self.end = 0;
                    let ev = LineEvent::ReadError {
                        line: self.line + 1,
                        offset: self.offset,
                        dropped: len,
                        error,
                    };
                    self.failed = true;
                    return ev;
                }
            }
        }
    }

    fn fail(&mut self, error: std::io::Error) -> LineEvent {
        self.failed = true;
        LineEvent::ReadError {
            line: self.line + 1,
            offset: self.offset,
            dropped: (self.end - self.start) as u64,
            error,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn collect(data: &[u8], max: usize, chunk_reader: bool) -> Vec<String> {
        let inner: Box<dyn Read + Send> = if chunk_reader {
            Box::new(OneByte(data.to_vec(), 0))
        } else {
            Box::new(std::io::Cursor::new(data.to_vec()))
        };
        let mut s = LineSplitter::new(inner, max);
        let mut out = Vec::new();
        loop {
            match s.next_line() {
                LineEvent::Line {
                    range,
                    line,
                    offset,
                } => out.push(format!(
                    "{line}@{offset}:{}",
                    String::from_utf8_lossy(&s.buf()[range])
                )),
                LineEvent::TooLong { line, offset, len } => {
                    out.push(format!("{line}@{offset}:TOO LONG {len}"))
                }
                LineEvent::ReadError { line, .. } => out.push(format!("{line}:ERR")),
                LineEvent::Full => panic!("not pinned"),
                LineEvent::End => return out,
            }
        }
    }

    struct OneByte(Vec<u8>, usize);
    impl Read for OneByte {
        fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
            if self.1 >= self.0.len() || buf.is_empty() {
                return Ok(0);
            }
            buf[0] = self.0[self.1];
            self.1 += 1;
            Ok(1)
        }
    }

    #[test]
    fn lines_offsets_and_limits() {
        let data = b"ab\r\n\ncdefgh\nij";
        for slow in [false, true] {
            assert_eq!(
                collect(data, 100, slow),
                ["1@0:ab", "2@4:", "3@5:cdefgh", "4@12:ij"]
            );
            assert_eq!(
                collect(data, 3, slow),
                ["1@0:ab\r", "2@4:", "3@5:TOO LONG 6", "4@12:ij"].map(|s| s.replace('\r', ""))
            );
        }
    }

    /// Pinned, with the buffer swapped whenever it is full: the same lines as unpinned, and the
    /// ranges handed out stay valid in the buffers given away.
    #[test]
    fn pinned_lines_stay_put_across_swaps() {
        let mut data = Vec::new();
        for i in 0..200 {
            data.extend_from_slice(format!("line {i} {}\r\n", "x".repeat(i % 37)).as_bytes());
            if i % 50 == 49 {
                data.extend_from_slice(&[b'y'; 90]); // over the limit below
                data.push(b'\n');
            }
        }
        data.extend_from_slice(b"last");
        for slow in [false, true] {
            let want = collect(&data, 80, slow);
            for cap in [1, 64, 100, 1000] {
                let inner: Box<dyn Read + Send> = if slow {
                    Box::new(OneByte(data.clone(), 0))
                } else {
                    Box::new(std::io::Cursor::new(data.clone()))
                };
                let mut s = LineSplitter::with_capacity(inner, 80, cap);
                s.set_pinned(true);
                // Lines still in the splitter's buffer (as ranges), or already written out.
                let mut pending: Vec<(String, Option<Range<usize>>)> = Vec::new();
                let mut got = Vec::new();
                let mut swaps = 0;
                let flush = |buf: Vec<u8>, pending: &mut Vec<(String, Option<Range<usize>>)>| {
                    pending
                        .drain(..)
                        .map(|(head, r)| match r {
                            Some(r) => format!("{head}{}", String::from_utf8_lossy(&buf[r])),
                            None => head,
                        })
                        .collect::<Vec<_>>()
                };
                loop {
                    match s.next_line() {
                        LineEvent::Line {
                            range,
                            line,
                            offset,
                        } => pending.push((format!("{line}@{offset}:"), Some(range))),
                        LineEvent::TooLong { line, offset, len } => {
                            pending.push((format!("{line}@{offset}:TOO LONG {len}"), None))
                        }
                        LineEvent::Full => {
                            swaps += 1;
                            let old = s.swap_buffer(vec![b'#'; 7]);
                            got.extend(flush(old, &mut pending));
                        }
                        LineEvent::ReadError { line, .. } => {
                            pending.push((format!("{line}:ERR"), None))
                        }
                        LineEvent::End => {
                            got.extend(flush(s.into_buffer(), &mut pending));
                            break;
                        }
                    }
                }
                assert_eq!(got, want, "cap {cap} slow {slow}");
                assert!(
                    cap == 1 || cap == 1000 || swaps > 10,
                    "cap {cap} slow {slow}: {swaps} swaps"
                );
            }
        }
    }

    #[test]
    fn long_line_is_skipped_with_bounded_buffer() {
        let mut data = vec![b'x'; 5 * CHUNK];
        data.extend_from_slice(b"\nok\n");
        let out = collect(&data, 1000, false);
        assert_eq!(
            out,
            [
                format!("1@0:TOO LONG {}", 5 * CHUNK),
                format!("2@{}:ok", 5 * CHUNK + 1)
            ]
        );
        // Unterminated huge last line.
        let out = collect(&vec![b'y'; 3 * CHUNK], 1000, false);
        assert_eq!(out, [format!("1@0:TOO LONG {}", 3 * CHUNK)]);
    }

    /// A byte-order mark at the start is not part of the first line; one elsewhere is left.
    #[test]
    fn next_line_skips_a_leading_bom() {
        for slow in [false, true] {
            assert_eq!(
                collect(b"\xef\xbb\xbfab\ncd\n", 100, slow),
                ["1@3:ab", "2@6:cd"]
            );
            assert_eq!(collect(b"\xef\xbb\xbf", 100, slow), Vec::<String>::new());
            // Found by the jsonl fuzz target: a BOM alone on the first line leaves it blank.
            assert_eq!(
                collect(b"\xef\xbb\xbf\n\0\0\0&\"", 100, slow),
                ["1@3:", "2@4:\0\0\0&\""]
            );
            assert_eq!(collect(b"\xef\xbb", 100, slow), ["1@0:\u{fffd}"]);
            assert_eq!(
                collect(b"a\n\xef\xbb\xbfb", 100, slow),
                ["1@0:a", "2@2:\u{feff}b"]
            );
        }
    }
}
