//! Corpus-wide line counts shared by the two-pass repair steps (`corpus_boilerplate`, and
//! `strip_chrome` with corpus statistics): a memory-bounded count-min sketch of line keys and the
//! grouping of documents by site or source.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicU32, Ordering};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thresher_core::check::{check_at_least, check_range};
use thresher_core::{Document, Error, Result};

/// Largest sketch accepted (counters in all), so that a typo cannot ask for terabytes.
const MAX_COUNTERS: usize = 1 << 30;

/// Checks a sketch's shape (the recipe's `sketch_width` and `sketch_depth`) without allocating
/// it; returns the number of counters.
pub(crate) fn check_shape(step: &str, width: usize, depth: usize) -> Result<usize> {
    check_at_least(step, "sketch_width", width, 1)?;
    check_range(step, "sketch_depth", depth, 1..=16)?;
    width
        .checked_mul(depth)
        .filter(|&n| n <= MAX_COUNTERS)
        .ok_or_else(|| {
            Error::config(
                step,
                format!("`sketch_width` × `sketch_depth` must be at most {MAX_COUNTERS}"),
            )
        })
}

/// A count-min sketch of `depth` rows of `width` 32-bit counters.
///
/// Memory is fixed (`4 × width × depth` bytes) whatever the input's size, counts are never
/// under-estimated, and the expected over-count of a key is at most `e × N / width` for `N`
/// counted keys. Safe to update from several threads at once, and the counts after a pass do
/// not depend on the order of the updates (so neither does a run's output on its threads).
pub(crate) struct CountSketch {
    width: usize,
    depth: usize,
    /// `depth` rows of `width` counters, row-major.
    counters: Vec<AtomicU32>,
}

impl CountSketch {
    /// Validates the shape and allocates the counters; `step` names the step in errors.
    pub(crate) fn new(step: &str, width: usize, depth: usize) -> Result<Self> {
        let n = check_shape(step, width, depth)?;
        let counters = (0..n).map(|_| AtomicU32::new(0)).collect();
        Ok(CountSketch {
            width,
            depth,
            counters,
        })
    }

    /// Counter index of `key` in row `row`: the rows use independent halves of a 128-bit hash
    /// (double hashing), so one 64-bit key gives `depth` positions.
    fn slot(&self, key: u64, row: usize) -> usize {
        let h1 = key;
        let h2 = key.rotate_left(32).wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1;
        let h = h1.wrapping_add((row as u64).wrapping_mul(h2));
        row * self.width + (h % self.width as u64) as usize
    }

    /// The sketch's estimate of the count of `key` (never below the true count).
    pub(crate) fn estimate(&self, key: u64) -> u32 {
        (0..self.depth)
            .map(|r| self.counters[self.slot(key, r)].load(Ordering::Relaxed))
            .min()
            .unwrap_or(0)
    }

    /// Adds one to the key's counter in every row (saturating at `u32::MAX`).
    ///
    /// Plain count-min rather than conservative update (raising only the counters at the
    /// current minimum): conservative update over-counts less, but two threads adding the same
    /// key at once can both read the old minimum and raise it to the same value, losing one
    /// count, and which updates collide depends on scheduling. Additions commute, so the final
    /// counts are exact sums whatever the order; the count-min bound holds for them.
    pub(crate) fn add(&self, key: u64) {
        for r in 0..self.depth {
            // `fetch_update` retries until it wins; `None` (already at the maximum) is fine.
            let _ = self.counters[self.slot(key, r)].fetch_update(
                Ordering::Relaxed,
                Ordering::Relaxed,
                |c| c.checked_add(1),
            );
        }
    }

    /// Sets every counter to 0.
    pub(crate) fn clear(&self) {
        for c in &self.counters {
            c.store(0, Ordering::Relaxed);
        }
    }

    /// Bytes held by the counters.
    pub(crate) fn bytes(&self) -> usize {
        self.counters.len() * 4
    }

