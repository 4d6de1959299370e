//! The JSON lines thresher writes: kept, rejected and error records, and the internal spill
//! format that carries documents between the passes of a two-pass step.

use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thresher_core::{Document, Reason, SourcePos};

#[derive(Serialize)]
struct KeptLine<'a> {
    id: &'a str,
    text: &'a str,
    metadata: &'a Map<String, Value>,
    #[serde(skip_serializing_if = "Map::is_empty")]
    annotations: &'a Map<String, Value>,
}

#[derive(Serialize)]
struct RejectedLine<'a> {
    id: &'a str,
    text: &'a str,
    metadata: &'a Map<String, Value>,
    reason: &'a str,
    value: &'a Value,
    step: &'a str,
    #[serde(skip_serializing_if = "Map::is_empty")]
    annotations: &'a Map<String, Value>,
}

#[derive(Serialize)]
struct Position {
    line: u64,
    byte: u64,
}

#[derive(Serialize)]
struct ErrorLine<'a> {
    id: &'a str,
    file: &'a str,
    position: Position,
    error: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    step: Option<&'a str>,
}

fn finish(mut buf: Vec<u8>) -> Vec<u8> {
    buf.push(b'\n');
    buf
}

/// `{"id", "text", "metadata"[, "annotations"]}` and a newline.
pub fn kept_line(doc: &Document) -> Vec<u8> {
    let mut buf = Vec::with_capacity(doc.text().len() + 64);
    // Serializing borrowed strings and maps into a Vec cannot fail.
    let _ = serde_json::to_writer(
        &mut buf,
        &KeptLine {
            id: &doc.id,
            text: doc.text(),
            metadata: &doc.metadata,
            annotations: &doc.annotations,
        },
    );
    finish(buf)
}

/// The kept fields plus `reason`, `value` and the `step` (type name) that rejected it.
pub fn rejected_line(doc: &Document, reason: &Reason, step: &str) -> Vec<u8> {
    let mut buf = Vec::with_capacity(doc.text().len() + 96);
    let _ = serde_json::to_writer(
        &mut buf,
        &RejectedLine {
            id: &doc.id,
            text: doc.text(),
            metadata: &doc.metadata,
            reason: &reason.code,
            value: &reason.value,
            step,
            annotations: &doc.annotations,
        },
    );
    finish(buf)
}

/// `{"id", "file", "position": {"line", "byte"}, "error"[, "step"]}` and a newline.
pub fn error_line(id: &str, source: &SourcePos, error: &str, step: Option<&str>) -> Vec<u8> {
    let mut buf = Vec::with_capacity(error.len() + 128);
    let _ = serde_json::to_writer(
        &mut buf,
        &ErrorLine {
            id,
            file: &source.file,
            position: Position {
                line: source.line,
                byte: source.byte_offset,
            },
            error,
            step,
        },
    );
    finish(buf)
}

#[derive(Serialize)]
struct SpillOut<'a> {
    seq: u64,
    file: &'a str,
    line: u64,
    byte: u64,
    id: &'a str,
    text: &'a str,
    metadata: &'a Map<String, Value>,
    annotations: &'a Map<String, Value>,
}

#[derive(Deserialize)]
struct SpillIn {
    seq: u64,
    file: String,
    line: u64,
    byte: u64,
    id: String,
    text: String,
    metadata: Map<String, Value>,
    annotations: Map<String, Value>,
}

/// A document in the spill format (everything a later pass needs, including its position).
pub fn spill_line(doc: &Document) -> Vec<u8> {
    let mut buf = Vec::with_capacity(doc.text().len() + 128);
    let _ = serde_json::to_writer(
        &mut buf,
        &SpillOut {
            seq: doc.seq,
            file: &doc.source.file,
            line: doc.source.line,
            byte: doc.source.byte_offset,
            id: &doc.id,
            text: doc.text(),
            metadata: &doc.metadata,
            annotations: &doc.annotations,
        },
    );
    finish(buf)
}

/// Reads back a document written by [`spill_line`].
pub fn parse_spill_line(line: &[u8]) -> Result<Document, String> {
    let s: SpillIn =
        serde_json::from_slice(line).map_err(|e| format!("spill file damaged: {e}"))?;
    let mut doc = Document::new(s.id, s.text);
    doc.seq = s.seq;
    doc.source = SourcePos {
        file: Arc::from(s.file),
        line: s.line,
        byte_offset: s.byte,
    };
    doc.metadata = s.metadata;
    doc.annotations = s.annotations;
    Ok(doc)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spill_round_trip() {
        let mut d = Document::new("x", "a\"b\n");
        d.seq = 9;
        d.source.line = 3;
        d.metadata.insert("k".into(), 1.into());
        d.annotate("s", "n", 2);
        let back = parse_spill_line(&spill_line(&d)).unwrap();
        assert_eq!(format!("{back:?}"), format!("{d:?}"));
    }

    #[test]
    fn output_lines() {
        let d = Document::new("x", "t");
        assert_eq!(
            kept_line(&d),
            b"{\"id\":\"x\",\"text\":\"t\",\"metadata\":{}}\n"
        );
        let r = Reason::new("exact_duplicate", "y");
        assert_eq!(
            String::from_utf8(rejected_line(&d, &r, "exact_dedup")).unwrap(),
            "{\"id\":\"x\",\"text\":\"t\",\"metadata\":{},\"reason\":\"exact_duplicate\",\"value\":\"y\",\"step\":\"exact_dedup\"}\n"
        );
    }
}
