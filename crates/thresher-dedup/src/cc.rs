//! Connected components computed by several processes, none of which holds every node: the
//! distributed form of `minhash_dedup`'s cluster stage (the Ray executor runs it; any launcher
//! can, each call below is one task that reads and writes files in a shared folder).
//!
//! The algorithm is the alternating large-star / small-star one (Kiveris, Lattanzi, Mirrokni,
//! Rastogi, Vassilvitskii, "Connected Components in MapReduce and Beyond", SoCC 2014). The
//! edges live in files hash-partitioned by node over `P` parts; each round is `P` tasks, task
//! `p` reading the records `(u, v)` sent to part `p` (external sort, within a memory budget),
//! grouping them by `u` (the neighbours of `u`) and sending its output edges to the next
//! round's parts:
//!
//! - large-star (even rounds): `m = min(u, neighbours)`; each neighbour `v > u` gets the edge
//!   `(v, m)`;
//! - small-star (odd rounds): `m = min(u, neighbours <= u)`; each of those and `u` gets `(x, m)`.
//!
//! When every node a large-star task sees is a leaf (one neighbour, smaller) or a centre (only
//! larger neighbours), the graph is a forest of stars whose centres are the components'
//! smallest nodes: the task writes each member's label `(node, centre, size)` into a file per
//! MinHash shard (`node >> 40`), and the driver stops once every task of a round says so. A
//! task's memory is its sort buffer plus the largest neighbourhood; no task holds the graph.
//!
//! For MinHash (`keeper = "lowest_seq"`, the keeper is the component's smallest node, i.e. the
//! centre): [`minhash_pairs`] emits the candidate pairs of a slice of the band buckets (the same
//! adjacent equal-band pairs as [`crate::lsh::cluster`]), [`cc_round`] runs the rounds,
//! [`minhash_ids`] looks up the keepers' ids in their shard's document table, and
//! [`minhash_decide`] writes each shard's `decisions.bin`, equal to the single process's.
//!
//! Layout of the components folder:
//!
//! ```text
//! r-00000/from-KKKKK/to-PPPPP.bin     round 0's input: part K's candidate pairs for part P
//! r-0000R/from-KKKKK/to-PPPPP.bin     round R's input, written by task K of round R-1
//! r-0000R/from-KKKKK/labels-SSSSS.bin labels of shard S's nodes (when round R-1 converged)
//! r-0000R/from-KKKKK/req-SSSSS.bin    keepers of shard S whose id other shards need
//! ids/from-SSSSS/to-TTTTT.bin          keeper ids of shard S for shard T
//! ```

use std::cmp::Reverse;
use std::collections::{BTreeMap, BinaryHeap, HashMap};
use std::fs::{self, File};
use std::io::{BufReader, BufWriter, Read, Seek, SeekFrom, Write};
use std::path::{Path, PathBuf};

use serde::Serialize;
use thresher_core::{Error, Result};

use crate::lsh::{
    create, io_err, list_runs, read_full, read_manifests, scan_docs, shard_dir, shard_dirs,
    BandRecord, Decisions, Merge, REC_BYTES, SHARD_SHIFT,
};
use crate::union_find::IntMap;

/// The part (`0..parts`) a node's records go to.
pub fn part_of(node: u64, parts: u32) -> u32 {
    // splitmix64's finaliser: node ids are sequential, parts must not follow shards.
    let mut x = node.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^= x >> 31;
    (x % u64::from(parts.max(1))) as u32
}

/// The MinHash shard of a node.
pub fn shard_of(node: u64) -> u32 {
    (node >> SHARD_SHIFT) as u32
}

/// Folder of round `round`'s input.
pub fn round_dir(dir: &Path, round: u32) -> PathBuf {
    dir.join(format!("r-{round:05}"))
}

/// Folder that task `from` writes for round `round`.
pub fn task_dir(dir: &Path, round: u32, from: u32) -> PathBuf {
    round_dir(dir, round).join(format!("from-{from:05}"))
}

fn to_path(task: &Path, part: u32) -> PathBuf {
    task.join(format!("to-{part:05}.bin"))
}

fn labels_path(task: &Path, shard: u32) -> PathBuf {
    task.join(format!("labels-{shard:05}.bin"))
}

fn req_path(task: &Path, shard: u32) -> PathBuf {
    task.join(format!("req-{shard:05}.bin"))
}

fn ids_dir(dir: &Path, shard: u32) -> PathBuf {
    dir.join("ids").join(format!("from-{shard:05}"))
}

/// Whether `name` is a file a task writes (so that a retry may delete it).
fn is_task_file(name: &str) -> bool {
    let numbered = |prefix: &str, ext: &str| {
        name.strip_prefix(prefix)
            .and_then(|r| r.strip_suffix(ext))
            .is_some_and(|d| !d.is_empty() && d.bytes().all(|b| b.is_ascii_digit()))
    };
    numbered("to-", ".bin")
        || numbered("labels-", ".bin")
        || numbered("req-", ".bin")
        || numbered("sort-", ".tmp")
}

