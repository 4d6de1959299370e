//! `thresher stats`: the distribution of the values that annotating filters wrote into the
//! documents' metadata (`mode = "annotate"`), and what a threshold would drop.
//!
//! Every number (and boolean, as 0 or 1) of `metadata` is a value: `metadata.language_score`
//! is `language_score`, and the values of an annotating step, one object deep, are
//! `gopher_quality.mean_word_length`. Strings and deeper objects are left out. Quantiles are
//! exact (every value is kept in memory: 8 bytes a value).

use std::collections::BTreeMap;
use std::path::PathBuf;
use std::sync::Arc;

use serde::Serialize;
use serde_json::{Map, Value};
use thresher_io::{expand_inputs, BatchReader, ReadOptions, Record};

/// The quantiles reported, in [0, 1].
pub const QUANTILES: [f64; 11] = [0.0, 0.01, 0.05, 0.1, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0];

/// A comparison: `KEY<V`, `KEY<=V`, `KEY>V`, `KEY>=V`, `KEY==V` or `KEY!=V`, true for the
/// documents it would drop (a document without the value is never dropped, as a filter lets
/// through a rule it could not measure).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Threshold {
    /// The text given, e.g. `gopher_quality.mean_word_length<3`.
    pub expr: String,
    /// The value's key.
    pub key: String,
    /// The operator.
    pub op: String,
    /// The number compared with.
    pub value: f64,
}

impl std::str::FromStr for Threshold {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, String> {
        // Two-character operators first, so that `<=` is not read as `<`.
        for op in ["<=", ">=", "==", "!=", "<", ">"] {
            if let Some((key, v)) = s.split_once(op) {
                let key = key.trim();
                let value: f64 = v.trim().parse().map_err(|_| {
                    format!("{s:?}: {:?} is not a number (KEY<VALUE, e.g. gopher_quality.mean_word_length<3)", v.trim())
                })?;
                if key.is_empty() {
                    return Err(format!("{s:?}: no key before {op}"));
                }
                return Ok(Threshold {
                    expr: s.to_string(),
                    key: key.to_string(),
                    op: op.to_string(),
                    value,
                });
            }
        }
        Err(format!(
            "{s:?}: expected KEY<VALUE, KEY<=VALUE, KEY>VALUE, KEY>=VALUE, KEY==VALUE or KEY!=VALUE"
        ))
    }
}

impl Threshold {
    /// Whether `v` is dropped by this threshold.
    pub fn drops(&self, v: f64) -> bool {
        match self.op.as_str() {
            "<" => v < self.value,
            "<=" => v <= self.value,
            ">" => v > self.value,
            ">=" => v >= self.value,
            "==" => v == self.value,
            _ => v != self.value,
        }
    }
}

/// One value's distribution.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Distribution {
    /// Documents that have the value.
    pub count: usize,
    /// Their mean.
    pub mean: f64,
    /// `(q, value)` for each of [`QUANTILES`] (q = 0 is the minimum, 1 the maximum); the
    /// nearest-rank value, an actual value of the data.
    pub quantiles: Vec<(f64, f64)>,
    /// `bins` equal-width bins between the 1st and the 99th percentile (between the minimum
    /// and the maximum when those are equal), so that a few outliers do not squeeze the bulk
    /// into one bin: `(lower edge, count)`; the last bin includes its upper edge.
    pub histogram: Vec<(f64, usize)>,
    /// Values below the histogram's range.
    pub below: usize,
    /// Values above the histogram's range.
    pub above: usize,
}

/// What a threshold drops.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Dropped {
    /// The threshold.
    pub threshold: Threshold,
    /// Documents it drops.
    pub dropped: usize,
    /// As a fraction of all documents read.
    pub fraction: f64,
}

/// The report of `thresher stats`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    /// Documents read.
    pub documents: usize,
    /// Records that could not be read.
    pub errors: usize,
    /// Each value's distribution, by key (sorted).
    pub values: BTreeMap<String, Distribution>,
    /// What each threshold drops, in the order given; then, when there are several, what
    /// they drop together (a document dropped by any).
    pub thresholds: Vec<Dropped>,
    /// Documents dropped by at least one threshold.
    pub dropped_by_any: usize,
}

/// The numbers of `metadata`, flattened one object deep (see the module documentation).
pub fn numbers(metadata: &Map<String, Value>, mut each: impl FnMut(String, f64)) {
    fn number(v: &Value) -> Option<f64> {
        match v {
            Value::Number(n) => n.as_f64(),
            Value::Bool(b) => Some(f64::from(u8::from(*b))),
            _ => None,
        }
    }
    for (k, v) in metadata {
        match v {
            Value::Object(inner) => {
                for (k2, v2) in inner {
                    if let Some(x) = number(v2) {
                        each(format!("{k}.{k2}"), x);
                    }
                }
            }
            other => {
                if let Some(x) = number(other) {
                    each(k.clone(), x);
                }
            }
        }
    }
}