    /// Writes the sketch and the figures of the pass that filled it to `path` (see
    /// [`SKETCH_MAGIC`]); `step` names the step in errors.
    pub(crate) fn write_file(&self, step: &str, path: &Path, seen: Observed) -> Result<()> {
        write_atomically(path, |w| {
            w.write_all(SKETCH_MAGIC)?;
            for v in [
                self.width as u64,
                self.depth as u64,
                seen.docs_observed,
                seen.docs_without_group,
                seen.pairs_counted,
            ] {
                w.write_all(&v.to_le_bytes())?;
            }
            let mut buf = Vec::with_capacity(1 << 16);
            for chunk in self.counters.chunks(1 << 14) {
                buf.clear();
                for c in chunk {
                    buf.extend_from_slice(&c.load(Ordering::Relaxed).to_le_bytes());
                }
                w.write_all(&buf)?;
            }
            Ok(())
        })
        .map_err(|e| {
            Error::config(
                step,
                format!("{}: cannot write the sketch: {e}", path.display()),
            )
        })
    }

    /// Adds the counters of the sketch file `path` to this sketch (saturating, as [`add`]
    /// does); returns the file's figures. The file's width and depth must be this sketch's.
    ///
    /// [`add`]: CountSketch::add
    pub(crate) fn add_file(&self, step: &str, path: &Path) -> Result<Observed> {
        let bad = |m: String| Error::config(step, format!("{}: {m}", path.display()));
        let (mut r, head) = open_sketch(step, path)?;
        let [width, depth, docs_observed, docs_without_group, pairs_counted] = head;
        if width != self.width as u64 || depth != self.depth as u64 {
            return Err(bad(format!(
                "a sketch of width {width} and depth {depth}; the step has `sketch_width` = {} \
                 and `sketch_depth` = {} (the count and apply stages must use the same)",
                self.width, self.depth
            )));
        }
        let mut buf = vec![0u8; 1 << 16];
        let mut i = 0;
        while i < self.counters.len() {
            let n = (self.counters.len() - i).min(buf.len() / 4);
            r.read_exact(&mut buf[..n * 4])
                .map_err(|e| bad(format!("truncated sketch: {e}")))?;
            for (c, b) in self.counters[i..i + n].iter().zip(buf.chunks_exact(4)) {
                let v = u32::from_le_bytes([b[0], b[1], b[2], b[3]]);
                let _ = c.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |x| {
                    Some(x.saturating_add(v))
                });
            }
            i += n;
        }
        if r.read(&mut buf[..1]).map_err(|e| bad(e.to_string()))? != 0 {
            return Err(bad(
                "trailing bytes after the counters (not a sketch of this shape)".into(),
            ));
        }
        Ok(Observed {
            docs_observed,
            docs_without_group,
            pairs_counted,
        })
    }

    /// The count-min bound on the expected over-count of any one key after `pairs` updates
    /// (`e × N / width`).
    pub(crate) fn overcount_bound(&self, pairs: u64) -> f64 {
        std::f64::consts::E * pairs as f64 / self.width as f64
    }
}

/// How a corpus-counting step (`corpus_boilerplate`, `strip_chrome` with `corpus_min_docs > 0`)
/// runs: in one process, or as the two stages of a sharded run (Slurm array, Ray executor).
///
/// The counts of a sharded input are the sums of its shards' counts: the sketches of the
/// shards, of the same shape, add up counter by counter to the sketch one run over all of the
/// input builds (additions commute; only a counter at `u32::MAX` saturates, in both).
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, Serialize, schemars::JsonSchema,
)]
#[serde(rename_all = "lowercase")]
pub enum CorpusStage {
    /// Count (first pass) and remove (second pass) in one run.
    #[default]
    Single,
    /// Count the documents reaching the step, write the sketch to `sketch_file` once they are
    /// all counted, and pass every document on unchanged (the run's output is not the step's).
    Count,
    /// Load the sketches named by `sketches` (files, or folders of `*.sketch` files), sum them
    /// and remove lines in one pass, without counting.
    Apply,
    /// For shards that run at the same time (a gang-scheduled Ray stage): count the documents
    /// reaching the step, then take the sum of every shard's counts (`sketches` names each
    /// shard's `sketch_file`, this one's included: the first one's shard sums the others'
    /// files and writes the sum beside its own name, the others write their file and read the
    /// sum, see `exchange`), then remove lines as one run over all the shards would. The
    /// documents reaching the step are counted and edited in the same run, so nothing before
    /// the step runs twice.
    Exchange,
}

