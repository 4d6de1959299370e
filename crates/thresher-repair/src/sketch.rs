//! Corpus-wide line counts shared by the two-pass repair steps (`corpus_boilerplate`, and
//! `strip_chrome` with corpus statistics): a memory-bounded count-min sketch of line keys and the
//! grouping of documents by site or source.

use std::sync::atomic::{AtomicU32, Ordering};

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

    /// Bytes held by the counters.
    pub(crate) fn bytes(&self) -> usize {
        self.counters.len() * 4
    }

    /// The count-min bound on the expected over-count of any one key after `pairs` updates
    /// (`e × N / width`).
    pub(crate) fn overcount_bound(&self, pairs: u64) -> f64 {
        std::f64::consts::E * pairs as f64 / self.width as f64
    }
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