/// Reads the documents of `inputs` (files, folders, globs; a run's output folder means its
/// `kept/`), keeping the values whose key starts with one of `prefixes` (all when empty), and
/// reports their distributions (`bins` histogram bins) and what `thresholds` drop.
pub fn report(
    inputs: &[PathBuf],
    prefixes: &[String],
    thresholds: &[Threshold],
    bins: usize,
) -> Result<Report, String> {
    let files = expand_inputs(inputs).map_err(|e| e.to_string())?;
    let opts = ReadOptions::default();
    let mut reader = BatchReader::new(files, opts.clone());
    let mut values: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    let mut dropped = vec![0usize; thresholds.len()];
    let (mut documents, mut errors, mut dropped_by_any) = (0usize, 0usize, 0usize);
    while let Some(batch) = reader.next_batch() {
        let buf = Arc::new(batch.buf);
        for item in batch.items {
            let doc = match item.into_record(&buf, &opts) {
                Record::Doc(d) => d,
                Record::Error(_) => {
                    errors += 1;
                    continue;
                }
                _ => continue,
            };
            documents += 1;
            let mut any = false;
            numbers(&doc.metadata, |key, x| {
                for (t, n) in thresholds.iter().zip(&mut dropped) {
                    if t.key == key && t.drops(x) {
                        *n += 1;
                        any = true;
                    }
                }
                if prefixes.is_empty() || prefixes.iter().any(|p| key.starts_with(p.as_str())) {
                    values.entry(key).or_default().push(x);
                }
            });
            dropped_by_any += usize::from(any);
        }
    }
    let values = values
        .into_iter()
        .map(|(k, v)| (k, distribution(v, bins)))
        .collect();
    let frac = |n: usize| {
        if documents == 0 {
            0.0
        } else {
            n as f64 / documents as f64
        }
    };
    Ok(Report {
        documents,
        errors,
        values,
        thresholds: thresholds
            .iter()
            .zip(dropped)
            .map(|(t, n)| Dropped {
                threshold: t.clone(),
                dropped: n,
                fraction: frac(n),
            })
            .collect(),
        dropped_by_any,
    })
}

/// The distribution of `v` (not empty: a key exists once a value was seen).
pub fn distribution(mut v: Vec<f64>, bins: usize) -> Distribution {
    // NaN never comes from JSON; total_cmp orders it all the same.
    v.sort_unstable_by(f64::total_cmp);
    let n = v.len();
    let mean = v.iter().sum::<f64>() / n.max(1) as f64;
    let quantiles = QUANTILES
        .iter()
        .map(|&q| {
            // Nearest rank: the smallest value with at least q of the values at or below it.
            let rank = ((q * n as f64).ceil() as usize).clamp(1, n.max(1));
            (q, v.get(rank - 1).copied().unwrap_or(f64::NAN))
        })
        .collect();
    let q = |q: f64| v[((q * n as f64).ceil() as usize).clamp(1, n.max(1)) - 1];
    let (lo, hi) = match n {
        0 => (0.0, 0.0),
        _ if q(0.01) < q(0.99) => (q(0.01), q(0.99)),
        _ => (v[0], v[n - 1]),
    };
    let bins = bins.max(1);
    let width = (hi - lo) / bins as f64;
    let mut counts = vec![0usize; bins];
    let (mut below, mut above) = (0, 0);
    for &x in &v {
        if x < lo {
            below += 1;
            continue;
        }
        if x > hi {
            above += 1;
            continue;
        }
        let i = if width > 0.0 {
            (((x - lo) / width) as usize).min(bins - 1)
        } else {
            0
        };
        counts[i] += 1;
    }
    let histogram = if width > 0.0 {
        counts
            .into_iter()
            .enumerate()
            .map(|(i, c)| (lo + i as f64 * width, c))
            .collect()
    } else {
        vec![(lo, n - below - above)]
    };
    Distribution {
        count: n,
        mean,
        quantiles,
        histogram,
        below,
        above,
    }
}

/// A number in at most 6 significant digits, without float noise.
fn num(x: f64) -> String {
    if x == x.trunc() && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        let s = format!("{x:.6}");
        let s = s.trim_end_matches('0').trim_end_matches('.');
        s.to_string()
    }
}

