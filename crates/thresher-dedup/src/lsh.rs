//! Out-of-core LSH: band keys spilled to disk in sorted runs, merged band by band, clustered.
//!
//! Layout of a work directory (one `shard-NNNNN/` per producer; a single-process run is shard 0):
//!
//! ```text
//! shard-00000/manifest.json           parameters and counts, written last (completion marker)
//! shard-00000/band-003.run-00002.bin  sorted records (v0, key hash, node) of band 3, run 2
//! shard-00000/docs.bin                (node, priority, shingle offset/count, id) per signed doc
//! shard-00000/shingles.bin            sorted shingle hashes (only with Jaccard verification)
//! shard-00000/decisions.bin           written by the cluster stage for the filter stage
//! ```
//!
//! A node is `(shard << 40) | seq`: ordering nodes orders documents as a single run over the
//! shards' inputs, one after another, would. Every decision (which pairs are candidates, the
//! order unions are made in, which document is kept) depends only on that order, so sharded
//! and single-process runs give the same result.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashSet};
use std::fs::{self, File};
use std::hash::BuildHasherDefault;
use std::io::{self, BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};
use std::sync::Mutex;

use serde::{Deserialize, Serialize};
use thresher_core::{Error, Result};

use crate::union_find::{IntHasher, IntMap, UnionFind};

/// Bits of a node id that hold the sequence number within a shard.
pub const SHARD_SHIFT: u32 = 40;
/// Largest sequence number a shard may hold.
pub const MAX_SEQ: u64 = (1 << SHARD_SHIFT) - 1;

/// The node id of document `seq` of shard `shard`.
pub fn node_id(shard: u32, seq: u64) -> Result<u64> {
    if seq > MAX_SEQ || shard >= 1 << (64 - SHARD_SHIFT) {
        return Err(Error::Other(format!(
            "minhash_dedup: document {seq} of shard {shard} is beyond 2^40 documents per shard"
        )));
    }
    Ok((u64::from(shard) << SHARD_SHIFT) | seq)
}

/// One band of one document: the band's first hash value, a hash of all its values, the node.
///
/// Records sort by `(v0, h, node)`. datatrove sorts by the full tuple of hash values; sorting
/// on the first one does the same for all groups but those whose first values are equal and
/// the others differ, and a group (documents with equal bands) is always contiguous either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct BandRecord {
    /// First hash value of the band.
    pub v0: u64,
    /// XXH3 of all the band's values (little-endian bytes).
    pub h: u64,
    /// The document.
    pub node: u64,
}

pub(crate) const REC_BYTES: usize = 24;

impl BandRecord {
    /// The record of `band` (a slice of `rows` hash values) for `node`.
    pub fn new(band: &[u64], node: u64, bytes: &mut Vec<u8>) -> Self {
        bytes.clear();
        for v in band {
            bytes.extend_from_slice(&v.to_le_bytes());
        }
        BandRecord {
            v0: band.first().copied().unwrap_or(0),
            h: xxhash_rust::xxh3::xxh3_64(bytes),
            node,
        }
    }

    pub(crate) fn same_key(&self, other: &BandRecord) -> bool {
        self.v0 == other.v0 && self.h == other.h
    }

    fn to_bytes(self) -> [u8; REC_BYTES] {
        let mut b = [0u8; REC_BYTES];
        b[..8].copy_from_slice(&self.v0.to_le_bytes());
        b[8..16].copy_from_slice(&self.h.to_le_bytes());
        b[16..].copy_from_slice(&self.node.to_le_bytes());
        b
    }

    pub(crate) fn from_bytes(b: &[u8; REC_BYTES]) -> Self {
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&b[i..i + 8]);
            u64::from_le_bytes(w)
        };
        BandRecord {
            v0: word(0),
            h: word(8),
            node: word(16),
        }
    }
}

/// What a shard wrote, saved as `manifest.json` once everything else is on disk.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ShardManifest {
    /// File format version.
    pub format: u32,
    /// The shard's index.
    pub shard: u32,
    /// Signature parameters, as text: shards made with other parameters cannot be merged.
    pub params: String,
    /// Number of bands.
    pub bands: usize,
    /// Sorted runs per band.
    pub runs: usize,
    /// Documents seen.
    pub docs_seen: u64,
    /// Documents with a signature (at least `n_grams` words).
    pub docs_signed: u64,
    /// Whether shingle sets were stored for Jaccard verification.
    pub shingles: bool,
    /// Bytes of band records written.
    pub band_bytes: u64,
}

const MANIFEST_FORMAT: u32 = 1;

/// Directory of shard `shard` in `work_dir`.
pub fn shard_dir(work_dir: &Path, shard: u32) -> PathBuf {
    work_dir.join(format!("shard-{shard:05}"))
}

fn run_path(dir: &Path, band: usize, run: usize) -> PathBuf {
    dir.join(format!("band-{band:03}.run-{run:05}.bin"))
}

pub(crate) fn io_err(path: &Path) -> impl FnOnce(io::Error) -> Error + '_ {
    move |e| Error::io(path, e)
}

pub(crate) fn create(path: &Path) -> Result<BufWriter<File>> {
    Ok(BufWriter::with_capacity(
        1 << 16,
        File::create(path).map_err(io_err(path))?,
    ))
}

/// Collects the band records and document table of one shard; spills sorted runs when the
/// in-memory buffer reaches its budget. `add` may be called from several threads.
pub struct ShardWriter {
    dir: PathBuf,
    shard: u32,
    params: String,
    bands: usize,
    max_buffered: usize,
    keep_shingles: bool,
    inner: Mutex<WriterState>,
}

struct WriterState {
    buffers: Vec<Vec<BandRecord>>,
    buffered: usize,
    peak_buffered: usize,
    runs: usize,
    docs: Option<BufWriter<File>>,
    shingles: Option<BufWriter<File>>,
    shingle_offset: u64,
    docs_seen: u64,
    docs_signed: u64,
    band_bytes: u64,
    finished: Option<ShardManifest>,
}

/// One document for [`ShardWriter::add`].
pub struct DocEntry<'a> {
    /// Node id (see [`node_id`]).
    pub node: u64,
    /// The document id, kept to name the keeper of a cluster.
    pub id: &'a str,
    /// Keeper priority (higher wins); `f64::NEG_INFINITY` when unused.
    pub priority: f64,
    /// The signature (`bands * rows` values); empty for a document without shingles.
    pub signature: &'a [u64],
    /// Sorted distinct shingle hashes (stored only with verification on).
    pub shingles: &'a [u64],
}