/// Checks the stage parameters of a corpus-counting step: `count` needs `sketch_file`, `apply`
/// needs `sketches`, and neither is accepted with another stage (a forgotten `stage` would
/// otherwise silently count per shard).
pub(crate) fn check_stage(
    step: &str,
    stage: CorpusStage,
    sketch_file: &Option<PathBuf>,
    sketches: &Option<Vec<PathBuf>>,
) -> Result<()> {
    match (stage, sketch_file, sketches) {
        (CorpusStage::Count, None, _) => Err(Error::config(
            step,
            "`stage` = \"count\" needs `sketch_file` (where this shard's counts go)",
        )),
        (CorpusStage::Apply, _, None) => Err(Error::config(
            step,
            "`stage` = \"apply\" needs `sketches` (the count stage's files, or their folder)",
        )),
        (CorpusStage::Apply, _, Some(v)) if v.is_empty() => Err(Error::config(
            step,
            "`sketches` is empty: give the count stage's files (or their folder)",
        )),
        (CorpusStage::Exchange, f, l) => match (f, l) {
            (Some(f), Some(l)) if l.contains(f) => Ok(()),
            _ => Err(Error::config(
                step,
                "`stage` = \"exchange\" needs `sketch_file` (this shard's) and `sketches` (every \
                 shard's `sketch_file`, this one's included)",
            )),
        },
        (s, f, l) if (s != CorpusStage::Count && f.is_some()) || (s != CorpusStage::Apply && l.is_some()) => {
            Err(Error::config(
                step,
                "`sketch_file` goes with `stage` = \"count\" and `sketches` with `stage` = \"apply\"",
            ))
        }
        _ => Ok(()),
    }
}

/// The corpus figures a count stage saw, written beside its counters so that the apply stage
/// reports the whole input's (summed over the files).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Observed {
    pub(crate) docs_observed: u64,
    pub(crate) docs_without_group: u64,
    pub(crate) pairs_counted: u64,
}

impl Observed {
    /// Adds another shard's figures.
    pub(crate) fn add(&mut self, o: Observed) {
        self.docs_observed += o.docs_observed;
        self.docs_without_group += o.docs_without_group;
        self.pairs_counted += o.pairs_counted;
    }
}

/// The apply stage's start: adds the sketch files that `paths` names (files, or folders of
/// `*.sketch` files) to `sketch`; returns their figures summed.
pub(crate) fn load_sketches(
    step: &str,
    sketch: &CountSketch,
    paths: &[PathBuf],
) -> Result<Observed> {
    let mut seen = Observed::default();
    for f in list_files(step, paths, "sketch")? {
        seen.add(sketch.add_file(step, &f)?);
    }
    Ok(seen)
}

/// A counting step's end of observing, by stage: `count` writes the shard's sketch,
/// `exchange` takes every shard's counts (see [`exchange`]) and returns their figures, for the
/// step's report; the other stages do nothing here.
pub(crate) fn end_counting(
    step: &str,
    sketch: &CountSketch,
    stage: CorpusStage,
    sketch_file: &Option<PathBuf>,
    sketches: &Option<Vec<PathBuf>>,
    seen: Observed,
) -> Result<Option<Observed>> {
    match (stage, sketch_file, sketches) {
        (CorpusStage::Count, Some(path), _) => sketch.write_file(step, path, seen).map(|()| None),
        (CorpusStage::Exchange, Some(path), Some(all)) => {
            exchange(step, sketch, path, all, seen, EXCHANGE_WAIT).map(Some)
        }
        _ => Ok(None),
    }
}

/// First bytes of a sketch file (then width, depth and the [`Observed`] figures as
/// little-endian `u64`s, then the counters, row-major, as little-endian `u32`s).
const SKETCH_MAGIC: &[u8; 8] = b"THRSKT01";

