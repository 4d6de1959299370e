//! Readers for crawl files: WARC (1.0, 1.1 and the older 0.17 / 0.18), WET, ARC, and plain
//! `.html` / `.html.gz` pages.
//!
//! The WARC reader yields one [`Record`] per WARC record: HTML responses, resources and text
//! conversions become documents (decoded to UTF-8 with [`crate::charset`]); requests, metadata,
//! revisits and non-HTML payloads are skipped with a kind, so they are counted and not lost; a
//! malformed record becomes an error with its byte offset and the reader goes on with the next
//! record. Both gzip layouts (one gzip member per record, or the whole file as one member) are
//! read, as is an uncompressed file; the offsets are in the decompressed stream.

use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;

use flate2::read::{MultiGzDecoder, ZlibDecoder};
use serde_json::{Map, Value};
use thresher_core::{Document, SourcePos};

use crate::charset::{charset_param, decode_html};
use crate::{Record, RecordError};

/// Largest WARC or HTTP header block we accept; a longer one is garbage, not a header.
const MAX_HEADER_BYTES: usize = 64 * 1024;
/// Default largest record block (and decoded HTTP body) kept in memory; larger ones are skipped
/// with an error instead of risking an out-of-memory.
pub const DEFAULT_MAX_RECORD_BYTES: u64 = 64 * 1024 * 1024;

/// Reads WARC, WET and ARC files (plain, gzip per record or gzip as a whole) record by record.
///
/// ```no_run
/// use std::sync::Arc;
/// use thresher_io::{Record, WarcReader};
/// let file = std::fs::File::open("crawl.warc.gz").unwrap();
/// for rec in WarcReader::new(file, Arc::from("crawl.warc.gz")) {
///     if let Record::Doc(doc) = rec {
///         println!("{} {}", doc.id, doc.metadata["url"]);
///     }
/// }
/// ```
pub struct WarcReader<R: Read> {
    input: Counting<Source<R>>,
    file: Arc<str>,
    max_record_bytes: u64,
    /// Set after a fatal error of the byte stream (truncated gzip, I/O error): nothing more can
    /// be read.
    done: bool,
    /// The file turned out to be ARC; `None` until the first record is seen.
    arc: Option<bool>,
    /// Offset of a `WARC/` version line already read into `line` by [`Self::resync`].
    pending: Option<u64>,
    /// For a byte range of an uncompressed file: the offset of the next range's first record.
    /// A record that starts there or later is the next range's (see [`crate::warc_range`]).
    stop_at: Option<u64>,
    line: Vec<u8>,
    block: Vec<u8>,
}

/// The byte source: plain or gunzipped (member after member, so both gzip layouts work).
enum Source<R: Read> {
    Plain(BufReader<R>),
    Gzip(Box<GzSource<R>>),
}

/// The decompressed bytes of a gzip stream. They stop at a gap (see [`GzMembers`]) until it
/// is taken: a record cut by corrupt data is not completed with the bytes after it.
struct GzSource<R: Read> {
    r: BufReader<GzMembers<R>>,
    /// Decompressed bytes consumed.
    consumed: u64,
}

impl<R: Read> Source<R> {
    /// The next gap of the compressed stream at or before decompressed offset `upto`.
    fn take_gap(&mut self, upto: u64) -> Option<Gap> {
        match self {
            Source::Plain(_) => None,
            Source::Gzip(g) => {
                let gaps = &mut g.r.get_mut().gaps;
                if gaps.front()?.at <= upto {
                    gaps.pop_front()
                } else {
                    None
                }
            }
        }
    }

    /// Whether bytes before decompressed offset `end` came from a corrupt gzip member.
    fn suspect_before(&self, end: u64) -> bool {
        match self {
            Source::Plain(_) => false,
            Source::Gzip(g) => {
                let m = g.r.get_ref();
                m.failed_from.is_some_and(|s| s < end)
                    || m.gaps
                        .iter()
                        .any(|gap| gap.suspect_from.is_some_and(|s| s < end))
            }
        }
    }

    /// Whether a gap is still to be taken.
    fn has_gap(&self) -> bool {
        match self {
            Source::Plain(_) => false,
            Source::Gzip(g) => !g.r.get_ref().gaps.is_empty(),
        }
    }
}

impl<R: Read> Read for Source<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        match self {
            Source::Plain(r) => r.read(buf),
            Source::Gzip(_) => read_buffered(self, buf),
        }
    }
}

impl<R: Read> BufRead for Source<R> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        match self {
            Source::Plain(r) => r.fill_buf(),
            Source::Gzip(g) => {
                g.r.fill_buf()?;
                // Read after the fill, which may have found a gap before the bytes it gave.
                let room = match g.r.get_ref().gaps.front() {
                    Some(gap) => {
                        usize::try_from(gap.at.saturating_sub(g.consumed)).unwrap_or(usize::MAX)
                    }
                    None => usize::MAX,
                };
                let buf = g.r.buffer();
                Ok(&buf[..buf.len().min(room)])
            }
        }
    }
    fn consume(&mut self, n: usize) {
        match self {
            Source::Plain(r) => r.consume(n),
            Source::Gzip(g) => {
                g.r.consume(n);
                g.consumed += n as u64;
            }
        }
    }
}

/// The start of a gzip member: magic and the deflate method.
const GZIP_MAGIC: [u8; 3] = [0x1f, 0x8b, 0x08];

/// Bytes of the compressed stream that are not a gzip member, skipped.
struct Gap {
    /// Decompressed offset where they were (the records before it come first).
    at: u64,
    /// For a corrupt member, the decompressed offset where its output began: the bytes from
    /// there to `at` are not to be trusted.
    suspect_from: Option<u64>,
    message: String,
}

/// The members of a gzip stream, decoded one after the other (per-record gzip has one member
/// per record). Unlike flate2's `MultiGzDecoder`, bytes that are not a member (garbage between
/// members, a corrupt member followed by good ones) do not end the stream: they are skipped to
/// the next gzip header (1f 8b 08) and noted as a [`Gap`], which the WARC reader reports as an
/// error record in its place. Only when no member follows is the error the stream's.
struct GzMembers<R: Read> {
    state: Members<R>,
    /// Decompressed bytes produced so far.
    out: u64,
    gaps: std::collections::VecDeque<Gap>,
    /// The last member's tape, cleared, for the next one.
    spare_tape: Vec<u8>,
    /// Set when the stream ended on a corrupt member (not merely cut short): where its output
    /// began. Bytes from there are not to be trusted.
    failed_from: Option<u64>,
    /// For a byte range of the file: the compressed offset of the next range's first member.
    /// The stream ends between members once this offset is reached.
    stop_at: Option<u64>,
}

enum Members<R: Read> {
    /// Inside the member that starts at this compressed offset, whose output starts at this
    /// decompressed one.
    In(
        Box<flate2::bufread::GzDecoder<Counting<BufReader<R>>>>,
        u64,
        u64,
    ),
    /// Between members (or before the first).
    Between(Counting<BufReader<R>>),
    Done,
}

impl<R: Read> GzMembers<R> {
    /// Members read from compressed offset `start` (a member's first byte, where `inner`
    /// is), whose output begins at decompressed offset `out`, up to compressed offset `stop`.
    fn at(inner: BufReader<R>, start: u64, out: u64, stop: Option<u64>) -> Self {
        let mut inner = Counting::new(inner);
        inner.pos = start;
        GzMembers {
            state: Members::Between(inner),
            out,
            gaps: Default::default(),
            spare_tape: Vec::new(),
            failed_from: None,
            stop_at: stop,
        }
    }

    /// Consumes bytes up to the next gzip header; returns whether there is one.
    fn skip_to_member(inner: &mut Counting<BufReader<R>>) -> io::Result<bool> {
        loop {
            let buf = inner.fill_at_least(GZIP_MAGIC.len());
            if buf.len() < GZIP_MAGIC.len() {
                let n = buf.len();
                inner.consume(n);
                return match inner.err.take() {
                    Some(e) => Err(e),
                    None => Ok(false),
                };
            }
            if let Some(i) = memchr::memmem::find(buf, &GZIP_MAGIC) {
                inner.consume(i);
                return Ok(true);
            }
            // The last bytes may be the start of a header cut by the buffer's end.
            let n = buf.len() + 1 - GZIP_MAGIC.len();
            inner.consume(n);
        }
    }
}

