//! Shards of one run over several processes (Slurm array tasks, or any other launcher): shard
//! `I` of `N` reads a contiguous block of the run's input bytes.
//!
//! The input list is the one a single run reads ([`thresher_io::expand_inputs`]: the arguments in
//! command-line order, each directory or glob expanded in sorted order). Its files are seen as
//! one concatenation of `T` bytes, and shard `I` owns bytes `[I * T / N, (I + 1) * T / N)`
//! ([`Shard::select_ranges`]): a local uncompressed JSONL file is cut at those points into
//! byte ranges (a range reads the records that *start* in it, so one huge file does not land
//! on one task), and so are a local Parquet file (a range reads the row groups that start in
//! it) and a local WARC or WET file, uncompressed or gzipped one member per record (a range
//! reads the records, or the gzip members, that start in it; a file that is one gzip stream
//! is read by the range at its start); any other file (compressed JSONL, zstd, ARC, text,
//! HTML, remote) goes whole to the shard that owns its middle byte, `floor(N * (bytes before j + half of j's bytes) / T)`.
//! The rule depends only on the list and the file sizes, so every task computes the same split
//! without talking to the others. Every record belongs to exactly one shard; a shard may be
//! empty when there are fewer files than shards.
//!
//! Because the blocks are contiguous and in order, concatenating the shards in shard order gives
//! the single run's input order. Steps that decide by input order (`minhash_dedup`'s sharded
//! stages number node `(shard << 40) | record`, `keeper = "lowest_seq"`) therefore decide as a
//! single run would. A range's line numbers and offsets are the whole file's (the newlines
//! before it are counted; a `.warc.gz` range adds up the decompressed sizes of the gzip
//! members before it), so document ids made from `file:line` and the file and position of
//! each error are those of a single run. A file cut into ranges appears in several shards'
//! `stats.json`, each with its `ranges` and the file's `size`; `merge-stats` adds them up.

use std::fmt;
use std::str::FromStr;

use thresher_io::InputFile;

/// Shard `index` (zero-based) of `count`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    /// This shard, `0..count`.
    pub index: u32,
    /// How many shards the run has.
    pub count: u32,
}