impl Report {
    /// The report for a terminal: per value, its quantiles and a histogram of bars; then the
    /// thresholds.
    pub fn to_text(&self) -> String {
        use std::fmt::Write;
        let mut out = String::new();
        let _ = writeln!(
            out,
            "{} documents ({} unreadable records); {} values",
            self.documents,
            self.errors,
            self.values.len()
        );
        for (key, d) in &self.values {
            let _ = writeln!(
                out,
                "\n{key}: {} documents ({:.1}%), mean {}",
                d.count,
                100.0 * d.count as f64 / self.documents.max(1) as f64,
                num(d.mean)
            );
            let q: Vec<String> = d
                .quantiles
                .iter()
                .map(|(q, v)| {
                    let name = match *q {
                        0.0 => "min".to_string(),
                        1.0 => "max".to_string(),
                        q => format!("p{}", num(q * 100.0)),
                    };
                    format!("{name} {}", num(*v))
                })
                .collect();
            let _ = writeln!(out, "  {}", q.join("  "));
            let most = d.histogram.iter().map(|b| b.1).max().unwrap_or(1).max(1);
            let bar = |c: usize| "#".repeat((c * 40).div_ceil(most).min(40));
            if d.below > 0 {
                let _ = writeln!(out, "  {:>12} | {:<40} {}", "below", bar(d.below), d.below);
            }
            for (edge, c) in &d.histogram {
                let _ = writeln!(out, "  {:>12} | {:<40} {c}", num(*edge), bar(*c));
            }
            if d.above > 0 {
                let _ = writeln!(out, "  {:>12} | {:<40} {}", "above", bar(d.above), d.above);
            }
        }
        if !self.thresholds.is_empty() {
            let _ = writeln!(out);
            for t in &self.thresholds {
                let _ = writeln!(
                    out,
                    "{}: drops {} of {} documents ({:.2}%)",
                    t.threshold.expr,
                    t.dropped,
                    self.documents,
                    100.0 * t.fraction
                );
            }
            if self.thresholds.len() > 1 {
                let _ = writeln!(
                    out,
                    "all together: drop {} ({:.2}%)",
                    self.dropped_by_any,
                    100.0 * self.dropped_by_any as f64 / self.documents.max(1) as f64
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn thresholds_parse_and_compare() {
        let t: Threshold = "gopher_quality.mean_word_length<=3.5".parse().unwrap();
        assert_eq!(
            (t.key.as_str(), t.op.as_str(), t.value),
            ("gopher_quality.mean_word_length", "<=", 3.5)
        );
        assert!(t.drops(3.5) && !t.drops(3.6));
        let t: Threshold = "x > 2".parse().unwrap();
        assert!(t.drops(2.1) && !t.drops(2.0));
        assert!("x ~ 2".parse::<Threshold>().is_err());
        assert!("x < abc".parse::<Threshold>().is_err());
        assert!("<3".parse::<Threshold>().is_err());
    }

    #[test]
    fn quantiles_are_nearest_rank() {
        let d = distribution((1..=100).rev().map(f64::from).collect(), 10);
        let get = |q: f64| d.quantiles.iter().find(|p| p.0 == q).unwrap().1;
        assert_eq!(
            (get(0.0), get(0.5), get(0.9), get(0.99), get(1.0)),
            (1.0, 50.0, 90.0, 99.0, 100.0)
        );
        assert_eq!(d.mean, 50.5);
        // Bins over [p1, p99] = [1, 99]; 100 is above.
        assert_eq!(d.histogram.len(), 10);
        assert_eq!((d.below, d.above), (0, 1));
        assert_eq!(d.histogram.iter().map(|b| b.1).sum::<usize>(), 99);
        assert_eq!(d.histogram[0], (1.0, 10));
        assert_eq!(d.histogram[9].1, 10);
        // One distinct value: one bin.
        let d = distribution(vec![2.0; 5], 10);
        assert_eq!(d.histogram, vec![(2.0, 5)]);
    }

    #[test]
    fn metadata_numbers_are_flattened_one_level() {
        let m: Map<String, Value> = serde_json::from_str(
            r#"{"language":"en","language_score":0.9,
                "gopher_quality":{"mean_word_length":4.5,"stop_words":3,"deep":{"x":1}},
                "c4_badwords":{"badword":null,"kept_anyway":true}}"#,
        )
        .unwrap();
        let mut got = Vec::new();
        numbers(&m, |k, x| got.push((k, x)));
        got.sort_by(|a, b| a.0.cmp(&b.0));
        assert_eq!(
            got,
            vec![
                ("c4_badwords.kept_anyway".to_string(), 1.0),
                ("gopher_quality.mean_word_length".to_string(), 4.5),
                ("gopher_quality.stop_words".to_string(), 3.0),
                ("language_score".to_string(), 0.9),
            ]
        );
    }
}