impl<R: Read> Read for GzMembers<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if buf.is_empty() {
            return Ok(0);
        }
        loop {
            match std::mem::replace(&mut self.state, Members::Done) {
                Members::Done => return Ok(0),
                Members::In(mut dec, start, out_start) => match dec.read(buf) {
                    Ok(0) => {
                        let mut inner = dec.into_inner();
                        if let Some(mut tape) = inner.tape.take() {
                            tape.clear();
                            self.spare_tape = tape;
                        }
                        self.state = Members::Between(inner);
                    }
                    Ok(n) => {
                        self.out += n as u64;
                        self.state = Members::In(dec, start, out_start);
                        return Ok(n);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {
                        self.state = Members::In(dec, start, out_start);
                    }
                    Err(e) => {
                        let mut inner = dec.into_inner();
                        // The decoder may have read past the next member's header, taking it
                        // for more of this one: look for it again in this member's bytes.
                        let tape = inner.tape.take().unwrap_or_default();
                        let again = tape
                            .get(1..)
                            .and_then(|t| memchr::memmem::find(t, &GZIP_MAGIC));
                        if let Some(i) = again {
                            inner.unread(&tape[i + 1..]);
                        } else {
                            // A header may start in the last bytes consumed.
                            let keep = tape.len().saturating_sub(1).min(GZIP_MAGIC.len() - 1);
                            inner.unread(&tape[tape.len() - keep..]);
                            if inner.pos <= start {
                                // Not this header again.
                                let n = inner.fill_at_least(1).len().min(1);
                                inner.consume(n);
                            }
                            if !matches!(Self::skip_to_member(&mut inner), Ok(true)) {
                                // Corrupt or cut to the end: the stream's error. What a cut
                                // member gave is good (a prefix); a corrupt one's is not.
                                if e.kind() != io::ErrorKind::UnexpectedEof {
                                    self.failed_from = Some(out_start);
                                }
                                return Err(e);
                            }
                        }
                        self.gaps.push_back(Gap {
                            at: self.out,
                            suspect_from: Some(out_start),
                            message: format!(
                                "corrupt gzip member at compressed offset {start} ({e}); \
                                 skipped {} bytes to the next member",
                                inner.pos - start
                            ),
                        });
                        self.state = Members::Between(inner);
                    }
                },
                Members::Between(mut inner) => {
                    if self.stop_at.is_some_and(|s| inner.pos >= s) {
                        return Ok(0);
                    }
                    let head = inner.fill_at_least(2);
                    if head.is_empty() {
                        return match inner.err.take() {
                            Some(e) => Err(e),
                            None => Ok(0),
                        };
                    }
                    if head.starts_with(&GZIP_MAGIC[..2]) {
                        let start = inner.pos;
                        inner.tape = Some(std::mem::take(&mut self.spare_tape));
                        let dec = flate2::bufread::GzDecoder::new(inner);
                        self.state = Members::In(Box::new(dec), start, self.out);
                        continue;
                    }
                    let from = inner.pos;
                    let found = Self::skip_to_member(&mut inner)?;
                    let n = inner.pos - from;
                    self.gaps.push_back(Gap {
                        at: self.out,
                        suspect_from: None,
                        message: if found {
                            format!(
                                "{n} bytes of garbage between gzip members at compressed \
                                 offset {from}; skipped to the next member"
                            )
                        } else {
                            format!(
                                "{n} bytes of garbage after the last gzip member at \
                                 compressed offset {from}"
                            )
                        },
                    });
                    if found {
                        self.state = Members::Between(inner);
                    }
                }
            }
        }
    }
}

/// The decompressed bytes a reader of the whole file gets from the gzip members between
/// compressed offsets `from` (a member's first byte) and `to` (the next range's first
/// member): `data` is the whole file. For a member whose size its trailer does not vouch for
/// (see [`crate::warc_range`]): a corrupt member's output counts up to where it fails.
pub(crate) fn gzip_output_len(data: &[u8], from: u64, to: u64) -> u64 {
    let Some(bytes) = usize::try_from(from).ok().and_then(|f| data.get(f..)) else {
        return 0;
    };
    let mut m = GzMembers::at(BufReader::new(bytes), from, 0, Some(to));
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        match m.read(&mut buf) {
            Ok(0) | Err(_) => return m.out,
            Ok(_) => {}
        }
    }
}

/// A buffered reader that counts the bytes consumed, so every record knows its offset. It can
/// look ahead past what it has consumed ([`Counting::fill_at_least`]) and take bytes back
/// ([`Counting::unread`]): the WARC reader checks what follows a record's block, and re-reads
/// the part of a block that turns out to be the next record when a Content-Length is wrong.
struct Counting<B> {
    inner: B,
    pos: u64,
    /// Bytes to read before `inner`'s: `back[at..]` (given back, or pulled ahead of `inner`).
    back: Vec<u8>,
    at: usize,
    /// An error of `inner` met while looking ahead, returned when `back` has been read.
    err: Option<io::Error>,
    /// When set, the bytes consumed are copied here too (up to [`TAPE_MAX`] bytes, then it is
    /// dropped): the compressed bytes of the current gzip member, searched again for the next
    /// member's header when this one turns out corrupt.
    tape: Option<Vec<u8>>,
}

/// The most compressed bytes of one gzip member kept to search again (per-record members are
/// far smaller; a whole-file member is not kept).
const TAPE_MAX: usize = 16 << 20;

impl<B: BufRead> Read for Counting<B> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.at == self.back.len() && self.err.is_none() {
            // Straight from `inner` (a large read skips its buffer).
            let n = self.inner.read(buf)?;
            self.pos += n as u64;
            self.record(&buf[..n]);
            return Ok(n);
        }
        read_buffered(self, buf)
    }
}

/// `Read::read` for a reader whose bytes come from its own `BufRead` buffer.
fn read_buffered(r: &mut impl BufRead, buf: &mut [u8]) -> io::Result<usize> {
    let avail = r.fill_buf()?;
    let n = avail.len().min(buf.len());
    buf[..n].copy_from_slice(&avail[..n]);
    r.consume(n);
    Ok(n)
}

impl<B: BufRead> BufRead for Counting<B> {
    fn fill_buf(&mut self) -> io::Result<&[u8]> {
        if self.at < self.back.len() {
            return Ok(&self.back[self.at..]);
        }
        if let Some(e) = self.err.take() {
            return Err(e);
        }
        self.inner.fill_buf()
    }

    fn consume(&mut self, n: usize) {
        let from_back = n.min(self.back.len() - self.at);
        if let Some(tape) = self.tape.as_mut() {
            tape.extend_from_slice(&self.back[self.at..self.at + from_back]);
            if n > from_back {
                // The bytes `fill_buf` just gave (a `BufReader` returns its buffer again).
                if let Ok(b) = self.inner.fill_buf() {
                    tape.extend_from_slice(&b[..(n - from_back).min(b.len())]);
                }
            }
            if tape.len() > TAPE_MAX {
                self.tape = None;
            }
        }
        self.at += from_back;
        if self.at == self.back.len() {
            self.back.clear();
            self.at = 0;
        }
        if n > from_back {
            self.inner.consume(n - from_back);
        }
        self.pos += n as u64;
    }
}

impl<B: BufRead> Counting<B> {
    fn new(inner: B) -> Self {
        Counting {
            inner,
            pos: 0,
            back: Vec::new(),
            at: 0,
            err: None,
            tape: None,
        }
    }

    /// Copies `bytes`, just consumed, to the tape if there is one.
    fn record(&mut self, bytes: &[u8]) {
        if let Some(tape) = self.tape.as_mut() {
            tape.extend_from_slice(bytes);
            if tape.len() > TAPE_MAX {
                self.tape = None;
            }
        }
    }

    /// The next bytes without consuming them: at least `n` unless the input ends (or fails:
    /// the error is kept for the next read) before.
    fn fill_at_least(&mut self, n: usize) -> &[u8] {
        if self.back.len() - self.at < n && self.err.is_none() {
            let direct = self.at == self.back.len()
                && matches!(self.inner.fill_buf(), Ok(b) if b.len() >= n);
            if direct {
                // `inner`'s buffer holds enough: no copy.
                return self.inner.fill_buf().unwrap_or_default();
            }
            self.back.drain(..self.at);
            self.at = 0;
            while self.back.len() < n {
                match self.inner.fill_buf() {
                    Ok([]) => break,
                    Ok(b) => {
                        let k = b.len().min(n - self.back.len());
                        self.back.extend_from_slice(&b[..k]);
                        self.inner.consume(k);
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) => {
                        self.err = Some(e);
                        break;
                    }
                }
            }
        }
        &self.back[self.at..]
    }

    /// Gives back the last bytes consumed, `bytes`: they are read again next.
    fn unread(&mut self, bytes: &[u8]) {
        let mut back = Vec::with_capacity(bytes.len() + self.back.len() - self.at);
        back.extend_from_slice(bytes);
        back.extend_from_slice(&self.back[self.at..]);
        self.back = back;
        self.at = 0;
        self.pos -= bytes.len() as u64;
    }

    /// Reads one line (up to and including `\n`) into `out`, at most `max` bytes. Returns the
    /// number of bytes read (0 at end of input); `Err(InvalidData)` when the line is longer.
    fn read_line(&mut self, out: &mut Vec<u8>, max: usize) -> io::Result<usize> {
        out.clear();
        loop {
            let buf = match self.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            };
            if buf.is_empty() {
                return Ok(out.len());
            }
            let (take, found) = match memchr::memchr(b'\n', buf) {
                Some(i) => (i + 1, true),
                None => (buf.len(), false),
            };
            let room = max.saturating_sub(out.len());
            if take > room {
                let n = room;
                out.extend_from_slice(&buf[..n]);
                self.consume(n);
                return Err(io::Error::new(io::ErrorKind::InvalidData, "line too long"));
            }
            out.extend_from_slice(&buf[..take]);
            self.consume(take);
            if found {
                return Ok(out.len());
            }
        }
    }

    /// Reads up to `n` bytes into `out`; returns how many were read (fewer at end of input).
    fn read_block(&mut self, n: u64, out: &mut Vec<u8>) -> io::Result<u64> {
        out.clear();
        self.append_block(n, out)
    }

    /// Reads up to `n` bytes at the end of `out`; returns how many were read.
    fn append_block(&mut self, n: u64, out: &mut Vec<u8>) -> io::Result<u64> {
        Ok(self.by_ref().take(n).read_to_end(out)? as u64)
    }

    /// Skips up to `n` bytes; returns how many were skipped.
    fn skip(&mut self, n: u64) -> io::Result<u64> {
        io::copy(&mut self.by_ref().take(n), &mut io::sink())
    }

    /// The next byte without consuming it.
    fn peek(&mut self) -> io::Result<Option<u8>> {
        Ok(self.fill_buf()?.first().copied())
    }
}

