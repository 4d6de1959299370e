//! Reading all input files as a stream of batches.

use std::io::Read;
use std::ops::Range;
use std::path::Path;
use std::sync::Arc;

use thresher_core::{Document, InputBuf, SourcePos};

use crate::decode::{open_decoded, Compression};
use crate::input::{Format, InputFile};
use crate::lines::{LineEvent, LineSplitter};
use crate::mapped::{Chunk, MappedItem, MappedLines, MMAP_MIN_BYTES};
use crate::options::{ReadOptions, Utf8Policy};
use crate::record::{Record, RecordError};
use crate::warc::{read_html_file_limited, WarcReader};

/// One item of a batch: a JSONL line still to parse (parsing is left to the worker threads,
/// so the reading thread only splits lines), or a record the reader already made.
#[derive(Debug)]
pub enum Item {
    /// A JSONL line whose bytes are `batch.buf[range]`; parse it with [`Item::into_record`].
    Line {
        /// Where the line is in the batch's buffer.
        range: Range<usize>,
        /// Where it was read.
        source: SourcePos,
    },
    /// A record made by the reader (a text file, a page, an error).
    Record(Record),
}

impl Item {
    /// The record the item stands for: a JSONL line of the batch's buffer `buf` parsed (see
    /// [`crate::jsonl::read`]; the document may keep its text as bytes of `buf`), or the record
    /// the reader made.
    pub fn into_record(self, buf: &Arc<InputBuf>, opts: &ReadOptions) -> Record {
        match self {
            Item::Line { range, source } => {
                crate::jsonl::read::parse_jsonl_line_shared(buf, range, source, opts)
            }
            Item::Record(r) => r,
        }
    }

    /// [`Item::into_record`] for a batch of a spill file, whose lines are documents in the
    /// spill format (see [`crate::jsonl::spill`]); a damaged line is an error record.
    pub fn into_spilled_record(self, buf: &InputBuf) -> Record {
        match self {
            Item::Line { range, source } => {
                match crate::jsonl::spill::parse_spill_line(&buf[range]) {
                    Ok(doc) => Record::Doc(doc),
                    Err(message) => Record::Error(RecordError {
                        source,
                        message,
                        id: String::new(),
                    }),
                }
            }
            Item::Record(r) => r,
        }
    }
}

/// A run of consecutive input records.
#[derive(Debug, Default)]
pub struct Batch {
    /// The bytes of the batch's JSONL lines.
    pub buf: InputBuf,
    /// The records, in input order.
    pub items: Vec<Item>,
    /// Files first seen in this batch and bytes read per file since the previous batch, so that
    /// files without records still appear in the stats.
    pub file_bytes: Vec<(Arc<str>, u64)>,
}

/// Reads the input files in order and cuts their records into batches of bounded size.
pub struct BatchReader {
    files: std::vec::IntoIter<InputFile>,
    opts: ReadOptions,
    current: Option<Current>,
    warc: Option<CurrentWarc>,
    parquet: Option<crate::parquet::ParquetReader<std::fs::File>>,
    mapped: Option<CurrentMapped>,
    max_batch_docs: usize,
    max_batch_bytes: usize,
    /// Buffers of consumed batches, given back for reuse (see [`BatchReader::recycle`]).
    spare: Vec<Vec<u8>>,
    /// The local copy of the object being read (see [`BatchReader::fetch`]).
    fetched: Option<tempfile::TempDir>,
    /// The download of the next object, started when the current one was opened.
    prefetch: Option<(
        std::path::PathBuf,
        std::thread::JoinHandle<std::io::Result<tempfile::TempDir>>,
    )>,
}

struct Current {
    name: Arc<str>,
    splitter: LineSplitter,
    records: u64,
    reported_bytes: u64,
}

/// A JSONL file being read through memory maps, a batch per map.
struct CurrentMapped {
    name: Arc<str>,
    lines: MappedLines,
    records: u64,
    /// For a byte range of the file: its range. The bytes reported for the file add up to the
    /// range's length, so the ranges of a file add up to its size.
    range: Option<std::ops::Range<u64>>,
    /// Bytes reported so far.
    reported: u64,
}

/// A WARC file being read, record by record.
struct CurrentWarc {
    name: Arc<str>,
    reader: WarcReader<std::fs::File>,
    records: u64,
    /// Whether no record at all means an empty file (not so for a range that stops before
    /// the end: a record starts there).
    may_be_empty: bool,
}

/// Where a range of a local WARC file is read (see [`crate::warc_range`]), and the file at
/// that offset; `None` when no record starts in the range.
fn warc_span(
    mut f: std::fs::File,
    range: std::ops::Range<u64>,
) -> std::io::Result<Option<(std::fs::File, crate::warc_range::Span)>> {
    use std::io::{Seek, SeekFrom};
    let len = f.metadata()?.len();
    let span = if len == 0 {
        crate::warc_range::Span::whole()
    } else {
        // SAFETY: the map is read while the file is not changed (as `MappedLines` assumes:
        // thresher does not write its inputs).
        let map = unsafe { memmap2::Mmap::map(&f)? };
        crate::warc_range::span(&map, range)
    };
    if span.is_empty() {
        return Ok(None);
    }
    f.seek(SeekFrom::Start(span.start))?;
    Ok(Some((f, span)))
}

impl BatchReader {
    /// A reader over `files` (in this order) with the given options.
    pub fn new(files: Vec<InputFile>, opts: ReadOptions) -> Self {
        BatchReader {
            files: files.into_iter(),
            opts,
            current: None,
            warc: None,
            parquet: None,
            mapped: None,
            max_batch_docs: 1024,
            // 2 MB rather than 8: half the peak RSS (the output now points into the batches'
            // buffers until it is written), and no slower.
            max_batch_bytes: 2 << 20,
            spare: Vec::new(),
            fetched: None,
            prefetch: None,
        }
    }