/// Whether `name` is one of the files a shard's folder holds: band runs, the document and
/// shingle tables, the manifest, the decisions (and the decisions' temporary file).
fn is_shard_file(name: &str) -> bool {
    let digits = |s: &str, n: usize| s.len() >= n && s.bytes().all(|b| b.is_ascii_digit());
    matches!(
        name,
        "docs.bin" | "shingles.bin" | "manifest.json" | "decisions.bin" | "decisions.tmp"
    ) || name
        .strip_prefix("band-")
        .and_then(|r| r.strip_suffix(".bin"))
        .and_then(|r| r.split_once(".run-"))
        .is_some_and(|(b, r)| digits(b, 3) && digits(r, 5))
}

/// Empties a shard's folder of a previous attempt's files. Anything else in it (a file or
/// folder thresher did not write) is refused, never deleted.
fn clear_shard_dir(dir: &Path) -> Result<()> {
    let entries = match fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(e) => return Err(io_err(dir)(e)),
    };
    let mut ours = Vec::new();
    for entry in entries {
        let entry = entry.map_err(io_err(dir))?;
        let name = entry.file_name();
        let is_file = entry.file_type().is_ok_and(|t| t.is_file());
        match name.to_str() {
            Some(n) if is_file && is_shard_file(n) => ours.push(entry.path()),
            _ => {
                return Err(Error::Other(format!(
                    "{}: holds {:?}, which thresher did not write; it never deletes such files: \
                     move it away or choose another work_dir",
                    dir.display(),
                    name
                )))
            }
        }
    }
    for p in ours {
        fs::remove_file(&p).map_err(io_err(&p))?;
    }
    Ok(())
}

impl ShardWriter {
    /// Starts shard `shard` in `dir` (created, and emptied of a previous attempt's files).
    /// `budget_bytes` bounds the in-memory record buffer.
    pub fn create(
        dir: &Path,
        shard: u32,
        params: String,
        bands: usize,
        budget_bytes: u64,
        keep_shingles: bool,
    ) -> Result<Self> {
        clear_shard_dir(dir)?;
        fs::create_dir_all(dir).map_err(io_err(dir))?;
        let docs = create(&dir.join("docs.bin"))?;
        let shingles = if keep_shingles {
            Some(create(&dir.join("shingles.bin"))?)
        } else {
            None
        };
        let max_buffered = usize::try_from(budget_bytes / REC_BYTES as u64)
            .unwrap_or(usize::MAX)
            .max(bands);
        Ok(ShardWriter {
            dir: dir.to_path_buf(),
            shard,
            params,
            bands,
            max_buffered,
            keep_shingles,
            inner: Mutex::new(WriterState {
                buffers: vec![Vec::new(); bands],
                buffered: 0,
                peak_buffered: 0,
                runs: 0,
                docs: Some(docs),
                shingles,
                shingle_offset: 0,
                docs_seen: 0,
                docs_signed: 0,
                band_bytes: 0,
                finished: None,
            }),
        })
    }

    /// Records one document.
    pub fn add(&self, entry: &DocEntry<'_>) -> Result<()> {
        let rows = entry.signature.len().checked_div(self.bands).unwrap_or(0);
        // Band keys are hashed outside the lock.
        let mut records = Vec::with_capacity(self.bands);
        if rows > 0 {
            let mut bytes = Vec::with_capacity(rows * 8);
            for band in entry.signature.chunks_exact(rows).take(self.bands) {
                records.push(BandRecord::new(band, entry.node, &mut bytes));
            }
        }
        let mut st = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if st.finished.is_some() {
            return Err(Error::Other(
                "minhash_dedup: document after end of pass".into(),
            ));
        }
        st.docs_seen += 1;
        if records.is_empty() {
            return Ok(());
        }
        st.docs_signed += 1;
        let (sh_off, sh_len) = match (self.keep_shingles, &mut st.shingles) {
            (true, Some(w)) => {
                for s in entry.shingles {
                    w.write_all(&s.to_le_bytes())
                        .map_err(io_err(&self.dir.join("shingles.bin")))?;
                }
                let off = st.shingle_offset;
                st.shingle_offset += entry.shingles.len() as u64;
                (off, entry.shingles.len() as u64)
            }
            _ => (0, 0),
        };
        let docs_path = self.dir.join("docs.bin");
        if let Some(w) = st.docs.as_mut() {
            write_doc(w, entry.node, entry.priority, sh_off, sh_len, entry.id)
                .map_err(io_err(&docs_path))?;
        }
        // Buffers grow by doubling but never past their share of the budget, so that what is
        // allocated (not just what is used) stays within it.
        let per_band = (self.max_buffered / self.bands.max(1)).max(1);
        for (b, r) in records.into_iter().enumerate() {
            let buf = &mut st.buffers[b];
            if buf.len() == buf.capacity() {
                let extra = buf
                    .capacity()
                    .max(1024)
                    .min(per_band.saturating_sub(buf.len()));
                buf.reserve_exact(extra.max(1));
            }
            buf.push(r);
        }
        st.buffered += self.bands;
        let allocated: usize = st.buffers.iter().map(Vec::capacity).sum();
        st.peak_buffered = st.peak_buffered.max(allocated);
        if st.buffered >= per_band * self.bands {
            self.spill(&mut st, false)?;
        }
        Ok(())
    }

    /// Writes the buffers as one sorted run per band. The buffers keep their memory for the
    /// next run unless this is the last one.
    fn spill(&self, st: &mut WriterState, last: bool) -> Result<()> {
        if st.buffered == 0 {
            if last {
                st.buffers.iter_mut().for_each(|b| b.shrink_to(0));
            }
            return Ok(());
        }
        let run = st.runs;
        for (band, buf) in st.buffers.iter_mut().enumerate() {
            buf.sort_unstable();
            let path = run_path(&self.dir, band, run);
            let mut w = create(&path)?;
            for r in buf.iter() {
                w.write_all(&r.to_bytes()).map_err(io_err(&path))?;
            }
            w.flush().map_err(io_err(&path))?;
            st.band_bytes += (buf.len() * REC_BYTES) as u64;
            buf.clear();
            if last {
                // The merge that follows needs the room.
                buf.shrink_to(0);
            }
        }
        st.runs += 1;
        st.buffered = 0;
        Ok(())
    }