/// The parsed header block of one WARC record: `(name, value)` pairs in order.
struct Headers(Vec<(String, String)>);

impl Headers {
    fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }
}

impl<R: Read> WarcReader<R> {
    /// A reader over `reader` (gzip is detected from the magic bytes); `file` is the name that
    /// goes into every record's [`SourcePos`].
    pub fn new(reader: R, file: Arc<str>) -> Self {
        Self::at(reader, file, crate::warc_range::Span::whole())
    }

    /// A reader of one byte range of a file (see [`crate::warc_range::Span`]): `reader` is at
    /// file offset `span.start`, a record's first byte (uncompressed) or a gzip member's.
    /// The records' offsets are those of a reader of the whole file.
    pub(crate) fn at(reader: R, file: Arc<str>, span: crate::warc_range::Span) -> Self {
        let mut buf = BufReader::with_capacity(64 * 1024, reader);
        let gz = matches!(buf.fill_buf(), Ok(b) if b.starts_with(&[0x1f, 0x8b]));
        let (source, stop_at) = if gz {
            let members = GzMembers::at(buf, span.start, span.out_start, span.stop);
            let source = Source::Gzip(Box::new(GzSource {
                r: BufReader::with_capacity(64 * 1024, members),
                consumed: span.out_start,
            }));
            (source, None)
        } else {
            (Source::Plain(buf), span.stop)
        };
        let mut input = Counting::new(source);
        input.pos = span.out_start;
        WarcReader {
            input,
            file,
            max_record_bytes: DEFAULT_MAX_RECORD_BYTES,
            done: false,
            arc: None,
            pending: None,
            stop_at,
            line: Vec::new(),
            block: Vec::new(),
        }
    }

    /// Sets the largest record block (and decoded HTTP body) read into memory; larger records
    /// are skipped with an error.
    pub fn with_max_record_bytes(mut self, max: u64) -> Self {
        self.max_record_bytes = max;
        self
    }

    fn pos(&self, offset: u64) -> SourcePos {
        SourcePos {
            file: self.file.clone(),
            line: 0,
            byte_offset: offset,
        }
    }

    fn error(&self, offset: u64, message: impl Into<String>, id: &str) -> Record {
        Record::Error(RecordError {
            source: self.pos(offset),
            message: message.into(),
            id: id.to_string(),
        })
    }

    /// Whether the input is over, once a read found no more bytes: not so at a gap of the
    /// gzip stream (its bytes stop there until the gap is reported).
    fn at_end(&mut self) -> bool {
        !self.input.inner.has_gap()
    }

    /// A fatal stream error: report it and stop.
    fn fatal(&mut self, offset: u64, what: &str, e: &io::Error) -> Record {
        self.done = true;
        self.error(offset, format!("{what}: {e}"), "")
    }

    /// Skips blank lines; returns the first non-blank line (in `self.line`) and its offset, or
    /// `None` at the end of input.
    fn next_line(&mut self) -> Result<Option<u64>, Box<Record>> {
        loop {
            let at = self.input.pos;
            match self.input.read_line(&mut self.line, MAX_HEADER_BYTES) {
                Ok(0) => return Ok(None),
                Ok(_) => {
                    if self.line.iter().all(u8::is_ascii_whitespace) {
                        continue;
                    }
                    return Ok(Some(at));
                }
                Err(e) if e.kind() == io::ErrorKind::InvalidData => return Ok(Some(at)),
                Err(e) => return Err(Box::new(self.fatal(at, "read error", &e))),
            }
        }
    }

    fn read_one(&mut self) -> Option<Record> {
        if self.pending.is_none() && !self.done {
            match self.next_line() {
                Ok(Some(at)) => self.pending = Some(at),
                Ok(None) => self.done = self.at_end(), // else the gap comes next
                Err(rec) => return Some(*rec),
            }
        }
        // Garbage skipped in the compressed stream comes out in its place among the records
        // (all of it once the input is done).
        if let Some(gap) = self.input.inner.take_gap(self.pending.unwrap_or(u64::MAX)) {
            return Some(self.error(gap.at, gap.message, ""));
        }
        let start = self.pending.take()?;
        if self.stop_at.is_some_and(|s| start >= s) {
            // The next range's first record (uncompressed files; a gzip range ends in
            // `GzMembers`).
            self.done = true;
            return None;
        }
        if self.arc.is_none() {
            let is_arc = !self.line.starts_with(b"WARC/") && self.line.starts_with(b"filedesc:");
            self.arc = Some(is_arc);
        }
        if self.arc == Some(true) {
            return Some(self.read_arc(start));
        }
        if !self.line.starts_with(b"WARC/") {
            return Some(self.resync(start));
        }
        Some(self.read_warc(start))
    }

