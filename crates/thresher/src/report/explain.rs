//! `thresher explain OUTDIR ID`: what became of one document. Finds its record in the run's
//! JSONL shards (kept, rejected, errors), and tells, with the recipe from `run.json`, which
//! steps it went through, what they noted (annotations, `step.rule` metadata), and why it was
//! kept or rejected (the reason, the value and the threshold it was compared with).

use std::fmt::Write as _;
use std::io::{BufRead, BufReader};
use std::path::Path;

use serde_json::Value;

use super::{err, ReportError};

/// The record of `id` in the output category `cat` of `outdir` (JSONL shards, plain or
/// compressed), with its shard's name.
fn find(outdir: &Path, cat: &str, id: &str) -> Result<Option<(String, Value)>, ReportError> {
    let dir = outdir.join(cat);
    let Ok(rd) = std::fs::read_dir(&dir) else {
        return Ok(None);
    };
    let mut files: Vec<_> = rd
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            let name = p.file_name().map(|n| n.to_string_lossy().into_owned());
            name.is_some_and(|n| !n.starts_with('.') && n.contains(".jsonl"))
        })
        .collect();
    files.sort();
    // A cheap test before parsing: the id as JSON writes it.
    let needle = serde_json::to_string(id).unwrap_or_default();
    let finder = memchr::memmem::Finder::new(needle.as_bytes());
    for path in files {
        let reader = thresher_io::open_decoded(&path).map_err(|e| err(&path, e))?;
        let mut reader = BufReader::with_capacity(1 << 20, reader);
        let mut line = Vec::new();
        loop {
            line.clear();
            let n = reader
                .read_until(b'\n', &mut line)
                .map_err(|e| err(&path, e))?;
            if n == 0 {
                break;
            }
            if finder.find(&line).is_none() {
                continue;
            }
            let Ok(v) = serde_json::from_slice::<Value>(&line) else {
                continue;
            };
            if v.get("id").and_then(Value::as_str) == Some(id) {
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_default();
                return Ok(Some((format!("{cat}/{name}"), v)));
            }
        }
    }
    Ok(None)
}

/// The explanation of document `id` of the run in `outdir`, as text for a person; an error
/// when the document is in none of the run's JSONL shards.
pub fn explain(outdir: &Path, id: &str) -> Result<String, ReportError> {
    let run: Value = std::fs::read_to_string(outdir.join(crate::run::RUN_JSON))
        .ok()
        .and_then(|t| serde_json::from_str(&t).ok())
        .ok_or_else(|| {
            err(
                &outdir.join(crate::run::RUN_JSON),
                "not readable (is this the output directory of a finished thresher run?)",
            )
        })?;
    let steps: Vec<String> = run
        .pointer("/recipe/steps")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .filter_map(|s| s.get("type").and_then(Value::as_str).map(str::to_string))
                .collect()
        })
        .unwrap_or_default();
    let mut found = None;
    for cat in ["rejected", "kept", "errors"] {
        if let Some(f) = find(outdir, cat, id)? {
            found = Some((cat, f));
            break;
        }
    }
    let Some((cat, (shard, rec))) = found else {
        return Err(err(
            outdir,
            format!(
                "no document `{id}` in kept/, rejected/ or errors/ (JSONL shards; ids are \
                 the output's `id` field)"
            ),
        ));
    };
    let mut out = String::new();
    let _ = writeln!(out, "document {id}: {cat} (in {shard})");
    if let Some(meta) = rec.get("metadata").and_then(Value::as_object) {
        for k in ["url", "source", "language"] {
            if let Some(v) = meta.get(k) {
                let _ = writeln!(out, "  {k}: {}", show(v));
            }
        }
    }
    let params = super::html::step_params(&run);
    let failed_at = match cat {
        "rejected" | "errors" => rec.get("step").and_then(Value::as_str),
        _ => None,
    };
    let _ = writeln!(out, "\nsteps:");
    let annotations = rec.get("annotations").and_then(Value::as_object);
    let metadata = rec.get("metadata").and_then(Value::as_object);
    let mut reached = true;
    for (i, step) in steps.iter().enumerate() {
        let verdict = if !reached {
            "not reached".to_string()
        } else if failed_at == Some(step.as_str()) {
            reached = false;
            match cat {
                "rejected" => "REJECTED".to_string(),
                _ => "ERROR".to_string(),
            }
        } else {
            "kept".to_string()
        };
        let _ = writeln!(out, "  {:>2}. {step:<24} {verdict}", i + 1);
        if let Some(notes) = annotations.and_then(|a| a.get(step)) {
            let _ = writeln!(out, "        noted: {}", show(notes));
        }
        if let Some(meta) = metadata {
            let prefix = format!("{step}.");
            let measured: Vec<String> = meta
                .iter()
                .filter(|(k, _)| k.starts_with(&prefix))
                .map(|(k, v)| format!("{}={}", &k[prefix.len()..], show(v)))
                .collect();
            if !measured.is_empty() {
                let _ = writeln!(out, "        measured: {}", measured.join(", "));
            }
        }
    }
    if failed_at.is_some_and(|s| s == "reader") {
        let _ = writeln!(out, "  the record could not be read: it reached no step");
    }
    match cat {
        "rejected" => {
            let reason = rec.get("reason").and_then(Value::as_str).unwrap_or("?");
            let value = match rec.get("value") {
                Some(Value::Null) | None => rec.get("value_text").map(show).unwrap_or_default(),
                Some(v) => show(v),
            };
            let _ = write!(out, "\nwhy: rejected by {reason} with value {value}");
            let (step, rule) = reason.split_once(':').unwrap_or(("", reason));
            let threshold = params
                .iter()
                .find(|(ty, _)| ty == step)
                .and_then(|(_, p)| super::html::threshold(rule, p));
            if let Some((name, x)) = threshold {
                let _ = write!(out, " (threshold {name} = {x})");
            }
            let _ = writeln!(
                out,
                "\n(`thresher steps {step}` describes the step's rules and parameters)"
            );
        }
        "errors" => {
            let _ = writeln!(
                out,
                "\nwhy: error at {} line {}: {}",
                rec.get("file").map(show).unwrap_or_default(),
                rec.pointer("/position/line").map(show).unwrap_or_default(),
                rec.get("error").map(show).unwrap_or_default()
            );
        }
        _ => {
            let _ = writeln!(out, "\nwhy: every step kept it");
        }
    }
    if let Some(text) = rec.get("text").and_then(Value::as_str) {
        let head: String = text.chars().take(300).collect();
        let more = if text.chars().count() > 300 {
            "…"
        } else {
            ""
        };
        let _ = writeln!(out, "\ntext ({} bytes): {head}{more}", text.len());
    }
    Ok(out)
}

/// A JSON value for a person: strings without quotes.
fn show(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        v => v.to_string(),
    }
}