    /// Writes the last run, closes the files and writes the manifest. Idempotent.
    pub fn finish(&self) -> Result<ShardManifest> {
        let mut st = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(m) = &st.finished {
            return Ok(m.clone());
        }
        self.spill(&mut st, true)?;
        if let Some(mut w) = st.docs.take() {
            w.flush().map_err(io_err(&self.dir.join("docs.bin")))?;
        }
        if let Some(mut w) = st.shingles.take() {
            w.flush().map_err(io_err(&self.dir.join("shingles.bin")))?;
        }
        let m = ShardManifest {
            format: MANIFEST_FORMAT,
            shard: self.shard,
            params: self.params.clone(),
            bands: self.bands,
            runs: st.runs,
            docs_seen: st.docs_seen,
            docs_signed: st.docs_signed,
            shingles: self.keep_shingles,
            band_bytes: st.band_bytes,
        };
        let path = self.dir.join("manifest.json");
        let text = serde_json::to_string_pretty(&m).map_err(|e| Error::Other(e.to_string()))?;
        fs::write(&path, text).map_err(io_err(&path))?;
        st.finished = Some(m.clone());
        Ok(m)
    }

    /// Largest number of bytes allocated for the record buffers.
    pub fn peak_buffer_bytes(&self) -> u64 {
        let st = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        (st.peak_buffered * REC_BYTES) as u64
    }
}

fn write_doc(
    w: &mut impl Write,
    node: u64,
    priority: f64,
    sh_off: u64,
    sh_len: u64,
    id: &str,
) -> io::Result<()> {
    w.write_all(&node.to_le_bytes())?;
    w.write_all(&priority.to_le_bytes())?;
    w.write_all(&sh_off.to_le_bytes())?;
    w.write_all(&sh_len.to_le_bytes())?;
    w.write_all(&(id.len() as u64).to_le_bytes())?;
    w.write_all(id.as_bytes())
}

/// One row of a shard's document table.
pub(crate) struct DocRow {
    pub(crate) node: u64,
    priority: f64,
    sh_off: u64,
    sh_len: u64,
    pub(crate) id: String,
}

/// Reads `docs.bin` row by row, calling `f` on each.
pub(crate) fn scan_docs(dir: &Path, mut f: impl FnMut(DocRow)) -> Result<()> {
    let path = dir.join("docs.bin");
    let mut r = BufReader::with_capacity(1 << 16, File::open(&path).map_err(io_err(&path))?);
    let mut head = [0u8; 40];
    loop {
        match read_full(&mut r, &mut head).map_err(io_err(&path))? {
            0 => return Ok(()),
            40 => {}
            _ => return Err(Error::Other(format!("{}: truncated", path.display()))),
        }
        let word = |i: usize| {
            let mut w = [0u8; 8];
            w.copy_from_slice(&head[i..i + 8]);
            w
        };
        let id_len = u64::from_le_bytes(word(32));
        if id_len > 1 << 30 {
            return Err(Error::Other(format!(
                "{}: corrupt id length",
                path.display()
            )));
        }
        let mut id = vec![0u8; id_len as usize];
        r.read_exact(&mut id).map_err(io_err(&path))?;
        f(DocRow {
            node: u64::from_le_bytes(word(0)),
            priority: f64::from_le_bytes(word(8)),
            sh_off: u64::from_le_bytes(word(16)),
            sh_len: u64::from_le_bytes(word(24)),
            id: String::from_utf8_lossy(&id).into_owned(),
        });
    }
}

