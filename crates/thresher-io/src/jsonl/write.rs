//! Writing JSONL records: the kept, rejected and error lines of a run, byte for byte as
//! serde_json would write them, into an [`OutBuf`] (a run of lines whose unedited texts point
//! into the batch's input buffer, handed to [`crate::ShardedWriter::write_pieces`]).

use std::ops::Range;
use std::sync::Arc;

use crate::RejectedText;
use serde::Serialize;
use serde_json::{Map, Value};
use thresher_core::{Document, InputBuf, Reason, SourcePos};

use super::{write_json_str, JsonString};

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

/// Texts shorter than this are copied into the output rather than pointed at (a piece of its
/// own costs about as much as copying this many bytes).
const SHARE_MIN: usize = 1024;

/// Output lines of one category for a run of documents, as pieces in order: bytes written here,
/// and texts left where they are in the batch's input buffer (see [`Document::raw_text`]), so
/// the writer sends them to the file without a copy in between.
#[derive(Default)]
pub struct OutBuf {
    /// Everything but the texts pointed at.
    pub(super) bytes: Vec<u8>,
    pieces: Vec<Piece>,
    /// Where each line ends in `pieces` (exclusive).
    ends: Vec<usize>,
    /// Start of the bytes not in a piece yet.
    pending: usize,
    /// The buffer whose bytes may be pointed at.
    shared: Option<Arc<InputBuf>>,
}

enum Piece {
    Own(Range<usize>),
    Shared(Range<usize>),
}

impl OutBuf {
    /// An empty output that may point into `shared`.
    pub fn new(shared: Option<Arc<InputBuf>>) -> Self {
        OutBuf {
            shared,
            ..OutBuf::default()
        }
    }

    /// Reserves room for `n` more bytes written here.
    pub fn reserve(&mut self, n: usize) {
        self.bytes.reserve_exact(n);
    }

    /// Ends the current line (its newline is already written).
    pub fn end_line(&mut self) {
        self.close_piece();
        self.ends.push(self.pieces.len());
    }

    /// The lines' pieces, in order, and where each line ends among them.
    pub fn pieces(&self) -> (Vec<&[u8]>, &[usize]) {
        let pieces = self
            .pieces
            .iter()
            .map(|p| match p {
                Piece::Own(r) => &self.bytes[r.clone()],
                Piece::Shared(r) => match &self.shared {
                    Some(b) => &b[r.clone()],
                    None => &[], // not made: a shared piece is only added with a buffer
                },
            })
            .collect();
        (pieces, &self.ends)
    }

    /// No lines.
    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// Once the lines are written: empties the output and gives up the shared buffer (the
    /// caller may recycle it once no one else holds it).
    pub fn take_shared(&mut self) -> Option<Arc<InputBuf>> {
        *self = OutBuf {
            shared: self.shared.take(),
            ..OutBuf::default()
        };
        self.shared.take()
    }

    /// All lines as one byte string.
    #[cfg(test)]
    pub(super) fn concat(&self) -> Vec<u8> {
        self.pieces().0.concat()
    }

    fn close_piece(&mut self) {
        if self.pending < self.bytes.len() {
            self.pieces.push(Piece::Own(self.pending..self.bytes.len()));
            self.pending = self.bytes.len();
        }
    }

    /// Appends an escaped text (`raw`, the bytes of a document's [`RawText`] in
    /// [`JsonString`]), pointing at it when it is long and in the shared buffer.
    ///
    /// [`RawText`]: thresher_core::RawText
    fn text_bytes(&mut self, buf: &Arc<InputBuf>, range: Range<usize>) {
        if let Some(shared) = &self.shared {
            if range.len() >= SHARE_MIN && Arc::ptr_eq(buf, shared) {
                self.close_piece();
                self.pieces.push(Piece::Shared(range));
                return;
            }
        }
        self.bytes.extend_from_slice(&buf[range]);
    }
}

/// The document's text as it is in its input buffer, if it is there in [`JsonString`] (the
/// bytes [`write_json_str`] would write, without the quotes).
fn json_raw(doc: &Document) -> Option<(&Arc<InputBuf>, Range<usize>)> {
    doc.raw_text()
        .filter(|r| r.is_encoded_as::<JsonString>())
        .map(|r| r.source())
}

/// `{"id", "text", "metadata"[, "annotations"]}` and a newline.
#[cfg(test)]
pub(super) fn kept_line(doc: &Document) -> Vec<u8> {
    let mut buf = OutBuf::new(json_raw(doc).map(|s| s.0.clone()));
    write_kept(&mut buf, doc);
    buf.end_line();
    buf.concat()
}

/// `{"id", "text", "metadata"[, "annotations"]}` and a newline, appended to `buf` (the caller
/// ends the line: [`OutBuf::end_line`]).
pub fn write_kept(buf: &mut OutBuf, doc: &Document) {
    doc_fields(buf, doc);
    annotations(&mut buf.bytes, &doc.annotations);
    buf.bytes.extend_from_slice(b"}\n");
}

