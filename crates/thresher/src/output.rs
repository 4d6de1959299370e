//! The JSON lines thresher writes: kept, rejected and error records, and the internal spill
//! format that carries documents between the passes of a two-pass step.

use std::ops::Range;
use std::sync::Arc;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use thresher_core::{Document, InputBuf, Reason, SourcePos};
use thresher_io::RejectedText;

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
/// and texts left where they are in the batch's input buffer (see [`Document::text_json`]), so
/// the writer sends them to the file without a copy in between.
#[derive(Default)]
pub struct OutBuf {
    /// Everything but the texts pointed at.
    bytes: Vec<u8>,
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
    pub fn concat(&self) -> Vec<u8> {
        self.pieces().0.concat()
    }

    fn close_piece(&mut self) {
        if self.pending < self.bytes.len() {
            self.pieces.push(Piece::Own(self.pending..self.bytes.len()));
            self.pending = self.bytes.len();
        }
    }

    /// Appends `doc`'s escaped text, pointing at it when it is long and in the shared buffer.
    fn text_bytes(&mut self, doc: &Document, raw: &[u8]) {
        if let (Some((buf, range)), Some(shared)) = (doc.text_json_source(), &self.shared) {
            if range.len() >= SHARE_MIN && Arc::ptr_eq(buf, shared) {
                self.close_piece();
                self.pieces.push(Piece::Shared(range));
                return;
            }
        }
        self.bytes.extend_from_slice(raw);
    }
}

/// `{"id", "text", "metadata"[, "annotations"]}` and a newline.
#[cfg(test)]
pub fn kept_line(doc: &Document) -> Vec<u8> {
    let mut buf = OutBuf::new(doc.text_json_source().map(|s| s.0.clone()));
    write_kept(&mut buf, doc);
    buf.end_line();
    buf.concat()
}

/// [`kept_line`] appended to `buf` (the caller ends the line: [`OutBuf::end_line`]).
pub fn write_kept(buf: &mut OutBuf, doc: &Document) {
    doc_fields(buf, doc);
    annotations(&mut buf.bytes, &doc.annotations);
    buf.bytes.extend_from_slice(b"}\n");
}

/// About how many bytes a document's output line takes in an [`OutBuf`] (the text unless it is
/// pointed at, its escapes, the rest).
pub fn line_size_hint(doc: &Document) -> usize {
    match doc.text_json() {
        Some(raw) if raw.len() >= SHARE_MIN => doc.id.len() + 128,
        Some(raw) => raw.len() + doc.id.len() + 128,
        None => doc.text().len() + doc.text().len() / 32 + doc.id.len() + 128,
    }
}

/// The kept fields plus `reason`, `value`, `value_text` and the `step` (type name) that
/// rejected it.
#[cfg(test)]
pub fn rejected_line(doc: &Document, reason: &Reason, step: &str) -> Vec<u8> {
    let mut buf = OutBuf::new(doc.text_json_source().map(|s| s.0.clone()));
    write_rejected(&mut buf, doc, reason, step, RejectedText::Full);
    buf.end_line();
    buf.concat()
}

/// [`rejected_line`] appended to `buf` (the caller ends the line), with as much of the text as
/// `text` says.
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
fn write_text(out: &mut OutBuf, doc: &Document) {
    match doc.text_json() {
        Some(raw) => {
            out.bytes.push(b'"');
            out.text_bytes(doc, raw);
            out.bytes.push(b'"');
        }
        None => write_json_str(&mut out.bytes, doc.text()),
    }
}

/// `,"annotations":{..}` when there are any (serde's `skip_serializing_if = "Map::is_empty"`).
fn annotations(buf: &mut Vec<u8>, annotations: &Map<String, Value>) {
    if !annotations.is_empty() {
        buf.extend_from_slice(b",\"annotations\":");
        let _ = serde_json::to_writer(&mut *buf, annotations);
    }
}

/// How serde_json escapes an ASCII byte inside a string: 0 = as is, `u` = `\u00XX`, else the
/// letter after the backslash.
static ESCAPE: [u8; 128] = {
    let mut t = [0u8; 128];
    let mut b = 0;
    while b < 0x20 {
        t[b] = b'u';
        b += 1;
    }
    t[0x08] = b'b';
    t[b'\t' as usize] = b't';
    t[b'\n' as usize] = b'n';
    t[0x0C] = b'f';
    t[b'\r' as usize] = b'r';
    t[b'"' as usize] = b'"';
    t[b'\\' as usize] = b'\\';
    t
};

const ONES: u64 = 0x0101_0101_0101_0101;
const HIGHS: u64 = 0x8080_8080_8080_8080;

/// Whether any of the 8 bytes in `w` is a control character, `"` or `\` (exact as a whole-word
/// test: the classic "has a byte less than n" and "has a zero byte" tricks).
#[inline]
fn needs_escape(w: u64) -> bool {
    let lt_space = w.wrapping_sub(ONES * 0x20) & !w;
    let q = w ^ (ONES * b'"' as u64);
    let quote = q.wrapping_sub(ONES) & !q;
    let s = w ^ (ONES * b'\\' as u64);
    let backslash = s.wrapping_sub(ONES) & !s;
    (lt_space | quote | backslash) & HIGHS != 0
}