    /// The local copy of the object `url`, downloaded into a temporary folder of its own (kept
    /// until the next object is opened), under the object's own name. The next input, if it
    /// is an object too, starts downloading at once, so its transfer overlaps this one's
    /// reading: at most two objects are on local disk at a time, and memory holds only a
    /// download chunk (see [`crate::store`]).
    fn fetch(&mut self, url: &Path) -> std::io::Result<std::path::PathBuf> {
        self.fetched = None;
        let dir = match self.prefetch.take() {
            Some((next, handle)) if next == url => handle
                .join()
                .map_err(|_| std::io::Error::other("the download thread panicked"))??,
            _ => download(url)?,
        };
        let local = dir.path().join(object_name(url));
        self.fetched = Some(dir);
        if let Some(next) = self.files.as_slice().first().filter(|f| f.is_remote()) {
            let next = next.path.clone();
            let job = next.clone();
            let handle = std::thread::Builder::new()
                .name("thresher-fetch".into())
                .spawn(move || download(&job))?;
            self.prefetch = Some((next, handle));
        }
        Ok(local)
    }

    /// Gives back the buffer of a batch that has been consumed, so the next batch (or a line
    /// splitter) can reuse it.
    ///
    /// Optional, but it saves a fresh allocation per batch: a new multi-megabyte buffer comes
    /// from the kernel as untouched pages, and filling it costs a page fault every 4 KiB plus
    /// the copies of each doubling as it grows.
    pub fn recycle(&mut self, buf: Vec<u8>) {
        // Two spares are enough for the batches in flight; a huge buffer (a long line) is not
        // kept, so memory stays bounded by the batch size.
        // Not cleared: a line splitter overwrites it anyway, and would otherwise zero it again.
        if self.spare.len() < 2 && buf.capacity() <= 2 * self.max_batch_bytes {
            self.spare.push(buf);
        }
    }

    /// The next batch, or `None` when every file has been read.
    pub fn next_batch(&mut self) -> Option<Batch> {
        let mut batch = Batch::default();
        // The bytes of copied lines (see `borrowing`).
        let mut buf: Vec<u8> = Vec::new();
        // Bytes of records made by the reader itself (WARC pages), which are not in `buf`.
        let mut record_bytes = 0;
        // The batch's first JSONL lines are not copied: they are ranges into the line splitter's
        // buffer ("borrowed"), which becomes the batch's buffer when the batch ends or the file
        // does. Lines after that (the next small files) are copied after them.
        let mut borrowing = false;
        let mut borrowed_bytes = 0;
        let mut has_lines = false;
        while batch.items.len() < self.max_batch_docs
            && buf.len() + record_bytes + borrowed_bytes < self.max_batch_bytes
        {
            if self.mapped.is_some() {
                if !batch.items.is_empty() || !batch.file_bytes.is_empty() {
                    break; // a mapped batch holds one file's lines only: this one goes first
                }
                return Some(self.mapped_batch());
            }
            if let Some(p) = self.parquet.as_mut() {
                match p.next() {
                    Some(r) => {
                        if let Record::Doc(d) = &r {
                            record_bytes += d.text().len();
                        }
                        batch.items.push(Item::Record(r));
                    }
                    None => self.parquet = None,
                }
                continue;
            }
            if let Some(w) = self.warc.as_mut() {
                match w.reader.next() {
                    Some(r) => {
                        w.records += 1;
                        if let Record::Doc(d) = &r {
                            record_bytes += d.text().len();
                        }
                        batch.items.push(Item::Record(r));
                    }
                    None => {
                        let w = self.warc.take().expect("checked above");
                        if w.records == 0 && w.may_be_empty {
                            batch.items.push(error(
                                pos(&w.name, 0, 0),
                                "empty file: no WARC records".to_string(),
                            ));
                        }
                    }
                }
                continue;
            }
            if self.current.is_none() && !self.open_next(&mut batch) {
                break;
            }
            let Some(cur) = self.current.as_mut() else {
                continue;
            };
            let max = usize::try_from(self.opts.max_doc_bytes).unwrap_or(usize::MAX);
            match cur.splitter.next_line() {
                LineEvent::Line {
                    range,
                    line,
                    offset,
                } => {
                    if cur.splitter.buf()[range.clone()]
                        .iter()
                        .all(u8::is_ascii_whitespace)
                    {
                        continue; // blank lines are not records
                    }
                    cur.records += 1;
                    if !has_lines {
                        has_lines = true;
                        borrowing = true;
                        cur.splitter.set_pinned(true);
                    }
                    let range = if borrowing {
                        borrowed_bytes += range.len();
                        range
                    } else {
                        if buf.capacity() == 0 {
                            buf = batch_buffer(&mut self.spare, self.max_batch_bytes);
                        }
                        let start = buf.len();
                        buf.extend_from_slice(&cur.splitter.buf()[range]);
                        start..buf.len()
                    };
                    batch.items.push(Item::Line {
                        range,
                        source: pos(&cur.name, line, offset),
                    });
                }
                LineEvent::Full => break, // the buffer is handed over below
                LineEvent::TooLong { line, offset, len } => {
                    cur.records += 1;
                    batch.items.push(error(
                        pos(&cur.name, line, offset),
                        format!("record of {len} bytes is over max_doc_bytes ({max})"),
                    ));
                }
                LineEvent::ReadError {
                    line,
                    offset,
                    dropped,
                    error: e,
                } => {
                    cur.records += 1;
                    batch.items.push(error(
                        pos(&cur.name, line, offset),
                        format!(
                            "input is truncated or corrupt at line {line} \
                             ({dropped} bytes of an unfinished record dropped): {e}"
                        ),
                    ));
                }
                LineEvent::End => {
                    if cur.records == 0 {
                        batch.items.push(error(
                            pos(&cur.name, 0, 0),
                            "empty file: no records".to_string(),
                        ));
                    }
                    let cur = self.current.take().expect("checked above");
                    batch
                        .file_bytes
                        .push((cur.name, cur.splitter.bytes_read - cur.reported_bytes));
                    if borrowing {
                        // The lines read so far stay in this buffer; later ones are copied
                        // after them.
                        buf = cur.splitter.into_buffer();
                        borrowing = false;
                    }
                }
            }
        }
        if let Some(cur) = self.current.as_mut() {
            if borrowing {
                let fresh = self.spare.pop().unwrap_or_default();
                buf = cur.splitter.swap_buffer(fresh);
                cur.splitter.set_pinned(false);
            }
            let new = cur.splitter.bytes_read - cur.reported_bytes;
            cur.reported_bytes = cur.splitter.bytes_read;
            batch.file_bytes.push((cur.name.clone(), new));
        }
        batch.buf = InputBuf::owned(buf);
        if batch.items.is_empty() && batch.file_bytes.is_empty() {
            None
        } else {
            Some(batch)
        }
    }