/// Creates `dir` empty of a previous attempt's files; anything else in it is refused.
fn fresh_dir(dir: &Path) -> Result<()> {
    if let Ok(entries) = fs::read_dir(dir) {
        for entry in entries {
            let entry = entry.map_err(io_err(dir))?;
            let name = entry.file_name();
            match name.to_str() {
                Some(n) if is_task_file(n) && entry.file_type().is_ok_and(|t| t.is_file()) => {
                    let p = entry.path();
                    fs::remove_file(&p).map_err(io_err(&p))?;
                }
                _ => {
                    return Err(Error::Other(format!(
                        "{}: holds {name:?}, which thresher did not write; it never deletes \
                         such files",
                        dir.display()
                    )))
                }
            }
        }
    }
    fs::create_dir_all(dir).map_err(io_err(dir))
}

fn word(b: &[u8], i: usize) -> u64 {
    let mut w = [0u8; 8];
    w.copy_from_slice(&b[i * 8..i * 8 + 8]);
    u64::from_le_bytes(w)
}

/// Reads fixed-size records of `N` words from a file.
struct WordsReader<const N: usize> {
    path: PathBuf,
    r: BufReader<File>,
}

impl<const N: usize> WordsReader<N> {
    fn open(path: &Path) -> Result<Self> {
        let f = File::open(path).map_err(io_err(path))?;
        Ok(WordsReader {
            path: path.to_path_buf(),
            r: BufReader::with_capacity(1 << 16, f),
        })
    }

    fn next(&mut self) -> Result<Option<[u64; N]>> {
        let mut b = [0u8; 24];
        let b = &mut b[..N * 8];
        match read_full(&mut self.r, b).map_err(io_err(&self.path))? {
            0 => Ok(None),
            n if n == N * 8 => Ok(Some(std::array::from_fn(|i| word(b, i)))),
            _ => Err(Error::Other(format!("{}: truncated", self.path.display()))),
        }
    }
}

/// Writers of fixed-size records, one file per key, opened when first written to.
struct Outputs {
    files: BTreeMap<u32, (PathBuf, BufWriter<File>)>,
    records: u64,
}

impl Outputs {
    fn new() -> Self {
        Outputs {
            files: BTreeMap::new(),
            records: 0,
        }
    }

    fn put(&mut self, key: u32, path: impl FnOnce() -> PathBuf, words: &[u64]) -> Result<()> {
        let (p, w) = match self.files.entry(key) {
            std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
            std::collections::btree_map::Entry::Vacant(e) => {
                let p = path();
                let w = create(&p)?;
                e.insert((p, w))
            }
        };
        for x in words {
            w.write_all(&x.to_le_bytes()).map_err(io_err(p))?;
        }
        self.records += 1;
        Ok(())
    }

    fn finish(self) -> Result<u64> {
        for (_, (p, mut w)) in self.files {
            w.flush().map_err(io_err(&p))?;
        }
        Ok(self.records)
    }

    /// Closes and deletes the files.
    fn discard(self) -> Result<()> {
        for (_, (p, w)) in self.files {
            drop(w);
            fs::remove_file(&p).map_err(io_err(&p))?;
        }
        Ok(())
    }
}

/// Sorts pairs of node ids within a memory budget (sorted runs spilled to `dir`, then merged),
/// dropping repeats and self-loops.
struct PairSorter {
    dir: PathBuf,
    buf: Vec<(u64, u64)>,
    cap: usize,
    spills: Vec<PathBuf>,
    peak_bytes: usize,
}

impl PairSorter {
    /// A sorter for about `expected` pairs: its buffer is allocated once, for `expected` pairs
    /// or the budget's worth if fewer (growing it by doubling would hold the old and the new
    /// buffer at once, half as much again as the budget).
    fn new(dir: &Path, budget_bytes: u64, expected: u64) -> Self {
        let cap = usize::try_from(budget_bytes / 16)
            .unwrap_or(usize::MAX)
            .max(1024);
        let first = usize::try_from(expected).unwrap_or(usize::MAX).min(cap);
        PairSorter {
            dir: dir.to_path_buf(),
            buf: Vec::with_capacity(first),
            cap,
            spills: Vec::new(),
            peak_bytes: first * 16,
        }
    }

    fn push(&mut self, a: u64, b: u64) -> Result<()> {
        if a == b {
            return Ok(());
        }
        if self.buf.len() == self.buf.capacity() {
            if self.buf.len() >= self.cap {
                self.spill()?;
            } else {
                // Grow by doubling, but never past the budget.
                let extra = self.buf.capacity().max(1024).min(self.cap - self.buf.len());
                self.buf.reserve_exact(extra);
                self.peak_bytes = self.peak_bytes.max(self.buf.capacity() * 16);
            }
        }
        self.buf.push((a, b));
        Ok(())
    }

    fn spill(&mut self) -> Result<()> {
        self.buf.sort_unstable();
        self.buf.dedup();
        let path = self.dir.join(format!("sort-{:05}.tmp", self.spills.len()));
        let mut w = create(&path)?;
        for &(a, b) in &self.buf {
            w.write_all(&a.to_le_bytes())
                .and_then(|_| w.write_all(&b.to_le_bytes()))
                .map_err(io_err(&path))?;
        }
        w.flush().map_err(io_err(&path))?;
        self.spills.push(path);
        self.buf.clear();
        Ok(())
    }