/// Writes `s` as a JSON string, byte for byte as serde_json does (`"`, `\` and control
/// characters escaped, short forms where JSON has them, lower-case hex; everything else as is).
/// Eight bytes are checked at a time, and runs that need no escape are copied whole.
pub fn write_json_str(out: &mut Vec<u8>, s: &str) {
    let b = s.as_bytes();
    out.reserve(b.len() + 2);
    out.push(b'"');
    let mut run = 0; // start of the bytes not yet copied
    let mut i = 0;
    while i < b.len() {
        // Sixteen bytes per test while the text is clean (most of it), then eight.
        if let Some(pair) = b.get(i..i + 16) {
            let (mut w0, mut w1) = ([0u8; 8], [0u8; 8]);
            w0.copy_from_slice(&pair[..8]);
            w1.copy_from_slice(&pair[8..]);
            if !needs_escape(u64::from_le_bytes(w0)) && !needs_escape(u64::from_le_bytes(w1)) {
                i += 16;
                continue;
            }
        }
        if let Some(word) = b.get(i..i + 8) {
            let mut w = [0u8; 8];
            w.copy_from_slice(word);
            if !needs_escape(u64::from_le_bytes(w)) {
                i += 8;
                continue;
            }
        }
        let end = (i + 8).min(b.len());
        while i < end {
            let c = b[i];
            let e = if c < 0x80 { ESCAPE[c as usize] } else { 0 };
            if e != 0 {
                out.extend_from_slice(&b[run..i]);
                if e == b'u' {
                    const HEX: &[u8; 16] = b"0123456789abcdef";
                    out.extend_from_slice(&[
                        b'\\',
                        b'u',
                        b'0',
                        b'0',
                        HEX[(c >> 4) as usize],
                        HEX[(c & 0xF) as usize],
                    ]);
                } else {
                    out.extend_from_slice(&[b'\\', e]);
                }
                run = i + 1;
            }
            i += 1;
        }
    }
    out.extend_from_slice(&b[run..]);
    out.push(b'"');
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
pub fn spill_line(doc: &Document) -> Vec<u8> {
    let mut buf = OutBuf::new(doc.text_json_source().map(|s| s.0.clone()));
    write_spill(&mut buf, doc);
    buf.end_line();
    buf.concat()
}

/// [`spill_line`] appended to `buf` (the caller ends the line).
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
    fn strings_are_escaped_as_serde_json_does() {
        let mut cases: Vec<String> = [
            "",
            "plain ascii text that is longer than eight bytes",
            "quote\" back\\slash / slash",
            "\u{0}\u{1}\u{8}\t\n\u{b}\u{c}\r\u{1f}\u{7f} end",
            "héllo “wörld” — 😀 \u{2028}\n",
            "12345678\"12345678\\1234567\n",
        ]
        .iter()
        .map(|s| s.to_string())
        .collect();
        // Every byte value in every position of a word.
        for c in 0u8..128 {
            for pad in 0..9 {
                let mut s = "x".repeat(pad);
                s.push(c as char);
                s.push_str("yyyyyyyyy");
                cases.push(s);
            }
        }
        for s in cases {
            let mut ours = Vec::new();
            write_json_str(&mut ours, &s);
            assert_eq!(
                String::from_utf8(ours).unwrap(),
                serde_json::to_string(&s).unwrap(),
                "{s:?}"
            );
        }
    }

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
        shared.set_text_json(Arc::new(InputBuf::owned(buf)), 2..end);
        assert_eq!(kept_line(&shared), kept_line(&plain));
        assert_eq!(spill_line(&shared), spill_line(&plain));
        let r = Reason::new("exact_duplicate", "y");
        assert_eq!(
            rejected_line(&shared, &r, "s"),
            rejected_line(&plain, &r, "s")
        );
        // The bytes are really used: a (wrong) marker range shows in the output.
        let mut wrong = plain.clone();
        wrong.set_text_json(Arc::new(InputBuf::owned(b"zz".to_vec())), 0..2);
        assert!(kept_line(&wrong).starts_with(b"{\"id\":\"x\",\"text\":\"zz\","));
    }

    #[test]
    fn long_escaped_text_is_pointed_at_not_copied() {
        let text = format!("{}\n\"end\"", "word ".repeat(400));
        let escaped = serde_json::to_string(&text).unwrap().into_bytes();
        let buf = Arc::new(InputBuf::owned(escaped.clone()));
        let shared = Document::from_json_text("x", buf.clone(), 1..escaped.len() - 1);
        let plain = Document::new("x", text.as_str());
        let r = Reason::new("exact_duplicate", "y");
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
        let r = Reason::new("exact_duplicate", "y");
        assert_eq!(
            String::from_utf8(rejected_line(&d, &r, "exact_dedup")).unwrap(),
            "{\"id\":\"x\",\"text\":\"t\",\"metadata\":{},\"reason\":\"exact_duplicate\",\"value\":null,\"value_text\":\"y\",\"step\":\"exact_dedup\"}\n"
        );
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