    /// A batch of the mapped file's next lines (or its end, or its error).
    fn mapped_batch(&mut self) -> Batch {
        let mut batch = Batch::default();
        let Some(m) = self.mapped.as_mut() else {
            return batch; // not reached: called with a mapped file
        };
        let max = self.opts.max_doc_bytes;
        match m.lines.next_chunk(self.max_batch_docs) {
            Chunk::Lines { buf, items, bytes } => {
                batch.buf = buf;
                let bytes = match &m.range {
                    Some(r) => bytes.min((r.end - r.start).saturating_sub(m.reported)),
                    None => bytes,
                };
                m.reported += bytes;
                batch.file_bytes.push((m.name.clone(), bytes));
                for it in items {
                    m.records += 1;
                    batch.items.push(match it {
                        MappedItem::Line {
                            range,
                            line,
                            offset,
                        } => Item::Line {
                            range,
                            source: pos(&m.name, line, offset),
                        },
                        MappedItem::TooLong { line, offset, len } => error(
                            pos(&m.name, line, offset),
                            format!("record of {len} bytes is over max_doc_bytes ({max})"),
                        ),
                    });
                }
            }
            Chunk::Error {
                line,
                offset,
                message,
            } => {
                m.records += 1;
                batch.file_bytes.push((m.name.clone(), 0));
                batch.items.push(error(
                    pos(&m.name, line, offset),
                    format!("input cannot be read on at line {line}: {message}"),
                ));
            }
            Chunk::End => {
                let m = self.mapped.take().expect("checked above");
                let rest = m
                    .range
                    .as_ref()
                    .map_or(0, |r| (r.end - r.start).saturating_sub(m.reported));
                batch.file_bytes.push((m.name.clone(), rest));
                // A file without records is one error, the first range's, and only when the
                // other ranges have none either (they hold only blank bytes).
                let empty = match &m.range {
                    None => true,
                    Some(r) => {
                        r.start == 0 && r.end > 0 && m.lines.rest_is_blank().unwrap_or(false)
                    }
                };
                if m.records == 0 && empty {
                    batch.items.push(error(
                        pos(&m.name, 0, 0),
                        "empty file: no records".to_string(),
                    ));
                }
            }
        }
        batch
    }

    /// Opens `path` for reading through memory maps if it is an uncompressed regular file
    /// large enough for it to pay (see [`MappedLines`]).
    fn try_map(&self, path: &Path) -> Option<MappedLines> {
        if !self.opts.mmap {
            return None;
        }
        let mut file = std::fs::File::open(path).ok()?;
        let meta = file.metadata().ok()?;
        if !meta.is_file() || meta.len() < MMAP_MIN_BYTES {
            return None;
        }
        let mut head = [0u8; 4];
        file.read_exact(&mut head).ok()?;
        if Compression::sniff(&head) != Compression::None {
            return None;
        }
        let max = usize::try_from(self.opts.max_doc_bytes).unwrap_or(usize::MAX);
        Some(MappedLines::new(
            file,
            meta.len(),
            max,
            self.max_batch_bytes,
        ))
    }