/// Reads until `buf` is full or EOF; returns the number of bytes read.
pub(crate) fn read_full(r: &mut impl Read, buf: &mut [u8]) -> io::Result<usize> {
    let mut n = 0;
    while n < buf.len() {
        match r.read(&mut buf[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok(n)
}

struct RunReader {
    path: PathBuf,
    r: BufReader<File>,
    /// Records left to read (a range of the file; `u64::MAX`: to its end).
    left: u64,
}

impl RunReader {
    fn next(&mut self) -> Result<Option<BandRecord>> {
        if self.left == 0 {
            return Ok(None);
        }
        self.left -= 1;
        let mut b = [0u8; REC_BYTES];
        match read_full(&mut self.r, &mut b).map_err(io_err(&self.path))? {
            0 => Ok(None),
            REC_BYTES => Ok(Some(BandRecord::from_bytes(&b))),
            _ => Err(Error::Other(format!("{}: truncated", self.path.display()))),
        }
    }
}

/// K-way merge of sorted run files.
pub(crate) struct Merge {
    readers: Vec<RunReader>,
    heap: BinaryHeap<Reverse<(BandRecord, usize)>>,
}

impl Merge {
    fn open(paths: &[PathBuf], buf_bytes: usize) -> Result<Self> {
        let ranges: Vec<(PathBuf, u64, u64)> =
            paths.iter().map(|p| (p.clone(), 0, u64::MAX)).collect();
        Self::open_ranges(&ranges, buf_bytes)
    }

    /// A merge of record ranges `(file, first record, count)` of sorted run files.
    pub(crate) fn open_ranges(ranges: &[(PathBuf, u64, u64)], buf_bytes: usize) -> Result<Self> {
        let mut readers = Vec::with_capacity(ranges.len());
        let mut heap = BinaryHeap::with_capacity(ranges.len());
        for (p, start, count) in ranges {
            let mut f = File::open(p).map_err(io_err(p))?;
            if *start > 0 {
                f.seek(SeekFrom::Start(start * REC_BYTES as u64))
                    .map_err(io_err(p))?;
            }
            let mut rr = RunReader {
                path: p.clone(),
                r: BufReader::with_capacity(buf_bytes, f),
                left: *count,
            };
            if let Some(rec) = rr.next()? {
                heap.push(Reverse((rec, readers.len())));
            }
            readers.push(rr);
        }
        Ok(Merge { readers, heap })
    }

    pub(crate) fn next(&mut self) -> Result<Option<BandRecord>> {
        let Some(Reverse((rec, i))) = self.heap.pop() else {
            return Ok(None);
        };
        if let Some(next) = self.readers[i].next()? {
            if next < rec {
                return Err(Error::Other(format!(
                    "{}: run file is not sorted",
                    self.readers[i].path.display()
                )));
            }
            self.heap.push(Reverse((next, i)));
        }
        Ok(Some(rec))
    }
}

/// Which document of a cluster is kept.
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum Keeper {
    /// The first document in input order.
    #[default]
    LowestSeq,
    /// The document with the highest priority (a metadata field); ties go to input order.
    Priority,
    /// The root of datatrove's union-by-size clustering: the same documents as datatrove.
    Datatrove,
}

/// Options of the clustering stage.
#[derive(Debug, Clone)]
pub struct ClusterOptions {
    /// Which document of a cluster is kept.
    pub keeper: Keeper,
    /// When set, a candidate pair is joined only if the true Jaccard similarity of the two
    /// shingle sets reaches this value.
    pub verify_jaccard: Option<f64>,
    /// Memory for read buffers during the merge.
    pub budget_bytes: u64,
}

/// What the clustering stage decided: for every clustered document, the cluster size and (for
/// removed ones) the keeper's id. Documents not listed are alone in their cluster.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Decisions {
    /// `(node, cluster size, keeper index or u32::MAX when the node is the keeper)`, by node.
    rows: Vec<(u64, u32, u32)>,
    keeper_ids: Vec<String>,
    /// With [`Keeper::Datatrove`]: datatrove's cluster number of each row (clusters numbered
    /// in the order of their first document), as many as `rows`.
    cluster_no: Option<Vec<u32>>,
}

/// A document's fate according to [`Decisions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fate<'a> {
    /// Kept: alone, or the keeper of a cluster of `size` documents.
    Keep {
        /// Cluster size (1 when alone).
        size: u32,
    },
    /// Removed: a near-duplicate of `keeper` in a cluster of `size` documents.
    Remove {
        /// Cluster size.
        size: u32,
        /// The kept document's id.
        keeper: &'a str,
    },
}

impl Decisions {
    /// The fate of `node`.
    pub fn fate(&self, node: u64) -> Fate<'_> {
        match self.rows.binary_search_by_key(&node, |r| r.0) {
            Ok(i) => {
                let (_, size, k) = self.rows[i];
                match self.keeper_ids.get(k as usize) {
                    Some(id) => Fate::Remove { size, keeper: id },
                    None => Fate::Keep { size },
                }
            }
            Err(_) => Fate::Keep { size: 1 },
        }
    }

    /// datatrove's `minhash_cluster_id` of `node` (its `MinhashDedupCluster(save_cluster_id)`):
    /// the cluster's number, clusters numbered from 0 in the order of their first document,
    /// or -1 when the document is alone. `None` unless the keeper is [`Keeper::Datatrove`].
    pub fn datatrove_cluster_id(&self, node: u64) -> Option<i64> {
        let numbers = self.cluster_no.as_ref()?;
        Some(match self.rows.binary_search_by_key(&node, |r| r.0) {
            Ok(i) => numbers.get(i).map_or(-1, |&c| i64::from(c)),
            Err(_) => -1,
        })
    }

    /// Decisions from their rows `(node, cluster size, keeper index or u32::MAX for a
    /// keeper)`, sorted by node, and the keepers' ids (for [`Keeper::LowestSeq`] and
    /// [`Keeper::Priority`]: no datatrove cluster numbers).
    pub(crate) fn from_rows(rows: Vec<(u64, u32, u32)>, keeper_ids: Vec<String>) -> Decisions {
        Decisions {
            rows,
            keeper_ids,
            cluster_no: None,
        }
    }

    /// Number of documents to remove.
    pub fn removed(&self) -> usize {
        self.rows.iter().filter(|r| r.2 != u32::MAX).count()
    }

    /// Number of documents in clusters of two or more.
    pub fn clustered(&self) -> usize {
        self.rows.len()
    }

    /// Heap bytes held.
    pub fn heap_bytes(&self) -> usize {
        self.rows.capacity() * 16
            + self.keeper_ids.iter().map(|s| s.len() + 24).sum::<usize>()
            + self.cluster_no.as_ref().map_or(0, |c| c.capacity() * 4)
    }

    /// The decisions about the nodes of shard `shard`.
    pub fn for_shard(&self, shard: u32) -> Decisions {
        let lo = u64::from(shard) << SHARD_SHIFT;
        let hi = lo | MAX_SEQ;
        let start = self.rows.partition_point(|r| r.0 < lo);
        let end = self.rows.partition_point(|r| r.0 <= hi);
        let rows: Vec<_> = self.rows[start..end].to_vec();
        let cluster_no = self.cluster_no.as_ref().map(|c| c[start..end].to_vec());
        // Re-index the keeper ids this shard needs.
        let mut ids = Vec::new();
        let mut map: IntMap<u32, u32> = IntMap::default();
        let rows = rows
            .into_iter()
            .map(|(n, s, k)| {
                if k == u32::MAX {
                    return (n, s, k);
                }
                let j = *map.entry(k).or_insert_with(|| {
                    ids.push(self.keeper_ids.get(k as usize).cloned().unwrap_or_default());
                    (ids.len() - 1) as u32
                });
                (n, s, j)
            })
            .collect();
        Decisions {
            rows,
            keeper_ids: ids,
            cluster_no,
        }
    }

    /// Saves to `path` (written to a temporary name, then renamed, so a reader never sees half
    /// a file).
    pub fn save(&self, path: &Path) -> Result<()> {
        let tmp = path.with_extension("tmp");
        let mut w = create(&tmp)?;
        let mut put = |b: &[u8]| w.write_all(b).map_err(io_err(&tmp));
        // Version 2 adds datatrove's cluster numbers (a flag, then one u32 a row).
        put(b"THDEC002")?;
        put(&(self.keeper_ids.len() as u64).to_le_bytes())?;
        for id in &self.keeper_ids {
            put(&(id.len() as u64).to_le_bytes())?;
            put(id.as_bytes())?;
        }
        put(&(self.rows.len() as u64).to_le_bytes())?;
        for &(n, s, k) in &self.rows {
            put(&n.to_le_bytes())?;
            put(&s.to_le_bytes())?;
            put(&k.to_le_bytes())?;
        }
        match &self.cluster_no {
            None => put(&[0])?,
            Some(c) => {
                put(&[1])?;
                for n in c {
                    put(&n.to_le_bytes())?;
                }
            }
        }
        w.flush().map_err(io_err(&tmp))?;
        drop(w);
        fs::rename(&tmp, path).map_err(io_err(path))
    }

    /// Loads what [`Decisions::save`] wrote.
    pub fn load(path: &Path) -> Result<Decisions> {
        let bytes = fs::read(path).map_err(io_err(path))?;
        let bad = || Error::Other(format!("{}: not a decisions file", path.display()));
        let mut pos = 0usize;
        let mut take = |n: usize| -> Result<&[u8]> {
            let end = pos
                .checked_add(n)
                .filter(|&e| e <= bytes.len())
                .ok_or_else(bad)?;
            let s = &bytes[pos..end];
            pos = end;
            Ok(s)
        };
        let u64_of = |s: &[u8]| {
            let mut w = [0u8; 8];
            w.copy_from_slice(s);
            u64::from_le_bytes(w)
        };
        let version = match take(8)? {
            b"THDEC001" => 1,
            b"THDEC002" => 2,
            _ => return Err(bad()),
        };
        let n_ids = u64_of(take(8)?);
        let mut keeper_ids = Vec::new();
        for _ in 0..n_ids {
            let len = usize::try_from(u64_of(take(8)?)).map_err(|_| bad())?;
            keeper_ids.push(String::from_utf8_lossy(take(len)?).into_owned());
        }
        let n_rows = u64_of(take(8)?);
        let mut rows = Vec::new();
        for _ in 0..n_rows {
            let n = u64_of(take(8)?);
            let mut w = [0u8; 4];
            w.copy_from_slice(take(4)?);
            let s = u32::from_le_bytes(w);
            w.copy_from_slice(take(4)?);
            rows.push((n, s, u32::from_le_bytes(w)));
        }
        let cluster_no = if version >= 2 && take(1)? == [1] {
            let mut c = Vec::with_capacity(rows.len());
            for _ in 0..rows.len() {
                let mut w = [0u8; 4];
                w.copy_from_slice(take(4)?);
                c.push(u32::from_le_bytes(w));
            }
            Some(c)
        } else {
            None
        };
        if !rows.windows(2).all(|w| w[0].0 < w[1].0) {
            return Err(bad());
        }
        Ok(Decisions {
            rows,
            keeper_ids,
            cluster_no,
        })
    }
}