/// Why a shard specification is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct ShardError(pub String);

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// A shard, checked: `count >= 1` and `index < count`.
    pub fn new(index: u32, count: u32) -> Result<Shard, ShardError> {
        if count == 0 {
            return Err(ShardError("the shard count must be at least 1".into()));
        }
        if index >= count {
            return Err(ShardError(format!(
                "shard {index} of {count}: the index is zero-based, so it must be below {count}"
            )));
        }
        Ok(Shard { index, count })
    }

    /// The shard of a Slurm array task, from the environment: `SLURM_ARRAY_TASK_ID` and
    /// `SLURM_ARRAY_TASK_COUNT`, offset by `SLURM_ARRAY_TASK_MIN` when it is set (an array
    /// `--array=1-4` numbers its tasks from 1; this makes them shards 0..4). `None` when either
    /// of the first two is unset.
    pub fn from_env() -> Option<Result<Shard, ShardError>> {
        Shard::from_vars(|k| std::env::var(k).ok())
    }

    /// [`Shard::from_env`] over any variable lookup (for tests).
    pub fn from_vars(get: impl Fn(&str) -> Option<String>) -> Option<Result<Shard, ShardError>> {
        let id = get("SLURM_ARRAY_TASK_ID")?;
        let count = get("SLURM_ARRAY_TASK_COUNT")?;
        let num = |name: &str, v: &str| {
            v.trim()
                .parse::<u32>()
                .map_err(|_| ShardError(format!("{name}={v:?} is not a number")))
        };
        Some((|| {
            let id = num("SLURM_ARRAY_TASK_ID", &id)?;
            let count = num("SLURM_ARRAY_TASK_COUNT", &count)?;
            let min = match get("SLURM_ARRAY_TASK_MIN") {
                Some(m) => num("SLURM_ARRAY_TASK_MIN", &m)?,
                None => 0,
            };
            let index = id.checked_sub(min).ok_or_else(|| {
                ShardError(format!(
                    "SLURM_ARRAY_TASK_ID={id} is below SLURM_ARRAY_TASK_MIN={min}"
                ))
            })?;
            Shard::new(index, count).map_err(|e| {
                ShardError(format!(
                    "from SLURM_ARRAY_TASK_ID={id}, SLURM_ARRAY_TASK_MIN={min}, \
                     SLURM_ARRAY_TASK_COUNT={count}: {e} (an array with a step, e.g. \
                     --array=0-15:2, cannot be used; give --shard I/N)"
                ))
            })
        })())
    }

    /// The shard each of `sizes` (the files' sizes, in input order) belongs to: contiguous
    /// blocks of about equal total size (see the module docs).
    pub fn assign(count: u32, sizes: &[u64]) -> Vec<u32> {
        let n = u128::from(count.max(1));
        let total: u128 = sizes.iter().map(|&s| u128::from(s)).sum();
        if total == 0 {
            // All files empty (or none): by position instead.
            let len = sizes.len().max(1) as u128;
            return (0..sizes.len())
                .map(|j| (j as u128 * n / len) as u32)
                .collect();
        }
        let mut before = 0u128;
        sizes
            .iter()
            .map(|&s| {
                let s = u128::from(s);
                // Midpoint, doubled to stay in integers: shard = N * (2*before + s) / (2*total).
                let shard = (n * (2 * before + s) / (2 * total)).min(n - 1);
                before += s;
                shard as u32
            })
            .collect()
    }

    /// This shard's files out of the run's whole input list (in input order), whole files
    /// only (see [`Shard::assign`]).
    pub fn select(&self, files: Vec<InputFile>) -> Vec<InputFile> {
        // A file whose size cannot be read counts as empty: the run reports it when it opens it.
        let sizes: Vec<u64> = files.iter().map(|f| f.len()).collect();
        let owner = Shard::assign(self.count, &sizes);
        files
            .into_iter()
            .zip(owner)
            .filter(|(_, s)| *s == self.index)
            .map(|(f, _)| f)
            .collect()
    }

    /// This shard's part of the run's input list, balanced by bytes: the inputs are seen as
    /// one concatenation of their bytes, and shard `I` of `N` owns bytes
    /// `[I * T / N, (I + 1) * T / N)` of its `T`. A file that can be read in byte ranges
    /// ([`InputFile::splittable`]: local uncompressed JSONL, Parquet, WARC or per-record
    /// gzipped WARC) contributes the part of it in
    /// that span, as a [`InputFile::range`] (the records that start there; the whole file
    /// when the span covers it); any other file goes whole to the shard that owns its middle
    /// byte (as in [`Shard::assign`]). Every task computes the same cuts from the list and the
    /// sizes alone, every record is in exactly one shard, and the shards in order are the
    /// inputs in order.
    pub fn select_ranges(&self, files: Vec<InputFile>) -> Vec<InputFile> {
        let sizes: Vec<u64> = files.iter().map(|f| f.len()).collect();
        let total: u128 = sizes.iter().map(|&s| u128::from(s)).sum();
        if total == 0 {
            return self.select(files);
        }
        let n = u128::from(self.count);
        let i = u128::from(self.index);
        // This shard's span of the concatenation.
        let (lo, hi) = (i * total / n, (i + 1) * total / n);
        let whole_owner = Shard::assign(self.count, &sizes);
        let mut before = 0u128;
        let mut out = Vec::new();
        for ((f, size), owner) in files.into_iter().zip(sizes).zip(whole_owner) {
            let (start, end) = (before, before + u128::from(size));
            before = end;
            if size == 0 || !f.splittable() {
                if owner == self.index {
                    out.push(f);
                }
                continue;
            }
            let (a, b) = (start.max(lo), end.min(hi));
            if a >= b {
                continue;
            }
            // Both within 0..=size, so they fit in u64.
            let range = (a - start) as u64..(b - start) as u64;
            let range = (range != (0..size)).then_some(range);
            out.push(InputFile { range, ..f });
        }
        out
    }
}

impl FromStr for Shard {
    type Err = ShardError;