    /// Opens the next file. Whole-file formats are read here and pushed to the batch at once.
    /// Returns false when there are no more files.
    fn open_next(&mut self, batch: &mut Batch) -> bool {
        let Some(file) = self.files.next() else {
            return false;
        };
        let name: Arc<str> = Arc::from(file.path.to_string_lossy().as_ref());
        // An object in a store is read from a local copy; records still name its URL.
        let remote = file.is_remote();
        let file = if remote {
            match self.fetch(&file.path) {
                Ok(local) => InputFile {
                    path: local,
                    range: None,
                    ..file
                },
                Err(e) => {
                    batch.file_bytes.push((name.clone(), 0));
                    batch
                        .items
                        .push(error(pos(&name, 0, 0), format!("cannot download: {e}")));
                    return true;
                }
            }
        } else {
            file
        };
        // A FIFO without a writer blocks `open` forever, and a device or socket never ends:
        // they are told from their `stat` (never opened) and reported as a file that cannot
        // be opened is, an error record at position 0, so the run goes on with the other
        // inputs. (A path that cannot be stat'ed is left to `open` to report.)
        if let Ok(meta) = std::fs::metadata(&file.path) {
            if !meta.is_file() {
                batch.file_bytes.push((name.clone(), 0));
                batch.items.push(error(
                    pos(&name, 0, 0),
                    format!("not a regular file ({})", file_kind(&meta.file_type())),
                ));
                return true;
            }
        }
        match file.format {
            Format::Jsonl => {
                if let Some(range) = file.range.clone() {
                    // A byte range: read through maps whatever the file's size (see
                    // `InputFile::splittable`; the file is uncompressed).
                    let max = usize::try_from(self.opts.max_doc_bytes).unwrap_or(usize::MAX);
                    let opened = std::fs::File::open(&file.path).and_then(|f| {
                        let len = f.metadata()?.len();
                        MappedLines::with_range(f, len, max, self.max_batch_bytes, range.clone())
                    });
                    match opened {
                        Ok(lines) => {
                            self.mapped = Some(CurrentMapped {
                                name,
                                lines,
                                records: 0,
                                range: Some(range),
                                reported: 0,
                            })
                        }
                        Err(e) => {
                            batch.file_bytes.push((name.clone(), 0));
                            batch.items.push(error(
                                pos(&name, 0, range.start),
                                format!("cannot read bytes {}..{}: {e}", range.start, range.end),
                            ));
                        }
                    }
                    return true;
                }
                if let Some(lines) = self.try_map(&file.path) {
                    self.mapped = Some(CurrentMapped {
                        name,
                        lines,
                        records: 0,
                        range: None,
                        reported: 0,
                    });
                    return true;
                }
                match open_decoded(&file.path) {
                    Ok(r) => {
                        let max = usize::try_from(self.opts.max_doc_bytes).unwrap_or(usize::MAX);
                        // A buffer the size of a batch: its lines become the batch without a
                        // copy.
                        let size = self.max_batch_bytes + (256 << 10);
                        self.current = Some(Current {
                            name,
                            splitter: LineSplitter::with_capacity(r, max, size),
                            records: 0,
                            reported_bytes: 0,
                        });
                    }
                    Err(e) => {
                        batch.file_bytes.push((name.clone(), 0));
                        batch
                            .items
                            .push(error(pos(&name, 0, 0), format!("cannot open: {e}")));
                    }
                }
            }
            Format::Warc => match std::fs::File::open(&file.path) {
                Ok(f) => {
                    let Some(range) = file.range.clone() else {
                        let bytes = f.metadata().map(|m| m.len()).unwrap_or(0);
                        batch.file_bytes.push((name.clone(), bytes));
                        self.warc = Some(CurrentWarc {
                            reader: WarcReader::new(f, name.clone())
                                .with_max_record_bytes(self.opts.max_doc_bytes),
                            name,
                            records: 0,
                            may_be_empty: true,
                        });
                        return true;
                    };
                    batch
                        .file_bytes
                        .push((name.clone(), range.end.saturating_sub(range.start)));
                    match warc_span(f, range.clone()) {
                        Ok(Some((f, span))) => {
                            self.warc = Some(CurrentWarc {
                                reader: WarcReader::at(f, name.clone(), span)
                                    .with_max_record_bytes(self.opts.max_doc_bytes),
                                name,
                                records: 0,
                                // Only the range holding all the records can tell.
                                may_be_empty: span.start == 0 && span.stop.is_none(),
                            });
                        }
                        Ok(None) => {} // no record starts in the range
                        Err(e) => batch.items.push(error(
                            pos(&name, 0, range.start),
                            format!("cannot read bytes {}..{}: {e}", range.start, range.end),
                        )),
                    }
                }
                Err(e) => {
                    batch.file_bytes.push((name.clone(), 0));
                    batch
                        .items
                        .push(error(pos(&name, 0, 0), format!("cannot open: {e}")));
                }
            },
            Format::Parquet => match std::fs::File::open(&file.path) {
                Ok(f) => {
                    let bytes = match &file.range {
                        Some(r) => r.end.saturating_sub(r.start),
                        None => f.metadata().map(|m| m.len()).unwrap_or(0),
                    };
                    batch.file_bytes.push((name.clone(), bytes));
                    self.parquet = Some(crate::parquet::ParquetReader::with_range(
                        f,
                        name,
                        self.opts.clone(),
                        file.range.clone(),
                    ));
                }
                Err(e) => {
                    batch.file_bytes.push((name.clone(), 0));
                    batch
                        .items
                        .push(error(pos(&name, 0, 0), format!("cannot open: {e}")));
                }
            },
            Format::Html => {
                let mut record = read_html_file_limited(&file.path, self.opts.max_doc_bytes);
                if remote {
                    match &mut record {
                        Record::Doc(d) => d.source.file = name.clone(),
                        Record::Error(e) => e.source.file = name.clone(),
                        Record::Skipped { source, .. } => source.file = name.clone(),
                    }
                }
                let bytes = std::fs::metadata(&file.path).map(|m| m.len()).unwrap_or(0);
                batch.file_bytes.push((name, bytes));
                batch.items.push(Item::Record(record));
            }
            Format::Text => {
                let (record, bytes) = read_whole_file(&file.path, &name, &self.opts);
                batch.file_bytes.push((name, bytes));
                batch.items.push(Item::Record(record));
            }
        }
        true
    }
}

/// The last part of an object's URL (its file name).
fn object_name(url: &Path) -> std::ffi::OsString {
    url.file_name()
        .map_or_else(|| "object".into(), |n| n.to_os_string())
}

/// Downloads the object `url` into a new temporary folder (see [`BatchReader::fetch`]).
fn download(url: &Path) -> std::io::Result<tempfile::TempDir> {
    let loc = crate::store::Location::parse(&url.to_string_lossy())?;
    let dir = tempfile::Builder::new()
        .prefix("thresher-input-")
        .tempdir()?;
    let path = dir.path().join(object_name(url));
    let mut out = std::io::BufWriter::with_capacity(1 << 20, std::fs::File::create(&path)?);
    loc.download_to(&mut out)?;
    out.into_inner().map_err(|e| e.into_error())?;
    Ok(dir)
}

/// What a file that is not a regular file is, for the error record.
fn file_kind(t: &std::fs::FileType) -> &'static str {
    use std::os::unix::fs::FileTypeExt;
    if t.is_fifo() {
        "FIFO"
    } else if t.is_socket() {
        "socket"
    } else if t.is_char_device() {
        "character device"
    } else if t.is_block_device() {
        "block device"
    } else if t.is_dir() {
        "directory"
    } else {
        "unknown file type"
    }
}

/// An empty buffer for copied lines, with room for a full batch plus a typical last line.
fn batch_buffer(spare: &mut Vec<Vec<u8>>, max_batch_bytes: usize) -> Vec<u8> {
    match spare.pop() {
        Some(mut b) => {
            b.clear();
            b
        }
        None => Vec::with_capacity(max_batch_bytes + (256 << 10)),
    }
}

fn pos(name: &Arc<str>, line: u64, offset: u64) -> SourcePos {
    SourcePos {
        file: name.clone(),
        line,
        byte_offset: offset,
    }
}

fn error(source: SourcePos, message: String) -> Item {
    Item::Record(Record::Error(RecordError {
        source,
        message,
        id: String::new(),
    }))
}

/// The id of a one-document file: its name without directory and known extensions.
pub fn id_from_path(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let base = crate::input::strip_compression(&name);
    match base.rsplit_once('.') {
        Some((stem, ext)) if !stem.is_empty() && ext.len() <= 5 => stem.to_string(),
        _ => base.to_string(),
    }
}