    fn finish(mut self) -> Result<SortedPairs> {
        if self.spills.is_empty() {
            self.buf.sort_unstable();
            self.buf.dedup();
            return Ok(SortedPairs {
                mem: std::mem::take(&mut self.buf).into_iter(),
                readers: Vec::new(),
                heap: BinaryHeap::new(),
                last: None,
                spills: Vec::new(),
            });
        }
        if !self.buf.is_empty() {
            self.spill()?;
        }
        self.buf = Vec::new();
        let mut readers = Vec::with_capacity(self.spills.len());
        let mut heap = BinaryHeap::new();
        for p in &self.spills {
            let mut r = WordsReader::<2>::open(p)?;
            if let Some([a, b]) = r.next()? {
                heap.push(Reverse((a, b, readers.len())));
            }
            readers.push(r);
        }
        Ok(SortedPairs {
            mem: Vec::new().into_iter(),
            readers,
            heap,
            last: None,
            spills: std::mem::take(&mut self.spills),
        })
    }
}

/// The sorted, distinct pairs of a [`PairSorter`].
struct SortedPairs {
    mem: std::vec::IntoIter<(u64, u64)>,
    readers: Vec<WordsReader<2>>,
    heap: BinaryHeap<Reverse<(u64, u64, usize)>>,
    last: Option<(u64, u64)>,
    spills: Vec<PathBuf>,
}

impl SortedPairs {
    fn next(&mut self) -> Result<Option<(u64, u64)>> {
        if self.readers.is_empty() {
            return Ok(self.mem.next());
        }
        while let Some(Reverse((a, b, i))) = self.heap.pop() {
            if let Some([c, d]) = self.readers[i].next()? {
                self.heap.push(Reverse((c, d, i)));
            }
            if self.last != Some((a, b)) {
                self.last = Some((a, b));
                return Ok(Some((a, b)));
            }
        }
        Ok(None)
    }

    /// Deletes the spilled runs.
    fn remove(self) -> Result<()> {
        drop(self.readers);
        for p in self.spills {
            fs::remove_file(&p).map_err(io_err(&p))?;
        }
        Ok(())
    }
}

/// The two kinds of rounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Star {
    /// Large-star (even rounds).
    Large,
    /// Small-star (odd rounds).
    Small,
}

impl Star {
    /// The kind of round `round`.
    pub fn of_round(round: u32) -> Star {
        if round.is_multiple_of(2) {
            Star::Large
        } else {
            Star::Small
        }
    }
}

/// Sends the edge `(a, b)` to the parts of a round of kind `next`: both ends for large-star
/// (which needs every neighbour), the larger end only for small-star (which needs the smaller
/// neighbours).
fn send(out: &mut Outputs, task: &Path, parts: u32, next: Star, a: u64, b: u64) -> Result<()> {
    if a == b {
        return Ok(());
    }
    let (hi, lo) = if a > b { (a, b) } else { (b, a) };
    let q = part_of(hi, parts);
    out.put(q, || to_path(task, q), &[hi, lo])?;
    if next == Star::Large {
        let q = part_of(lo, parts);
        out.put(q, || to_path(task, q), &[lo, hi])?;
    }
    Ok(())
}

/// What one task of a round did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RoundReport {
    /// The round.
    pub round: u32,
    /// This task's part.
    pub part: u32,
    /// Distinct records read.
    pub records_in: u64,
    /// Records written for the next round.
    pub records_out: u64,
    /// Nodes whose neighbourhood this task saw.
    pub nodes: u64,
    /// Largest neighbourhood.
    pub max_degree: u64,
    /// Large-star rounds: whether every node this task saw is a star's leaf or centre (when
    /// all tasks of a round say so, the round's output folder holds the labels).
    pub converged: bool,
    /// Label rows written (when converged).
    pub labels: u64,
    /// Bytes allocated for the sort buffer at most.
    pub sort_bytes: u64,
    /// Sorted runs spilled to disk.
    pub spills: u64,
}

