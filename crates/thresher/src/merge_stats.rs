//! Merging the `stats.json` of a run's shards into one (`thresher merge-stats`).
//!
//! Counts are summed overall, per step (with their rejection reasons) and per file; a file
//! must come from one shard only unless the shards read it in byte ranges (see
//! [`crate::shard`]): then each has its `ranges` and the file's `size`, the ranges must not
//! overlap, and they are joined (dropped once they cover the whole file). The shards must have
//! run the same steps. The merged stats are checked as a run's are: overall
//! and for every file, `in = kept + rejected + errors`, and the files add up to the total.
//! `seconds` becomes the sum over shards (processor time of the job, not its wall time); the
//! steps' `report`s, which hold figures that do not add up (budgets, work directories), are
//! kept as they are when all shards agree, else listed per shard under `shard_reports`.

use serde_json::{Map, Value};

/// Why shards' stats cannot be merged.
#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct MergeError(pub String);

/// Top-level and per-file counters that add up.
const COUNTS: [&str; 5] = ["in", "kept", "rejected", "errors", "bytes_in"];
const STEP_COUNTS: [&str; 5] = ["in", "kept", "rejected", "errors", "edited"];

/// Merges the stats of the shards (`(name, stats.json value)`, the name for messages).
pub fn merge(shards: &[(String, Value)]) -> Result<Value, MergeError> {
    let Some((first_name, first)) = shards.first() else {
        return Err(MergeError("no stats to merge".into()));
    };
    let mut out = Map::new();
    for k in COUNTS {
        out.insert(k.into(), Value::from(0u64));
    }
    out.insert("skipped".into(), Value::Object(Map::new()));
    out.insert("seconds".into(), Value::from(0.0));
    out.insert("files".into(), Value::Object(Map::new()));
    out.insert("shards".into(), Value::from(shards.len()));
    let steps_of = |name: &str, v: &Value| -> Result<Vec<Value>, MergeError> {
        v.get("steps")
            .and_then(Value::as_array)
            .cloned()
            .ok_or_else(|| {
                MergeError(format!(
                    "{name}: no `steps` list (not a thresher stats.json?)"
                ))
            })
    };
    let mut steps = steps_of(first_name, first)?;
    for s in &mut steps {
        let o = s
            .as_object_mut()
            .ok_or_else(|| MergeError(format!("{first_name}: bad step")))?;
        for k in STEP_COUNTS {
            o.insert(k.into(), Value::from(0u64));
        }
        o.insert("reasons".into(), Value::Object(Map::new()));
        o.insert("seconds".into(), Value::from(0.0));
        o.remove("report");
    }
    let mut reports: Vec<Vec<Value>> = vec![Vec::new(); steps.len()];

    for (name, v) in shards {
        for k in COUNTS {
            add(&mut out, k, v.get(k), name)?;
        }
        add_map(&mut out, "skipped", v.get("skipped"), name)?;
        add_f64(&mut out, "seconds", v.get("seconds"));
        let files = v
            .get("files")
            .and_then(Value::as_object)
            .ok_or_else(|| MergeError(format!("{name}: no `files` table")))?;
        let merged_files = out["files"].as_object_mut().expect("made above");
        for (f, fs) in files {
            match merged_files.get_mut(f) {
                None => {
                    merged_files.insert(f.clone(), fs.clone());
                }
                Some(prev) => add_file_part(prev, fs, f, name)?,
            }
        }
        let these = steps_of(name, v)?;
        let same_steps = these.len() == steps.len()
            && these
                .iter()
                .zip(&steps)
                .all(|(a, b)| a.get("type") == b.get("type") && a.get("name") == b.get("name"));
        if !same_steps {
            return Err(MergeError(format!(
                "{name}: its steps differ from {first_name}'s (shards must run the same recipe)"
            )));
        }
        for (i, (m, s)) in steps.iter_mut().zip(&these).enumerate() {
            let m = m.as_object_mut().expect("checked above");
            for k in STEP_COUNTS {
                add(m, k, s.get(k), name)?;
            }
            add_map(m, "reasons", s.get("reasons"), name)?;
            add_f64(m, "seconds", s.get("seconds"));
            if s.get("wall_seconds").is_some() {
                add_f64(m, "wall_seconds", s.get("wall_seconds"));
            }
            reports[i].push(s.get("report").cloned().unwrap_or(Value::Null));
        }
    }
    for (m, r) in steps.iter_mut().zip(reports) {
        let m = m.as_object_mut().expect("checked above");
        if r.iter().all(|x| *x == r[0]) {
            if !r[0].is_null() {
                m.insert("report".into(), r[0].clone());
            }
        } else {
            m.insert("shard_reports".into(), Value::Array(r));
        }
    }
    out.insert("steps".into(), Value::Array(steps));
    check(&out)?;
    Ok(Value::Object(out))
}