/// The files a list of paths names: a file itself; a folder, its `*.sketch` files (sorted).
pub(crate) fn list_files(step: &str, paths: &[PathBuf], ext: &str) -> Result<Vec<PathBuf>> {
    let mut out = Vec::new();
    for p in paths {
        if p.is_dir() {
            let rd = std::fs::read_dir(p)
                .map_err(|e| Error::config(step, format!("{}: cannot list: {e}", p.display())))?;
            let mut found: Vec<PathBuf> = rd
                .filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|f| f.extension().is_some_and(|x| x == ext))
                .collect();
            if found.is_empty() {
                return Err(Error::config(
                    step,
                    format!("{}: a folder without any `*.{ext}` file", p.display()),
                ));
            }
            found.sort();
            out.extend(found);
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

/// Writes `bytes` to `path` through a temporary name, so that a killed task leaves no
/// half-written file under the final name.
pub(crate) fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut dyn Write) -> std::io::Result<()>,
) -> std::io::Result<()> {
    let mut tmp = path.as_os_str().to_owned();
    tmp.push(".tmp");
    let tmp = PathBuf::from(tmp);
    {
        let f = std::fs::File::create(&tmp)?;
        let mut w = std::io::BufWriter::new(f);
        write(&mut w)?;
        w.flush()?;
    }
    std::fs::rename(&tmp, path)
}

/// How long an exchange stage waits for the other shards' sketches (a day: the shards of one
/// stage run at the same time, so the wait is their difference in speed).
pub(crate) const EXCHANGE_WAIT: std::time::Duration = std::time::Duration::from_secs(24 * 3600);

/// The exchange stage's end of counting (see [`CorpusStage::Exchange`]). The shard whose file
/// is first in `all` waits for every other shard's file (polling; a file appears whole, by
/// rename), adds them to its own counts and writes the sum to that first file's name plus
/// `.sum`; every other shard writes its own sketch to `own`, waits for the sum and takes it as
/// its counts. So each shard's sketch is read once, and the sum once per shard: with `N`
/// shards, `2N` sketch reads in all rather than `N²` (16 TB for 1,000 shards of the default
/// 16 MiB sketch). Returns the figures of all the shards. Waits at most `wait`: a shard that
/// never writes its file (its task failed for good) is an error here, not a hang.
pub(crate) fn exchange(
    step: &str,
    sketch: &CountSketch,
    own: &Path,
    all: &[PathBuf],
    mine: Observed,
    wait: std::time::Duration,
) -> Result<Observed> {
    // A file is named once in `all` for each shard; a repeated name would be counted twice.
    let distinct: std::collections::HashSet<&PathBuf> = all.iter().collect();
    if distinct.len() != all.len() {
        return Err(Error::config(step, "`sketches` names a file twice"));
    }
    let Some(first) = all.first() else {
        return Err(Error::config(step, "`sketches` is empty"));
    };
    let mut sum = first.as_os_str().to_owned();
    sum.push(".sum");
    let sum = PathBuf::from(sum);
    let start = std::time::Instant::now();
    let wait_for = |f: &Path| -> Result<()> {
        let mut pause = std::time::Duration::from_millis(5);
        while !f.is_file() {
            if start.elapsed() > wait {
                return Err(Error::config(
                    step,
                    format!(
                        "{}: not written after {} s (the other shards of an exchange stage must \
                         run at the same time)",
                        f.display(),
                        wait.as_secs()
                    ),
                ));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(std::time::Duration::from_millis(200));
        }
        Ok(())
    };
    if own == first.as_path() {
        let mut seen = mine;
        for f in &all[1..] {
            wait_for(f)?;
            seen.add(sketch.add_file(step, f)?);
        }
        sketch.write_file(step, &sum, seen)?;
        return Ok(seen);
    }
    sketch.write_file(step, own, mine)?;
    wait_for(&sum)?;
    // The sum holds this shard's counts already (a retried shard counts the same again).
    sketch.clear();
    sketch.add_file(step, &sum)
}

/// `thresher sum-sketches`: adds the sketch files that `paths` names (files, or folders of
/// `*.sketch` files; all of one shape, the first file's) into one sketch file at `out`, with
/// their figures summed: what every apply stage of a sharded run then reads instead of each
/// shard's file (`2N` reads for `N` shards rather than `N²`). Returns the files summed and the
/// documents they observed.
pub fn sum_sketch_files(paths: &[PathBuf], out: &Path) -> Result<(usize, u64)> {
    const STEP: &str = "sum-sketches";
    let files = list_files(STEP, paths, "sketch")?;
    let Some(first) = files.first() else {
        return Err(Error::config(STEP, "no sketch file to sum"));
    };
    let [width, depth, ..] = open_sketch(STEP, first)?.1;
    let sketch = CountSketch::new(
        STEP,
        usize::try_from(width).unwrap_or(usize::MAX),
        usize::try_from(depth).unwrap_or(usize::MAX),
    )?;
    let mut seen = Observed::default();
    for f in &files {
        seen.add(sketch.add_file(STEP, f)?);
    }
    sketch.write_file(STEP, out, seen)?;
    Ok((files.len(), seen.docs_observed))
}

/// Opens the sketch file `path` and reads its header: the reader at the counters, and width,
/// depth and the [`Observed`] figures (see [`SKETCH_MAGIC`]).
fn open_sketch(step: &str, path: &Path) -> Result<(std::io::BufReader<std::fs::File>, [u64; 5])> {
    let bad = |m: String| Error::config(step, format!("{}: {m}", path.display()));
    let f = std::fs::File::open(path).map_err(|e| bad(format!("cannot open the sketch: {e}")))?;
    let mut r = std::io::BufReader::new(f);
    let mut magic = [0u8; 8];
    r.read_exact(&mut magic)
        .map_err(|e| bad(format!("not a sketch file: {e}")))?;
    if &magic != SKETCH_MAGIC {
        return Err(bad("not a sketch file (written by a count stage)".into()));
    }
    let mut head = [0u64; 5];
    for h in &mut head {
        *h = read_u64(&mut r).map_err(|e| bad(format!("truncated sketch header: {e}")))?;
    }
    Ok((r, head))
}

fn read_u64(r: &mut impl Read) -> std::io::Result<u64> {
    let mut b = [0u8; 8];
    r.read_exact(&mut b)?;
    Ok(u64::from_le_bytes(b))
}

/// The seed that puts a document's lines in its group's own key space. With `group_by`, the group
/// is the value of that metadata field (the host, for a URL); `None` when the document lacks the
/// field (per-site statistics need a site). Without `group_by`, the whole input is one group.
pub(crate) fn group_seed(group_by: Option<&str>, doc: &Document) -> Option<u64> {
    let Some(field) = group_by else {
        return Some(0);
    };
    match doc.metadata.get(field) {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(xxhash_rust::xxh3::xxh3_64(group_of(s).as_bytes())),
        Some(v) => Some(xxhash_rust::xxh3::xxh3_64(v.to_string().as_bytes())),
    }
}

/// The key of a normalised line within the group whose seed is `seed`.
pub(crate) fn group_key(normalized: &str, seed: u64) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(normalized.as_bytes(), seed)
}