/// Figures from the clustering stage, for the step's report.
#[derive(Debug, Default, Clone, PartialEq, Serialize)]
pub struct ClusterReport {
    /// Shards merged.
    pub shards: usize,
    /// Documents seen by all shards.
    pub docs_seen: u64,
    /// Documents with a signature.
    pub docs_signed: u64,
    /// Adjacent equal-band pairs found by LSH (datatrove's `total_matches`).
    pub candidate_pairs: u64,
    /// Candidate pairs whose Jaccard similarity was computed.
    pub verified_pairs: u64,
    /// Distinct candidate pairs that verification rejected.
    pub rejected_by_jaccard: u64,
    /// Clusters of two or more documents.
    pub clusters: u64,
    /// Documents in such clusters.
    pub clustered_docs: u64,
    /// Documents to remove.
    pub removed_docs: u64,
    /// Bytes of band records read back.
    pub band_bytes: u64,
    /// Approximate peak heap of the union-find and decision tables.
    pub cluster_heap_bytes: u64,
}

pub(crate) fn list_runs(dir: &Path, band: usize, runs: usize) -> Vec<PathBuf> {
    (0..runs).map(|r| run_path(dir, band, r)).collect()
}

/// Reads `manifest.json` of each shard directory; all must exist and agree on parameters.
pub fn read_manifests(dirs: &[PathBuf]) -> Result<Vec<ShardManifest>> {
    let mut out: Vec<ShardManifest> = Vec::with_capacity(dirs.len());
    for d in dirs {
        let path = d.join("manifest.json");
        let text = fs::read_to_string(&path).map_err(|e| {
            Error::Other(format!(
                "{}: {e} (has the signatures stage of this shard finished?)",
                path.display()
            ))
        })?;
        let m: ShardManifest = serde_json::from_str(&text)
            .map_err(|e| Error::Other(format!("{}: {e}", path.display())))?;
        if m.format != MANIFEST_FORMAT {
            return Err(Error::Other(format!(
                "{}: format {} is not {MANIFEST_FORMAT}",
                path.display(),
                m.format
            )));
        }
        if let Some(first) = out.first() {
            if first.params != m.params || first.bands != m.bands {
                return Err(Error::Other(format!(
                    "{}: made with other MinHash parameters ({}) than {} ({})",
                    path.display(),
                    m.params,
                    dirs[0].display(),
                    first.params
                )));
            }
        }
        if out.iter().any(|o| o.shard == m.shard) {
            return Err(Error::Other(format!(
                "{}: shard {} appears twice",
                path.display(),
                m.shard
            )));
        }
        out.push(m);
    }
    Ok(out)
}

/// Shingle sets on disk, for verification.
struct ShingleStore {
    files: Vec<File>,
    index: IntMap<u64, (usize, u64, u64)>,
}

impl ShingleStore {
    fn load(&self, node: u64, out: &mut Vec<u64>) -> Result<()> {
        out.clear();
        let Some(&(shard, off, len)) = self.index.get(&node) else {
            return Ok(());
        };
        let Some(mut f) = self.files.get(shard) else {
            return Ok(());
        };
        let mut bytes = vec![0u8; usize::try_from(len * 8).unwrap_or(0)];
        f.seek(SeekFrom::Start(off * 8))
            .and_then(|_| f.read_exact(&mut bytes))
            .map_err(|e| Error::Other(format!("shingle store: {e}")))?;
        out.extend(bytes.chunks_exact(8).map(|c| {
            let mut w = [0u8; 8];
            w.copy_from_slice(c);
            u64::from_le_bytes(w)
        }));
        Ok(())
    }
}

/// Jaccard similarity of two sorted, distinct sets.
pub fn jaccard(a: &[u64], b: &[u64]) -> f64 {
    if a.is_empty() && b.is_empty() {
        return 1.0;
    }
    let (mut i, mut j, mut inter) = (0, 0, 0usize);
    while i < a.len() && j < b.len() {
        match a[i].cmp(&b[j]) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                inter += 1;
                i += 1;
                j += 1;
            }
        }
    }
    inter as f64 / (a.len() + b.len() - inter) as f64
}

/// How many earlier members of a band group a document is verified against before giving up.
const MAX_VERIFY_PER_DOC: usize = 8;

