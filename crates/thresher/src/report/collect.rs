//! What the run report needs from the documents, gathered while they go by: bounded samples
//! (the same documents whatever the thread count: a document is in a sample when the hash of
//! its sequence number is among the k smallest) and small counters. The executor shows it each
//! batch's documents once they are done (kept, rejected or an error); its size does not depend
//! on the run's.

use std::collections::{BTreeMap, BinaryHeap};

use serde::{Deserialize, Serialize};
use serde_json::Value;
use thresher_core::Document;

/// Documents in the length/measure sample.
const DOC_SAMPLE: usize = 2000;
/// Measured values kept per rejection reason.
const VALUE_SAMPLE: usize = 1000;
/// Sample documents kept per rejection reason.
const DOC_EXAMPLES: usize = 5;
/// Characters of a sample document's text kept.
const EXAMPLE_CHARS: usize = 3000;
/// Distinct languages counted (more are counted as `other`).
const MAX_LANGUAGES: usize = 200;
/// Distinct rejection reasons tracked in detail (more are counted in stats.json only).
const MAX_REASONS: usize = 200;
/// Numeric measures kept per sampled document.
const MAX_MEASURES: usize = 48;
/// Error records kept per input file, and files with kept errors.
const ERRORS_PER_FILE: usize = 5;
const MAX_ERROR_FILES: usize = 100;

/// How a document ended, as the report shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum End {
    /// Kept by every step.
    Kept,
    /// Rejected by a step.
    Rejected,
    /// An error (unreadable, or a step could not process it).
    Error,
}

/// One sampled document: its length, fate and numeric measures.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DocPoint {
    /// Text length in bytes (UTF-8) when the document ended.
    pub len: u64,
    /// How it ended.
    pub end: End,
    /// The reason code, for a rejected document.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Numeric metadata (`language_score`, annotate-mode `step.rule` values...) and numeric
    /// annotations (as `step.key`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub measures: BTreeMap<String, f64>,
}

/// A rejected document to read in the report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DocExample {
    /// The document's id.
    pub id: String,
    /// Input file and line.
    pub file: String,
    /// 1-based line (or record) number in the file.
    pub line: u64,
    /// The value that decided.
    pub value: Value,
    /// The text's length in bytes.
    pub len: u64,
    /// The text's beginning (at most a few thousand characters).
    pub text: String,
}

/// What the report keeps about one rejection reason.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ReasonData {
    /// The step that rejects with this reason.
    pub step: String,
    /// A sample of the numeric values that decided.
    pub values: Vec<f64>,
    /// A few rejected documents.
    pub examples: Vec<DocExample>,
}

/// One error record kept for the report.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct ErrorExample {
    /// The record's id (may be empty).
    pub id: String,
    /// 1-based line (or record) number.
    pub line: u64,
    /// The step that failed, or `reader`.
    pub step: String,
    /// What went wrong (shortened).
    pub message: String,
}

/// Everything the run report shows beyond `stats.json`, bounded in size whatever the run's;
/// written beside it as `report-data.json` so `thresher report` can draw it again.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct ReportData {
    /// Documents sampled for lengths and measures.
    pub docs: Vec<DocPoint>,
    /// Documents per `metadata.language` value, as `[kept, rejected, errors]`.
    pub languages: BTreeMap<String, [u64; 3]>,
    /// Per rejection reason.
    pub reasons: BTreeMap<String, ReasonData>,
    /// Near-duplicate clusters by size (from `minhash_dedup`'s `cluster_size` annotation on
    /// each cluster's kept document).
    pub cluster_sizes: BTreeMap<u64, u64>,
    /// A few error records per input file.
    pub errors: BTreeMap<String, Vec<ErrorExample>>,
}

/// An item of a bottom-k sample, ordered by its hash.
struct Ranked<T> {
    hash: u64,
    item: T,
}

impl<T> PartialEq for Ranked<T> {
    fn eq(&self, o: &Self) -> bool {
        self.hash == o.hash
    }
}
impl<T> Eq for Ranked<T> {}
impl<T> PartialOrd for Ranked<T> {
    fn partial_cmp(&self, o: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(o))
    }
}
impl<T> Ord for Ranked<T> {
    fn cmp(&self, o: &Self) -> std::cmp::Ordering {
        self.hash.cmp(&o.hash)
    }
}

/// The k items of smallest hash seen: a uniform sample that does not depend on the order the
/// items come in.
struct BottomK<T> {
    k: usize,
    heap: BinaryHeap<Ranked<T>>,
}

impl<T> BottomK<T> {
    fn new(k: usize) -> Self {
        BottomK {
            k,
            heap: BinaryHeap::new(),
        }
    }

