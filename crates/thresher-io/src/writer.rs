//! Sharded, crash-safe JSONL output.

use std::fs::File;
use std::io::{BufReader, BufWriter, IoSlice, Read, Write};
use std::path::PathBuf;

use serde::Deserialize;
use twox_hash::XxHash3_128;

use crate::outdir::{Folder, OutDir, OutDirError, MARKERS};

/// Compression of output shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputCompression {
    /// Plain `.jsonl` (the default: fastest, and readable by every tool).
    #[default]
    None,
    /// `.jsonl.gz`.
    Gzip,
    /// `.jsonl.zst`.
    Zstd,
}

impl OutputCompression {
    fn suffix(self) -> &'static str {
        match self {
            OutputCompression::None => ".jsonl",
            OutputCompression::Gzip => ".jsonl.gz",
            OutputCompression::Zstd => ".jsonl.zst",
        }
    }
}

/// The format of the output shards.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum OutputFormat {
    /// JSON lines (the default).
    #[default]
    Jsonl,
    /// Apache Parquet, one fixed schema per category (see [`crate::parquet::Category`]).
    Parquet,
}

/// How much of a rejected document's text the `rejected` output holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(try_from = "String", into = "String")]
pub enum RejectedText {
    /// The whole text (the default).
    #[default]
    Full,
    /// None: the `text` field is an empty string.
    None,
    /// The first N characters (Unicode scalar values).
    Head(usize),
}

impl TryFrom<String> for RejectedText {
    type Error = String;
    fn try_from(s: String) -> Result<Self, String> {
        match s.as_str() {
            "full" => Ok(RejectedText::Full),
            "none" => Ok(RejectedText::None),
            _ => s
                .strip_prefix("head:")
                .and_then(|n| n.parse().ok())
                .map(RejectedText::Head)
                .ok_or_else(|| format!("`{s}`: rejected_text is \"full\", \"none\" or \"head:N\"")),
        }
    }
}

impl From<RejectedText> for String {
    fn from(r: RejectedText) -> String {
        match r {
            RejectedText::Full => "full".into(),
            RejectedText::None => "none".into(),
            RejectedText::Head(n) => format!("head:{n}"),
        }
    }
}

impl RejectedText {
    /// The part of `text` to write.
    pub fn apply(self, text: &str) -> &str {
        match self {
            RejectedText::Full => text,
            RejectedText::None => "",
            RejectedText::Head(n) => match text.char_indices().nth(n) {
                Some((i, _)) => &text[..i],
                None => text,
            },
        }
    }
}

/// Options of the writers, set in a recipe's `[output]` table.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize, serde::Serialize)]
#[serde(deny_unknown_fields, default)]
pub struct WriteOptions {
    /// Format of every output shard.
    pub format: OutputFormat,
    /// Compression of every output shard; unset: none for JSONL, zstd for Parquet (where it
    /// compresses the pages inside the file).
    pub compression: Option<OutputCompression>,
    /// Compression of the `kept` shards, if not `compression`.
    pub kept_compression: Option<OutputCompression>,
    /// Compression of the `rejected` shards, if not `compression`.
    pub rejected_compression: Option<OutputCompression>,
    /// Compression of the `errors` shards, if not `compression`.
    pub errors_compression: Option<OutputCompression>,
    /// How much of a rejected document's text to write.
    pub rejected_text: RejectedText,
    /// A shard is closed after this many documents...
    pub shard_max_docs: u64,
    /// ...or once it holds this many (uncompressed) bytes, whichever comes first.
    pub shard_max_bytes: u64,
    /// Compression level (gzip 0-9, zstd 1-22); `None` means the codec's default.
    pub level: Option<i32>,
    /// Sync each shard to disk before renaming it. Off by default: a killed process loses
    /// nothing the kernel already has, so renames alone make `--resume` exact after a crash of
    /// thresher; turn it on to survive a power loss too (it costs the time to flush each shard).
    pub fsync: bool,
    /// Parquet output: which metadata keys get typed columns of their own (`"auto"`: the keys
    /// whose types the Parquet inputs fix; `"json"`: none, every key in the JSON `metadata`
    /// column). See [`crate::parquet::MetaColumn`].
    pub metadata_columns: MetadataColumns,
    /// The typed metadata columns of this run, resolved from the inputs by the run (not a
    /// recipe setting).
    #[serde(skip)]
    pub meta_columns: std::sync::Arc<[crate::parquet::MetaColumn]>,
}