    /// Skips junk up to the next line that starts a WARC record (left pending in `line`), and
    /// reports the junk as one error.
    fn resync(&mut self, start: u64) -> Record {
        loop {
            let at = self.input.pos;
            match self.input.read_line(&mut self.line, MAX_HEADER_BYTES) {
                Ok(0) => {
                    self.done = self.at_end();
                    break;
                }
                Ok(_) if self.line.starts_with(b"WARC/") => {
                    self.pending = Some(at);
                    break;
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {}
                Err(e) => return self.fatal(at, "read error", &e),
            }
        }
        self.error(
            start,
            "junk where a WARC record was expected (no 'WARC/' version line); skipped to the next record",
            "",
        )
    }

    /// Reads header lines (after the first line, already consumed) up to the blank line.
    fn read_header_block(&mut self) -> Result<Headers, String> {
        let mut headers: Vec<(String, String)> = Vec::new();
        let mut total = 0usize;
        loop {
            let n = match self.input.read_line(&mut self.line, MAX_HEADER_BYTES) {
                Ok(0) => return Err("end of input inside the header block".into()),
                Ok(n) => n,
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {
                    return Err("header line too long".into())
                }
                Err(e) => return Err(format!("read error in the header block: {e}")),
            };
            total += n;
            if total > MAX_HEADER_BYTES {
                return Err("header block too long".into());
            }
            if !self.line.ends_with(b"\n") {
                return Err("end of input inside the header block".into());
            }
            let line = trim_eol(&self.line);
            if line.is_empty() {
                return Ok(Headers(headers));
            }
            let text = String::from_utf8_lossy(line);
            if line[0] == b' ' || line[0] == b'\t' {
                // A folded continuation of the previous header's value.
                if let Some(last) = headers.last_mut() {
                    last.1.push(' ');
                    last.1.push_str(text.trim());
                }
                continue;
            }
            if let Some((k, v)) = text.split_once(':') {
                headers.push((k.trim().to_string(), v.trim().to_string()));
            }
            // A line without a colon is ignored: some writers emit stray lines, and dropping the
            // whole record for them loses good data.
        }
    }

    fn read_warc(&mut self, start: u64) -> Record {
        let headers = if self.line.ends_with(b"\n") {
            self.read_header_block()
        } else {
            Err("end of input inside the header block".into())
        };
        let headers = match headers {
            Ok(h) => h,
            Err(msg) => {
                if self.input.peek().ok().flatten().is_none() {
                    self.done = self.at_end();
                }
                return self.error(start, format!("malformed WARC header: {msg}"), "");
            }
        };
        let id = headers
            .get("WARC-Record-ID")
            .map(|v| v.trim_matches(|c| c == '<' || c == '>').to_string())
            .unwrap_or_default();
        let Some(len) = headers
            .get("Content-Length")
            .and_then(|v| v.trim().parse::<u64>().ok())
        else {
            // Without a length the end of the block is unknown: look for the next record.
            let rec = self.error(start, "WARC record without a valid Content-Length", &id);
            let _ = self.skip_to_next_version_line();
            return rec;
        };
        if len > self.max_record_bytes {
            return self.skip_over_limit(start, len, &id);
        }
        let mut block = std::mem::take(&mut self.block);
        let got = match self.input.read_block(len, &mut block) {
            Ok(g) => g,
            Err(e) => {
                self.block = block;
                return self.fatal(
                    start,
                    &format!("read error (truncated or corrupt compressed data?) in record {id}"),
                    &e,
                );
            }
        };
        let rec = if got == len
            && self.block_end_ok(&block)
            && !ends_with_inner_record(&block, self.blank_line_next())
        {
            // Looking past the block made the decoder finish (and check) its gzip member.
            if self.input.inner.suspect_before(self.input.pos) {
                self.error(
                    start,
                    "record in a corrupt gzip member (see the next error); not kept",
                    &id,
                )
            } else {
                self.warc_payload(start, &headers, &block, id)
            }
        } else {
            self.bad_length(start, len, &block, &id)
        };
        self.block = block;
        rec
    }

    /// Whether the bytes after a record's block (`block`) end it, so that its Content-Length
    /// is right: a blank line (CRLF CRLF, or LF LF), or, leniently, at most four line-end bytes
    /// and then the next record or the end of input. A blank line followed by something else
    /// does not vouch for a block that holds the start of a record itself (the length ran into
    /// the next record and happens to stop at its header's blank line).
    fn block_end_ok(&mut self, block: &[u8]) -> bool {
        let next = self.input.fill_at_least(9);
        // Fewer than 9 bytes: the input ends there (or fails, which the next read reports).
        let at_end = next.len() < 9;
        let next_record = |rest: &[u8]| rest.starts_with(b"WARC/") || (rest.is_empty() && at_end);
        for t in [&b"\r\n\r\n"[..], b"\n\n", b"\r\n\n", b"\n\r\n"] {
            if let Some(after) = next.strip_prefix(t) {
                return next_record(after)
                    || matches!(after.first(), Some(b'\r' | b'\n'))
                    || next_record_in(block, false).is_none();
            }
        }
        let eol = next
            .iter()
            .take(4)
            .take_while(|b| matches!(b, b'\r' | b'\n'))
            .count();
        // (No line end at all is seen in the wild: ia-web-commons counts the blank line in
        // the warcinfo record's length.)
        next_record(&next[eol..])
    }

    /// Whether a line end comes next (not the end of input, nor a record right away).
    fn blank_line_next(&mut self) -> bool {
        matches!(self.input.fill_at_least(1).first(), Some(b'\r' | b'\n'))
    }

    /// A record whose block does not end where its Content-Length says is an error, and the
    /// reader goes on with the next record: the first one inside the bytes read (the length
    /// was too large: they are read again), else the first version line after them (too
    /// small).
    fn bad_length(&mut self, start: u64, len: u64, block: &[u8], id: &str) -> Record {
        let got = block.len() as u64;
        if let Some(p) = self.record_start_in(block, true) {
            self.input.unread(&block[p..]);
            return self.error(
                start,
                format!(
                    "wrong Content-Length {len}: the next record starts {p} bytes into the \
                     block; skipped to it"
                ),
                id,
            );
        }
        if got < len {
            self.done = self.at_end();
            return self.error(
                start,
                format!(
                    "truncated record: Content-Length {len} but only {got} bytes before the end \
                     of the input (or of its readable gzip data)"
                ),
                id,
            );
        }
        let rec = self.error(
            start,
            format!(
                "wrong Content-Length {len}: no blank line after the block (the record is \
                 longer); skipped to the next record"
            ),
            id,
        );
        let _ = self.skip_to_next_version_line();
        rec
    }

    /// Where a record starts in `block` (just read; see [`next_record_in`]), its version line
    /// possibly cut by the block's end (`...\r\n\r\nWA` then `RC/1.1`).
    fn record_start_in(&mut self, block: &[u8], at_start: bool) -> Option<usize> {
        next_record_in(block, at_start).or_else(|| {
            let from = block.len().saturating_sub(8);
            let mut joined = block[from..].to_vec();
            joined.extend_from_slice(self.input.fill_at_least(8));
            next_record_in(&joined, at_start && from == 0)
                .map(|q| from + q)
                .filter(|&p| p < block.len())
        })
    }

    /// Skips the block of a record over the size limit without holding it. A record that
    /// starts inside the declared length (a version line after a blank line) ends the skip: a
    /// wrong length such as 10^15 must not swallow the records after it. (A real record over
    /// the limit with such a line in its block, an archived WARC file, is cut there; its rest
    /// is read as records or junk, still counted.)
    fn skip_over_limit(&mut self, start: u64, len: u64, id: &str) -> Record {
        const WINDOW: u64 = 1 << 20;
        // Kept from one window to the next: a version line cut by a window's end is found.
        const KEEP: usize = 16;
        let mut buf = std::mem::take(&mut self.block);
        buf.clear();
        let mut skipped = 0u64;
        let mut found = None;
        while skipped < len {
            buf.drain(..buf.len().saturating_sub(KEEP));
            let want = WINDOW.min(len - skipped);
            let got = match self.input.append_block(want, &mut buf) {
                Ok(g) => g,
                Err(e) => {
                    self.block = buf;
                    return self.fatal(start, "read error", &e);
                }
            };
            skipped += got;
            let found_here = if skipped == len {
                self.record_start_in(&buf, skipped == got)
            } else {
                next_record_in(&buf, skipped == got)
            };
            if let Some(p) = found_here {
                found = Some(p);
                break;
            }
            if got < want {
                break; // end of input
            }
        }
        let limit = self.max_record_bytes;
        let rec = match found {
            Some(p) => {
                let into = skipped - (buf.len() - p) as u64;
                self.input.unread(&buf[p..]);
                self.error(
                    start,
                    format!(
                        "wrong Content-Length {len} (over the limit of {limit} bytes): the \
                         next record starts {into} bytes into the block; skipped to it"
                    ),
                    id,
                )
            }
            None if skipped < len => {
                self.done = self.at_end();
                self.error(
                    start,
                    format!(
                        "truncated record: Content-Length {len} (over the limit of {limit} \
                         bytes) but only {skipped} bytes before end of input"
                    ),
                    id,
                )
            }
            None if self.block_end_ok(&[]) => self.error(
                start,
                format!("record block of {len} bytes is over the limit of {limit} bytes; skipped"),
                id,
            ),
            None => {
                let rec = self.error(
                    start,
                    format!(
                        "wrong Content-Length {len} (over the limit of {limit} bytes): no \
                         blank line after the block; skipped to the next record"
                    ),
                    id,
                );
                let _ = self.skip_to_next_version_line();
                rec
            }
        };
        buf.clear();
        self.block = buf;
        rec
    }

    /// Skips to the next `WARC/` line (left pending), for records whose end is unknown.
    fn skip_to_next_version_line(&mut self) -> io::Result<()> {
        loop {
            let at = self.input.pos;
            match self.input.read_line(&mut self.line, MAX_HEADER_BYTES) {
                Ok(0) => {
                    self.done = self.at_end();
                    return Ok(());
                }
                Ok(_) if self.line.starts_with(b"WARC/") => {
                    self.pending = Some(at);
                    return Ok(());
                }
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::InvalidData => {}
                Err(e) => {
                    self.done = true;
                    return Err(e);
                }
            }
        }
    }

    /// Turns a complete WARC record into a document, a skip or an error.
    fn warc_payload(&self, start: u64, headers: &Headers, block: &[u8], id: String) -> Record {
        let wtype = headers.get("WARC-Type").unwrap_or("").to_ascii_lowercase();
        let ctype = headers.get("Content-Type").unwrap_or("");
        let mut meta = Map::new();
        if let Some(u) = headers.get("WARC-Target-URI") {
            // wget writes the URI in angle brackets.
            let u = u.trim().trim_start_matches('<').trim_end_matches('>');
            meta.insert("url".into(), Value::from(u));
        }
        if let Some(d) = headers.get("WARC-Date") {
            meta.insert("date".into(), Value::from(d));
        }
        meta.insert("warc_record_id".into(), Value::from(id.as_str()));
        meta.insert("warc_type".into(), Value::from(wtype.as_str()));
        let payload = match wtype.as_str() {
            "response" if mime_of(ctype).starts_with("application/http") => {
                match parse_http(block, self.max_record_bytes) {
                    Ok(h) => h,
                    Err(msg) => return self.error(start, format!("bad HTTP response: {msg}"), &id),
                }
            }
            "response" | "resource" | "conversion" => Payload {
                status: None,
                content_type: ctype.to_string(),
                body: std::borrow::Cow::Borrowed(block),
            },
            "" => return self.error(start, "WARC record without WARC-Type", &id),
            other => {
                return Record::Skipped {
                    source: self.pos(start),
                    kind: format!("warc_{}", sanitize_kind(other)),
                }
            }
        };
        let doc_id = if id.is_empty() {
            format!("{}@{start}", self.file)
        } else {
            id
        };
        self.payload_record(start, payload, doc_id, meta, wtype == "conversion")
    }

    /// Classifies a payload (HTML, plain text of a WET conversion, or other) into a record.
    fn payload_record(
        &self,
        start: u64,
        payload: Payload<'_>,
        id: String,
        mut meta: Map<String, Value>,
        text_ok: bool,
    ) -> Record {
        if let Some(s) = payload.status {
            meta.insert("http_status".into(), Value::from(s));
            if !(200..300).contains(&s) {
                return Record::Skipped {
                    source: self.pos(start),
                    kind: format!("http_status:{s}"),
                };
            }
        }
        let mime = mime_of(&payload.content_type);
        let is_html = matches!(mime.as_str(), "text/html" | "application/xhtml+xml")
            || ((mime.is_empty()
                || mime == "application/octet-stream"
                || mime == "unknown"
                || mime == "text/plain" && !text_ok)
                && looks_like_html(&payload.body));
        let is_text = text_ok && mime == "text/plain";
        if !is_html && !is_text {
            let kind = if mime.is_empty() {
                "unknown"
            } else {
                mime.as_str()
            };
            return Record::Skipped {
                source: self.pos(start),
                kind: format!("non_html:{}", sanitize_kind(kind)),
            };
        }
        let decoded = decode_html(&payload.body, charset_param(&payload.content_type));
        meta.insert(
            "content_type".into(),
            Value::from(if is_html { "text/html" } else { "text/plain" }),
        );
        meta.insert("charset".into(), Value::from(decoded.encoding));
        let mut doc = Document::new(id, decoded.text);
        doc.source = self.pos(start);
        doc.metadata = meta;
        Record::Doc(doc)
    }

    /// Reads one ARC record; `line` holds its header line.
    fn read_arc(&mut self, start: u64) -> Record {
        let header = String::from_utf8_lossy(trim_eol(&self.line)).into_owned();
        let fields: Vec<&str> = header.split_whitespace().collect();
        let len = fields.last().and_then(|l| l.parse::<u64>().ok());
        let (Some(len), true) = (len, fields.len() >= 5) else {
            return self.error(
                start,
                format!("malformed ARC header line: {:.200}", header),
                "",
            );
        };
        let url = fields[0].to_string();
        if len > self.max_record_bytes {
            match self.input.skip(len) {
                Ok(got) if got < len => self.done = self.at_end(),
                Ok(_) => {}
                Err(e) => return self.fatal(start, "read error", &e),
            }
            return self.error(
                start,
                format!("ARC record of {len} bytes is over the limit"),
                &url,
            );
        }
        let mut block = std::mem::take(&mut self.block);
        let got = match self.input.read_block(len, &mut block) {
            Ok(g) => g,
            Err(e) => {
                self.block = block;
                return self.fatal(
                    start,
                    "read error (truncated or corrupt compressed data?)",
                    &e,
                );
            }
        };
        let rec = if got < len {
            self.done = self.at_end();
            self.error(
                start,
                format!("truncated ARC record: length {len}, {got} bytes read"),
                &url,
            )
        } else if url.starts_with("filedesc:") {
            Record::Skipped {
                source: self.pos(start),
                kind: "arc_filedesc".into(),
            }
        } else {
            let mut meta = Map::new();
            meta.insert("url".into(), Value::from(url.as_str()));
            if let Some(d) = fields.get(2) {
                meta.insert("date".into(), Value::from(*d));
            }
            let payload = if block.starts_with(b"HTTP/") {
                parse_http(&block, self.max_record_bytes)
            } else {
                Ok(Payload {
                    status: None,
                    content_type: fields.get(3).map_or(String::new(), |s| (*s).to_string()),
                    body: std::borrow::Cow::Borrowed(&block[..]),
                })
            };
            match payload {
                Ok(p) => {
                    let id = format!("{url} {}", fields.get(2).unwrap_or(&""));
                    self.payload_record(start, p, id, meta, false)
                }
                Err(msg) => self.error(start, format!("bad HTTP response: {msg}"), &url),
            }
        };
        self.block = block;
        rec
    }
}

impl<R: Read> Iterator for WarcReader<R> {
    type Item = Record;