/// Task `part` of round `round` (`parts` tasks per round): reads `r-ROUND/from-*/to-PART.bin`,
/// writes `r-(ROUND+1)/from-PART/` (see the module docs). `budget_bytes` bounds the sort buffer.
pub fn cc_round(
    dir: &Path,
    round: u32,
    part: u32,
    parts: u32,
    budget_bytes: u64,
) -> Result<RoundReport> {
    if part >= parts {
        return Err(Error::Other(format!("part {part} of {parts}")));
    }
    let out_dir = task_dir(dir, round + 1, part);
    fresh_dir(&out_dir)?;
    let kind = Star::of_round(round);
    let next = Star::of_round(round + 1);
    let mut inputs = Vec::with_capacity(parts as usize);
    for from in 0..parts {
        let from_dir = task_dir(dir, round, from);
        if !from_dir.is_dir() {
            return Err(Error::Other(format!(
                "{}: missing (has task {from} of the previous round finished?)",
                from_dir.display()
            )));
        }
        let path = to_path(&from_dir, part);
        if let Ok(m) = fs::metadata(&path) {
            inputs.push((path, m.len() / 16));
        }
    }
    let expected = inputs.iter().map(|(_, n)| n).sum();
    let mut sorter = PairSorter::new(&out_dir, budget_bytes, expected);
    let mut report = RoundReport {
        round,
        part,
        converged: kind == Star::Large,
        ..RoundReport::default()
    };
    for (path, _) in inputs {
        let mut r = WordsReader::<2>::open(&path)?;
        while let Some([a, b]) = r.next()? {
            sorter.push(a, b)?;
        }
    }
    report.spills = sorter.spills.len() as u64;
    report.sort_bytes = sorter.peak_bytes as u64;
    let mut sorted = sorter.finish()?;
    let mut edges = Outputs::new();
    let mut labels = Some((Outputs::new(), Outputs::new()));
    let mut group: Vec<u64> = Vec::new();
    let mut key: Option<u64> = None;
    loop {
        let rec = sorted.next()?;
        if let Some((u, v)) = rec {
            report.records_in += 1;
            if key == Some(u) {
                group.push(v);
                continue;
            }
        }
        if let Some(u) = key {
            report.nodes += 1;
            report.max_degree = report.max_degree.max(group.len() as u64);
            match kind {
                Star::Large => {
                    let m = u.min(group[0]);
                    for &v in group.iter().filter(|&&v| v > u) {
                        send(&mut edges, &out_dir, parts, next, v, m)?;
                    }
                    let leaf = group.len() == 1 && group[0] < u;
                    let centre = group[0] > u;
                    if !(leaf || centre) {
                        report.converged = false;
                        if let Some((l, q)) = labels.take() {
                            l.discard()?;
                            q.discard()?;
                        }
                    }
                    if let (true, Some((l, q))) = (centre, labels.as_mut()) {
                        let size = group.len() as u64 + 1;
                        let s = shard_of(u);
                        l.put(s, || labels_path(&out_dir, s), &[u, u, size])?;
                        let mut asked: Vec<u32> = Vec::new();
                        for &v in &group {
                            let t = shard_of(v);
                            l.put(t, || labels_path(&out_dir, t), &[v, u, size])?;
                            if !asked.contains(&t) {
                                asked.push(t);
                                q.put(s, || req_path(&out_dir, s), &[u, u64::from(t)])?;
                            }
                        }
                    }
                }
                Star::Small => {
                    let m = group[0].min(u);
                    for &v in group.iter().filter(|&&v| v <= u) {
                        send(&mut edges, &out_dir, parts, next, v, m)?;
                    }
                    send(&mut edges, &out_dir, parts, next, u, m)?;
                }
            }
            group.clear();
        }
        match rec {
            Some((u, v)) => {
                key = Some(u);
                group.push(v);
            }
            None => break,
        }
    }
    sorted.remove()?;
    report.records_out = edges.finish()?;
    if let Some((l, q)) = labels {
        report.labels = l.finish()?;
        q.finish()?;
    }
    Ok(report)
}

/// What one pairs task did.
#[derive(Debug, Clone, Default, Serialize)]
pub struct PairsReport {
    /// This task's part.
    pub part: u32,
    /// Slices of the band buckets (bands x slices per band) this task read.
    pub units: Vec<u32>,
    /// Adjacent equal-band pairs (as [`crate::lsh::ClusterReport::candidate_pairs`]).
    pub candidate_pairs: u64,
    /// Records written for round 0 (two per pair).
    pub records_out: u64,
    /// Shards in the work folder.
    pub shards: usize,
    /// Documents seen by all shards.
    pub docs_seen: u64,
    /// Documents with a signature.
    pub docs_signed: u64,
    /// Bytes of band records in all shards.
    pub band_bytes: u64,
}

fn record_at(f: &mut File, path: &Path, i: u64) -> Result<BandRecord> {
    let mut b = [0u8; REC_BYTES];
    f.seek(SeekFrom::Start(i * REC_BYTES as u64))
        .and_then(|_| f.read_exact(&mut b))
        .map_err(io_err(path))?;
    Ok(BandRecord::from_bytes(&b))
}

/// The first record of a sorted run whose `v0` is at least `v0`.
fn lower_bound(f: &mut File, path: &Path, n: u64, v0: u64) -> Result<u64> {
    let (mut lo, mut hi) = (0u64, n);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        if record_at(f, path, mid)?.v0 < v0 {
            lo = mid + 1;
        } else {
            hi = mid;
        }
    }
    Ok(lo)
}

