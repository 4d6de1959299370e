//! Accounting: every input record ends up kept, rejected or as an error.

use std::collections::BTreeMap;
use std::ops::AddAssign;
use std::time::Duration;

use serde::Serialize;

/// Counts for one step.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct StepStats {
    /// Documents that reached the step.
    #[serde(rename = "in")]
    pub docs_in: u64,
    /// Documents the step kept.
    pub kept: u64,
    /// Documents the step rejected.
    pub rejected: u64,
    /// Documents the step turned into errors.
    pub errors: u64,
    /// Kept documents whose text the step changed.
    pub edited: u64,
    /// Rejections by reason code.
    pub reasons: BTreeMap<String, u64>,
    /// Thread time spent in the step, summed over the threads that ran it, in seconds (on 8
    /// threads, 1 s of the run can hold 8 s of it): the step's processor cost.
    pub seconds: f64,
    /// The step's share of the run's elapsed (wall-clock) time, in seconds: the time the
    /// pipeline spent on it, a run of parallel steps' time split by their thread times. It
    /// includes the step's other passes (a two-pass step's observing, and the reading of the
    /// spill file that its second pass causes). The steps' wall times add up to about the
    /// run's time less reading, parsing and writing (a later pass reads its spill file while
    /// the steps run, so that part overlaps).
    pub wall_seconds: f64,
}

impl AddAssign<&StepStats> for StepStats {
    fn add_assign(&mut self, o: &StepStats) {
        self.docs_in += o.docs_in;
        self.kept += o.kept;
        self.rejected += o.rejected;
        self.errors += o.errors;
        self.edited += o.edited;
        for (k, v) in &o.reasons {
            *self.reasons.entry(k.clone()).or_default() += v;
        }
        self.seconds += o.seconds;
        self.wall_seconds += o.wall_seconds;
    }
}

impl StepStats {
    /// Adds a duration to the step's (thread) time.
    pub fn add_time(&mut self, d: Duration) {
        self.seconds += d.as_secs_f64();
    }

    /// Adds a duration to the step's wall time and its thread time (work the pipeline waited
    /// for, done on one thread).
    pub fn add_wall_and_time(&mut self, d: Duration) {
        self.seconds += d.as_secs_f64();
        self.wall_seconds += d.as_secs_f64();
    }
}

/// Counts for one input file.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct FileStats {
    /// Records read from the file (including unreadable ones).
    #[serde(rename = "in")]
    pub docs_in: u64,
    /// Records kept by the whole pipeline.
    pub kept: u64,
    /// Records rejected by some step.
    pub rejected: u64,
    /// Records that could not be read or processed.
    pub errors: u64,
    /// Bytes read from the file (decompressed).
    pub bytes: u64,
    /// Records that are not documents by nature (WARC request records...), by kind; not in `in`.
    #[serde(skip_serializing_if = "BTreeMap::is_empty")]
    pub skipped: BTreeMap<String, u64>,
    /// For a file read in byte ranges (a shard's part of it): the ranges `[start, end)` read;
    /// empty for a whole file.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub ranges: Vec<[u64; 2]>,
    /// The file's size, with `ranges`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub size: Option<u64>,
}

impl AddAssign<&FileStats> for FileStats {
    fn add_assign(&mut self, o: &FileStats) {
        self.docs_in += o.docs_in;
        self.kept += o.kept;
        self.rejected += o.rejected;
        self.errors += o.errors;
        self.bytes += o.bytes;
        for (k, v) in &o.skipped {
            *self.skipped.entry(k.clone()).or_default() += v;
        }
    }
}

/// One step's counts with its position and name, as listed in `stats.json`.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct NamedStepStats {
    /// The step's type name in the recipe.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The step's versioned name.
    pub name: String,
    /// The counts.
    #[serde(flatten)]
    pub stats: StepStats,
    /// Extra figures the step reported (see `Step::report`).
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub report: serde_json::Map<String, serde_json::Value>,
}