    fn next(&mut self) -> Option<Record> {
        self.read_one()
    }
}

/// An HTTP (or bare) payload: status, content type and the decoded body.
struct Payload<'a> {
    status: Option<u16>,
    content_type: String,
    body: std::borrow::Cow<'a, [u8]>,
}

/// Parses an HTTP response: status line, headers, body; undoes chunked transfer coding and
/// gzip / deflate / brotli content coding (each output capped at `max` bytes).
fn parse_http(block: &[u8], max: u64) -> Result<Payload<'_>, String> {
    let mut pos = 0;
    let mut status = None;
    let mut ctype = String::new();
    let mut chunked = false;
    let mut coding = String::new();
    let mut first = true;
    loop {
        let Some(nl) = memchr::memchr(b'\n', &block[pos..]) else {
            // Headers without an end: a response with no body.
            if first {
                return Err("no HTTP status line".into());
            }
            pos = block.len();
            break;
        };
        let line = trim_eol(&block[pos..pos + nl + 1]);
        pos += nl + 1;
        if first {
            first = false;
            if !line.starts_with(b"HTTP/") {
                return Err(format!(
                    "no HTTP status line (found {:?})",
                    String::from_utf8_lossy(&line[..line.len().min(40)])
                ));
            }
            status = String::from_utf8_lossy(line)
                .split_whitespace()
                .nth(1)
                .and_then(|s| s.parse::<u16>().ok());
            if status.is_none() {
                return Err("HTTP status line without a status code".into());
            }
            continue;
        }
        if line.is_empty() {
            break;
        }
        let text = String::from_utf8_lossy(line);
        if let Some((k, v)) = text.split_once(':') {
            let (k, v) = (k.trim(), v.trim());
            if k.eq_ignore_ascii_case("content-type") {
                ctype = v.to_string();
            } else if k.eq_ignore_ascii_case("transfer-encoding") {
                chunked = v.to_ascii_lowercase().contains("chunked");
            } else if k.eq_ignore_ascii_case("content-encoding") {
                coding = v.to_ascii_lowercase();
            }
        }
    }
    let raw = &block[pos..];
    let mut body: std::borrow::Cow<'_, [u8]> = std::borrow::Cow::Borrowed(raw);
    if chunked {
        // Some crawlers store the de-chunked body but keep the header: fall back to the raw
        // bytes when they do not parse as chunks.
        if let Some(b) = dechunk(raw) {
            body = std::borrow::Cow::Owned(b);
        }
    }
    let coding = coding.trim();
    if !coding.is_empty() && coding != "identity" {
        match decode_content(&body, coding, max) {
            Ok(Some(b)) => body = std::borrow::Cow::Owned(b),
            Ok(None) => {}
            Err(msg) => {
                // Common Crawl and ClueWeb store bodies already decoded but keep the header;
                // text that looks like markup is taken as it is.
                if !looks_like_html(&body) && !looks_like_text(&body) {
                    return Err(msg);
                }
            }
        }
    }
    Ok(Payload {
        status,
        content_type: ctype,
        body,
    })
}

/// Undoes `Transfer-Encoding: chunked`; `None` if the bytes are not well-formed chunks.
fn dechunk(mut data: &[u8]) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(data.len());
    loop {
        let nl = memchr::memchr(b'\n', data)?;
        let size_line = std::str::from_utf8(trim_eol(&data[..nl + 1])).ok()?;
        let hex = size_line.split(';').next()?.trim();
        if hex.is_empty() {
            return None;
        }
        let size = usize::from_str_radix(hex, 16).ok()?;
        data = &data[nl + 1..];
        if size == 0 {
            return Some(out);
        }
        if size > data.len() {
            // A truncated last chunk: keep what is there.
            out.extend_from_slice(data);
            return Some(out);
        }
        out.extend_from_slice(&data[..size]);
        data = &data[size..];
        // The CRLF after the chunk data.
        if data.starts_with(b"\r\n") {
            data = &data[2..];
        } else if data.starts_with(b"\n") {
            data = &data[1..];
        } else if data.is_empty() {
            return Some(out);
        } else {
            return None;
        }
    }
}

/// Undoes a content coding. `Ok(None)` for an unknown coding (body left as is).
fn decode_content(body: &[u8], coding: &str, max: u64) -> Result<Option<Vec<u8>>, String> {
    let mut out = Vec::new();
    let res = match coding {
        "gzip" | "x-gzip" => MultiGzDecoder::new(body)
            .take(max + 1)
            .read_to_end(&mut out),
        "deflate" => {
            // "deflate" is zlib-wrapped by the standard but raw deflate in some servers.
            let r = ZlibDecoder::new(body).take(max + 1).read_to_end(&mut out);
            if r.is_err() {
                out.clear();
                flate2::read::DeflateDecoder::new(body)
                    .take(max + 1)
                    .read_to_end(&mut out)
            } else {
                r
            }
        }
        "br" => brotli_decompressor::Decompressor::new(body, 4096)
            .take(max + 1)
            .read_to_end(&mut out),
        _ => return Ok(None),
    };
    match res {
        Ok(_) if out.len() as u64 > max => {
            Err(format!("{coding} body decodes to over {max} bytes"))
        }
        Ok(_) => Ok(Some(out)),
        Err(e) => Err(format!("cannot decode {coding} content: {e}")),
    }
}

/// Where a WARC record starts in `bytes` (read from a block whose length was wrong): a
/// version line (`WARC/` and a digit) after a blank line, the end of the record before, or at
/// the very start when `at_start`.
fn next_record_in(bytes: &[u8], at_start: bool) -> Option<usize> {
    memchr::memmem::find_iter(bytes, b"WARC/").find(|&p| is_record_start(bytes, p, at_start))
}

fn is_record_start(bytes: &[u8], p: usize, at_start: bool) -> bool {
    let before = &bytes[..p];
    bytes.get(p + 5).is_none_or(u8::is_ascii_digit)
        && ((p == 0 && at_start) || before.ends_with(b"\n\n") || before.ends_with(b"\n\r\n"))
}

/// Whether `block` ends where a record that starts inside it ends, by that record's
/// Content-Length (give or take the line ends of its blank line): the mark of a length that ran over the next records and stopped at the
/// end of one of them, whose blank line then seems to end this one. (An archived WARC file
/// inside a record ends with its last record's blank line, within the block.)
fn ends_with_inner_record(block: &[u8], blank_line_next: bool) -> bool {
    let Some(p) =
        memchr::memmem::rfind_iter(block, b"WARC/").find(|&p| is_record_start(block, p, true))
    else {
        return false;
    };
    let rec = &block[p..];
    let header_len = match memchr::memmem::find(rec, b"\r\n\r\n") {
        Some(i) => i + 4,
        None => match memchr::memmem::find(rec, b"\n\n") {
            Some(i) => i + 2,
            None => return false,
        },
    };
    let header = String::from_utf8_lossy(&rec[..header_len]);
    let len = header.lines().find_map(|l| {
        let (k, v) = l.split_once(':')?;
        if k.trim().eq_ignore_ascii_case("content-length") {
            v.trim().parse::<usize>().ok()
        } else {
            None
        }
    });
    // Up to the line ends that `block_end_ok` tolerates. A full blank line after it is the
    // embedded file's own when the outer one follows the block.
    len.and_then(|n| n.checked_add(header_len))
        .and_then(|end| rec.get(end..))
        .is_some_and(|rest| {
            (rest.len() < 4 || (!blank_line_next && rest.len() == 4))
                && rest.iter().all(|b| matches!(b, b'\r' | b'\n'))
        })
}