/// Task `part` of the pairs stage (`parts` tasks): the band buckets of the shards in
/// `work_dir` are cut into `bands x slices` units (`slices = ceil(parts / bands)`, cut at
/// quantiles of the bands' first values, sampled from the run files, so every task computes
/// the same cuts; a bucket never straddles two slices); this task merges the units `u` with
/// `u % parts == part` and sends each adjacent equal-band pair to round 0 of `cc_dir`.
pub fn minhash_pairs(
    work_dir: &Path,
    cc_dir: &Path,
    part: u32,
    parts: u32,
    budget_bytes: u64,
) -> Result<PairsReport> {
    if part >= parts {
        return Err(Error::Other(format!("part {part} of {parts}")));
    }
    let dirs = shard_dirs(work_dir)?;
    let manifests = read_manifests(&dirs)?;
    let out_dir = task_dir(cc_dir, 0, part);
    fresh_dir(&out_dir)?;
    let mut report = PairsReport {
        part,
        shards: dirs.len(),
        ..PairsReport::default()
    };
    for m in &manifests {
        report.docs_seen += m.docs_seen;
        report.docs_signed += m.docs_signed;
        report.band_bytes += m.band_bytes;
    }
    let mut out = Outputs::new();
    let bands = manifests.first().map_or(0, |m| m.bands);
    let slices = (parts as usize).div_ceil(bands.max(1)).max(1);
    let units = bands * slices;
    for unit in (part as usize..units).step_by(parts as usize) {
        report.units.push(unit as u32);
        let (band, slice) = (unit / slices, unit % slices);
        let mut files = Vec::new();
        for (d, m) in dirs.iter().zip(&manifests) {
            for p in list_runs(d, band, m.runs) {
                let f = File::open(&p).map_err(io_err(&p))?;
                let n = f.metadata().map_err(io_err(&p))?.len() / REC_BYTES as u64;
                files.push((p, f, n));
            }
        }
        // Cuts: quantiles of 64 samples per run file.
        let (lo, hi) = if slices == 1 {
            (0, None)
        } else {
            let mut samples = Vec::new();
            for (p, f, n) in files.iter_mut() {
                for i in 0..64u64.min(*n) {
                    samples.push(record_at(f, p, i * *n / 64.min(*n))?.v0);
                }
            }
            samples.sort_unstable();
            let cut = |j: usize| {
                if samples.is_empty() {
                    0
                } else {
                    samples[(j * samples.len() / slices).min(samples.len() - 1)]
                }
            };
            let lo = if slice == 0 { 0 } else { cut(slice) };
            let hi = (slice + 1 < slices).then(|| cut(slice + 1));
            (lo, hi)
        };
        let mut ranges = Vec::with_capacity(files.len());
        for (p, mut f, n) in files {
            let start = if lo == 0 {
                0
            } else {
                lower_bound(&mut f, &p, n, lo)?
            };
            let end = match hi {
                Some(h) => lower_bound(&mut f, &p, n, h)?,
                None => n,
            };
            if end > start {
                ranges.push((p, start, end - start));
            }
        }
        let per = (budget_bytes / 2 / (ranges.len().max(1) as u64)).clamp(4096, 1 << 20);
        let mut merge = Merge::open_ranges(&ranges, per as usize)?;
        let mut prev: Option<BandRecord> = None;
        while let Some(rec) = merge.next()? {
            if let Some(p) = prev {
                if p.same_key(&rec) {
                    report.candidate_pairs += 1;
                    send(&mut out, &out_dir, parts, Star::Large, p.node, rec.node)?;
                }
            }
            prev = Some(rec);
        }
    }
    report.records_out = out.finish()?;
    Ok(report)
}

/// Reads the label rows `(node, centre, size)` of shard `shard` from a converged round.
fn read_rows<const N: usize>(
    round: &Path,
    name: impl Fn(&Path) -> PathBuf,
    mut f: impl FnMut([u64; N]) -> Result<()>,
) -> Result<()> {
    let mut froms: Vec<PathBuf> = fs::read_dir(round)
        .map_err(io_err(round))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with("from-"))
        })
        .collect();
    froms.sort();
    for from in froms {
        let p = name(&from);
        if p.exists() {
            let mut r = WordsReader::<N>::open(&p)?;
            while let Some(w) = r.next()? {
                f(w)?;
            }
        }
    }
    Ok(())
}

/// The ids task of shard `shard`: reads the keepers of this shard that other shards' documents
/// name (the requests of the converged round `round`), finds their ids in the shard's document
/// table and writes them to `ids/from-SHARD/to-T.bin` for each shard `T` that needs them.
/// Returns the number of ids written.
pub fn minhash_ids(work_dir: &Path, cc_dir: &Path, round: u32, shard: u32) -> Result<u64> {
    let mut wanted: IntMap<u64, Vec<u32>> = IntMap::default();
    read_rows::<2>(
        &round_dir(cc_dir, round),
        |f| req_path(f, shard),
        |[k, t]| {
            wanted.entry(k).or_default().push(t as u32);
            Ok(())
        },
    )?;
    let out_dir = ids_dir(cc_dir, shard);
    fresh_dir(&out_dir)?;
    let mut out: BTreeMap<u32, (PathBuf, BufWriter<File>)> = BTreeMap::new();
    let mut found = 0usize;
    let mut failed: Option<Error> = None;
    scan_docs(&shard_dir(work_dir, shard), |row| {
        let Some(ts) = wanted.get(&row.node) else {
            return;
        };
        found += 1;
        for &t in ts {
            let res = (|| -> Result<()> {
                let (p, w) = match out.entry(t) {
                    std::collections::btree_map::Entry::Occupied(e) => e.into_mut(),
                    std::collections::btree_map::Entry::Vacant(e) => {
                        let p = to_path(&out_dir, t);
                        let w = create(&p)?;
                        e.insert((p, w))
                    }
                };
                w.write_all(&row.node.to_le_bytes())
                    .and_then(|_| w.write_all(&(row.id.len() as u64).to_le_bytes()))
                    .and_then(|_| w.write_all(row.id.as_bytes()))
                    .map_err(io_err(p))
            })();
            if let Err(e) = res {
                failed.get_or_insert(e);
            }
        }
    })?;
    if let Some(e) = failed {
        return Err(e);
    }
    if found != wanted.len() {
        return Err(Error::Other(format!(
            "shard {shard}: {} keepers asked for, {found} found in its document table",
            wanted.len()
        )));
    }
    for (_, (p, mut w)) in out {
        w.flush().map_err(io_err(&p))?;
    }
    Ok(wanted.values().map(|v| v.len() as u64).sum())
}