/// `[output] metadata_columns`: how metadata keys map to Parquet columns.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum MetadataColumns {
    /// A typed column per key whose type the Parquet inputs fix; the rest in JSON.
    #[default]
    Auto,
    /// Every key in the JSON `metadata` column.
    Json,
}

impl Default for WriteOptions {
    fn default() -> Self {
        WriteOptions {
            format: OutputFormat::Jsonl,
            compression: None,
            kept_compression: None,
            rejected_compression: None,
            errors_compression: None,
            rejected_text: RejectedText::Full,
            shard_max_docs: 100_000,
            shard_max_bytes: 1 << 30,
            level: None,
            fsync: false,
            metadata_columns: MetadataColumns::Auto,
            meta_columns: std::sync::Arc::from([]),
        }
    }
}

impl WriteOptions {
    /// The compression of `category`'s shards (`kept`, `rejected`, `errors`): its own setting,
    /// else `compression`, else the format's default.
    pub fn compression_of(&self, category: &str) -> OutputCompression {
        let own = match category {
            "kept" => self.kept_compression,
            "rejected" => self.rejected_compression,
            "errors" => self.errors_compression,
            _ => None,
        };
        own.or(self.compression).unwrap_or(match self.format {
            OutputFormat::Jsonl => OutputCompression::None,
            OutputFormat::Parquet => OutputCompression::Zstd,
        })
    }
}

/// What a completed shard's marker records: enough to check, on `--resume`, that replaying the
/// run regenerated exactly the same shard. A plain shard is checked against its own bytes on
/// disk (so a run does not hash what it writes); a compressed one against the XXH3-128 of its
/// uncompressed bytes, computed as they are written.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, Deserialize)]
struct Marker {
    docs: u64,
    bytes: u64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    xxh3: Option<String>,
}

enum Sink {
    Plain(BufWriter<File>),
    Gzip(flate2::write::GzEncoder<BufWriter<File>>),
    Zstd(zstd::stream::write::Encoder<'static, BufWriter<File>>),
    /// Replaying a shard that a previous run completed: bytes are checked, not written.
    Done {
        marker: Marker,
        /// The completed shard, when the marker has no hash (a plain shard): the replayed bytes
        /// are compared with it.
        file: Option<BufReader<File>>,
        /// Whether a replayed byte differed from the file's (or the file ended first).
        differs: bool,
    },
}

struct Shard {
    index: u32,
    sink: Sink,
    docs: u64,
    bytes: u64,
    /// The XXH3-128 of the bytes, for the shards whose marker records one.
    hash: Option<XxHash3_128>,
    /// Bytes of a plain shard's file allocated ahead of the writes (see [`preallocate`]).
    allocated: u64,
}

/// Writes one output category (`kept`, `rejected`, `errors`) as numbered JSONL shards.
///
/// Before a shard is begun, an intent marker `OUTDIR/.markers/<category>-NNNNN.open` says that
/// its files are thresher's (see [`crate::outdir`]). The shard is written as
/// `.NNNNN.jsonl.tmp` (created with `O_EXCL|O_NOFOLLOW` in the folder's handle), renamed to
/// `NNNNN.jsonl` when it is complete, then marked `<category>-NNNNN.done`, and the intent
/// marker is removed.
/// With `resume`, a shard whose marker exists is not written again: its records are only
/// checked, against the shard's bytes on disk (plain shards) or the marker's hash (compressed
/// ones). The run is deterministic, so a replay regenerates the same bytes; a mismatch means
/// that the input or the recipe changed, or that the shard was damaged.
pub struct ShardedWriter {
    dir: Folder,
    markers: Folder,
    category: String,
    opts: WriteOptions,
    resume: bool,
    shard: Option<Shard>,
    next_index: u32,
    /// Shards completed, with their document counts.
    pub completed: Vec<(PathBuf, u64)>,
}

impl ShardedWriter {
    /// A writer of `outdir/category/` shards. Creates the folders (a folder that is a link is
    /// refused).
    pub fn new(
        outdir: &OutDir,
        category: &str,
        opts: WriteOptions,
        resume: bool,
    ) -> Result<Self, OutDirError> {
        let dir = outdir.folder(category)?;
        let markers = outdir.folder(MARKERS)?;
        Ok(ShardedWriter {
            dir,
            markers,
            category: category.to_string(),
            opts,
            resume,
            shard: None,
            next_index: 0,
            completed: Vec::new(),
        })
    }