/// The accounting invariants of merged stats.
fn check(out: &Map<String, Value>) -> Result<(), MergeError> {
    let n = |v: &Value, k: &str| v.get(k).and_then(Value::as_u64).unwrap_or(0);
    let whole = Value::Object(out.clone());
    let balanced = |v: &Value| n(v, "in") == n(v, "kept") + n(v, "rejected") + n(v, "errors");
    if !balanced(&whole) {
        return Err(MergeError(format!(
            "merged: in {} != kept {} + rejected {} + errors {}",
            n(&whole, "in"),
            n(&whole, "kept"),
            n(&whole, "rejected"),
            n(&whole, "errors")
        )));
    }
    let files = out["files"].as_object().expect("made by merge");
    let mut sum = [0u64; 4];
    for (f, v) in files {
        if !balanced(v) {
            return Err(MergeError(format!(
                "{f}: in {} != kept {} + rejected {} + errors {}",
                n(v, "in"),
                n(v, "kept"),
                n(v, "rejected"),
                n(v, "errors")
            )));
        }
        for (s, k) in sum.iter_mut().zip(["in", "kept", "rejected", "errors"]) {
            *s += n(v, k);
        }
    }
    let total = ["in", "kept", "rejected", "errors"].map(|k| n(&whole, k));
    if sum != total {
        return Err(MergeError(format!(
            "the files add up to in/kept/rejected/errors {sum:?}, the totals say {total:?}"
        )));
    }
    Ok(())
}

fn add(
    m: &mut Map<String, Value>,
    k: &str,
    v: Option<&Value>,
    name: &str,
) -> Result<(), MergeError> {
    let x = match v {
        None => 0,
        Some(v) => v
            .as_u64()
            .ok_or_else(|| MergeError(format!("{name}: `{k}` = {v} is not a count")))?,
    };
    let cur = m.get(k).and_then(Value::as_u64).unwrap_or(0);
    m.insert(k.into(), Value::from(cur + x));
    Ok(())
}

/// Adds `part`, another byte range of file `f` (from `name`'s stats), to `into`.
fn add_file_part(into: &mut Value, part: &Value, f: &str, name: &str) -> Result<(), MergeError> {
    let ranges = |v: &Value| -> Option<Vec<[u64; 2]>> {
        v.get("ranges")?
            .as_array()?
            .iter()
            .map(|r| Some([r.get(0)?.as_u64()?, r.get(1)?.as_u64()?]))
            .collect()
    };
    let (Some(mut all), Some(more)) = (ranges(into), ranges(part)) else {
        return Err(MergeError(format!(
            "{f} is in more than one shard's stats (the second: {name}) and not as byte \
             ranges: the shards overlap, or the same stats were given twice"
        )));
    };
    let size = into.get("size").and_then(Value::as_u64);
    if size.is_none() || size != part.get("size").and_then(Value::as_u64) {
        return Err(MergeError(format!(
            "{f}: the shards' byte ranges of it give no size or different sizes (the second: \
             {name}): the file changed between the shards"
        )));
    }
    all.extend(more);
    all.sort_unstable();
    let mut joined: Vec<[u64; 2]> = Vec::with_capacity(all.len());
    for r in all {
        match joined.last_mut() {
            Some(last) if r[0] < last[1] => {
                return Err(MergeError(format!(
                    "{f}: byte ranges {}..{} and {}..{} are in more than one shard's stats \
                     (the second: {name}): the shards overlap, or the same stats were given \
                     twice",
                    last[0], last[1], r[0], r[1]
                )))
            }
            Some(last) if r[0] == last[1] => last[1] = r[1],
            _ => joined.push(r),
        }
    }
    let o = into
        .as_object_mut()
        .ok_or_else(|| MergeError(format!("{name}: {f}: not a table")))?;
    for k in ["in", "kept", "rejected", "errors", "bytes"] {
        add(o, k, part.get(k), name)?;
    }
    add_map(o, "skipped", part.get("skipped"), name)?;
    if joined == [[0, size.unwrap_or(0)]] {
        // The whole file: as a single run's stats say it.
        o.remove("ranges");
        o.remove("size");
    } else {
        o.insert("ranges".into(), serde_json::json!(joined));
    }
    Ok(())
}

fn add_f64(m: &mut Map<String, Value>, k: &str, v: Option<&Value>) {
    let x = v.and_then(Value::as_f64).unwrap_or(0.0);
    let cur = m.get(k).and_then(Value::as_f64).unwrap_or(0.0);
    m.insert(k.into(), Value::from(cur + x));
}