/// Clusters the documents of the given shard directories. The result does not depend on how
/// the documents were split into shards (see the module docs).
pub fn cluster(dirs: &[PathBuf], opts: &ClusterOptions) -> Result<(Decisions, ClusterReport)> {
    let manifests = read_manifests(dirs)?;
    let mut report = ClusterReport {
        shards: dirs.len(),
        ..ClusterReport::default()
    };
    let Some(first) = manifests.first() else {
        let decisions = Decisions {
            cluster_no: (opts.keeper == Keeper::Datatrove).then(Vec::new),
            ..Decisions::default()
        };
        return Ok((decisions, report));
    };
    let bands = first.bands;
    for m in &manifests {
        report.docs_seen += m.docs_seen;
        report.docs_signed += m.docs_signed;
        report.band_bytes += m.band_bytes;
    }
    let store = match opts.verify_jaccard {
        Some(_) => {
            if let Some((d, _)) = dirs.iter().zip(&manifests).find(|(_, m)| !m.shingles) {
                return Err(Error::Other(format!(
                    "{}: written without shingle sets, cannot verify by Jaccard",
                    d.display()
                )));
            }
            let mut index = IntMap::default();
            let mut files = Vec::new();
            for (si, d) in dirs.iter().enumerate() {
                let p = d.join("shingles.bin");
                files.push(File::open(&p).map_err(io_err(&p))?);
                scan_docs(d, |row| {
                    index.insert(row.node, (si, row.sh_off, row.sh_len));
                })?;
            }
            Some(ShingleStore { files, index })
        }
        None => None,
    };

    let mut uf = UnionFind::new();
    let mut rejected: HashSet<(u64, u64), BuildHasherDefault<IntHasher>> = HashSet::default();
    let (mut sa, mut sb) = (Vec::new(), Vec::new());
    let mut group: Vec<u64> = Vec::new();
    for band in 0..bands {
        let paths: Vec<PathBuf> = dirs
            .iter()
            .zip(&manifests)
            .flat_map(|(d, m)| list_runs(d, band, m.runs))
            .collect();
        // Read buffers share a quarter of the budget, between 4 KiB and 1 MiB each.
        let per = (opts.budget_bytes / 4 / (paths.len().max(1) as u64)).clamp(4096, 1 << 20);
        let mut merge = Merge::open(&paths, per as usize)?;
        let mut prev: Option<BandRecord> = None;
        group.clear();
        while let Some(rec) = merge.next()? {
            match prev {
                Some(p) if p.same_key(&rec) => {
                    report.candidate_pairs += 1;
                    match (&store, opts.verify_jaccard) {
                        (Some(store), Some(threshold)) => {
                            for &other in group.iter().take(MAX_VERIFY_PER_DOC) {
                                if uf.same(other, rec.node) {
                                    break;
                                }
                                let key = (other, rec.node);
                                if rejected.contains(&key) {
                                    continue;
                                }
                                report.verified_pairs += 1;
                                store.load(other, &mut sa)?;
                                store.load(rec.node, &mut sb)?;
                                if jaccard(&sa, &sb) >= threshold {
                                    uf.union(other, rec.node);
                                    break;
                                }
                                rejected.insert(key);
                            }
                        }
                        // datatrove joins each document to the previous one of its group.
                        _ => {
                            uf.union(p.node, rec.node);
                        }
                    }
                }
                _ => group.clear(),
            }
            group.push(rec.node);
            prev = Some(rec);
        }
    }
    report.rejected_by_jaccard = rejected.len() as u64;
    drop(rejected);

    let uf_bytes = uf.heap_bytes();
    let comps = uf.components();
    drop(uf);
    // Keeper of each cluster, keyed by root.
    let mut keeper: IntMap<u64, u64> = IntMap::default();
    match opts.keeper {
        Keeper::Datatrove => {
            for &(_, root, _) in &comps {
                keeper.insert(root, root);
            }
        }
        Keeper::LowestSeq => {
            for &(node, root, _) in &comps {
                let k = keeper.entry(root).or_insert(node);
                *k = (*k).min(node);
            }
        }
        Keeper::Priority => {
            let root_of: IntMap<u64, u64> = comps.iter().map(|&(n, r, _)| (n, r)).collect();
            let mut best: IntMap<u64, (f64, u64)> = IntMap::default();
            for d in dirs {
                scan_docs(d, |row| {
                    if let Some(&root) = root_of.get(&row.node) {
                        let p = if row.priority.is_nan() {
                            f64::NEG_INFINITY
                        } else {
                            row.priority
                        };
                        let e = best.entry(root).or_insert((p, row.node));
                        // Higher priority wins; on equal priority the earlier document does.
                        if p > e.0 || (p == e.0 && row.node < e.1) {
                            *e = (p, row.node);
                        }
                    }
                })?;
            }
            for (root, (_, node)) in best {
                keeper.insert(root, node);
            }
        }
    }
    // The ids of the keepers, from the document tables.
    // Keepers are numbered in node order, so that the tables do not depend on the order the
    // documents were observed in.
    let mut keeper_nodes: Vec<u64> = keeper.values().copied().collect();
    keeper_nodes.sort_unstable();
    keeper_nodes.dedup();
    let keeper_idx: IntMap<u64, u32> = keeper_nodes
        .iter()
        .enumerate()
        .map(|(i, &k)| (k, i as u32))
        .collect();
    let mut keeper_ids: Vec<Option<String>> = vec![None; keeper_nodes.len()];
    for d in dirs {
        scan_docs(d, |row| {
            if let Some(&i) = keeper_idx.get(&row.node) {
                keeper_ids[i as usize].get_or_insert(row.id);
            }
        })?;
    }
    let keeper_ids: Vec<String> = keeper_ids
        .into_iter()
        .zip(&keeper_nodes)
        .map(|(id, k)| {
            id.ok_or_else(|| {
                Error::Other(format!(
                    "minhash_dedup: keeper node {k} missing from the document tables"
                ))
            })
        })
        .collect::<Result<_>>()?;
    let mut rows = Vec::with_capacity(comps.len());
    for &(node, root, size) in &comps {
        let Some(&k) = keeper.get(&root) else {
            continue;
        };
        if k == node {
            rows.push((node, size, u32::MAX));
        } else {
            let Some(&idx) = keeper_idx.get(&k) else {
                continue;
            };
            rows.push((node, size, idx));
        }
    }
    rows.sort_unstable_by_key(|r| r.0);
    // datatrove numbers the clusters as it meets their roots walking the documents in order:
    // by each cluster's first document.
    let cluster_no = (opts.keeper == Keeper::Datatrove).then(|| {
        let root_of: IntMap<u64, u64> = comps.iter().map(|&(n, r, _)| (n, r)).collect();
        let mut number: IntMap<u64, u32> = IntMap::default();
        rows.iter()
            .map(|r| {
                let root = root_of.get(&r.0).copied().unwrap_or(r.0);
                let next = number.len() as u32;
                *number.entry(root).or_insert(next)
            })
            .collect()
    });
    report.clusters = keeper.len() as u64;
    report.clustered_docs = rows.len() as u64;
    let decisions = Decisions {
        rows,
        keeper_ids,
        cluster_no,
    };
    report.removed_docs = decisions.removed() as u64;
    report.cluster_heap_bytes = (uf_bytes + decisions.heap_bytes() + comps.capacity() * 24) as u64;
    Ok((decisions, report))
}