    /// The shard's temporary and final names, and its marker's name without the extension.
    fn names(&self, index: u32) -> (String, String, String) {
        let suffix = self.opts.compression_of(&self.category).suffix();
        (
            format!(".{index:05}{suffix}.tmp"),
            format!("{index:05}{suffix}"),
            format!("{}-{index:05}", self.category),
        )
    }

    fn open(&mut self) -> std::io::Result<Shard> {
        let index = self.next_index;
        self.next_index += 1;
        let (tmp, fin, marker) = self.names(index);
        if self.resume && self.dir.exists(&fin) {
            if let Ok(Some(m)) = self.markers.read_to_string(&format!("{marker}.done")) {
                if let Ok(marker) = serde_json::from_str::<Marker>(&m) {
                    let (file, hash) = match marker.xxh3 {
                        Some(_) => (None, Some(XxHash3_128::new())),
                        None => (Some(BufReader::new(self.dir.open_read(&fin)?)), None),
                    };
                    return Ok(Shard {
                        index,
                        sink: Sink::Done {
                            marker,
                            file,
                            differs: false,
                        },
                        docs: 0,
                        bytes: 0,
                        hash,
                        allocated: 0,
                    });
                }
            }
        }
        // The intent marker first: from now on the shard's names are thresher's.
        self.markers
            .create_fresh(&format!("{marker}.open"))?
            .write_all(fin.as_bytes())?;
        let file = BufWriter::with_capacity(1 << 20, self.dir.create_fresh(&tmp)?);
        let sink = match self.opts.compression_of(&self.category) {
            OutputCompression::None => Sink::Plain(file),
            OutputCompression::Gzip => {
                let level = self.opts.level.map_or(6, |l| l.clamp(0, 9) as u32);
                Sink::Gzip(flate2::write::GzEncoder::new(
                    file,
                    flate2::Compression::new(level),
                ))
            }
            OutputCompression::Zstd => {
                let mut enc =
                    zstd::stream::write::Encoder::new(file, self.opts.level.unwrap_or(3))?;
                // Checksums let readers detect a damaged shard.
                enc.include_checksum(true)?;
                Sink::Zstd(enc)
            }
        };
        let hash = match sink {
            Sink::Plain(_) => None,
            _ => Some(XxHash3_128::new()),
        };
        Ok(Shard {
            index,
            sink,
            docs: 0,
            bytes: 0,
            hash,
            allocated: 0,
        })
    }

    /// The file an error happened on: the shard being written, or the category's folder.
    fn name_file(&self, index: Option<u32>, e: std::io::Error) -> std::io::Error {
        let path = match index {
            Some(i) => self.dir.join(&self.names(i).0),
            None => self.dir.path().to_path_buf(),
        };
        if e.to_string().contains(&*path.to_string_lossy()) {
            return e;
        }
        std::io::Error::new(e.kind(), format!("{}: {e}", path.display()))
    }

    /// Writes one record (one JSON line, with its trailing newline).
    pub fn write_line(&mut self, line: &[u8]) -> std::io::Result<()> {
        self.write_line_inner(line)
            .map_err(|e| self.name_file(self.next_index.checked_sub(1), e))
    }

    fn write_line_inner(&mut self, line: &[u8]) -> std::io::Result<()> {
        if self.shard.is_none() {
            self.shard = Some(self.open()?);
        }
        let shard = self.shard.as_mut().expect("opened above");
        if let Some(h) = shard.hash.as_mut() {
            h.write(line);
        }
        match &mut shard.sink {
            Sink::Plain(w) => w.write_all(line)?,
            Sink::Gzip(w) => w.write_all(line)?,
            Sink::Zstd(w) => w.write_all(line)?,
            Sink::Done { file, differs, .. } => check_replay(file, differs, &[line])?,
        }
        shard.docs += 1;
        shard.bytes += line.len() as u64;
        if shard.docs >= self.opts.shard_max_docs || shard.bytes >= self.opts.shard_max_bytes {
            self.close_shard()?;
        }
        Ok(())
    }