/// What the decide task of a shard wrote.
#[derive(Debug, Clone, Default, Serialize)]
pub struct DecideReport {
    /// The shard.
    pub shard: u32,
    /// Clusters (of two or more) whose keeper is in this shard.
    pub clusters: u64,
    /// Documents of this shard in such clusters.
    pub clustered_docs: u64,
    /// Documents of this shard to remove.
    pub removed_docs: u64,
}

/// The decide task of shard `shard`: its documents' labels from the converged round `round` and
/// the keepers' ids, written as the shard's `decisions.bin` (what
/// [`crate::lsh::cluster_work_dir`] writes with `keeper = "lowest_seq"`).
pub fn minhash_decide(
    work_dir: &Path,
    cc_dir: &Path,
    round: u32,
    shard: u32,
) -> Result<DecideReport> {
    let mut rows: Vec<(u64, u64, u64)> = Vec::new();
    read_rows::<3>(
        &round_dir(cc_dir, round),
        |f| labels_path(f, shard),
        |[n, c, s]| {
            rows.push((n, c, s));
            Ok(())
        },
    )?;
    rows.sort_unstable();
    if rows.windows(2).any(|w| w[0].0 == w[1].0) {
        return Err(Error::Other(format!(
            "shard {shard}: a node is labelled twice (the rounds did not converge)"
        )));
    }
    // Keeper ids sent to this shard.
    let mut ids: HashMap<u64, String> = HashMap::new();
    let ids_root = cc_dir.join("ids");
    if ids_root.is_dir() {
        let mut froms: Vec<PathBuf> = fs::read_dir(&ids_root)
            .map_err(io_err(&ids_root))?
            .filter_map(|e| e.ok().map(|e| e.path()))
            .collect();
        froms.sort();
        for from in froms {
            let p = to_path(&from, shard);
            if !p.exists() {
                continue;
            }
            let mut r = BufReader::new(File::open(&p).map_err(io_err(&p))?);
            let mut head = [0u8; 16];
            loop {
                match read_full(&mut r, &mut head).map_err(io_err(&p))? {
                    0 => break,
                    16 => {}
                    _ => return Err(Error::Other(format!("{}: truncated", p.display()))),
                }
                let len = word(&head, 1);
                if len > 1 << 30 {
                    return Err(Error::Other(format!("{}: corrupt id length", p.display())));
                }
                let mut id = vec![0u8; len as usize];
                r.read_exact(&mut id).map_err(io_err(&p))?;
                ids.insert(word(&head, 0), String::from_utf8_lossy(&id).into_owned());
            }
        }
    }
    let mut report = DecideReport {
        shard,
        clustered_docs: rows.len() as u64,
        ..DecideReport::default()
    };
    // Keeper ids numbered in the order of the shard's rows (as `Decisions::for_shard` does).
    let mut keeper_ids: Vec<String> = Vec::new();
    let mut index: IntMap<u64, u32> = IntMap::default();
    let mut out = Vec::with_capacity(rows.len());
    for (node, centre, size) in rows {
        let size = u32::try_from(size).unwrap_or(u32::MAX);
        if node == centre {
            report.clusters += 1;
            out.push((node, size, u32::MAX));
            continue;
        }
        report.removed_docs += 1;
        let k = match index.get(&centre) {
            Some(&k) => k,
            None => {
                let id = ids.get(&centre).cloned().ok_or_else(|| {
                    Error::Other(format!(
                        "shard {shard}: no id for keeper node {centre} (its shard's ids task)"
                    ))
                })?;
                keeper_ids.push(id);
                let k = (keeper_ids.len() - 1) as u32;
                index.insert(centre, k);
                k
            }
        };
        out.push((node, size, k));
    }
    Decisions::from_rows(out, keeper_ids)
        .save(&shard_dir(work_dir, shard).join("decisions.bin"))?;
    Ok(report)
}

/// Runs every task of the rounds in this process, one after another, until a round converges;
/// returns the round whose folder holds the labels. For tests and small graphs: a real run
/// starts the tasks of each round as separate processes (the Ray executor, a script).
pub fn run_rounds(dir: &Path, parts: u32, budget_bytes: u64, max_rounds: u32) -> Result<u32> {
    for round in 0..max_rounds {
        let mut converged = true;
        for part in 0..parts {
            converged &= cc_round(dir, round, part, parts, budget_bytes)?.converged;
        }
        if converged {
            return Ok(round + 1);
        }
    }
    Err(Error::Other(format!(
        "connected components: no convergence in {max_rounds} rounds"
    )))
}