/// The shard directories present in `work_dir`, in shard order.
pub fn shard_dirs(work_dir: &Path) -> Result<Vec<PathBuf>> {
    let mut dirs: Vec<PathBuf> = fs::read_dir(work_dir)
        .map_err(io_err(work_dir))?
        .filter_map(|e| e.ok())
        .map(|e| e.path())
        .filter(|p| {
            p.is_dir()
                && p.file_name()
                    .and_then(|n| n.to_str())
                    .is_some_and(|n| n.starts_with("shard-"))
        })
        .collect();
    dirs.sort();
    Ok(dirs)
}

/// The cluster stage of a sharded run: clusters all shards found in `work_dir` and writes each
/// shard's `decisions.bin`, which the filter stage of that shard reads.
pub fn cluster_work_dir(work_dir: &Path, opts: &ClusterOptions) -> Result<ClusterReport> {
    let dirs = shard_dirs(work_dir)?;
    if dirs.is_empty() {
        return Err(Error::Other(format!(
            "{}: no shard-* directories (run the signatures stage first)",
            work_dir.display()
        )));
    }
    let manifests = read_manifests(&dirs)?;
    let (decisions, report) = cluster(&dirs, opts)?;
    for (d, m) in dirs.iter().zip(&manifests) {
        decisions
            .for_shard(m.shard)
            .save(&d.join("decisions.bin"))?;
    }
    Ok(report)
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::normalize::TextNorm;
    use crate::signature::{MinHasher, SigScratch, SignatureParams};

    /// A small corpus with planted near-duplicates: `n` documents of 120 pseudo-random words;
    /// every 5th document is a copy of an earlier one with a few words changed.
    pub(crate) fn corpus(n: usize, seed: u64) -> Vec<(String, String)> {
        let mut x = seed | 1;
        let mut rnd = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        };
        let mut docs: Vec<(String, String)> = Vec::with_capacity(n);
        for i in 0..n {
            let text = if i % 5 == 4 && i > 5 {
                let src = (rnd() as usize) % i;
                let mut words: Vec<String> = docs[src].1.split(' ').map(str::to_string).collect();
                for _ in 0..(rnd() % 4) {
                    let j = (rnd() as usize) % words.len();
                    words[j] = format!("edit{}", word(rnd() % 1000));
                }
                words.join(" ")
            } else {
                // Letters only: digits would all normalise to `0`.
                (0..120)
                    .map(|_| word(rnd() % 5000))
                    .collect::<Vec<_>>()
                    .join(" ")
            };
            docs.push((format!("doc{i}"), text));
        }
        docs
    }

    fn word(mut n: u64) -> String {
        let mut w = String::from("w");
        loop {
            w.push(char::from(b'a' + (n % 26) as u8));
            n /= 26;
            if n == 0 {
                return w;
            }
        }
    }

    pub(crate) fn hasher() -> MinHasher {
        MinHasher::new(SignatureParams {
            n_grams: 5,
            bands: 14,
            rows: 8,
            seed: 1,
            norm: TextNorm::default(),
        })
        .unwrap()
    }

    pub(crate) fn write_shard(
        dir: &Path,
        shard: u32,
        docs: &[(String, String)],
        budget: u64,
        reverse: bool,
    ) -> ShardManifest {
        let h = hasher();
        let w = ShardWriter::create(dir, shard, "p".into(), 14, budget, true).unwrap();
        let (mut sc, mut sig) = (SigScratch::default(), Vec::new());
        let mut order: Vec<usize> = (0..docs.len()).collect();
        if reverse {
            order.reverse();
        }
        for i in order {
            h.signature(&docs[i].1, &mut sc, &mut sig);
            sc.sort_dedup();
            w.add(&DocEntry {
                node: node_id(shard, i as u64).unwrap(),
                id: &docs[i].0,
                priority: f64::NEG_INFINITY,
                signature: &sig,
                shingles: &sc.shingles,
            })
            .unwrap();
        }
        // What is allocated for band records stays within the budget.
        assert!(
            w.peak_buffer_bytes() <= budget.max(14 * 24),
            "{}",
            w.peak_buffer_bytes()
        );
        w.finish().unwrap()
    }

    pub(crate) fn opts(keeper: Keeper) -> ClusterOptions {
        ClusterOptions {
            keeper,
            verify_jaccard: None,
            budget_bytes: 1 << 20,
        }
    }

    /// issue 17: a `work_dir` shard folder that holds files thresher did not write is refused,
    /// not deleted; a previous attempt's own files are replaced.
    #[test]
    fn work_dir_shard_folder_with_foreign_files_is_not_deleted() {
        let tmp = tempfile::tempdir().unwrap();
        let dir = shard_dir(tmp.path(), 0);
        write_shard(&dir, 0, &corpus(20, 1), 1 << 20, false);
        // A second attempt over its own files is fine.
        write_shard(&dir, 0, &corpus(20, 1), 1 << 20, false);
        std::fs::write(dir.join("notes.csv"), "mine").unwrap();
        let e = ShardWriter::create(&dir, 0, "p".into(), 14, 1 << 20, true)
            .err()
            .expect("refused");
        assert!(e.to_string().contains("notes.csv"), "{e}");
        assert_eq!(
            std::fs::read_to_string(dir.join("notes.csv")).unwrap(),
            "mine"
        );
        assert!(dir.join("manifest.json").exists());
    }

    #[test]
    fn spilled_runs_merge_to_the_in_memory_result() {
        let docs = corpus(600, 7);
        let tmp = tempfile::tempdir().unwrap();
        let big = tmp.path().join("big");
        let small = tmp.path().join("small");
        let m1 = write_shard(&big, 0, &docs, 1 << 30, false);
        // 24-byte records, 14 per document: a 10 KiB budget spills every ~30 documents, and
        // the documents arrive in reverse order.
        let m2 = write_shard(&small, 0, &docs, 10 << 10, true);
        assert_eq!(m1.runs, 1);
        assert!(m2.runs > 10, "{} runs", m2.runs);
        for keeper in [Keeper::LowestSeq, Keeper::Datatrove] {
            let (d1, r1) = cluster(std::slice::from_ref(&big), &opts(keeper)).unwrap();
            let (d2, r2) = cluster(std::slice::from_ref(&small), &opts(keeper)).unwrap();
            assert_eq!(d1, d2);
            assert_eq!(r1.candidate_pairs, r2.candidate_pairs);
            assert!(
                d1.removed() >= 100,
                "planted copies found: {}",
                d1.removed()
            );
        }
    }

    #[test]
    fn sharded_clustering_equals_one_shard() {
        let docs = corpus(500, 11);
        let tmp = tempfile::tempdir().unwrap();
        let one = tmp.path().join("one");
        write_shard(&shard_dir(&one, 0), 0, &docs, 1 << 20, false);
        let many = tmp.path().join("many");
        // Shards are consecutive slices; each numbers its documents from 0.
        let cuts = [0, 120, 121, 333, 500];
        for s in 0..4 {
            let part = &docs[cuts[s]..cuts[s + 1]];
            write_shard(
                &shard_dir(&many, s as u32),
                s as u32,
                part,
                4 << 10,
                s % 2 == 1,
            );
        }
        for keeper in [Keeper::LowestSeq, Keeper::Datatrove] {
            let (d1, _) = cluster(&shard_dirs(&one).unwrap(), &opts(keeper)).unwrap();
            let (d4, r4) = cluster(&shard_dirs(&many).unwrap(), &opts(keeper)).unwrap();
            assert_eq!(r4.shards, 4);
            // Same fate for every document, whichever way it was numbered.
            for (s, w) in cuts.windows(2).enumerate() {
                for i in w[0]..w[1] {
                    let (n1, n4) = (
                        node_id(0, i as u64).unwrap(),
                        node_id(s as u32, (i - w[0]) as u64).unwrap(),
                    );
                    assert_eq!(d1.fate(n1), d4.fate(n4), "doc {i}");
                    // datatrove's cluster numbers follow document order, across shards too.
                    assert_eq!(
                        d1.datatrove_cluster_id(n1),
                        d4.datatrove_cluster_id(n4),
                        "doc {i}"
                    );
                }
            }
        }
        // The per-shard decision files round-trip (with datatrove's cluster numbers or not).
        for keeper in [Keeper::LowestSeq, Keeper::Datatrove] {
            let r = cluster_work_dir(&many, &opts(keeper)).unwrap();
            let d2 = Decisions::load(&shard_dir(&many, 2).join("decisions.bin")).unwrap();
            let (full, _) = cluster(&shard_dirs(&many).unwrap(), &opts(keeper)).unwrap();
            assert_eq!(d2, full.for_shard(2));
            assert_eq!(r.removed_docs as usize, full.removed());
            assert_eq!(
                d2.datatrove_cluster_id(node_id(3, 0).unwrap()).is_some(),
                keeper == Keeper::Datatrove
            );
        }
    }

    #[test]
    fn lowest_seq_keeps_the_first_and_names_it() {
        let mut docs = corpus(50, 3);
        // doc 10, doc 25 and doc 40 are the same text, found nowhere else.
        docs[10].1 = (0..100)
            .map(|i| format!("z{}", word(i)))
            .collect::<Vec<_>>()
            .join(" ");
        docs[40].1 = docs[10].1.clone();
        docs[25].1 = docs[10].1.clone();
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("s");
        write_shard(&d, 0, &docs, 1 << 20, true);
        let (dec, _) = cluster(&[d], &opts(Keeper::LowestSeq)).unwrap();
        assert_eq!(dec.fate(10), Fate::Keep { size: 3 });
        assert_eq!(
            dec.fate(25),
            Fate::Remove {
                size: 3,
                keeper: "doc10"
            }
        );
        assert_eq!(
            dec.fate(40),
            Fate::Remove {
                size: 3,
                keeper: "doc10"
            }
        );
    }

    #[test]
    fn jaccard_verification_rejects_weak_pairs_and_counts_them() {
        assert!((jaccard(&[1, 2, 3], &[2, 3, 4]) - 0.5).abs() < 1e-12);
        assert_eq!(jaccard(&[], &[]), 1.0);
        let docs = corpus(400, 5);
        let tmp = tempfile::tempdir().unwrap();
        let d = tmp.path().join("s");
        write_shard(&d, 0, &docs, 1 << 20, false);
        let (plain, r0) = cluster(std::slice::from_ref(&d), &opts(Keeper::LowestSeq)).unwrap();
        let mut o = opts(Keeper::LowestSeq);
        o.verify_jaccard = Some(0.0);
        let (all, r1) = cluster(std::slice::from_ref(&d), &o).unwrap();
        assert_eq!(r1.rejected_by_jaccard, 0);
        assert_eq!(all.removed(), plain.removed());
        // A threshold no pair reaches rejects every candidate that is not an exact copy.
        o.verify_jaccard = Some(1.0);
        let (strict, r2) = cluster(&[d], &o).unwrap();
        assert!(r2.rejected_by_jaccard > 0);
        assert!(strict.removed() < plain.removed());
        assert!(r0.candidate_pairs > 0 && r2.verified_pairs > 0);
    }

    #[test]
    fn missing_or_mismatched_shards_are_errors() {
        let tmp = tempfile::tempdir().unwrap();
        assert!(cluster_work_dir(tmp.path(), &opts(Keeper::LowestSeq)).is_err());
        let docs = corpus(20, 1);
        write_shard(&shard_dir(tmp.path(), 0), 0, &docs, 1 << 20, false);
        let w = ShardWriter::create(
            &shard_dir(tmp.path(), 1),
            1,
            "other".into(),
            14,
            1 << 20,
            false,
        )
        .unwrap();
        w.finish().unwrap();
        assert!(cluster_work_dir(tmp.path(), &opts(Keeper::LowestSeq)).is_err());
        // A shard without a manifest (its signatures stage did not finish).
        std::fs::remove_file(shard_dir(tmp.path(), 1).join("manifest.json")).unwrap();
        assert!(cluster_work_dir(tmp.path(), &opts(Keeper::LowestSeq)).is_err());
    }
}