    /// Writes consecutive records at once: `data` holds whole lines (each with its newline),
    /// the i-th one ending at `ends[i]` (exclusive, increasing). The same as
    /// [`ShardedWriter::write_pieces`] with one piece per line.
    pub fn write_lines(&mut self, data: &[u8], ends: &[usize]) -> std::io::Result<()> {
        let mut start = 0;
        let pieces: Vec<&[u8]> = ends
            .iter()
            .map(|&e| {
                let p = &data[start..e];
                start = e;
                p
            })
            .collect();
        let piece_ends: Vec<usize> = (1..=ends.len()).collect();
        self.write_pieces(&pieces, &piece_ends)
    }

    /// Writes consecutive records given in pieces: the i-th line (with its newline) is made of
    /// the pieces up to `ends[i]` (exclusive, increasing) from the end of the previous line.
    /// The shards, their bytes and markers are exactly those of [`ShardedWriter::write_line`]
    /// on each line in turn. The pieces that go to a plain shard are written with one `writev`
    /// per 1,024, straight from where they are (the batch's input buffer, for a text the run
    /// did not change): no copy into a file buffer.
    pub fn write_pieces(&mut self, pieces: &[&[u8]], ends: &[usize]) -> std::io::Result<()> {
        self.write_pieces_inner(pieces, ends)
            .map_err(|e| self.name_file(self.next_index.checked_sub(1), e))
    }

    fn write_pieces_inner(&mut self, pieces: &[&[u8]], ends: &[usize]) -> std::io::Result<()> {
        let mut start = 0; // first piece not written yet
        let mut k = 0; // first line not written yet
        while k < ends.len() {
            if self.shard.is_none() {
                self.shard = Some(self.open()?);
            }
            let shard = self.shard.as_mut().expect("opened above");
            let mut end = start;
            let mut full = false;
            while let Some(&e) = ends.get(k) {
                shard.docs += 1;
                shard.bytes += pieces[end..e].iter().map(|p| p.len() as u64).sum::<u64>();
                end = e;
                k += 1;
                if shard.docs >= self.opts.shard_max_docs
                    || shard.bytes >= self.opts.shard_max_bytes
                {
                    full = true;
                    break;
                }
            }
            let run = &pieces[start..end];
            if let Some(h) = shard.hash.as_mut() {
                for p in run {
                    h.write(p);
                }
            }
            match &mut shard.sink {
                Sink::Plain(w) => {
                    // Straight to the file: the buffer would copy a run smaller than itself.
                    w.flush()?;
                    shard.allocated = preallocate(w.get_ref(), shard.allocated, shard.bytes);
                    write_all_vectored(w.get_mut(), run)?
                }
                Sink::Gzip(w) => run.iter().try_for_each(|p| w.write_all(p))?,
                Sink::Zstd(w) => run.iter().try_for_each(|p| w.write_all(p))?,
                Sink::Done { file, differs, .. } => check_replay(file, differs, run)?,
            }
            start = end;
            if full {
                self.close_shard()?;
            }
        }
        Ok(())
    }

    fn close_shard(&mut self) -> std::io::Result<()> {
        let Some(shard) = self.shard.take() else {
            return Ok(());
        };
        let (tmp, fin, marker_path) = self.names(shard.index);
        let marker = Marker {
            docs: shard.docs,
            bytes: shard.bytes,
            xxh3: shard.hash.map(|h| format!("{:032x}", h.finish_128())),
        };
        let file = match shard.sink {
            Sink::Done {
                marker: m,
                file,
                mut differs,
            } => {
                if let Some(mut f) = file {
                    // The file must end where the replay did.
                    differs |= f.read(&mut [0u8; 1])? != 0;
                }
                if differs || m != marker {
                    let what = |m: &Marker| match &m.xxh3 {
                        Some(h) => format!("{} docs, {} bytes, hash {h}", m.docs, m.bytes),
                        None => format!("{} docs, {} bytes", m.docs, m.bytes),
                    };
                    return Err(std::io::Error::other(format!(
                        "--resume: shard {} differs from the interrupted run's ({} now; {} \
                         before{}): the input or the recipe changed, or the shard was damaged; \
                         start again without --resume",
                        self.dir.join(&fin).display(),
                        what(&marker),
                        what(&m),
                        if differs { ", and other bytes" } else { "" },
                    )));
                }
                self.completed.push((self.dir.join(&fin), shard.docs));
                return Ok(());
            }
            Sink::Plain(w) => {
                let file = w.into_inner().map_err(|e| e.into_error())?;
                if shard.allocated > shard.bytes && shard.allocated != u64::MAX {
                    // Gives back what was allocated ahead and not written.
                    file.set_len(shard.bytes)?;
                }
                file
            }
            Sink::Gzip(w) => w.finish()?.into_inner().map_err(|e| e.into_error())?,
            Sink::Zstd(w) => w.finish()?.into_inner().map_err(|e| e.into_error())?,
        };
        if self.opts.fsync {
            file.sync_all()?;
        }
        drop(file);
        self.dir.rename(&tmp, &fin)?;
        let m = serde_json::to_string(&marker).map_err(std::io::Error::other)?;
        self.markers
            .write_atomic(&format!("{marker_path}.done"), m.as_bytes(), false)?;
        self.markers.remove_file(&format!("{marker_path}.open"))?;
        self.completed.push((self.dir.join(&fin), shard.docs));
        Ok(())
    }