/// The group of a metadata value: the host of a URL, else the value itself.
pub(crate) fn group_of(s: &str) -> String {
    match s.find("://") {
        Some(i) => {
            let rest = &s[i + 3..];
            let host = rest.split(['/', '?', '#']).next().unwrap_or(rest);
            let host = host.rsplit('@').next().unwrap_or(host);
            host.to_ascii_lowercase()
        }
        None => s.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn group_of_url_is_host() {
        assert_eq!(
            group_of("https://User@WWW.Example.com:80/a?b"),
            "www.example.com:80"
        );
        assert_eq!(group_of("site-a"), "site-a");
    }

    #[test]
    fn tiny_sketch_still_never_undercounts() {
        let s = CountSketch::new("t", 8, 2).unwrap();
        for k in 0..100u64 {
            s.add(k);
        }
        assert!((0..100u64).all(|k| s.estimate(k) >= 1));
    }

    #[test]
    fn concurrent_adds_are_all_counted() {
        let s = CountSketch::new("t", 1 << 10, 4).unwrap();
        std::thread::scope(|sc| {
            for _ in 0..4 {
                sc.spawn(|| {
                    for _ in 0..5000 {
                        s.add(42);
                    }
                });
            }
        });
        assert_eq!(s.estimate(42), 20_000);
    }

    #[test]
    fn bad_shapes_are_config_errors() {
        assert!(CountSketch::new("t", 0, 4).is_err());
        assert!(CountSketch::new("t", 4, 0).is_err());
        assert!(CountSketch::new("t", 1 << 30, 4).is_err());
    }

    #[test]
    fn sketch_files_of_shards_sum_to_the_whole_inputs_sketch() {
        let dir = tempfile::tempdir().unwrap();
        let whole = CountSketch::new("t", 64, 3).unwrap();
        let parts = [
            CountSketch::new("t", 64, 3).unwrap(),
            CountSketch::new("t", 64, 3).unwrap(),
        ];
        for k in 0..500u64 {
            let key = k % 37;
            whole.add(key);
            parts[(k % 2) as usize].add(key);
        }
        for (i, p) in parts.iter().enumerate() {
            let seen = Observed {
                docs_observed: 10 + i as u64,
                docs_without_group: 1,
                pairs_counted: 250,
            };
            p.write_file("t", &dir.path().join(format!("{i}.sketch")), seen)
                .unwrap();
        }
        let sum = CountSketch::new("t", 64, 3).unwrap();
        let files = list_files("t", &[dir.path().to_path_buf()], "sketch").unwrap();
        assert_eq!(files.len(), 2);
        let mut seen = Observed::default();
        for f in &files {
            let o = sum.add_file("t", f).unwrap();
            seen.docs_observed += o.docs_observed;
        }
        assert_eq!(seen.docs_observed, 21);
        let all = |s: &CountSketch| -> Vec<u32> {
            s.counters
                .iter()
                .map(|c| c.load(Ordering::Relaxed))
                .collect()
        };
        assert_eq!(all(&sum), all(&whole));
        // Another shape, a stray file and an empty folder are refused with a clear message.
        let other = CountSketch::new("t", 32, 3).unwrap();
        let e = other.add_file("t", &files[0]).unwrap_err().to_string();
        assert!(e.contains("width 64 and depth 3"), "{e}");
        std::fs::write(dir.path().join("x.txt"), "hello").unwrap();
        assert!(sum.add_file("t", &dir.path().join("x.txt")).is_err());
        assert!(sum
            .add_file("t", &dir.path().join("missing.sketch"))
            .is_err());
        let empty = tempfile::tempdir().unwrap();
        assert!(list_files("t", &[empty.path().to_path_buf()], "sketch").is_err());
        // One file holding the sum is read as both: the same counters and figures.
        let summed = empty.path().join("sum.sketch");
        assert_eq!(sum_sketch_files(&files, &summed).unwrap(), (2, 21));
        let once = CountSketch::new("t", 64, 3).unwrap();
        let o = once.add_file("t", &summed).unwrap();
        assert_eq!(
            (o.docs_observed, o.docs_without_group, o.pairs_counted),
            (21, 2, 500)
        );
        assert_eq!(all(&once), all(&whole));
        std::fs::copy(&files[0], dir.path().join("z.sketch")).unwrap();
        other
            .write_file("t", &dir.path().join("zz.sketch"), Observed::default())
            .unwrap();
        let e = sum_sketch_files(&[dir.path().to_path_buf()], &summed)
            .unwrap_err()
            .to_string();
        assert!(e.contains("width 32 and depth 3"), "{e}");
    }

    #[test]
    fn stage_parameters_are_checked() {
        let f = Some(PathBuf::from("a.sketch"));
        let l = Some(vec![PathBuf::from("d")]);
        assert!(check_stage("t", CorpusStage::Single, &None, &None).is_ok());
        assert!(check_stage("t", CorpusStage::Count, &f, &None).is_ok());
        assert!(check_stage("t", CorpusStage::Apply, &None, &l).is_ok());
        assert!(check_stage("t", CorpusStage::Count, &None, &None).is_err());
        assert!(check_stage("t", CorpusStage::Apply, &None, &None).is_err());
        assert!(check_stage("t", CorpusStage::Apply, &None, &Some(vec![])).is_err());
        assert!(check_stage("t", CorpusStage::Single, &f, &None).is_err());
        assert!(check_stage("t", CorpusStage::Count, &f, &l).is_err());
    }

    #[test]
    fn groups_need_the_field() {
        let mut d = Document::new("d", "x");
        assert_eq!(group_seed(None, &d), Some(0));
        assert_eq!(group_seed(Some("url"), &d), None);
        d.metadata.insert("url".into(), "https://a.com/1".into());
        let a = group_seed(Some("url"), &d);
        d.metadata.insert("url".into(), "https://a.com/2".into());
        assert_eq!(group_seed(Some("url"), &d), a);
    }
}