/// Reads a one-document file (`.txt`): the whole file is the text. Returns the record and the
/// number of bytes read.
fn read_whole_file(path: &Path, name: &Arc<str>, opts: &ReadOptions) -> (Record, u64) {
    let at = pos(name, 0, 0);
    let err = |m: String| {
        Record::Error(RecordError {
            source: at.clone(),
            message: m,
            id: id_from_path(path),
        })
    };
    let reader = match open_decoded(path) {
        Ok(r) => r,
        Err(e) => return (err(format!("cannot open: {e}")), 0),
    };
    let mut bytes = Vec::new();
    if let Err(e) = reader
        .take(opts.max_doc_bytes.saturating_add(1))
        .read_to_end(&mut bytes)
    {
        let n = bytes.len() as u64;
        return (
            err(format!(
                "input is truncated or corrupt after {n} bytes: {e}"
            )),
            n,
        );
    }
    let n = bytes.len() as u64;
    if n > opts.max_doc_bytes {
        return (
            err(format!(
                "file is over max_doc_bytes ({})",
                opts.max_doc_bytes
            )),
            n,
        );
    }
    if bytes.is_empty() {
        return (err("empty file: no records".into()), 0);
    }
    if let Some(i) = memchr::memchr(0, &bytes) {
        return (
            err(format!("binary file (NUL byte at offset {i}), not text")),
            n,
        );
    }
    let mut lossy = false;
    let text = match String::from_utf8(bytes) {
        Ok(t) => t,
        Err(e) => match opts.invalid_utf8 {
            Utf8Policy::Error => {
                return (
                    err(format!(
                        "invalid UTF-8 at byte {}",
                        e.utf8_error().valid_up_to()
                    )),
                    n,
                )
            }
            Utf8Policy::Replace => {
                lossy = true;
                String::from_utf8_lossy(e.as_bytes()).into_owned()
            }
        },
    };
    let mut doc = Document::new(id_from_path(path), text);
    doc.source = at;
    doc.metadata
        .insert("file".into(), serde_json::Value::String(name.to_string()));
    if lossy {
        doc.annotate("reader", "lossy_utf8", true);
    }
    (Record::Doc(doc), n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;
    use std::path::PathBuf;
    use std::sync::mpsc;
    use std::time::Duration;

    /// A record as text: `doc:<text>@<offset>`, `line@<offset>:<bytes>`, `err@<offset>:<msg>`.
    fn describe(batch: &Batch, item: &Item) -> String {
        match item {
            Item::Line { range, source } => format!(
                "line@{}:{}",
                source.byte_offset,
                String::from_utf8_lossy(&batch.buf[range.clone()])
            ),
            Item::Record(Record::Doc(d)) => format!("doc@{}:{}", d.source.byte_offset, d.text()),
            Item::Record(Record::Error(e)) => {
                let file = Path::new(&*e.source.file).file_name().unwrap().to_owned();
                format!(
                    "err {}@{}:{}",
                    file.to_string_lossy(),
                    e.source.byte_offset,
                    e.message
                )
            }
            Item::Record(Record::Skipped { kind, .. }) => format!("skip:{kind}"),
        }
    }

    /// Reads `files` on another thread, so that a reader that blocks fails the test instead
    /// of hanging it.
    fn read_all_within(files: Vec<InputFile>, opts: ReadOptions) -> Vec<String> {
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut r = BatchReader::new(files, opts);
            let mut out = Vec::new();
            while let Some(b) = r.next_batch() {
                out.extend(b.items.iter().map(|i| describe(&b, i)));
            }
            let _ = tx.send(out);
        });
        rx.recv_timeout(Duration::from_secs(20))
            .expect("the reader blocked (or panicked)")
    }

    fn mkfifo(path: &Path) {
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).unwrap();
        // SAFETY: a valid NUL-terminated path; mkfifo touches no memory of ours.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o600) }, 0);
    }

    /// `mkfifo f.jsonl; thresher run default -i f.jsonl` blocked in `open` forever.
    #[test]
    fn fifo_input_does_not_hang() {
        let d = tempfile::tempdir().unwrap();
        for name in ["a.jsonl", "b.warc", "c.txt", "d.html"] {
            mkfifo(&d.path().join(name));
        }
        std::fs::write(d.path().join("e.jsonl"), "{\"text\": \"ok\"}\n").unwrap();
        // Named directly, and found by walking the directory.
        let direct: Vec<PathBuf> = ["a.jsonl", "b.warc", "c.txt", "d.html", "e.jsonl"]
            .iter()
            .map(|n| d.path().join(n))
            .collect();
        for inputs in [direct, vec![d.path().to_path_buf()]] {
            let files = crate::expand_inputs(&inputs).unwrap();
            let got = read_all_within(files, ReadOptions::default());
            let mut want: Vec<String> = ["a.jsonl", "b.warc", "c.txt", "d.html"]
                .iter()
                .map(|n| format!("err {n}@0:not a regular file (FIFO)"))
                .collect();
            want.push("line@0:{\"text\": \"ok\"}".into());
            assert_eq!(got, want);
        }
        // Whether a file can be read in byte ranges is told without opening a FIFO.
        let fifo = crate::expand_inputs(&[d.path().join("a.jsonl")]).unwrap();
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || tx.send(fifo[0].splittable()));
        assert_eq!(rx.recv_timeout(Duration::from_secs(20)), Ok(false));
    }

    fn jsonl(name: &str) -> InputFile {
        InputFile {
            path: PathBuf::from(name),
            format: Format::Jsonl,
            size: None,
            range: None,
        }
    }

    /// A UTF-8 byte-order mark made the first, valid record of a JSONL file an error. It is
    /// skipped, and the later records keep their true byte offsets: small (read), large
    /// (mapped) and gzipped files.
    #[test]
    fn jsonl_bom_is_skipped() {
        let d = tempfile::tempdir().unwrap();
        let mut body = Vec::new();
        body.extend_from_slice(b"\xef\xbb\xbf{\"text\": \"one\"}\n{\"text\": \"two\"}\n");
        let small = d.path().join("small.jsonl");
        std::fs::write(&small, &body).unwrap();
        let gz = d.path().join("small.jsonl.gz");
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(&body).unwrap();
        std::fs::write(&gz, e.finish().unwrap()).unwrap();
        // Over MMAP_MIN_BYTES, so it is mapped.
        let big = d.path().join("big.jsonl");
        let filler = format!("{{\"text\": \"{}\"}}\n", "x".repeat(1000));
        let mut big_body = body.clone();
        while (big_body.len() as u64) < MMAP_MIN_BYTES + 10 {
            big_body.extend_from_slice(filler.as_bytes());
        }
        std::fs::write(&big, &big_body).unwrap();
        let want = ["line@3:{\"text\": \"one\"}", "line@19:{\"text\": \"two\"}"];
        for (p, mmap) in [(&small, true), (&gz, true), (&big, true), (&big, false)] {
            let opts = ReadOptions {
                mmap,
                ..ReadOptions::default()
            };
            let got = read_all_within(vec![jsonl(p.to_str().unwrap())], opts.clone());
            assert_eq!(got[..2], want, "{} mmap {mmap}", p.display());
            if p == &big {
                assert_eq!(got.len(), big_body[body.len()..].len() / filler.len() + 2);
                let second = format!("line@{}:{}", body.len(), filler.trim_end());
                assert_eq!(got[2], second);
            }
            // And the first line parses as a document.
            let mut r = BatchReader::new(vec![jsonl(p.to_str().unwrap())], opts);
            let b = r.next_batch().unwrap();
            let Item::Line { range, source } = &b.items[0] else {
                panic!("{:?}", b.items[0])
            };
            let rec = crate::parse_jsonl_line(
                &b.buf[range.clone()],
                source.clone(),
                &ReadOptions::default(),
            );
            assert!(matches!(rec, Record::Doc(d) if d.text() == "one"));
        }
    }

    /// Every record of `file` (or of its range) as `id|line|offset|text or error`, and the
    /// bytes reported for the file.
    fn records(file: InputFile, opts: &ReadOptions) -> (Vec<String>, u64) {
        let mut r = BatchReader::new(vec![file], opts.clone());
        let (mut out, mut bytes) = (Vec::new(), 0);
        while let Some(b) = r.next_batch() {
            bytes += b.file_bytes.iter().map(|(_, n)| n).sum::<u64>();
            let buf = Arc::new(b.buf);
            for it in b.items {
                out.push(match it.into_record(&buf, opts) {
                    Record::Doc(d) => format!(
                        "{}|{}|{}|{}",
                        d.id,
                        d.source.line,
                        d.source.byte_offset,
                        d.text()
                    ),
                    Record::Error(e) => format!(
                        "{}|{}|{}|{}",
                        e.id, e.source.line, e.source.byte_offset, e.message
                    ),
                    Record::Skipped { kind, source } => {
                        format!("skip:{kind}@{}", source.byte_offset)
                    }
                });
            }
        }
        (out, bytes)
    }

    /// The records of the ranges of `path` cut at `cuts` (sorted, inside 0..len), in order.
    fn by_ranges(path: &Path, cuts: &[u64], opts: &ReadOptions) -> (Vec<String>, u64) {
        let len = std::fs::metadata(path).unwrap().len();
        let mut bounds = vec![0];
        bounds.extend_from_slice(cuts);
        bounds.push(len);
        let (mut out, mut bytes) = (Vec::new(), 0);
        for w in bounds.windows(2) {
            let file = InputFile {
                path: path.to_path_buf(),
                format: Format::from_path(path).unwrap(),
                size: None,
                range: Some(w[0]..w[1]),
            };
            let (r, b) = records(file, opts);
            assert_eq!(b, w[1] - w[0], "bytes of range {:?}", w);
            out.extend(r);
            bytes += b;
        }
        (out, bytes)
    }

    /// A file cut into byte ranges anywhere (inside records, at newlines, inside a `\r\n` or
    /// the byte-order mark, a record longer than a range, blank lines, an over-long line, a
    /// last line without a newline) gives the whole file's records, ids and positions, in
    /// order, each once.
    #[test]
    fn byte_ranges_give_the_whole_files_records() {
        let d = tempfile::tempdir().unwrap();
        let long = "x".repeat(150);
        let over = "y".repeat(300);
        let body = format!(
            "{{\"text\": \"one\"}}\n\n{{\"id\": \"b\", \"text\": \"two\"}}\r\n   \n\
             {{\"text\": \"{long}\"}}\n{{\"text\": \"{over}\"}}\nnot json\n\n\n\
             {{\"text\": \"three\"}}\n{{\"text\": \"last\"}}"
        );
        let opts = ReadOptions {
            max_doc_bytes: 250,
            ..ReadOptions::default()
        };
        for bom in [false, true] {
            let path = d.path().join(format!("f{bom}.jsonl"));
            let mut data = if bom {
                crate::lines::BOM.to_vec()
            } else {
                Vec::new()
            };
            data.extend_from_slice(body.as_bytes());
            std::fs::write(&path, &data).unwrap();
            let len = data.len() as u64;
            let (want, want_bytes) = records(jsonl(path.to_str().unwrap()), &opts);
            assert_eq!(want_bytes, len);
            assert_eq!(want.len(), 7, "{want:#?}");
            // Every 2-way cut, and 4-way cuts at many awkward places.
            let mut cut_sets: Vec<Vec<u64>> = (0..=len).map(|c| vec![c]).collect();
            let nl: Vec<u64> = (0..len).filter(|&i| data[i as usize] == b'\n').collect();
            for (k, &n) in nl.iter().enumerate() {
                let other = nl[(k * 7 + 3) % nl.len()];
                let mut c = vec![n, n + 1, other.saturating_sub(1)];
                c.sort();
                cut_sets.push(c);
            }
            for k in 0..200u64 {
                let mut c: Vec<u64> = (1..4)
                    .map(|j| (k * 7919 * j + j * 31) % (len + 1))
                    .collect();
                c.sort();
                cut_sets.push(c);
            }
            cut_sets.push(vec![1, 2, 3]);
            cut_sets.push(vec![len / 4, len / 2, 3 * len / 4]);
            for cuts in cut_sets {
                let (got, bytes) = by_ranges(&path, &cuts, &opts);
                assert_eq!(got, want, "cuts {cuts:?}, bom {bom}");
                assert_eq!(bytes, len);
            }
        }
        // A file of blank lines is one "empty file" error, however it is cut.
        let blank = d.path().join("blank.jsonl");
        std::fs::write(&blank, "\n  \n\r\n\n").unwrap();
        let (want, _) = records(jsonl(blank.to_str().unwrap()), &opts);
        assert_eq!(want.len(), 1, "{want:?}");
        for c in 0..=6 {
            assert_eq!(by_ranges(&blank, &[c], &opts).0, want, "cut {c}");
        }
    }

    /// One WARC record of type `wtype` with `payload` (and a record id unless `id` is empty).
    fn warc_record(wtype: &str, id: &str, ctype: &str, payload: &[u8]) -> Vec<u8> {
        let mut r = format!("WARC/1.0\r\nWARC-Type: {wtype}\r\n").into_bytes();
        if !id.is_empty() {
            r.extend(format!("WARC-Record-ID: <urn:uuid:{id}>\r\n").bytes());
        }
        r.extend(
            format!(
                "WARC-Target-URI: http://e.x/{id}\r\nContent-Type: {ctype}\r\n\
                 Content-Length: {}\r\n\r\n",
                payload.len()
            )
            .bytes(),
        );
        r.extend_from_slice(payload);
        r.extend_from_slice(b"\r\n\r\n");
        r
    }

    fn gzip(data: &[u8]) -> Vec<u8> {
        let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        e.write_all(data).unwrap();
        e.finish().unwrap()
    }

    /// The records of a small WARC file with awkward parts: a payload holding two whole records
    /// (`WARC/` lines that are no record starts), a request (skipped), a record without an id,
    /// junk between records, a Content-Length too short, and a last record cut short.
    fn awkward_warc_records() -> Vec<Vec<u8>> {
        // (Two inner records: the first is followed by a record, the second by "after".)
        let mut holder = b"before\n".to_vec();
        holder.extend(warc_record("conversion", "in", "text/plain", b"inner text"));
        holder.extend(warc_record("conversion", "in2", "text/plain", b"inner two"));
        holder.extend(b"after");
        let mut short = warc_record("conversion", "short", "text/plain", b"0123456789 text");
        let at = memchr::memmem::find(&short, b"Length: 15").unwrap();
        short[at + 8..at + 10].copy_from_slice(b"09");
        let last = warc_record("conversion", "cut", "text/plain", b"the end is missing");
        // (Good records: a cut needs 16 well-formed records after it, see `warc_range`.)
        let fillers = (0..24).map(|i| {
            let text = format!("filler {i}");
            warc_record(
                "conversion",
                &format!("f{i}"),
                "text/plain",
                text.as_bytes(),
            )
        });
        let mut recs = vec![
            warc_record(
                "warcinfo",
                "info",
                "application/warc-fields",
                b"software: t\r\n",
            ),
            warc_record("conversion", "a", "text/plain", b"first text"),
            warc_record("resource", "h", "text/html", b"<html><p>hello</p></html>"),
            warc_record("resource", "w", "application/warc", &holder),
            warc_record(
                "request",
                "r",
                "application/http",
                b"GET / HTTP/1.1\r\n\r\n",
            ),
            warc_record("conversion", "", "text/plain", b"no id here"),
        ];
        recs.extend(fillers);
        recs.extend([
            b"junk line\nWARC/ in junk\nmore junk\n".to_vec(),
            short,
            warc_record("conversion", "z", "text/plain", b"after the short one"),
            last[..last.len() - 9].to_vec(),
        ]);
        recs
    }

    /// How many records the range `range` of `path` holds.
    fn range_len(path: &Path, range: std::ops::Range<u64>) -> usize {
        let file = InputFile {
            path: path.to_path_buf(),
            format: Format::from_path(path).unwrap(),
            size: None,
            range: Some(range),
        };
        records(file, &ReadOptions::default()).0.len()
    }

    /// Cut sets for a file of `len` bytes: every single cut, and 3-cut sets at many places
    /// (including each of `marks` and the bytes around it).
    fn cut_sets(len: u64, marks: &[u64]) -> Vec<Vec<u64>> {
        let mut sets: Vec<Vec<u64>> = (1..len).map(|c| vec![c]).collect();
        for (k, &m) in marks.iter().enumerate() {
            let other = marks[(k * 7 + 3) % marks.len()];
            let mut c = vec![
                m.max(1),
                (m + 1).min(len - 1),
                other.saturating_sub(1).max(1),
            ];
            c.sort();
            c.dedup();
            sets.push(c);
        }
        for k in 0..60u64 {
            let mut c: Vec<u64> = (1..4)
                .map(|j| 1 + (k * 7919 * j + j * 31) % (len - 1))
                .collect();
            c.sort();
            c.dedup();
            sets.push(c);
        }
        sets
    }

    /// An uncompressed WARC file cut into byte ranges anywhere (inside version lines, headers,
    /// payloads, the junk, a payload's `WARC/` line) gives the whole file's records, skips and
    /// errors, with the same ids and offsets, each once.
    #[test]
    fn warc_byte_ranges_give_the_whole_files_records() {
        let d = tempfile::tempdir().unwrap();
        let recs = awkward_warc_records();
        let data = recs.concat();
        let path = d.path().join("a.warc");
        std::fs::write(&path, &data).unwrap();
        let file = InputFile {
            path: path.clone(),
            format: Format::Warc,
            size: None,
            range: None,
        };
        assert!(file.splittable());
        let opts = ReadOptions::default();
        let (want, _) = records(file, &opts);
        let kinds = want.iter().filter(|w| w.starts_with("skip:")).count();
        let errors = want
            .iter()
            .filter(|w| w.contains("|0|") && !w.contains("text"))
            .count();
        assert!(want.len() >= 34 && kinds == 3, "{want:#?}");
        assert!(errors >= 2, "{want:#?}");
        let len = data.len() as u64;
        let mut marks: Vec<u64> = memchr::memmem::find_iter(&data, b"WARC/")
            .map(|p| p as u64)
            .collect();
        marks.extend(
            memchr::memchr_iter(b'\n', &data)
                .map(|p| p as u64 + 1)
                .step_by(3),
        );
        // Both sides of a cut inside the fillers hold records: the file is split.
        let at = memchr::memmem::find(&data, b"filler 3").unwrap() as u64;
        let half = range_len(&path, 0..at);
        assert!(half > 0 && half < want.len(), "{half}");
        for cuts in cut_sets(len, &marks) {
            let (got, bytes) = by_ranges(&path, &cuts, &opts);
            assert_eq!(got, want, "cuts {cuts:?}");
            assert_eq!(bytes, len);
        }
    }

    /// A `.warc.gz` file of one gzip member per record, with garbage between two members and
    /// a corrupt member, cut into byte ranges anywhere (inside gzip headers, at member starts,
    /// in the garbage and the corrupt member): the whole file's records, skips and errors, with
    /// the same decompressed offsets and messages, each once. And a file that is one gzip
    /// member: its first range reads it all.
    #[test]
    fn warc_gz_byte_ranges_give_the_whole_files_records() {
        let d = tempfile::tempdir().unwrap();
        let recs = awkward_warc_records();
        let mut data = Vec::new();
        let mut marks = Vec::new();
        for (i, r) in recs.iter().enumerate() {
            if i == 3 {
                data.extend_from_slice(b"\x00garbage\x1f\x8b\x08 between members\n");
            }
            marks.push(data.len() as u64);
            if i == 5 {
                // A corrupt member: its middle bytes are changed.
                let mut g = gzip(r);
                let mid = g.len() / 2;
                g[mid] ^= 0x55;
                g[mid + 1] ^= 0x55;
                data.extend(g);
            } else {
                data.extend(gzip(r));
            }
        }
        let path = d.path().join("a.warc.gz");
        std::fs::write(&path, &data).unwrap();
        let whole = d.path().join("b.warc.gz");
        std::fs::write(&whole, gzip(&recs[..6].concat())).unwrap();
        let opts = ReadOptions::default();
        for (path, marks) in [(path, marks), (whole, vec![0, 10, 20])] {
            let file = InputFile {
                path: path.clone(),
                format: Format::Warc,
                size: None,
                range: None,
            };
            assert!(file.splittable());
            let (want, _) = records(file, &opts);
            assert!(want.len() >= 6, "{want:#?}");
            if marks.len() > 3 {
                // (The garbage holds a gzip magic: a corrupt "member" of its own.)
                let has = |s: &str| want.iter().filter(|w| w.contains(s)).count();
                assert_eq!(has("checksum"), 1, "{want:#?}");
                assert_eq!(has("invalid gzip header"), 1, "{want:#?}");
                assert_eq!(has("garbage between gzip members"), 1, "{want:#?}");
            }
            let len = std::fs::metadata(&path).unwrap().len();
            // Per-record members: both halves hold records; one member: the first range all.
            let half = range_len(&path, 0..len / 2);
            if marks.len() > 3 {
                assert!(half > 0 && half < want.len(), "{half}");
            } else {
                assert_eq!(half, want.len());
                assert_eq!(range_len(&path, 1..len), 0);
            }
            for cuts in cut_sets(len, &marks) {
                let (got, bytes) = by_ranges(&path, &cuts, &opts);
                assert_eq!(got, want, "{path:?} cuts {cuts:?}");
                assert_eq!(bytes, len);
            }
        }
    }

    /// The crawl samples of ../shared (real per-record gzip files, a file that is one gzip
    /// member, uncompressed and malformed ones), each cut into 2 to 5 ranges at many places,
    /// give the whole file's records.
    #[test]
    fn shared_warc_samples_in_byte_ranges() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/warc-samples");
        let Ok(entries) = std::fs::read_dir(&dir) else {
            assert!(
                std::env::var_os("THRESHER_REQUIRE_SHARED").is_none(),
                "../shared is required (THRESHER_REQUIRE_SHARED is set) but absent"
            );
            eprintln!("skipping: ../shared/corpus/warc-samples absent");
            return;
        };
        let d = tempfile::tempdir().unwrap();
        let opts = ReadOptions::default();
        let mut split = 0;
        for e in entries.flatten() {
            let p = e.path();
            let name = p.file_name().unwrap().to_string_lossy().into_owned();
            // (`.gz.bad` is a `.warc.gz` under another name.)
            let path = match name.strip_suffix(".bad") {
                Some(n) => {
                    let to = d.path().join(n);
                    std::fs::copy(&p, &to).unwrap();
                    to
                }
                None => p,
            };
            let Some(Format::Warc) = Format::from_path(&path) else {
                continue;
            };
            let file = InputFile {
                path: path.clone(),
                format: Format::Warc,
                size: None,
                range: None,
            };
            if !file.splittable() {
                assert!(name.contains(".arc"), "{name} is not split");
                continue;
            }
            split += 1;
            let (want, _) = records(file, &opts);
            let len = std::fs::metadata(&path).unwrap().len();
            if len > 100_000 && !name.ends_with(".bad") {
                // Large files are cut: their second half holds records.
                let second = range_len(&path, len / 2..len);
                assert!(second > 0 && second < want.len(), "{name}: {second}");
            }
            for n in 2..=5u64 {
                for shift in [0, 1, 7, 101] {
                    let mut cuts: Vec<u64> = (1..n)
                        .map(|i| (i * len / n + shift).clamp(1, len - 1))
                        .collect();
                    cuts.dedup();
                    let (got, bytes) = by_ranges(&path, &cuts, &opts);
                    assert_eq!(got, want, "{name} cuts {cuts:?}");
                    assert_eq!(bytes, len);
                }
            }
        }
        assert!(split >= 20, "{split}");
    }
}