    /// Closes the last shard. Returns the completed shards.
    pub fn finish(mut self) -> std::io::Result<Vec<(PathBuf, u64)>> {
        self.close_shard()
            .map_err(|e| self.name_file(self.next_index.checked_sub(1), e))?;
        Ok(self.completed)
    }
}

/// Allocates the file's blocks ahead of the writes, 64 MiB at a time, so that `upto` bytes are
/// allocated; returns the bytes allocated now. Writing into allocated blocks spares the file
/// system its per-block reservation of delayed allocation on every write (ext4: about a fifth
/// of the kernel's time for the writes). The file's size grows with the allocation; the shard
/// is cut to its real length when closed. Where the file system cannot (or the disk is
/// full), nothing is allocated ahead and the writes go on as usual.
fn preallocate(file: &File, allocated: u64, upto: u64) -> u64 {
    const STEP: u64 = 64 << 20;
    if upto <= allocated || allocated == u64::MAX {
        return allocated;
    }
    #[cfg(target_os = "linux")]
    {
        use std::os::unix::io::AsRawFd;
        let end = upto.div_ceil(STEP) * STEP;
        let (Ok(offset), Ok(len)) = (i64::try_from(allocated), i64::try_from(end - allocated))
        else {
            return u64::MAX;
        };
        // SAFETY: `fallocate` on an open file descriptor of ours; it only allocates blocks.
        if unsafe { libc::fallocate(file.as_raw_fd(), 0, offset, len) } == 0 {
            return end;
        }
    }
    let _ = file;
    u64::MAX // not supported here: do not ask again for this shard
}

/// Compares replayed bytes with a completed shard's (when `file` is given), reading as many
/// from it; sets `differs` at the first difference or if the file ends first.
fn check_replay(
    file: &mut Option<BufReader<File>>,
    differs: &mut bool,
    pieces: &[&[u8]],
) -> std::io::Result<()> {
    let Some(f) = file.as_mut() else {
        return Ok(());
    };
    if *differs {
        return Ok(());
    }
    let mut buf = [0u8; 8192];
    for p in pieces {
        for part in p.chunks(buf.len()) {
            let got = &mut buf[..part.len()];
            match f.read_exact(got) {
                Ok(()) if got == part => {}
                Ok(()) => {
                    *differs = true;
                    return Ok(());
                }
                Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => {
                    *differs = true;
                    return Ok(());
                }
                Err(e) => return Err(e),
            }
        }
    }
    Ok(())
}

/// Writes all of `pieces`, in order, with vectored writes (`writev`, up to 1,024 pieces each).
fn write_all_vectored(w: &mut impl Write, pieces: &[&[u8]]) -> std::io::Result<()> {
    let mut slices: Vec<IoSlice> = pieces.iter().map(|p| IoSlice::new(p)).collect();
    let mut rest = &mut slices[..];
    IoSlice::advance_slices(&mut rest, 0); // skips leading empty pieces
    while !rest.is_empty() {
        match w.write_vectored(rest) {
            Ok(0) => return Err(std::io::ErrorKind::WriteZero.into()),
            Ok(n) => IoSlice::advance_slices(&mut rest, n),
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::fs;
    use std::path::Path;

    fn write_all(dir: &Path, opts: WriteOptions, resume: bool, n: usize) -> Vec<(PathBuf, u64)> {
        let mut w = ShardedWriter::new(&OutDir::open(dir).unwrap(), "kept", opts, resume).unwrap();
        for i in 0..n {
            w.write_line(format!("{{\"id\":\"{i}\"}}\n").as_bytes())
                .unwrap();
        }
        w.finish().unwrap()
    }

    /// Plain shards are allocated ahead of the writes (64 MiB at a time); each closed shard is
    /// cut back to exactly its bytes, on disk too.
    #[test]
    fn preallocated_shards_end_at_their_bytes() {
        use std::os::unix::fs::MetadataExt;
        let d = tempfile::tempdir().unwrap();
        let opts = WriteOptions {
            shard_max_docs: 700,
            ..WriteOptions::default()
        };
        let mut w =
            ShardedWriter::new(&OutDir::open(d.path()).unwrap(), "kept", opts, false).unwrap();
        let mut want = Vec::new();
        let lines: Vec<String> = (0..1000).map(|i| format!("{{\"id\":\"{i}\"}}\n")).collect();
        for batch in lines.chunks(300) {
            let pieces: Vec<&[u8]> = batch.iter().map(|l| l.as_bytes()).collect();
            let ends: Vec<usize> = (1..=pieces.len()).collect();
            w.write_pieces(&pieces, &ends).unwrap();
            want.extend(batch.iter().cloned());
        }
        let done = w.finish().unwrap();
        assert_eq!(done.len(), 2);
        let mut got = String::new();
        for (path, _) in &done {
            let meta = std::fs::metadata(path).unwrap();
            let text = std::fs::read_to_string(path).unwrap();
            assert_eq!(meta.len(), text.len() as u64);
            // No more than the file's own blocks stay allocated.
            assert!(
                meta.blocks() * 512 <= meta.len() + 8192,
                "{}",
                meta.blocks()
            );
            got.push_str(&text);
        }
        assert_eq!(got, want.concat());
    }

    #[test]
    fn shards_by_count_and_markers() {
        let d = tempfile::tempdir().unwrap();
        let opts = WriteOptions {
            shard_max_docs: 2,
            ..Default::default()
        };
        let shards = write_all(d.path(), opts.clone(), false, 5);
        assert_eq!(shards.iter().map(|s| s.1).collect::<Vec<_>>(), [2, 2, 1]);
        let first = fs::read_to_string(d.path().join("kept/00000.jsonl")).unwrap();
        assert_eq!(first, "{\"id\":\"0\"}\n{\"id\":\"1\"}\n");
        assert!(d.path().join(".markers/kept-00002.done").exists());
        // Resume replays: done shards untouched, and a changed replay is refused.
        fs::remove_file(d.path().join("kept/00002.jsonl")).unwrap();
        let again = write_all(d.path(), opts.clone(), true, 5);
        assert_eq!(again, shards);
        let mut w =
            ShardedWriter::new(&OutDir::open(d.path()).unwrap(), "kept", opts, true).unwrap();
        w.write_line(b"{\"id\":\"other\"}\n").unwrap();
        let e = w.write_line(b"{\"id\":\"1\"}\n").unwrap_err();
        assert!(e.to_string().contains("differs"), "{e}");
    }

    /// A plain shard's marker has no hash: a replay is checked against the shard's bytes on
    /// disk, so a damaged shard (one byte changed, or cut short) is refused too. A compressed
    /// shard's marker keeps the hash of its uncompressed bytes.
    #[test]
    fn resume_checks_plain_shards_against_their_bytes() {
        let d = tempfile::tempdir().unwrap();
        let opts = WriteOptions {
            shard_max_docs: 2,
            ..Default::default()
        };
        let shards = write_all(d.path(), opts.clone(), false, 4);
        let marker = fs::read_to_string(d.path().join(".markers/kept-00000.done")).unwrap();
        assert!(!marker.contains("xxh3"), "{marker}");
        assert_eq!(write_all(d.path(), opts.clone(), true, 4), shards);
        let path = d.path().join("kept/00001.jsonl");
        let good = fs::read(&path).unwrap();
        let mut flipped = good.clone();
        flipped[9] = b'X';
        for damaged in [
            flipped,
            good[..good.len() - 1].to_vec(),
            [&good[..], b"\n"].concat(),
        ] {
            fs::write(&path, &damaged).unwrap();
            let mut w =
                ShardedWriter::new(&OutDir::open(d.path()).unwrap(), "kept", opts.clone(), true)
                    .unwrap();
            let e = (0..4)
                .try_for_each(|i| w.write_line(format!("{{\"id\":\"{i}\"}}\n").as_bytes()))
                .and_then(|()| w.finish().map(drop))
                .unwrap_err();
            assert!(e.to_string().contains("damaged"), "{e}");
        }
        let gz = tempfile::tempdir().unwrap();
        let opts = WriteOptions {
            compression: Some(OutputCompression::Gzip),
            ..opts
        };
        let shards = write_all(gz.path(), opts.clone(), false, 4);
        let marker = fs::read_to_string(gz.path().join(".markers/kept-00000.done")).unwrap();
        assert!(marker.contains("xxh3"), "{marker}");
        assert_eq!(write_all(gz.path(), opts, true, 4), shards);
    }

    #[test]
    fn write_lines_makes_the_same_shards_as_write_line() {
        let lines: Vec<String> = (0..23)
            .map(|i| format!("{{\"id\":\"{i}\",\"t\":\"{}\"}}\n", "x".repeat(i * 7 % 13)))
            .collect();
        let read = |dir: &Path| {
            let mut files: Vec<(String, Vec<u8>)> = Vec::new();
            for sub in ["kept", ".markers"] {
                let mut names: Vec<_> = fs::read_dir(dir.join(sub))
                    .unwrap()
                    .map(|e| e.unwrap().path())
                    .collect();
                names.sort();
                for n in names {
                    let name = n.file_name().unwrap().to_string_lossy().into_owned();
                    files.push((name, fs::read(&n).unwrap()));
                }
            }
            files
        };
        for (max_docs, max_bytes) in [(100, 1 << 30), (3, 1 << 30), (100, 60), (4, 45), (1, 1)] {
            let opts = WriteOptions {
                shard_max_docs: max_docs,
                shard_max_bytes: max_bytes,
                ..Default::default()
            };
            let one = tempfile::tempdir().unwrap();
            let mut w = ShardedWriter::new(
                &OutDir::open(one.path()).unwrap(),
                "kept",
                opts.clone(),
                false,
            )
            .unwrap();
            for l in &lines {
                w.write_line(l.as_bytes()).unwrap();
            }
            let want = w.finish().unwrap();
            // The same lines given in runs of various lengths.
            let many = tempfile::tempdir().unwrap();
            let mut w =
                ShardedWriter::new(&OutDir::open(many.path()).unwrap(), "kept", opts, false)
                    .unwrap();
            let mut k = 0;
            for run in [0, 1, 5, 2, 7, 0, 8] {
                let (mut data, mut ends) = (Vec::new(), Vec::new());
                for l in &lines[k..k + run] {
                    data.extend_from_slice(l.as_bytes());
                    ends.push(data.len());
                }
                if run % 2 == 0 {
                    w.write_lines(&data, &ends).unwrap();
                } else {
                    // Each line cut in three pieces, one of them empty.
                    let mut pieces: Vec<&[u8]> = Vec::new();
                    let mut piece_ends = Vec::new();
                    let mut at = 0;
                    for &e in &ends {
                        let mid = at + (e - at) / 3;
                        pieces.extend([&data[at..mid], &data[mid..mid], &data[mid..e]]);
                        piece_ends.push(pieces.len());
                        at = e;
                    }
                    w.write_pieces(&pieces, &piece_ends).unwrap();
                }
                k += run;
            }
            assert_eq!(k, lines.len());
            let got = w.finish().unwrap();
            assert_eq!(
                got.iter().map(|s| s.1).collect::<Vec<_>>(),
                want.iter().map(|s| s.1).collect::<Vec<_>>()
            );
            assert!(want.len() > 1 || max_docs == 100 && max_bytes > 1000);
            assert_eq!(
                read(many.path()),
                read(one.path()),
                "{max_docs} {max_bytes}"
            );
        }
    }

    #[test]
    fn compressed_shards_round_trip() {
        for c in [OutputCompression::Gzip, OutputCompression::Zstd] {
            let d = tempfile::tempdir().unwrap();
            let opts = WriteOptions {
                compression: Some(c),
                ..Default::default()
            };
            let shards = write_all(d.path(), opts, false, 3);
            let mut r = crate::open_decoded(&shards[0].0).unwrap();
            let mut s = String::new();
            std::io::Read::read_to_string(&mut r, &mut s).unwrap();
            assert_eq!(s.lines().count(), 3);
        }
    }
}