    /// Whether an item of this hash would enter the sample (checked before making it).
    fn admits(&self, hash: u64) -> bool {
        self.heap.len() < self.k || self.heap.peek().is_some_and(|top| hash < top.hash)
    }

    fn push(&mut self, hash: u64, item: T) {
        if !self.admits(hash) {
            return;
        }
        if self.heap.len() == self.k {
            self.heap.pop();
        }
        self.heap.push(Ranked { hash, item });
    }

    /// The sample, by hash.
    fn into_sorted(self) -> Vec<T> {
        self.heap
            .into_sorted_vec()
            .into_iter()
            .map(|r| r.item)
            .collect()
    }
}

/// Gathers [`ReportData`] from the documents as they end.
pub struct Collector {
    docs: BottomK<DocPoint>,
    languages: BTreeMap<String, [u64; 3]>,
    reasons: BTreeMap<String, (String, BottomK<f64>, BottomK<DocExample>)>,
    cluster_sizes: BTreeMap<u64, u64>,
    errors: BTreeMap<String, Vec<ErrorExample>>,
}

impl Default for Collector {
    fn default() -> Self {
        Collector {
            docs: BottomK::new(DOC_SAMPLE),
            languages: BTreeMap::new(),
            reasons: BTreeMap::new(),
            cluster_sizes: BTreeMap::new(),
            errors: BTreeMap::new(),
        }
    }
}

/// The sampling hash of a document: of its sequence number, salted per use so the samples
/// are independent.
fn rank(seq: u64, salt: u64) -> u64 {
    xxhash_rust::xxh3::xxh3_64_with_seed(&seq.to_le_bytes(), salt)
}

/// A number rounded to 5 significant digits (the report draws histograms; shorter JSON).
fn round5(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let digits = 4 - x.abs().log10().floor() as i32;
    let p = 10f64.powi(digits.clamp(-300, 300));
    (x * p).round() / p
}