    /// `I/N`, e.g. `3/16`.
    fn from_str(s: &str) -> Result<Shard, ShardError> {
        let bad = || {
            ShardError(format!(
                "`{s}`: expected I/N, e.g. 0/4 (I zero-based, below N)"
            ))
        };
        let (i, n) = s.split_once('/').ok_or_else(bad)?;
        let i = i.trim().parse().map_err(|_| bad())?;
        let n = n.trim().parse().map_err(|_| bad())?;
        Shard::new(i, n)
    }
}

impl crate::Recipe {
    /// Gives `shard` to the steps that need it: every `minhash_dedup` step in a sharded stage
    /// (`stage` = "signatures" or "filter") gets `shard_index = shard.index`, so one recipe serves
    /// every shard. A `--set` in `sets` that gives such a step another `shard_index` is refused:
    /// node numbers would no longer follow the input order.
    pub fn bind_shard(&mut self, shard: Shard, sets: &[String]) -> Result<(), crate::RecipeError> {
        let err = |message: String| crate::RecipeError {
            origin: format!("--shard {shard}"),
            line: None,
            message,
        };
        for i in 0..self.steps.len() {
            let spec = &self.steps[i];
            let sharded = spec.type_name == "minhash_dedup"
                && matches!(
                    spec.params.get("stage").and_then(toml::Value::as_str),
                    Some("signatures" | "filter")
                );
            if !sharded {
                continue;
            }
            if let Some(v) = spec.params.get("shard_index") {
                let from_set = sets
                    .iter()
                    .filter_map(|a| crate::set::parse(a).ok())
                    .any(|a| {
                        a.key == ["shard_index"]
                            && match &a.target {
                                crate::set::Target::Type(t) => *t == spec.type_name,
                                crate::set::Target::Index(n) => *n == i + 1,
                            }
                    });
                if from_set && v.as_integer() != Some(i64::from(shard.index)) {
                    return Err(err(format!(
                        "--set gives step {} (`minhash_dedup`) shard_index = {v}, but this is \
                         shard {}: leave shard_index to --shard",
                        i + 1,
                        shard.index
                    )));
                }
            }
            self.apply_sets(&[format!("steps.{}.shard_index={}", i + 1, shard.index)])
                .map_err(|e| err(e.message))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    #[test]
    fn parses_i_of_n() {
        assert_eq!("3/4".parse::<Shard>(), Ok(Shard { index: 3, count: 4 }));
        assert_eq!("0/1".parse::<Shard>(), Ok(Shard { index: 0, count: 1 }));
        for bad in ["4/4", "1/0", "3", "a/4", "-1/4", "1/4/5", ""] {
            assert!(bad.parse::<Shard>().is_err(), "{bad}");
        }
    }

    fn env(pairs: &[(&str, &str)]) -> Option<Result<Shard, ShardError>> {
        let m: HashMap<String, String> = pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Shard::from_vars(|k| m.get(k).cloned())
    }

    #[test]
    fn slurm_variables_with_and_without_min() {
        let s = |i, n| Some(Ok(Shard { index: i, count: n }));
        assert_eq!(env(&[]), None);
        assert_eq!(env(&[("SLURM_ARRAY_TASK_ID", "2")]), None);
        assert_eq!(
            env(&[
                ("SLURM_ARRAY_TASK_ID", "2"),
                ("SLURM_ARRAY_TASK_COUNT", "4")
            ]),
            s(2, 4)
        );
        // --array=1-4: ids 1..=4 are shards 0..4.
        let one_based = |id: &'static str| {
            env(&[
                ("SLURM_ARRAY_TASK_ID", id),
                ("SLURM_ARRAY_TASK_COUNT", "4"),
                ("SLURM_ARRAY_TASK_MIN", "1"),
            ])
        };
        assert_eq!(one_based("1"), s(0, 4));
        assert_eq!(one_based("4"), s(3, 4));
        assert!(one_based("5").unwrap().is_err());
        assert!(one_based("0").unwrap().is_err());
        assert!(env(&[
            ("SLURM_ARRAY_TASK_ID", "x"),
            ("SLURM_ARRAY_TASK_COUNT", "4")
        ])
        .unwrap()
        .is_err());
    }

    #[test]
    fn assignment_is_a_contiguous_partition() {
        let sizes: Vec<u64> = (0..37).map(|i| (i * 7919 % 1000) as u64 + 1).collect();
        for n in 1..=12u32 {
            let a = Shard::assign(n, &sizes);
            assert_eq!(a.len(), sizes.len());
            assert!(a.windows(2).all(|w| w[0] <= w[1]), "not contiguous: {a:?}");
            assert!(a.iter().all(|&s| s < n));
            assert_eq!(a[0], 0);
        }
        // Equal sizes split evenly.
        assert_eq!(Shard::assign(4, &[10; 8]), vec![0, 0, 1, 1, 2, 2, 3, 3]);
        // One huge file does not pull its neighbours into its shard.
        assert_eq!(Shard::assign(2, &[1, 1000, 1]), vec![0, 1, 1]);
        // Fewer files than shards: some shards are empty, none is out of range.
        assert_eq!(Shard::assign(4, &[5, 5]), vec![1, 3]);
        assert_eq!(Shard::assign(3, &[0, 0, 0]), vec![0, 1, 2]);
        assert_eq!(Shard::assign(3, &[]), Vec::<u32>::new());
    }

    /// Byte-range shards: every byte of a splittable file in exactly one shard, in order; other
    /// files whole in one shard; shard order is input order.
    #[test]
    fn ranges_partition_the_input_bytes_in_order() {
        let d = tempfile::tempdir().unwrap();
        let mk = |name: &str, data: &[u8]| {
            let p = d.path().join(name);
            std::fs::write(&p, data).unwrap();
            thresher_io::expand_inputs(&[p]).unwrap().remove(0)
        };
        let files = vec![
            mk("a.jsonl", &[b'a'; 100]),
            // Compressed content (whatever the name): whole.
            mk("b.jsonl", &[0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0]),
            mk("c.jsonl", &[b'c'; 1000]),
            mk("d.txt", &[b'd'; 300]),
            mk("e.jsonl", b""),
            mk("f.jsonl", &[b'f'; 7]),
            mk("g.warc", b"WARC/1.0\r\nContent-Length: 2\r\n\r\nab\r\n\r\n"),
            mk(
                "h.arc",
                b"filedesc://h.arc 0.0.0.0 20140101000000 text/plain 0\n",
            ),
        ];
        assert!(files[0].splittable() && !files[1].splittable() && !files[3].splittable());
        assert!(files[6].splittable() && !files[7].splittable());
        for n in 1..=9u32 {
            let all: Vec<(usize, InputFile)> = (0..n)
                .flat_map(|i| {
                    Shard::new(i, n)
                        .unwrap()
                        .select_ranges(files.clone())
                        .into_iter()
                        .map(move |f| (i as usize, f))
                })
                .collect();
            // In input order, each file's pieces adjacent and covering it exactly.
            let mut at = 0;
            for (k, f) in files.iter().enumerate() {
                let mut end = 0;
                while at < all.len() && all[at].1.path == f.path {
                    let r = all[at].1.range.clone().unwrap_or(0..f.len());
                    assert_eq!(r.start, end, "n {n}: {all:?}");
                    assert!(r.end > r.start || f.is_empty());
                    end = r.end;
                    at += 1;
                }
                assert_eq!(end, f.len(), "n {n}, file {k}: {all:?}");
            }
            assert_eq!(at, all.len());
            assert!(all.windows(2).all(|w| w[0].0 <= w[1].0), "n {n}: {all:?}");
            assert!(all
                .iter()
                .filter(|(_, f)| f.range.is_some())
                .all(|(_, f)| f.splittable()));
        }
        // Four shards over one file: four ranges of about equal size.
        let one = vec![files[2].clone()];
        let ranges: Vec<_> = (0..4)
            .map(|i| {
                Shard::new(i, 4).unwrap().select_ranges(one.clone())[0]
                    .range
                    .clone()
            })
            .collect();
        assert_eq!(
            ranges,
            vec![
                Some(0..250),
                Some(250..500),
                Some(500..750),
                Some(750..1000)
            ]
        );
    }
}