/// The run's accounting: overall, per input file and per step.
///
/// The invariant `docs_in == kept + rejected + errors` holds overall and for every file.
#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct Stats {
    /// Records read.
    #[serde(rename = "in")]
    pub docs_in: u64,
    /// Records kept.
    pub kept: u64,
    /// Records rejected.
    pub rejected: u64,
    /// Records that could not be read or processed.
    pub errors: u64,
    /// Bytes read (decompressed).
    pub bytes_in: u64,
    /// Records that are not documents by nature (WARC request records...), by kind; not in `in`.
    pub skipped: BTreeMap<String, u64>,
    /// Wall-clock time of the run, in seconds.
    pub seconds: f64,
    /// Per input file.
    pub files: BTreeMap<String, FileStats>,
    /// Per step, in pipeline order.
    pub steps: Vec<NamedStepStats>,
}

/// What became of a record at the end of the pipeline, for [`Stats::tally`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tally {
    /// Kept by every step.
    Kept,
    /// Rejected by some step.
    Rejected,
    /// Unreadable, or turned into an error by some step.
    Error,
}

impl Stats {
    /// Counts a record read from `file`, overall and for the file (if it is listed).
    pub fn count_read(&mut self, file: &str) {
        self.docs_in += 1;
        if let Some(f) = self.files.get_mut(file) {
            f.docs_in += 1;
        }
    }

    /// Counts `bytes` read from `file`, overall and for the file (if it is listed).
    pub fn count_bytes(&mut self, file: &str, bytes: u64) {
        self.bytes_in += bytes;
        if let Some(f) = self.files.get_mut(file) {
            f.bytes += bytes;
        }
    }

    /// Counts a record of `file` that is not a document by nature (not in `in`), by `kind`.
    pub fn count_skipped(&mut self, file: &str, kind: &str) {
        *self.skipped.entry(kind.to_string()).or_default() += 1;
        if let Some(f) = self.files.get_mut(file) {
            *f.skipped.entry(kind.to_string()).or_default() += 1;
        }
    }

    /// Counts a record's outcome, overall and for its input `file` (if it is listed). Each
    /// record read is tallied once, so that `in == kept + rejected + errors`.
    pub fn tally(&mut self, file: &str, outcome: Tally) {
        let f = self.files.get_mut(file);
        let (total, of_file) = match outcome {
            Tally::Kept => (&mut self.kept, f.map(|f| &mut f.kept)),
            Tally::Rejected => (&mut self.rejected, f.map(|f| &mut f.rejected)),
            Tally::Error => (&mut self.errors, f.map(|f| &mut f.errors)),
        };
        *total += 1;
        if let Some(n) = of_file {
            *n += 1;
        }
    }

    /// Whether every record is accounted for, overall and per file.
    pub fn balanced(&self) -> bool {
        self.docs_in == self.kept + self.rejected + self.errors
            && self
                .files
                .values()
                .all(|f| f.docs_in == f.kept + f.rejected + f.errors)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn step_stats_add() {
        let mut a = StepStats {
            docs_in: 2,
            kept: 1,
            rejected: 1,
            ..Default::default()
        };
        a.reasons.insert("x".into(), 1);
        let b = a.clone();
        a += &b;
        assert_eq!(a.docs_in, 4);
        assert_eq!(a.reasons["x"], 2);
    }

    #[test]
    fn tally_balances() {
        let mut s = Stats::default();
        s.files.insert("a".into(), FileStats::default());
        for t in [Tally::Kept, Tally::Rejected, Tally::Error] {
            s.count_read("a");
            s.tally("a", t);
        }
        // A file not listed is counted overall only.
        s.count_read("b");
        s.tally("b", Tally::Kept);
        s.count_skipped("a", "request");
        assert!(s.balanced());
        assert_eq!((s.docs_in, s.kept, s.rejected, s.errors), (4, 2, 1, 1));
        let a = &s.files["a"];
        assert_eq!((a.docs_in, a.kept, a.rejected, a.errors), (3, 1, 1, 1));
        assert_eq!(a.skipped["request"], 1);
    }
}