fn trim_eol(line: &[u8]) -> &[u8] {
    let mut l = line;
    while let [rest @ .., b'\n' | b'\r'] = l {
        l = rest;
    }
    l
}

/// The lower-cased media type of a Content-Type value, without parameters.
fn mime_of(ctype: &str) -> String {
    ctype
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Keeps a kind string from input data short and to a safe alphabet (it becomes a stats key).
fn sanitize_kind(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '/' | '.' | '+' | '-' | '_'))
        .take(60)
        .collect::<String>()
        .to_ascii_lowercase()
}

/// Whether the first bytes look like an HTML document (for payloads without a usable type).
fn looks_like_html(body: &[u8]) -> bool {
    let head = &body[..body.len().min(1024)];
    let start = head
        .iter()
        .position(|b| !b.is_ascii_whitespace())
        .unwrap_or(head.len());
    let head = &head[start..];
    let lower: Vec<u8> = head.iter().take(512).map(u8::to_ascii_lowercase).collect();
    lower.starts_with(b"<!doctype html")
        || lower.starts_with(b"<html")
        || lower.starts_with(b"<?xml") && memchr::memmem::find(&lower, b"<html").is_some()
        || lower.starts_with(b"<") && memchr::memmem::find(&lower, b"<head").is_some()
        || lower.starts_with(b"<") && memchr::memmem::find(&lower, b"<body").is_some()
}

/// Whether the bytes look like text (few control bytes), not compressed or binary data.
fn looks_like_text(body: &[u8]) -> bool {
    let head = &body[..body.len().min(1024)];
    let bad = head
        .iter()
        .filter(|&&b| b < 0x09 || (0x0e..0x20).contains(&b))
        .count();
    !head.is_empty() && bad * 50 < head.len()
}

/// Reads a plain `.html` / `.htm` page (optionally `.gz`) as one document whose id is the file
/// name without those extensions. Files over `max_bytes` (after gunzip) are errors.
pub fn read_html_file(path: &Path) -> Record {
    read_html_file_limited(path, DEFAULT_MAX_RECORD_BYTES)
}