/// The first `n` characters of `s`.
fn prefix(s: &str, n: usize) -> String {
    match s.char_indices().nth(n) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

impl Collector {
    /// A document that ended kept.
    pub fn kept(&mut self, doc: &Document) {
        self.ended(doc, End::Kept, None);
    }

    /// A document rejected by `step` with `code` and `value`.
    pub fn rejected(&mut self, doc: &Document, step: &str, code: &str, value: &Value) {
        self.ended(doc, End::Rejected, Some(code));
        if !self.reasons.contains_key(code) && self.reasons.len() >= MAX_REASONS {
            return;
        }
        let entry = match self.reasons.get_mut(code) {
            Some(e) => e,
            None => self.reasons.entry(code.to_string()).or_insert_with(|| {
                (
                    step.to_string(),
                    BottomK::new(VALUE_SAMPLE),
                    BottomK::new(DOC_EXAMPLES),
                )
            }),
        };
        if let Some(v) = value.as_f64() {
            let h = rank(doc.seq, 1);
            if entry.1.admits(h) {
                entry.1.push(h, round5(v));
            }
        }
        let h = rank(doc.seq, 2);
        if entry.2.admits(h) {
            let text = doc.text();
            entry.2.push(
                h,
                DocExample {
                    id: doc.id.clone(),
                    file: doc.source.file.to_string(),
                    line: doc.source.line,
                    value: value.clone(),
                    len: text.len() as u64,
                    text: prefix(text, EXAMPLE_CHARS),
                },
            );
        }
    }

    /// An error record of `file` (a document a step could not process, or an unreadable record).
    pub fn error(
        &mut self,
        doc: Option<&Document>,
        file: &str,
        id: &str,
        line: u64,
        step: &str,
        message: &str,
    ) {
        if let Some(d) = doc {
            self.ended(d, End::Error, None);
        }
        let full = self.errors.len() >= MAX_ERROR_FILES && !self.errors.contains_key(file);
        if full {
            return;
        }
        let list = self.errors.entry(file.to_string()).or_default();
        if list.len() < ERRORS_PER_FILE {
            list.push(ErrorExample {
                id: id.to_string(),
                line,
                step: step.to_string(),
                message: prefix(message, 300),
            });
        }
    }

    /// What every ended document adds: its language, its cluster, maybe a place in the sample.
    fn ended(&mut self, doc: &Document, end: End, reason: Option<&str>) {
        let col = match end {
            End::Kept => 0,
            End::Rejected => 1,
            End::Error => 2,
        };
        if let Some(lang) = doc.metadata.get("language").and_then(Value::as_str) {
            let key = if self.languages.len() < MAX_LANGUAGES || self.languages.contains_key(lang) {
                lang
            } else {
                "other"
            };
            match self.languages.get_mut(key) {
                Some(c) => c[col] += 1,
                None => {
                    let mut c = [0; 3];
                    c[col] = 1;
                    self.languages.insert(key.to_string(), c);
                }
            }
        }
        if let Some(Value::Object(mh)) = doc.annotations.get("minhash_dedup") {
            let own = mh.get("cluster_id").and_then(Value::as_str) == Some(doc.id.as_str());
            if let (true, Some(size)) = (own, mh.get("cluster_size").and_then(Value::as_u64)) {
                *self.cluster_sizes.entry(size).or_default() += 1;
            }
        }
        let h = rank(doc.seq, 0);
        if self.docs.admits(h) {
            let point = DocPoint {
                len: doc.text().len() as u64,
                end,
                reason: reason.map(str::to_string),
                measures: measures(doc),
            };
            self.docs.push(h, point);
        }
    }

    /// The data gathered.
    pub fn finish(self) -> ReportData {
        ReportData {
            docs: self.docs.into_sorted(),
            languages: self.languages,
            reasons: self
                .reasons
                .into_iter()
                .map(|(code, (step, values, examples))| {
                    let data = ReasonData {
                        step,
                        values: values.into_sorted(),
                        examples: examples.into_sorted(),
                    };
                    (code, data)
                })
                .collect(),
            cluster_sizes: self.cluster_sizes,
            errors: self.errors,
        }
    }
}

/// A document's numeric measures: top-level numeric metadata (annotate mode writes
/// `step.rule` keys there), and numeric annotations as `step.key`.
fn measures(doc: &Document) -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for (k, v) in &doc.metadata {
        if let Some(x) = v.as_f64().filter(|x| x.is_finite()) {
            if out.len() < MAX_MEASURES {
                out.insert(k.clone(), round5(x));
            }
        }
    }
    for (step, notes) in &doc.annotations {
        let Value::Object(notes) = notes else {
            continue;
        };
        for (k, v) in notes {
            if let Some(x) = v.as_f64().filter(|x| x.is_finite()) {
                if out.len() < MAX_MEASURES {
                    out.insert(format!("{step}.{k}"), round5(x));
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc(seq: u64, text: &str) -> Document {
        let mut d = Document::new(format!("d{seq}"), text);
        d.seq = seq;
        d
    }

    #[test]
    fn samples_are_bounded_and_order_free() {
        let mut a = Collector::default();
        let mut b = Collector::default();
        let n = 3 * DOC_SAMPLE as u64;
        for seq in 0..n {
            a.kept(&doc(seq, "some text"));
        }
        for seq in (0..n).rev() {
            b.kept(&doc(seq, "some text"));
        }
        let (a, b) = (a.finish(), b.finish());
        assert_eq!(a.docs.len(), DOC_SAMPLE);
        assert_eq!(a, b, "the sample does not depend on the order");
    }

    #[test]
    fn reasons_keep_values_examples_and_measures() {
        let mut c = Collector::default();
        for seq in 0..5000u64 {
            let mut d = doc(seq, &"x".repeat(10_000));
            d.metadata.insert("language".into(), "en".into());
            d.metadata
                .insert("f.rule".into(), Value::from(seq as f64 / 7.0));
            d.annotate("minhash_dedup", "cluster_id", d.id.clone());
            d.annotate("minhash_dedup", "cluster_size", 3u64);
            c.rejected(&d, "f", "f:rule", &Value::from(seq as f64 / 7.0));
        }
        c.error(None, "a.jsonl", "", 7, "reader", "bad json");
        let data = c.finish();
        let r = &data.reasons["f:rule"];
        assert_eq!(r.step, "f");
        assert_eq!(r.values.len(), VALUE_SAMPLE);
        assert_eq!(r.examples.len(), DOC_EXAMPLES);
        assert!(r.examples.iter().all(|e| e.len == 10_000));
        assert!(r.examples[0].text.chars().count() <= EXAMPLE_CHARS + 1);
        assert_eq!(data.languages["en"], [0, 5000, 0]);
        assert_eq!(data.cluster_sizes[&3], 5000);
        assert!(data.docs.iter().all(|p| p.measures.contains_key("f.rule")
            && p.measures.contains_key("minhash_dedup.cluster_size")));
        assert_eq!(data.errors["a.jsonl"][0].line, 7);
    }

    #[test]
    fn round5_keeps_five_digits() {
        assert_eq!(round5(0.123456789), 0.12346);
        assert_eq!(round5(123456.7), 123460.0);
        assert_eq!(round5(0.0), 0.0);
    }
}