/// About how many bytes a document's output line takes in an [`OutBuf`] (the text unless it is
/// pointed at, its escapes, the rest).
pub fn line_size_hint(doc: &Document) -> usize {
    match json_raw(doc) {
        Some((_, raw)) if raw.len() >= SHARE_MIN => doc.id.len() + 128,
        Some((_, raw)) => raw.len() + doc.id.len() + 128,
        None => doc.text().len() + doc.text().len() / 32 + doc.id.len() + 128,
    }
}

/// The kept fields plus `reason`, `value`, `value_text` and the `step` (type name) that
/// rejected it.
#[cfg(test)]
pub(super) fn rejected_line(doc: &Document, reason: &Reason, step: &str) -> Vec<u8> {
    let mut buf = OutBuf::new(json_raw(doc).map(|s| s.0.clone()));
    write_rejected(&mut buf, doc, reason, step, RejectedText::Full);
    buf.end_line();
    buf.concat()
}

/// A rejected record appended to `out` (the caller ends the line): the kept fields, with as
/// much of the text as `text` says, plus `reason`, `value`, `value_text` and `step`.
///
/// The schema is fixed, whatever the step: `value` is the decisive value when it is a number
/// (always written as a float, `3.0`), else null; `value_text` is the value when it is not a
/// number (a string as it is, a boolean, array or object as its JSON text), else `""`. Never a
/// null string: loaders that infer types per file (`datasets`) refuse a column that is null in
/// one shard and a string in the next.
pub fn write_rejected(
    out: &mut OutBuf,
    doc: &Document,
    reason: &Reason,
    step: &str,
    text: RejectedText,
) {
    match text {
        RejectedText::Full => doc_fields(out, doc),
        _ => {
            out.bytes.extend_from_slice(b"{\"id\":");
            write_json_str(&mut out.bytes, &doc.id);
            out.bytes.extend_from_slice(b",\"text\":");
            write_json_str(&mut out.bytes, text.apply(doc.text()));
            out.bytes.extend_from_slice(b",\"metadata\":");
            let _ = serde_json::to_writer(&mut out.bytes, &doc.metadata);
        }
    }
    let buf = &mut out.bytes;
    buf.extend_from_slice(b",\"reason\":");
    write_json_str(buf, &reason.code);
    // Serializing a `Value` into a Vec cannot fail.
    match &reason.value {
        // Always written as a float (`3.0`, not `3`): loaders that infer a column's type from
        // the values (pyarrow, pandas, datasets) then see one type in every shard.
        Value::Number(n) => match n.as_f64().and_then(serde_json::Number::from_f64) {
            Some(f) => {
                buf.extend_from_slice(b",\"value\":");
                let _ = serde_json::to_writer(&mut *buf, &f);
                buf.extend_from_slice(b",\"value_text\":\"\"");
            }
            None => buf.extend_from_slice(b",\"value\":null,\"value_text\":\"\""),
        },
        Value::Null => buf.extend_from_slice(b",\"value\":null,\"value_text\":\"\""),
        Value::String(s) => {
            buf.extend_from_slice(b",\"value\":null,\"value_text\":");
            write_json_str(buf, s);
        }
        other => {
            buf.extend_from_slice(b",\"value\":null,\"value_text\":");
            write_json_str(buf, &other.to_string());
        }
    }
    buf.extend_from_slice(b",\"step\":");
    write_json_str(buf, step);
    annotations(buf, &doc.annotations);
    buf.extend_from_slice(b"}\n");
}

/// A rejection's value in the fixed schema of every output (JSONL, Parquet, the Python API):
/// `value` is the number as a float, `None` when the value is not a finite number;
/// `value_text` is the value when it is not a number (a string as it is, anything else as its
/// JSON text), `""` when it is a number or null. [`write_rejected`] writes the same two fields.
pub fn rejected_value(value: &Value) -> (Option<f64>, String) {
    match value {
        Value::Number(n) => (n.as_f64().filter(|f| f.is_finite()), String::new()),
        Value::Null => (None, String::new()),
        Value::String(s) => (None, s.clone()),
        other => (None, other.to_string()),
    }
}

/// `{"id":..,"text":..,"metadata":{..}` (no closing brace), as serde_json writes a struct with
/// these fields. Written by hand because the text is most of every output byte and
/// [`write_json_str`] escapes it several times faster than serde_json's byte-at-a-time loop.
fn doc_fields(out: &mut OutBuf, doc: &Document) {
    out.bytes.extend_from_slice(b"{\"id\":");
    write_json_str(&mut out.bytes, &doc.id);
    out.bytes.extend_from_slice(b",\"text\":");
    write_text(out, doc);
    out.bytes.extend_from_slice(b",\"metadata\":");
    // Serializing a map of `Value`s into a Vec cannot fail.
    let _ = serde_json::to_writer(&mut out.bytes, &doc.metadata);
}