/// The labels `(node, smallest node of its component, component size)` of a converged round,
/// sorted by node (reads every shard's labels: for tests and checks).
pub fn read_labels(dir: &Path, round: u32) -> Result<Vec<(u64, u64, u64)>> {
    let rd = round_dir(dir, round);
    let mut names = std::collections::BTreeSet::new();
    for from in fs::read_dir(&rd).map_err(io_err(&rd))? {
        let from = from.map_err(io_err(&rd))?.path();
        for f in fs::read_dir(&from).map_err(io_err(&from))? {
            let name = f.map_err(io_err(&from))?.file_name();
            if let Some(n) = name.to_str().filter(|n| n.starts_with("labels-")) {
                names.insert(n.to_string());
            }
        }
    }
    let mut rows = Vec::new();
    for n in names {
        read_rows::<3>(
            &rd,
            |f| f.join(&n),
            |[a, b, c]| {
                rows.push((a, b, c));
                Ok(())
            },
        )?;
    }
    rows.sort_unstable();
    Ok(rows)
}

/// Writes `edges` as round 0's input of `dir`, as `parts` producers would (edge `i` by
/// producer `i % parts`).
pub fn write_edges(dir: &Path, parts: u32, edges: &[(u64, u64)]) -> Result<()> {
    let mut outs: Vec<(PathBuf, Outputs)> = (0..parts)
        .map(|k| {
            let d = task_dir(dir, 0, k);
            fresh_dir(&d).map(|_| (d, Outputs::new()))
        })
        .collect::<Result<_>>()?;
    for (i, &(a, b)) in edges.iter().enumerate() {
        let (d, o) = &mut outs[i % parts as usize];
        send(o, d, parts, Star::Large, a, b)?;
    }
    for (_, o) in outs {
        o.finish()?;
    }
    Ok(())
}