/// [`read_html_file`] with an explicit size limit in bytes.
pub fn read_html_file_limited(path: &Path, max_bytes: u64) -> Record {
    let file: Arc<str> = Arc::from(path.to_string_lossy().as_ref());
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let mut id = name.as_str();
    for ext in [".gz", ".html", ".htm", ".xhtml"] {
        if id.len() > ext.len() && id[id.len() - ext.len()..].eq_ignore_ascii_case(ext) {
            id = &id[..id.len() - ext.len()];
        }
    }
    let id = id.to_string();
    let err = |message: String| {
        Record::Error(RecordError {
            source: SourcePos {
                file: file.clone(),
                line: 0,
                byte_offset: 0,
            },
            message,
            id: id.clone(),
        })
    };
    let f = match std::fs::File::open(path) {
        Ok(f) => f,
        Err(e) => return err(format!("cannot open: {e}")),
    };
    let mut r = BufReader::new(f);
    let gz = matches!(r.fill_buf(), Ok(b) if b.starts_with(&[0x1f, 0x8b]));
    let mut bytes = Vec::new();
    let res = if gz {
        MultiGzDecoder::new(r)
            .take(max_bytes + 1)
            .read_to_end(&mut bytes)
    } else {
        r.take(max_bytes + 1).read_to_end(&mut bytes)
    };
    if let Err(e) = res {
        return err(format!("cannot read (truncated or corrupt gzip?): {e}"));
    }
    if bytes.len() as u64 > max_bytes {
        return err(format!("page is over the limit of {max_bytes} bytes"));
    }
    let decoded = decode_html(&bytes, None);
    let mut doc = Document::new(id, decoded.text);
    doc.source = SourcePos {
        file: file.clone(),
        line: 0,
        byte_offset: 0,
    };
    doc.metadata
        .insert("content_type".into(), Value::from("text/html"));
    doc.metadata
        .insert("charset".into(), Value::from(decoded.encoding));
    Record::Doc(doc)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    fn read_all(bytes: &[u8]) -> Vec<Record> {
        WarcReader::new(bytes, Arc::from("t.warc")).collect()
    }

    fn record(wtype: &str, ctype: &str, block: &[u8]) -> Vec<u8> {
        let mut r = format!(
            "WARC/1.1\r\nWARC-Type: {wtype}\r\nWARC-Record-ID: <urn:uuid:{wtype}>\r\nWARC-Target-URI: <http://e.x/{wtype}>\r\nWARC-Date: 2024-01-01T00:00:00Z\r\nContent-Type: {ctype}\r\nContent-Length: {}\r\n\r\n",
            block.len()
        )
        .into_bytes();
        r.extend_from_slice(block);
        r.extend_from_slice(b"\r\n\r\n");
        r
    }

    fn http(headers: &str, body: &[u8]) -> Vec<u8> {
        let mut v = format!("HTTP/1.1 200 OK\r\n{headers}\r\n").into_bytes();
        v.extend_from_slice(body);
        v
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    const PAGE: &[u8] = b"<html><head><title>T</title></head><body><p>caf\xe9</p></body></html>";

    #[test]
    fn response_request_and_non_html_records() {
        let mut file = record("warcinfo", "application/warc-fields", b"software: x\r\n");
        file.extend(record(
            "request",
            "application/http;msgtype=request",
            b"GET / HTTP/1.1\r\n\r\n",
        ));
        file.extend(record(
            "response",
            "application/http;msgtype=response",
            &http("Content-Type: text/html; charset=iso-8859-1\r\n", PAGE),
        ));
        file.extend(record(
            "response",
            "application/http;msgtype=response",
            &http("Content-Type: image/png\r\n", b"\x89PNG"),
        ));
        let recs = read_all(&file);
        assert_eq!(recs.len(), 4);
        assert!(matches!(&recs[0], Record::Skipped { kind, .. } if kind == "warc_warcinfo"));
        assert!(matches!(&recs[1], Record::Skipped { kind, .. } if kind == "warc_request"));
        let Record::Doc(d) = &recs[2] else {
            panic!("{:?}", recs[2])
        };
        assert!(d.text().contains("café"));
        assert_eq!(d.id, "urn:uuid:response");
        assert_eq!(d.metadata["url"], "http://e.x/response");
        assert_eq!(d.metadata["charset"], "windows-1252");
        assert_eq!(d.metadata["http_status"], 200);
        assert!(matches!(&recs[3], Record::Skipped { kind, .. } if kind == "non_html:image/png"));
        // Offsets point at the record starts.
        let Record::Doc(d) = &recs[2] else {
            unreachable!()
        };
        let off = d.source.byte_offset;
        assert_eq!(&file[off as usize..off as usize + 5], b"WARC/");
    }

    #[test]
    fn gzip_per_record_and_whole_file_give_the_same_records() {
        let recs = [
            record(
                "response",
                "application/http; msgtype=response",
                &http("Content-Type: text/html\r\n", PAGE),
            ),
            record("resource", "text/html", PAGE),
            record("conversion", "text/plain", "plain text é".as_bytes()),
        ];
        let plain: Vec<u8> = recs.concat();
        let per_record: Vec<u8> = recs.iter().flat_map(|r| gzip(r)).collect();
        let whole = gzip(&plain);
        for bytes in [&plain, &per_record, &whole] {
            let out = read_all(bytes);
            let docs: Vec<_> = out.iter().filter(|r| matches!(r, Record::Doc(_))).collect();
            assert_eq!(docs.len(), 3, "{out:?}");
            let Record::Doc(d) = docs[2] else {
                unreachable!()
            };
            assert_eq!(d.text(), "plain text é");
            assert_eq!(d.metadata["content_type"], "text/plain");
        }
    }

    #[test]
    fn chunked_gzip_deflate_and_brotli_bodies() {
        let chunked = b"5\r\n<html\r\n3;x=y\r\n><p\r\n6\r\n>hi</p\r\n0\r\n\r\n";
        let gz = gzip(PAGE);
        let mut z = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::fast());
        z.write_all(PAGE).unwrap();
        let zl = z.finish().unwrap();
        let cases: Vec<(String, Vec<u8>, &str)> = vec![
            (
                "Content-Type: text/html\r\nTransfer-Encoding: chunked\r\n".into(),
                chunked.to_vec(),
                "<html><p>hi</p",
            ),
            (
                "Content-Type: text/html\r\nContent-Encoding: gzip\r\n".into(),
                gz,
                "café",
            ),
            (
                "Content-Type: text/html\r\nContent-Encoding: deflate\r\n".into(),
                zl,
                "café",
            ),
            // Already-decoded body with a stale Content-Encoding header (Common Crawl style).
            (
                "Content-Type: text/html\r\nContent-Encoding: gzip\r\n".into(),
                PAGE.to_vec(),
                "café",
            ),
        ];
        for (h, body, want) in cases {
            let file = record(
                "response",
                "application/http;msgtype=response",
                &http(&h, &body),
            );
            let recs = read_all(&file);
            let Record::Doc(d) = &recs[0] else {
                panic!("{h}: {:?}", recs[0])
            };
            assert!(d.text().contains(want), "{h}: {}", d.text());
        }
    }

    #[test]
    fn malformed_records_give_errors_with_offsets_and_reading_goes_on() {
        let good = record("resource", "text/html", PAGE);
        let mut file = good.clone();
        let bad_at = file.len();
        file.extend_from_slice(b"garbage line\r\nmore garbage\r\n");
        file.extend(b"WARC/1.0\r\nWARC-Type: resource\r\nContent-Length: nope\r\n\r\nxx\r\n\r\n");
        let good2_at = file.len();
        file.extend(good.clone());
        // Truncated: declared length larger than the data.
        let trunc_at = file.len();
        file.extend(b"WARC/1.0\r\nWARC-Type: resource\r\nContent-Type: text/html\r\nContent-Length: 9999\r\n\r\n<p>short");
        let recs = read_all(&file);
        let kinds: Vec<String> = recs
            .iter()
            .map(|r| match r {
                Record::Doc(d) => format!("doc@{}", d.source.byte_offset),
                Record::Error(e) => format!("err@{}", e.source.byte_offset),
                Record::Skipped { kind, .. } => kind.clone(),
            })
            .collect();
        assert_eq!(
            kinds,
            vec![
                "doc@0".to_string(),
                format!("err@{bad_at}"),
                format!("err@{}", bad_at + 28),
                format!("doc@{good2_at}"),
                format!("err@{trunc_at}"),
            ]
        );
    }

    #[test]
    fn oversized_records_are_errors_not_allocations() {
        let mut file = record("resource", "text/html", &vec![b'a'; 5000]);
        file.extend(record("resource", "text/html", PAGE));
        let recs: Vec<_> = WarcReader::new(&file[..], Arc::from("t"))
            .with_max_record_bytes(1000)
            .collect();
        assert!(matches!(&recs[0], Record::Error(e) if e.message.contains("over the limit")));
        assert!(matches!(&recs[1], Record::Doc(_)));
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(300))]

        /// A chunked, brotli-encoded response with 1-7 bytes changed and cut anywhere, read
        /// plain and gzip-cut in half: the reader ends without a panic.
        #[test]
        fn arbitrary_bytes_never_panic(
            edits in proptest::collection::vec(
                (proptest::prelude::any::<proptest::sample::Index>(), proptest::prelude::any::<u8>()),
                1..=7,
            ),
            cut in proptest::prelude::any::<proptest::sample::Index>(),
        ) {
            let mut b = record(
                "response",
                "application/http;msgtype=response",
                &http(
                    "Content-Type: text/html\r\nTransfer-Encoding: chunked\r\nContent-Encoding: br\r\n",
                    b"ff\r\nabc",
                ),
            );
            for (at, byte) in edits {
                let at = at.index(b.len());
                b[at] = byte;
            }
            b.truncate(cut.index(b.len() + 1));
            let _ = read_all(&b).len();
            let _ = read_all(&gzip(&b)[..b.len() / 2]).len();
        }
    }

    /// `rec` with its Content-Length header changed to `len`.
    fn with_length(rec: &[u8], len: u64) -> Vec<u8> {
        let text = String::from_utf8_lossy(rec).into_owned();
        let at = text.find("Content-Length: ").unwrap() + "Content-Length: ".len();
        let end = at + text[at..].find('\r').unwrap();
        let mut out = rec[..at].to_vec();
        out.extend_from_slice(len.to_string().as_bytes());
        out.extend_from_slice(&rec[end..]);
        out
    }

    /// The records as `doc@offset:text`, `err@offset`, or the skipped kind.
    fn summary(recs: &[Record]) -> Vec<String> {
        recs.iter()
            .map(|r| match r {
                Record::Doc(d) => format!("doc@{}:{}", d.source.byte_offset, d.text()),
                Record::Error(e) => format!("err@{}", e.source.byte_offset),
                Record::Skipped { kind, .. } => kind.clone(),
            })
            .collect()
    }

    /// Three text records (`one`, `two`, `three`), the middle one as `bad` makes it, read
    /// plain, gzipped per record and gzipped whole: the middle one is an error at its offset
    /// whose message names its declared length, the others are kept intact.
    fn check_bad_middle(bad: impl Fn(Vec<u8>) -> Vec<u8>, declared: u64) {
        let recs = [
            record("conversion", "text/plain", b"one"),
            bad(record("conversion", "text/plain", b"two two two two")),
            record("conversion", "text/plain", b"three"),
        ];
        let (a, b) = (recs[0].len(), recs[0].len() + recs[1].len());
        let want = [
            "doc@0:one".to_string(),
            format!("err@{a}"),
            format!("doc@{b}:three"),
        ];
        let plain = recs.concat();
        let per_record: Vec<u8> = recs.iter().flat_map(|r| gzip(r)).collect();
        for (what, bytes) in [
            ("plain", plain.clone()),
            ("per record", per_record),
            ("whole", gzip(&plain)),
        ] {
            let out = read_all(&bytes);
            assert_eq!(summary(&out), want, "{what}");
            let Record::Error(e) = &out[1] else {
                unreachable!()
            };
            assert!(
                e.message.contains(&format!("Content-Length {declared}")),
                "{what}: {}",
                e.message
            );
        }
    }

    /// A Content-Length too large kept the record with the next one's header in its text, and
    /// lost the next one as junk.
    #[test]
    fn read_warc_rejects_a_content_length_too_large() {
        check_bad_middle(|r| with_length(&r, 15 + 40), 55);
        // Larger than what is left of the file.
        check_bad_middle(|r| with_length(&r, 15 + 5000), 5015);
    }

    /// A record whose block is itself a WARC file (records with their blank lines) has a right
    /// length: it is one record, not cut at the records inside it.
    #[test]
    fn read_warc_keeps_a_record_holding_a_warc_file() {
        let inner = [
            record("conversion", "text/plain", b"inner one"),
            record("conversion", "text/plain", b"inner two"),
        ]
        .concat();
        for last in [false, true] {
            let mut file = record("resource", "application/warc", &inner);
            let at = file.len();
            if !last {
                file.extend(record("conversion", "text/plain", b"after"));
            }
            let mut want = vec!["non_html:application/warc".to_string()];
            if !last {
                want.push(format!("doc@{at}:after"));
            }
            assert_eq!(summary(&read_all(&file)), want, "last {last}");
        }
    }

    /// A Content-Length too small kept the record with its text cut, plus a junk error.
    #[test]
    fn read_warc_rejects_a_content_length_too_small() {
        check_bad_middle(|r| with_length(&r, 15 - 4), 11);
        check_bad_middle(|r| with_length(&r, 0), 0);
    }

    /// A Content-Length of 10^15 (over the size limit) swallowed the records after it.
    #[test]
    fn read_warc_content_length_over_the_limit_does_not_swallow_the_next_record() {
        check_bad_middle(
            |r| with_length(&r, 1_000_000_000_000_000),
            1_000_000_000_000_000,
        );
        // Over the limit, with the next record's version line, or the blank line before it,
        // cut by the end of the first window.
        for fill in [(1 << 20) - 6, (1 << 20) - 2, (1 << 20) + 10] {
            let mut file = with_length(
                &record("resource", "text/html", &vec![b'a'; fill]),
                u64::MAX,
            );
            let at = file.len();
            file.extend(record("conversion", "text/plain", b"next"));
            let out: Vec<_> = WarcReader::new(&file[..], Arc::from("t"))
                .with_max_record_bytes(1000)
                .collect();
            assert_eq!(
                summary(&out),
                ["err@0".to_string(), format!("doc@{at}:next")],
                "{fill}"
            );
        }
    }

    /// Garbage between two gzip members ended the file there.
    #[test]
    fn gzip_members_after_garbage_are_read() {
        let recs = [
            record("conversion", "text/plain", b"one"),
            record("conversion", "text/plain", b"two"),
            record("conversion", "text/plain", b"three"),
        ];
        let a = recs[0].len();
        let b = a + recs[1].len();
        let mut file = gzip(&recs[0]);
        let from = file.len();
        file.extend_from_slice(b"\x00garbage\x1f\x8b between members\n");
        file.extend(gzip(&recs[1]));
        file.extend(gzip(&recs[2]));
        let out = read_all(&file);
        assert_eq!(
            summary(&out),
            [
                "doc@0:one".to_string(),
                format!("err@{a}"),
                format!("doc@{a}:two"),
                format!("doc@{b}:three")
            ]
        );
        let Record::Error(e) = &out[1] else {
            unreachable!()
        };
        assert!(
            e.message.contains("garbage between gzip members"),
            "{}",
            e.message
        );
        assert!(
            e.message.contains(&format!("offset {from};")),
            "{}",
            e.message
        );
        // Trailing garbage after the last member: an error after the records.
        let mut trailing = gzip(&recs[0]);
        trailing.extend_from_slice(b"\x00\x00\x00");
        assert_eq!(
            summary(&read_all(&trailing)),
            ["doc@0:one".to_string(), format!("err@{a}")]
        );
        // A corrupt member between good ones: the records of the good ones are kept.
        let mut corrupt = gzip(&recs[0]);
        let mid = gzip(&recs[1].repeat(20));
        corrupt.extend_from_slice(&mid[..mid.len() / 2]);
        corrupt.extend(gzip(&recs[2]));
        // (What the corrupt member decodes to before its checksum fails is garbage: errors.)
        let out = summary(&read_all(&corrupt));
        assert_eq!(out[0], "doc@0:one");
        let (last, middle) = out[1..].split_last().unwrap();
        assert!(last.ends_with(":three"), "{out:?}");
        assert!(!middle.is_empty(), "{out:?}");
        assert!(middle.iter().all(|r| r.starts_with("err@")), "{out:?}");
    }

    /// How `read_warc_mangled_lengths_never_lose_intact_neighbours` breaks one record's
    /// Content-Length: too long (past the blank line), too short, or near `u64::MAX`.
    #[derive(Debug, Clone)]
    enum WrongLength {
        Longer(u64),
        Shorter(proptest::sample::Index),
        Huge(u64),
    }

    fn wrong_length() -> impl proptest::strategy::Strategy<Value = WrongLength> {
        use proptest::prelude::*;
        prop_oneof![
            (0..600u64).prop_map(WrongLength::Longer),
            any::<proptest::sample::Index>().prop_map(WrongLength::Shorter),
            (0..5u64).prop_map(WrongLength::Huge),
        ]
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

        /// Changed lengths of one record of a valid file, plain or gzipped per record: the
        /// reader ends, that record is an error at its offset and every other record is read.
        #[test]
        fn read_warc_mangled_lengths_never_lose_intact_neighbours(
            sizes in proptest::collection::vec(0..300usize, 2..7),
            bad in proptest::prelude::any::<proptest::sample::Index>(),
            wrong in wrong_length(),
            per_record_gzip in proptest::prelude::any::<bool>(),
        ) {
            let bad = bad.index(sizes.len());
            let mut file = Vec::new();
            let mut want = Vec::new();
            for (i, &size) in sizes.iter().enumerate() {
                let text = format!("record {i} {}", "x".repeat(size));
                let rec = record("conversion", "text/plain", text.as_bytes());
                if i == bad {
                    let len = text.len() as u64;
                    let wrong = match &wrong {
                        // (Off by four bytes or fewer, into the blank line, is tolerated.)
                        WrongLength::Longer(by) => len + 5 + by,
                        WrongLength::Shorter(to) => to.index(len as usize) as u64,
                        WrongLength::Huge(below) => u64::MAX - below,
                    };
                    want.push(format!("err@{}", file.len()));
                    file.extend(with_length(&rec, wrong));
                } else {
                    want.push(format!("doc@{}:{text}", file.len()));
                    file.extend(rec);
                }
            }
            let per_record = if per_record_gzip {
                let mut out = Vec::new();
                let mut at = 0;
                for w in &want {
                    let off: usize = w[4..].split(':').next().unwrap().parse().unwrap();
                    if off > at {
                        out.extend(gzip(&file[at..off]));
                    }
                    at = off;
                }
                out.extend(gzip(&file[at..]));
                out
            } else {
                file.clone()
            };
            let out: Vec<_> = WarcReader::new(&per_record[..], Arc::from("t"))
                .with_max_record_bytes(100_000)
                .collect();
            proptest::prop_assert_eq!(summary(&out), want);
        }
    }

    /// What `gzip_members_survive_random_garbage` does with one gzip member.
    #[derive(Debug, Clone)]
    enum Member {
        /// Garbage bytes, then the member whole.
        AfterJunk(Vec<u8>),
        /// The member cut short (its 3-byte header kept).
        Cut(proptest::sample::Index),
        /// The member whole.
        Whole,
    }

    fn member() -> impl proptest::strategy::Strategy<Value = (usize, Member)> {
        use proptest::prelude::*;
        let fate = prop_oneof![
            1 => prop::collection::vec(any::<u8>(), 1..=40).prop_map(Member::AfterJunk),
            1 => any::<prop::sample::Index>().prop_map(Member::Cut),
            2 => Just(Member::Whole),
        ];
        (0..200usize, fate)
    }

    proptest::proptest! {
        #![proptest_config(proptest::prelude::ProptestConfig::with_cases(200))]

        /// Per-record gzip with random garbage between members, and some members cut short:
        /// every intact member's record is kept, in order, and the reader ends.
        #[test]
        fn gzip_members_survive_random_garbage(
            members in proptest::collection::vec(member(), 2..8),
        ) {
            let mut file = Vec::new();
            let mut want = Vec::new();
            for (i, (size, fate)) in members.into_iter().enumerate() {
                let text = format!("record {i} {}", "y".repeat(size));
                let member = gzip(&record("conversion", "text/plain", text.as_bytes()));
                match fate {
                    // (Not before the first: a file that does not start with a gzip header is
                    // read as plain.)
                    Member::AfterJunk(junk) if i > 0 => {
                        file.extend(junk);
                        file.extend(member);
                        want.push(text);
                    }
                    // (Its header whole: a file that does not start with one is plain.)
                    Member::Cut(at) => {
                        file.extend_from_slice(&member[..3 + at.index(member.len() - 3)])
                    }
                    _ => {
                        file.extend(member);
                        want.push(text);
                    }
                }
            }
            let out = read_all(&file);
            let docs: Vec<String> = out
                .iter()
                .filter_map(|r| match r {
                    Record::Doc(d) => Some(d.text().to_string()),
                    _ => None,
                })
                .collect();
            // (A cut member's data runs on into garbage, which, rarely, may look like a
            // record; what is checked is that no intact record is lost or reordered.)
            let mut it = docs.iter();
            for w in &want {
                proptest::prop_assert!(it.any(|d| d == w), "{:?} lost: {:?}", w, docs);
            }
        }
    }

    #[test]
    fn arc_files_are_read() {
        let body = http("Content-Type: text/html\r\n", PAGE);
        let mut file =
            b"filedesc://x.arc 0.0.0.0 20140101000000 text/plain 9\n1 0 test\n\n".to_vec();
        file.extend(
            format!(
                "http://e.x/ 1.2.3.4 20140101000000 text/html {}\n",
                body.len()
            )
            .into_bytes(),
        );
        file.extend(&body);
        file.extend(b"\nhttp://e.x/ 1.2.3.4 20140101000000 text/html abc\n\n");
        let recs = read_all(&file);
        assert!(matches!(&recs[0], Record::Skipped { kind, .. } if kind == "arc_filedesc"));
        assert!(matches!(&recs[1], Record::Doc(d) if d.metadata["url"] == "http://e.x/"));
        assert!(matches!(&recs[2], Record::Error(_)));
    }

    #[test]
    fn html_files_use_the_name_minus_extensions_as_id() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("page-1.html.gz");
        std::fs::write(&p, gzip(PAGE)).unwrap();
        let Record::Doc(d) = read_html_file(&p) else {
            panic!()
        };
        assert_eq!(d.id, "page-1");
        assert!(d.text().contains("café"));
        let p2 = dir.path().join("trunc.html.gz");
        let g = gzip(&PAGE.repeat(50));
        std::fs::write(&p2, &g[..g.len() / 2]).unwrap();
        assert!(matches!(read_html_file(&p2), Record::Error(e) if e.id == "trunc"));
    }

    /// Every sample of ../shared/corpus/warc-samples is read to the end without a panic; the
    /// known-good crawls give documents, and the malformed ones give errors with offsets.
    #[test]
    fn shared_warc_samples() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/warc-samples");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            assert!(
                std::env::var_os("THRESHER_REQUIRE_SHARED").is_none(),
                "../shared is required (THRESHER_REQUIRE_SHARED is set) but absent"
            );
            eprintln!("skipping: ../shared/corpus/warc-samples absent");
            return;
        };
        let mut names: Vec<_> = entries.flatten().map(|e| e.path()).collect();
        names.sort();
        let mut summary = Vec::new();
        for p in names {
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            if name.ends_with(".md") {
                continue;
            }
            let f = std::fs::File::open(&p).unwrap();
            let (mut docs, mut errs, mut skips) = (0, 0, 0);
            for r in WarcReader::new(f, Arc::from(name.as_str())) {
                match r {
                    Record::Doc(d) => {
                        assert!(!d.id.is_empty());
                        docs += 1
                    }
                    Record::Error(e) => {
                        eprintln!("{name}: {} {}", e.source, e.message);
                        errs += 1
                    }
                    Record::Skipped { .. } => skips += 1,
                }
            }
            summary.push((name, docs, errs, skips));
        }
        for s in &summary {
            eprintln!("{s:?}");
        }
        let get = |n: &str| summary.iter().find(|s| s.0 == n).map(|s| (s.1, s.2));
        // Real crawls: documents and no errors.
        assert!(matches!(get("resiliparse-cc-2020-08-sample.warc.gz"), Some((d, 0)) if d > 5));
        assert!(matches!(get("pywb-iana.warc.gz"), Some((d, 0)) if d > 5));
        assert!(matches!(get("cc-whirlwind.warc.wet.gz"), Some((1, 0))));
        assert!(matches!(get("resiliparse-clueweb09-quirk.warc.gz"), Some((d, 0)) if d > 20));
        assert!(matches!(
            get("ukwa-transfer_compression_brotli.warc.gz"),
            Some((1, 0))
        ));
        // Known-bad files: at least one error each.
        assert!(matches!(get("warcio-example-trunc.warc"), Some((_, e)) if e > 0));
        assert!(matches!(get("warcio-bad.arc"), Some((_, e)) if e > 0));
    }
}