/// The document's text as a JSON string: the input's escaped bytes when the reader kept them
/// (the text is unedited and they are what [`write_json_str`] would write), else escaped here.
pub(super) fn write_text(out: &mut OutBuf, doc: &Document) {
    match json_raw(doc) {
        Some((buf, range)) => {
            out.bytes.push(b'"');
            out.text_bytes(buf, range);
            out.bytes.push(b'"');
        }
        None => write_json_str(&mut out.bytes, doc.text()),
    }
}

/// The length of the document's text as a kept line holds it (what the kept line writer writes,
/// the quotes included), without writing it.
pub fn text_json_len(doc: &Document) -> usize {
    match json_raw(doc) {
        Some((_, range)) => range.len() + 2,
        None => super::json_str_len(doc.text()),
    }
}

/// `,"annotations":{..}` when there are any (serde's `skip_serializing_if = "Map::is_empty"`).
fn annotations(buf: &mut Vec<u8>, annotations: &Map<String, Value>) {
    if !annotations.is_empty() {
        buf.extend_from_slice(b",\"annotations\":");
        let _ = serde_json::to_writer(&mut *buf, annotations);
    }
}

/// `{"id", "file", "position": {"line", "byte"}, "error"[, "step"]}` and a newline, appended
/// to `buf`.
pub fn write_error(
    out: &mut OutBuf,
    id: &str,
    source: &SourcePos,
    error: &str,
    step: Option<&str>,
) {
    let buf = &mut out.bytes;
    let _ = serde_json::to_writer(
        &mut *buf,
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
    buf.push(b'\n');
}

#[cfg(test)]
mod tests {
    use thresher_core::RawText;

    use super::*;

    #[test]
    fn lines_match_serde_structs() {
        #[derive(Serialize)]
        struct Kept<'a> {
            id: &'a str,
            text: &'a str,
            metadata: &'a Map<String, Value>,
            #[serde(skip_serializing_if = "Map::is_empty")]
            annotations: &'a Map<String, Value>,
        }
        let mut d = Document::new("i\"d", "a\tb\u{1}é\n");
        d.metadata.insert("url".into(), "http://x/\"y".into());
        d.metadata.insert("n".into(), 1.5.into());
        let serde = |d: &Document| {
            let mut s = serde_json::to_vec(&Kept {
                id: &d.id,
                text: d.text(),
                metadata: &d.metadata,
                annotations: &d.annotations,
            })
            .unwrap();
            s.push(b'\n');
            s
        };
        assert_eq!(kept_line(&d), serde(&d));
        d.annotate("s", "k", vec![1, 2]);
        assert_eq!(kept_line(&d), serde(&d));
    }

    #[test]
    fn kept_escaped_text_is_copied() {
        let text = "a\"b\\c\n\u{1}é";
        let plain = Document::new("x", text);
        let escaped = serde_json::to_string(text).unwrap().into_bytes();
        let mut buf = b"..".to_vec();
        buf.extend_from_slice(&escaped[1..escaped.len() - 1]);
        let mut shared = plain.clone();
        let end = buf.len();
        shared.set_raw_text(RawText::new(
            Arc::new(InputBuf::owned(buf)),
            2..end,
            &JsonString,
        ));
        assert_eq!(kept_line(&shared), kept_line(&plain));
        let r = Reason::new("exact_dedup:duplicate", "y");
        assert_eq!(
            rejected_line(&shared, &r, "s"),
            rejected_line(&plain, &r, "s")
        );
        // The bytes are really used: a (wrong) marker range shows in the output.
        let mut wrong = plain.clone();
        let zz = Arc::new(InputBuf::owned(b"zz".to_vec()));
        wrong.set_raw_text(RawText::new(zz.clone(), 0..2, &JsonString));
        assert!(kept_line(&wrong).starts_with(b"{\"id\":\"x\",\"text\":\"zz\","));
        // Another encoding's bytes are not copied: the text is escaped.
        struct Other;
        impl thresher_core::TextEncoding for Other {
            fn decode(&self, _: &[u8]) -> String {
                String::new()
            }
        }
        wrong.set_raw_text(RawText::new(zz, 0..2, &Other));
        assert_eq!(kept_line(&wrong), kept_line(&plain));
    }

    #[test]
    fn long_escaped_text_is_pointed_at_not_copied() {
        let text = format!("{}\n\"end\"", "word ".repeat(400));
        let escaped = serde_json::to_string(&text).unwrap().into_bytes();
        let buf = Arc::new(InputBuf::owned(escaped.clone()));
        let raw = RawText::new(buf.clone(), 1..escaped.len() - 1, &JsonString);
        let shared = Document::from_raw_text("x", raw);
        let plain = Document::new("x", text.as_str());
        let r = Reason::new("exact_dedup:duplicate", "y");
        let mut out = OutBuf::new(Some(buf.clone()));
        write_kept(&mut out, &shared);
        out.end_line();
        write_rejected(&mut out, &shared, &r, "s", RejectedText::Full);
        out.end_line();
        let (pieces, ends) = out.pieces();
        // Each line: the bytes before the text, the text where it is, the bytes after.
        assert_eq!(ends, [3, 6]);
        assert!(std::ptr::eq(pieces[1].as_ptr(), buf[1..].as_ptr()));
        let mut want = kept_line(&plain);
        want.extend(rejected_line(&plain, &r, "s"));
        assert_eq!(out.concat(), want);
        // Another buffer's bytes are copied.
        let mut other = OutBuf::new(Some(Arc::new(InputBuf::owned(escaped.clone()))));
        write_kept(&mut other, &shared);
        other.end_line();
        assert_eq!(other.pieces().1, [1]);
        assert_eq!(other.concat(), kept_line(&plain));
        // Handing the buffer back drops the pieces that point into it.
        drop(shared);
        let back = out.take_shared().unwrap();
        drop(buf);
        assert!(Arc::into_inner(back).is_some());
        assert!(out.is_empty() && out.pieces().0.is_empty());
    }

    #[test]
    fn output_lines() {
        let d = Document::new("x", "t");
        assert_eq!(
            kept_line(&d),
            b"{\"id\":\"x\",\"text\":\"t\",\"metadata\":{}}\n"
        );
        let r = Reason::new("exact_dedup:duplicate", "y");
        assert_eq!(
            String::from_utf8(rejected_line(&d, &r, "exact_dedup")).unwrap(),
            "{\"id\":\"x\",\"text\":\"t\",\"metadata\":{},\"reason\":\"exact_dedup:duplicate\",\"value\":null,\"value_text\":\"y\",\"step\":\"exact_dedup\"}\n"
        );
    }

    /// [`rejected_value`] gives what [`write_rejected`] writes.
    #[test]
    fn rejected_value_matches_the_written_fields() {
        let d = Document::new("x", "t");
        for v in [
            serde_json::json!(0.25),
            serde_json::json!(7),
            serde_json::json!(-3),
            Value::Null,
            serde_json::json!(true),
            serde_json::json!("dup-of-1"),
            serde_json::json!([1, "a"]),
            serde_json::json!({"k": 1}),
        ] {
            let mut buf = OutBuf::new(None);
            write_rejected(
                &mut buf,
                &d,
                &Reason::new("r", v.clone()),
                "s",
                RejectedText::Full,
            );
            buf.end_line();
            let line: Value = serde_json::from_slice(&buf.concat()).unwrap();
            let (num, text) = rejected_value(&v);
            assert_eq!(line["value"].as_f64(), num, "{v}");
            assert_eq!(line["value_text"], Value::String(text), "{v}");
        }
    }

    /// `value` is a number or null whatever the step gave; anything else is in `value_text`.
    /// `rejected_text` cuts the text (by characters) or leaves it out.
    #[test]
    fn rejected_value_schema_and_text_policy() {
        let d = Document::new("x", "héllo world");
        let line = |v: Value, t: RejectedText| {
            let mut buf = OutBuf::new(None);
            write_rejected(&mut buf, &d, &Reason::new("r", v), "s", t);
            buf.end_line();
            serde_json::from_slice::<Value>(&buf.concat()).unwrap()
        };
        let full = RejectedText::Full;
        for (v, value, text) in [
            (
                serde_json::json!(0.25),
                serde_json::json!(0.25),
                serde_json::json!(""),
            ),
            (
                serde_json::json!(7),
                serde_json::json!(7.0),
                serde_json::json!(""),
            ),
            (Value::Null, Value::Null, serde_json::json!("")),
            (
                serde_json::json!(true),
                Value::Null,
                serde_json::json!("true"),
            ),
            (
                serde_json::json!("dup-of-1"),
                Value::Null,
                serde_json::json!("dup-of-1"),
            ),
            (
                serde_json::json!([1, "a"]),
                Value::Null,
                serde_json::json!("[1,\"a\"]"),
            ),
        ] {
            let got = line(v, full);
            assert_eq!(got["value"], value);
            assert_eq!(got["value_text"], text);
            assert_eq!(got["text"], "héllo world");
        }
        assert_eq!(line(Value::Null, RejectedText::None)["text"], "");
        assert_eq!(line(Value::Null, RejectedText::Head(2))["text"], "hé");
        assert_eq!(
            line(Value::Null, RejectedText::Head(99))["text"],
            "héllo world"
        );
    }
}