fn add_map(
    m: &mut Map<String, Value>,
    k: &str,
    v: Option<&Value>,
    name: &str,
) -> Result<(), MergeError> {
    let Some(Value::Object(src)) = v else {
        return Ok(());
    };
    let dst = m
        .entry(k)
        .or_insert_with(|| Value::Object(Map::new()))
        .as_object_mut()
        .ok_or_else(|| MergeError(format!("{name}: `{k}` is not a table")))?;
    for (key, val) in src {
        add(dst, key, Some(val), name)?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn shard(file: &str, kept: u64, rejected: u64, errors: u64) -> Value {
        let n = kept + rejected + errors;
        json!({
            "in": n, "kept": kept, "rejected": rejected, "errors": errors, "bytes_in": 10 * n,
            "skipped": {"request": 1}, "seconds": 1.5,
            "files": {file: {"in": n, "kept": kept, "rejected": rejected, "errors": errors,
                             "bytes": 10 * n}},
            "steps": [{"type": "exact_dedup", "name": "exact_dedup_v1", "in": n - errors,
                       "kept": kept, "rejected": rejected, "errors": 0, "edited": 0,
                       "reasons": {"exact_dedup:duplicate": rejected}, "seconds": 0.5,
                       "report": {"work_dir": file}}]
        })
    }

    #[test]
    fn sums_and_checks() {
        let m = merge(&[
            ("a".into(), shard("f1", 5, 2, 1)),
            ("b".into(), shard("f2", 3, 0, 0)),
        ])
        .unwrap();
        assert_eq!(m["in"], 11);
        assert_eq!(m["kept"], 8);
        assert_eq!(m["bytes_in"], 110);
        assert_eq!(m["skipped"]["request"], 2);
        assert_eq!(m["seconds"], 3.0);
        assert_eq!(m["shards"], 2);
        assert_eq!(m["files"].as_object().unwrap().len(), 2);
        let s = &m["steps"][0];
        assert_eq!(
            (s["in"].as_u64(), s["rejected"].as_u64()),
            (Some(10), Some(2))
        );
        assert_eq!(s["reasons"]["exact_dedup:duplicate"], 2);
        assert_eq!(s["shard_reports"].as_array().unwrap().len(), 2);
    }

    /// Shards' stats of one file read in byte ranges.
    fn part(file: &str, range: [u64; 2], size: u64, kept: u64, rejected: u64) -> Value {
        let mut v = shard(file, kept, rejected, 0);
        let f = v["files"][file].as_object_mut().unwrap();
        f.insert("ranges".into(), json!([range]));
        f.insert("size".into(), json!(size));
        f.insert("bytes".into(), json!(range[1] - range[0]));
        v
    }

    #[test]
    fn adds_up_a_file_read_in_byte_ranges() {
        let parts = [
            part("f", [0, 40], 100, 3, 1),
            part("f", [40, 41], 100, 0, 0),
            part("f", [41, 100], 100, 5, 2),
        ];
        let named: Vec<(String, Value)> = parts
            .iter()
            .enumerate()
            .map(|(i, p)| (format!("s{i}"), p.clone()))
            .collect();
        let m = merge(&named).unwrap();
        let f = &m["files"]["f"];
        assert_eq!((f["in"].as_u64(), f["kept"].as_u64()), (Some(11), Some(8)));
        assert_eq!(f["bytes"], 100);
        assert!(f.get("ranges").is_none() && f.get("size").is_none(), "{f}");
        // Two of three: the ranges joined so far stay.
        let m = merge(&named[..2]).unwrap();
        assert_eq!(m["files"]["f"]["ranges"], json!([[0, 41]]));
        let m = merge(&[named[0].clone(), named[2].clone()]).unwrap();
        assert_eq!(m["files"]["f"]["ranges"], json!([[0, 40], [41, 100]]));
        // The same range twice, overlapping ranges, a whole file and a range, other sizes.
        for (a, b) in [
            (part("f", [0, 40], 100, 1, 0), part("f", [0, 40], 100, 1, 0)),
            (
                part("f", [0, 40], 100, 1, 0),
                part("f", [39, 100], 100, 1, 0),
            ),
            (shard("f", 1, 0, 0), part("f", [39, 100], 100, 1, 0)),
            (part("f", [0, 40], 100, 1, 0), part("f", [40, 90], 90, 1, 0)),
        ] {
            let e = merge(&[("a".into(), a), ("b".into(), b)]).unwrap_err();
            assert!(e.0.contains("overlap") || e.0.contains("sizes"), "{e}");
        }
    }

    #[test]
    fn refuses_overlap_other_recipes_and_bad_counts() {
        let e = merge(&[
            ("a".into(), shard("f", 1, 0, 0)),
            ("b".into(), shard("f", 1, 0, 0)),
        ])
        .unwrap_err();
        assert!(e.0.contains("more than one shard"), "{e}");

        let mut other = shard("g", 1, 0, 0);
        other["steps"][0]["type"] = json!("minhash_dedup");
        let e = merge(&[("a".into(), shard("f", 1, 0, 0)), ("b".into(), other)]).unwrap_err();
        assert!(e.0.contains("steps differ"), "{e}");

        let mut broken = shard("g", 1, 0, 0);
        broken["kept"] = json!(0);
        let e = merge(&[("a".into(), broken)]).unwrap_err();
        assert!(e.0.contains("in 1 != kept 0"), "{e}");

        let mut broken = shard("g", 1, 0, 0);
        broken["files"]["g"]["kept"] = json!(0);
        assert!(merge(&[("a".into(), broken)]).is_err());

        assert!(merge(&[]).is_err());
    }
}
