//! The spill format: documents carried between the passes of a two-pass step, one JSON line
//! each with everything a later pass needs, including the record's position:
//! `{"seq","file","line","byte","id","text","metadata","annotations"}`.

use std::sync::Arc;

use serde::Deserialize;
use serde_json::{Map, Value};
use thresher_core::{Document, SourcePos};

use super::write::{write_text, OutBuf};
use super::write_json_str;

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

/// A document in the spill format (everything a later pass needs, including its position):
/// `{"seq","file","line","byte","id","text","metadata","annotations"}`.
#[cfg(test)]
fn spill_line(doc: &Document) -> Vec<u8> {
    let mut buf = OutBuf::new(doc.raw_text().map(|r| r.source().0.clone()));
    write_spill(&mut buf, doc);
    buf.end_line();
    buf.concat()
}

/// A document in the spill format appended to `buf` (the caller ends the line:
/// [`OutBuf::end_line`]).
pub fn write_spill(out: &mut OutBuf, doc: &Document) {
    let buf = &mut out.bytes;
    buf.extend_from_slice(b"{\"seq\":");
    buf.extend_from_slice(doc.seq.to_string().as_bytes());
    buf.extend_from_slice(b",\"file\":");
    write_json_str(buf, &doc.source.file);
    buf.extend_from_slice(b",\"line\":");
    buf.extend_from_slice(doc.source.line.to_string().as_bytes());
    buf.extend_from_slice(b",\"byte\":");
    buf.extend_from_slice(doc.source.byte_offset.to_string().as_bytes());
    buf.extend_from_slice(b",\"id\":");
    write_json_str(buf, &doc.id);
    buf.extend_from_slice(b",\"text\":");
    write_text(out, doc);
    let buf = &mut out.bytes;
    buf.extend_from_slice(b",\"metadata\":");
    let _ = serde_json::to_writer(&mut *buf, &doc.metadata);
    buf.extend_from_slice(b",\"annotations\":");
    let _ = serde_json::to_writer(&mut *buf, &doc.annotations);
    buf.extend_from_slice(b"}\n");
}

/// Reads back a document written by [`write_spill`].
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
    fn spilled_raw_text_is_copied() {
        use thresher_core::{InputBuf, RawText};
        let text = "a\"b\n";
        let body = serde_json::to_string(text).unwrap();
        let buf = Arc::new(InputBuf::owned(body.clone().into_bytes()));
        let raw = RawText::new(buf, 1..body.len() - 1, &super::super::JsonString);
        let d = Document::from_raw_text("x", raw);
        assert_eq!(spill_line(&d), spill_line(&Document::new("x", text)));
    }
}