/// A synthetic MinHash candidate graph, for tests and `scripts/cc-bench.py`: `nodes` documents
/// (ids `(shard << 40) | seq` over 16 shards, in a shuffled order) cut into clusters of 2 or
/// more (sizes heavy-tailed: Pareto with exponent 1.5, at most 1% of the nodes), each joined by
/// a random tree, then random pairs inside the clusters until there are `edges` edges (MinHash
/// bands match several times within a cluster of near-duplicates). Deterministic for a `seed`.
/// Calls `emit` per edge; returns (edges, clusters, largest cluster).
pub fn synthetic_candidate_graph(
    nodes: u64,
    edges: u64,
    seed: u64,
    mut emit: impl FnMut(u64, u64),
) -> (u64, u64, u64) {
    let mut state = seed;
    let mut next = move || {
        // splitmix64
        state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    };
    let mut ids: Vec<u64> = (0..nodes)
        .map(|i| ((i % 16) << SHARD_SHIFT) | (i / 16))
        .collect();
    for i in (1..ids.len()).rev() {
        ids.swap(i, (next() % (i as u64 + 1)) as usize);
    }
    let cap = (nodes / 100).max(2);
    let mut starts: Vec<u64> = Vec::new();
    let mut at = 0u64;
    while at < nodes {
        let unit = ((next() >> 11) as f64 + 0.5) / (1u64 << 53) as f64;
        let size = ((2.0 / unit.powf(1.0 / 1.5)) as u64).clamp(2, cap);
        starts.push(at);
        at += size;
    }
    // The last cluster takes the remainder; it must not be a single node.
    if nodes - starts.last().copied().unwrap_or(0) < 2 && starts.len() > 1 {
        starts.pop();
    }
    starts.push(nodes);
    let mut written = 0u64;
    for w in starts.windows(2) {
        let (s, e) = (w[0] as usize, w[1] as usize);
        for j in s + 1..e {
            let k = s + (next() % (j - s) as u64) as usize;
            emit(ids[j], ids[k]);
            written += 1;
        }
    }
    while written < edges && nodes >= 2 {
        let v = next() % nodes;
        let c = starts.partition_point(|&x| x <= v) - 1;
        let (s, e) = (starts[c], starts[c + 1]);
        let u = s + next() % (e - s);
        if u != v {
            emit(ids[v as usize], ids[u as usize]);
            written += 1;
        }
    }
    let largest = starts.windows(2).map(|w| w[1] - w[0]).max().unwrap_or(0);
    (written, starts.len() as u64 - 1, largest)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::lsh::tests::{corpus, opts, write_shard};
    use crate::lsh::{cluster, node_id, Keeper};
    use crate::union_find::UnionFind;

    fn reference(edges: &[(u64, u64)]) -> Vec<(u64, u64, u64)> {
        let mut uf = UnionFind::new();
        for &(a, b) in edges {
            uf.union(a, b);
        }
        let comps = uf.components();
        let mut min: HashMap<u64, u64> = HashMap::new();
        for &(n, r, _) in &comps {
            let m = min.entry(r).or_insert(n);
            *m = (*m).min(n);
        }
        let mut rows: Vec<_> = comps
            .iter()
            .filter(|&&(_, _, s)| s > 1)
            .map(|&(n, r, s)| (n, min[&r], u64::from(s)))
            .collect();
        rows.sort_unstable();
        rows
    }

    fn check(edges: &[(u64, u64)], parts: u32, budget: u64) -> u32 {
        let tmp = tempfile::tempdir().unwrap();
        write_edges(tmp.path(), parts, edges).unwrap();
        let last = run_rounds(tmp.path(), parts, budget, 200).unwrap();
        assert_eq!(read_labels(tmp.path(), last).unwrap(), reference(edges));
        last
    }

    fn rnd(seed: u64) -> impl FnMut() -> u64 {
        let mut x = seed | 1;
        move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            x
        }
    }

    #[test]
    fn random_graphs_get_the_union_find_components() {
        let mut r = rnd(5);
        // Clusters of random sizes, random edges inside each, node ids over 8 shards.
        let nodes: Vec<u64> = (0..6000u64)
            .map(|i| node_id((i % 8) as u32, i / 8).unwrap())
            .collect();
        let mut edges = Vec::new();
        let mut start = 0usize;
        while start < nodes.len() {
            let size = (1 + r() % 40) as usize;
            let members = &nodes[start..(start + size).min(nodes.len())];
            for j in 1..members.len() {
                let k = (r() as usize) % j;
                edges.push((members[j], members[k]));
                if r().is_multiple_of(3) {
                    edges.push((members[(r() as usize) % j], members[j]));
                }
            }
            start += size;
        }
        for parts in [1, 3, 4] {
            check(&edges, parts, 1 << 20);
        }
        // A budget of 1024 pairs: every task spills sorted runs and merges them.
        check(&edges, 3, 16 << 10);
    }

    /// The graph of `scripts/cc-bench.py`, small: 200,000 edges over 40,000 documents, 4
    /// parts, sort buffers that spill.
    #[test]
    fn the_benchmark_graph_small() {
        let mut edges = Vec::new();
        let (n, clusters, largest) =
            synthetic_candidate_graph(40_000, 200_000, 1, |a, b| edges.push((a, b)));
        assert_eq!(n, 200_000);
        assert!(clusters > 1000 && largest >= 100, "{clusters} {largest}");
        check(&edges, 4, 1 << 20);
    }

    #[test]
    fn paths_stars_and_empty_graphs_converge() {
        // A path in a bad order: the worst case of label propagation.
        let n = 3000u64;
        let mut r = rnd(9);
        let mut perm: Vec<u64> = (0..n).collect();
        for i in (1..perm.len()).rev() {
            perm.swap(i, (r() as usize) % (i + 1));
        }
        let path: Vec<(u64, u64)> = perm.windows(2).map(|w| (w[0], w[1])).collect();
        let rounds = check(&path, 4, 1 << 20);
        assert!(rounds < 60, "{rounds} rounds");
        let star: Vec<(u64, u64)> = (1..500u64).map(|i| (i, 1000)).collect();
        check(&star, 2, 1 << 20);
        check(&[], 3, 1 << 20);
        check(&[(7, 7), (7, 7)], 2, 1 << 20);
    }

    /// The distributed cluster stage writes the decisions the single process writes.
    #[test]
    fn minhash_stages_equal_the_single_cluster() {
        let docs = corpus(700, 13);
        let tmp = tempfile::tempdir().unwrap();
        let work = tmp.path().join("work");
        let cuts = [0, 200, 201, 450, 700];
        for s in 0..4 {
            write_shard(
                &shard_dir(&work, s as u32),
                s as u32,
                &docs[cuts[s]..cuts[s + 1]],
                8 << 10,
                s % 2 == 0,
            );
        }
        let (full, single) =
            cluster(&shard_dirs(&work).unwrap(), &opts(Keeper::LowestSeq)).unwrap();
        assert!(full.removed() > 50);
        // 3 parts: bands split among tasks; 30 parts: 3 slices of every band.
        for parts in [3u32, 30] {
            let cc = tmp.path().join(format!("cc-{parts}"));
            let mut pairs = 0;
            for p in 0..parts {
                let r = minhash_pairs(&work, &cc, p, parts, 1 << 20).unwrap();
                pairs += r.candidate_pairs;
            }
            assert_eq!(pairs, single.candidate_pairs);
            let last = run_rounds(&cc, parts, 64 << 10, 100).unwrap();
            for s in 0..4 {
                minhash_ids(&work, &cc, last, s).unwrap();
            }
            let (mut removed, mut clusters) = (0, 0);
            for s in 0..4 {
                let r = minhash_decide(&work, &cc, last, s).unwrap();
                removed += r.removed_docs;
                clusters += r.clusters;
                let got = Decisions::load(&shard_dir(&work, s).join("decisions.bin")).unwrap();
                assert_eq!(got, full.for_shard(s), "shard {s}, {parts} parts");
            }
            assert_eq!(removed, single.removed_docs);
            assert_eq!(clusters, single.clusters);
        }
    }
}
