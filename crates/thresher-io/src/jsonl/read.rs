//! Reading one JSONL line into a document.
//!
//! Most lines have the plain `{"id": "..", "text": "..", "metadata": {..}}` layout; a hand-written
//! parser reads those in one pass, unescaping the strings straight into the document's `String`s
//! (`parse_common`); a text in a shared buffer whose escapes are the canonical ones is only
//! checked, and left escaped in the buffer as the document's [`RawText`] (in [`JsonString`]), for
//! the document to unescape if a step reads it and for the writer to copy. Anything it is not
//! sure of (other fields, repeated fields, a non-string id, odd escapes, broken JSON) goes to the
//! general serde_json path, which also makes every error message.

use std::borrow::Cow;
use std::fmt;
use std::ops::Range;
use std::sync::Arc;

use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};
use thresher_core::{Document, InputBuf, RawText, SourcePos};

use super::scan::{read_string, scan_string};
use super::JsonString;
use crate::options::{ReadOptions, Utf8Policy};
use crate::record::{Record, RecordError};

/// Parses one JSONL line (without its newline) read at `source`.
///
/// Errors are records, never panics: invalid UTF-8 (unless the policy replaces it), broken JSON,
/// a line that is not an object, a missing `text` field, a `text` that is not a string.
pub fn parse_jsonl_line(line: &[u8], source: SourcePos, opts: &ReadOptions) -> Record {
    parse_line(line, None, source, opts)
}

/// [`parse_jsonl_line`] for the line `buf[range]` of a shared buffer. The result is the same;
/// in addition, when the text's escapes in the line are exactly the ones thresher's writer
/// produces, the document is made from those bytes ([`Document::from_raw_text`]): the text is
/// unescaped only if a step reads it, and an unedited text is written back as these bytes.
pub fn parse_jsonl_line_shared(
    buf: &Arc<InputBuf>,
    range: Range<usize>,
    source: SourcePos,
    opts: &ReadOptions,
) -> Record {
    let start = range.start;
    parse_line(&buf[range], Some((buf, start)), source, opts)
}

fn parse_line(
    line: &[u8],
    shared: Option<(&Arc<InputBuf>, usize)>,
    source: SourcePos,
    opts: &ReadOptions,
) -> Record {
    // A line of the common layout in a shared buffer is read without checking its UTF-8 first:
    // `parse_common` checks each part as it reads it (the text in the same pass that finds its
    // end), and gives up on anything invalid, which the paths below then report.
    if let Some((buf, at)) = shared {
        if let Some(doc) = parse_common(line, None, opts, true)
            .and_then(|c| common_doc(c, Some((buf, at)), source.clone()))
        {
            return Record::Doc(doc);
        }
    }
    // simdutf8 checks long lines several times faster than the standard library; it does not
    // say where a line is broken, so the standard library is asked again for the message.
    let checked = match simdutf8::basic::from_utf8(line) {
        Ok(s) => Ok(s),
        Err(_) => std::str::from_utf8(line),
    };
    let (text, lossy): (Cow<str>, bool) = match checked {
        Ok(s) => {
            // (A shared line was tried above: this one is not of the common layout.)
            if shared.is_none() {
                if let Some(doc) = parse_common(s.as_bytes(), Some(s), opts, false)
                    .and_then(|c| common_doc(c, None, source.clone()))
                {
                    return Record::Doc(doc);
                }
            }
            (Cow::Borrowed(s), false)
        }
        Err(e) => match opts.invalid_utf8 {
            Utf8Policy::Error => {
                return Record::Error(RecordError {
                    source,
                    message: format!("invalid UTF-8 at byte {} of the line", e.valid_up_to()),
                    id: String::new(),
                })
            }
            Utf8Policy::Replace => (String::from_utf8_lossy(line), true),
        },
    };
    parse_general(&text, lossy, source, opts)
}

/// The document of a record read by [`parse_common`]. `None` for a text left escaped without
/// a shared buffer to keep it in (not made: `parse_common` leaves a text escaped only when
/// asked to, for a shared line).
fn common_doc(
    c: Common,
    shared: Option<(&Arc<InputBuf>, usize)>,
    source: SourcePos,
) -> Option<Document> {
    let id =
        c.id.unwrap_or_else(|| format!("{}:{}", source.file, source.line));
    let mut doc = match (c.text, shared) {
        (TextField::Escaped(raw), Some((buf, at))) => Document::from_raw_text(
            id,
            RawText::new(buf.clone(), at + raw.start..at + raw.end, &JsonString),
        ),
        (TextField::Text(text, raw), shared) => {
            let mut doc = Document::new(id, text);
            if let (Some(raw), Some((buf, at))) = (raw, shared) {
                doc.set_raw_text(RawText::new(
                    buf.clone(),
                    at + raw.start..at + raw.end,
                    &JsonString,
                ));
            }
            doc
        }
        (TextField::Escaped(_), None) => return None,
    };
    doc.source = source;
    doc.metadata = c.metadata;
    Some(doc)
}

/// The general path: serde_json with the configured field names. `lossy` says the line was
/// decoded with replacement characters.
fn parse_general(text: &str, lossy: bool, source: SourcePos, opts: &ReadOptions) -> Record {
    let err = |message: String, id: String| {
        Record::Error(RecordError {
            source: source.clone(),
            message,
            id,
        })
    };
    // From a `&str`, which is already valid UTF-8: serde_json does not check each string again.
    let mut de = serde_json::Deserializer::from_str(text);
    let parsed = match (RecordSeed { opts }).deserialize(&mut de) {
        Ok(p) => p,
        Err(e) => return err(format!("broken JSON: {e}"), String::new()),
    };
    if let Err(e) = de.end() {
        return err(format!("broken JSON: {e}"), String::new());
    }
    finish(parsed, lossy, source, opts)
}

/// A record from any serde map (a Python dict through `pythonize`, say) read with the JSONL
/// reader's field rules: the document, or error, that a line holding the same fields gives.
/// A value that is not a map, or that cannot be read, is an error record.
pub fn record_from_map<'de, D: serde::Deserializer<'de>>(
    d: D,
    source: SourcePos,
    opts: &ReadOptions,
) -> Record {
    match (RecordSeed { opts }).deserialize(d) {
        Ok(p) => finish(p, false, source, opts),
        Err(e) => Record::Error(RecordError {
            source,
            message: format!("not a record: {e}"),
            id: String::new(),
        }),
    }
}

/// The document (or error) of a record's parsed fields.
fn finish(parsed: Parsed, lossy: bool, source: SourcePos, opts: &ReadOptions) -> Record {
    let err = |message: String, id: String| {
        Record::Error(RecordError {
            source: source.clone(),
            message,
            id,
        })
    };
    let id = match parsed.id {
        Some(Value::String(s)) => s,
        Some(Value::Null) | None => format!("{}:{}", source.file, source.line),
        Some(v) => v.to_string(),
    };
    let text = match parsed.text {
        Some(Value::String(s)) => s,
        Some(v) => {
            return err(
                format!(
                    "field `{}` is {}, not a string",
                    opts.text_field,
                    kind_of(&v)
                ),
                id,
            )
        }
        None => return err(format!("no `{}` field", opts.text_field), id),
    };
    let mut doc = Document::new(id, text);
    doc.source = source;
    doc.metadata = parsed.metadata;
    if lossy {
        doc.annotate("reader", "lossy_utf8", true);
    }
    Record::Doc(doc)
}

/// A record read by [`parse_common`].
struct Common {
    id: Option<String>,
    text: TextField,
    metadata: Map<String, Value>,
}

/// The text field of a [`Common`] record.
enum TextField {
    /// Unescaped, and where its escaped bytes are in the line if they are canonical (as
    /// [`super::write_json_str`], and serde_json, write the text).
    Text(String, Option<Range<usize>>),
    /// Left escaped (checked, canonical): where its bytes are in the line.
    Escaped(Range<usize>),
}

/// JSON whitespace, as serde_json skips it.
#[inline]
fn skip_ws(b: &[u8], mut i: usize) -> usize {
    while let Some(b' ' | b'\n' | b'\t' | b'\r') = b.get(i) {
        i += 1;
    }
    i
}

/// Reads an object made only of the id (a string), text (a string) and metadata (an object)
/// fields, each at most once, in any order, with keys that need no unescaping. Returns `None`
/// for anything else, and for anything serde_json would reject: the caller then takes the
/// general path, which gives the same document or the error. On the lines it accepts, the
/// result is what [`parse_general`] gives.
///
/// `whole` is the line as a `&str` when its UTF-8 is already checked. Without it, each part is
/// checked as it is read (keys and punctuation must be the expected ASCII, the strings are
/// checked by [`scan_string`], the metadata by serde_json), so a line it accepts is valid UTF-8.
///
/// With `lazy`, a text whose escapes are canonical is only checked, not unescaped: the document
/// keeps the escaped bytes and unescapes them if a step asks for the text.
fn parse_common(b: &[u8], whole: Option<&str>, opts: &ReadOptions, lazy: bool) -> Option<Common> {
    // `b[start..end]` as a `&str`; the bounds are at ASCII bytes (quotes, braces).
    let sub = |start: usize, end: usize| match whole {
        Some(s) => s.get(start..end),
        None => std::str::from_utf8(&b[start..end]).ok(),
    };
    let mut i = skip_ws(b, 0);
    if b.get(i) != Some(&b'{') {
        return None;
    }
    i = skip_ws(b, i + 1);
    let (mut id, mut text, mut metadata) = (None, None, None);
    loop {
        if b.get(i) != Some(&b'"') {
            return None;
        }
        let key_start = i + 1;
        let key_len = b[key_start..]
            .iter()
            .position(|&c| c == b'"' || c == b'\\' || c < 0x20)?;
        let key_end = key_start + key_len;
        if b[key_end] != b'"' {
            return None;
        }
        // Compared as bytes: a key equal to a (valid UTF-8) field name is valid UTF-8 itself.
        let key = &b[key_start..key_end];
        i = skip_ws(b, key_end + 1);
        if b.get(i) != Some(&b':') {
            return None;
        }
        i = skip_ws(b, i + 1);
        // The same precedence as the general path when field names coincide.
        if key == opts.text_field.as_bytes() {
            if text.is_some() || b.get(i) != Some(&b'"') {
                return None;
            }
            let (field, end) = match whole {
                Some(line) if !lazy => {
                    let (s, end, canonical) = read_string(line, i + 1, b.len() - i)?;
                    (TextField::Text(s, canonical.then_some(i + 1..end)), end)
                }
                _ => {
                    // One pass finds the end and checks the escapes and the UTF-8.
                    let (end, canonical) = scan_string(b, i + 1)?;
                    if canonical && lazy {
                        (TextField::Escaped(i + 1..end), end)
                    } else {
                        let (s, _, _) = read_string(sub(i, end + 1)?, 1, end - i)?;
                        (TextField::Text(s, None), end)
                    }
                }
            };
            text = Some(field);
            i = end + 1;
        } else if key == opts.id_field.as_bytes() {
            if id.is_some() || b.get(i) != Some(&b'"') {
                return None;
            }
            let (s, end) = match whole {
                Some(line) => {
                    let (s, end, _) = read_string(line, i + 1, 32)?;
                    (s, end)
                }
                None => {
                    let (end, _) = scan_string(b, i + 1)?;
                    (read_string(sub(i, end + 1)?, 1, 32)?.0, end)
                }
            };
            id = Some(s);
            i = end + 1;
        } else if key == opts.metadata_field.as_bytes() {
            if metadata.is_some() || b.get(i) != Some(&b'{') {
                return None;
            }
            // From bytes, serde_json checks the UTF-8 of each string it reads (and refuses a
            // non-ASCII byte anywhere else); from a checked `&str` it does not check again.
            let parsed = match whole {
                Some(s) => {
                    let mut values = serde_json::Deserializer::from_str(&s[i..])
                        .into_iter::<Map<String, Value>>();
                    let m = values.next()?.ok()?;
                    (m, values.byte_offset())
                }
                None => {
                    let mut values =
                        serde_json::Deserializer::from_slice(&b[i..])
                            .into_iter::<Map<String, Value>>();
                    let m = values.next()?.ok()?;
                    (m, values.byte_offset())
                }
            };
            metadata = Some(parsed.0);
            i += parsed.1;
        } else {
            return None;
        }
        i = skip_ws(b, i);
        match b.get(i) {
            Some(b',') => i = skip_ws(b, i + 1),
            Some(b'}') => break,
            _ => return None,
        }
    }
    if skip_ws(b, i + 1) != b.len() {
        return None;
    }
    Some(Common {
        id,
        text: text?,
        metadata: metadata.unwrap_or_default(),
    })
}

fn kind_of(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

struct Parsed {
    id: Option<Value>,
    text: Option<Value>,
    metadata: Map<String, Value>,
}

/// Deserializes a record in one pass with the configured field names, without building a
/// `Value` for the whole line.
struct RecordSeed<'o> {
    opts: &'o ReadOptions,
}

impl<'de> DeserializeSeed<'de> for RecordSeed<'_> {
    type Value = Parsed;
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<Parsed, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for RecordSeed<'_> {
    type Value = Parsed;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a JSON object")
    }

    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Parsed, A::Error> {
        let mut p = Parsed {
            id: None,
            text: None,
            metadata: Map::new(),
        };
        let mut extra: Vec<(String, Value)> = Vec::new();
        while let Some(key) = map.next_key::<String>()? {
            if key == self.opts.text_field {
                p.text = Some(map.next_value()?);
            } else if key == self.opts.id_field {
                p.id = Some(map.next_value()?);
            } else if key == self.opts.metadata_field {
                match map.next_value::<Value>()? {
                    Value::Object(m) => {
                        // Fields seen before the metadata object were stashed in `extra`.
                        let stashed = std::mem::replace(&mut p.metadata, m);
                        for (k, v) in stashed {
                            p.metadata.entry(k).or_insert(v);
                        }
                    }
                    Value::Null => {}
                    other => extra.push((key, other)),
                }
            } else if key.is_empty() {
                map.next_value::<IgnoredAny>()?;
            } else {
                let v: Value = map.next_value()?;
                p.metadata.entry(key).or_insert(v);
            }
        }
        for (k, v) in extra {
            p.metadata.entry(k).or_insert(v);
        }
        Ok(p)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(line: &str) -> Record {
        parse_jsonl_line(
            line.as_bytes(),
            SourcePos::default(),
            &ReadOptions::default(),
        )
    }

    fn error_of(r: Record) -> String {
        match r {
            Record::Error(e) => e.message,
            other => panic!("expected an error, got {other:?}"),
        }
    }

    /// `record_from_map` over a map's fields reads them as the line reader reads the line.
    #[test]
    fn record_from_map_reads_as_the_line_reader() {
        let opts = ReadOptions::default();
        let source = SourcePos {
            file: "batch".into(),
            line: 3,
            byte_offset: 0,
        };
        for line in [
            r#"{"id": "a", "text": "hi", "metadata": {"k": 1}, "url": "u"}"#,
            r#"{"id": 7, "text": "hi", "k": 2, "metadata": {"k": 1}}"#,
            r#"{"text": "hi", "metadata": 5}"#,
            r#"{"text": "hi", "metadata": null, "": 1}"#,
            r#"{"id": "a", "text": 5}"#,
            r#"{"id": "a"}"#,
        ] {
            let fields: Value = serde_json::from_str(line).unwrap();
            let ours = record_from_map(fields, source.clone(), &opts);
            let reader = parse_jsonl_line(line.as_bytes(), source.clone(), &opts);
            match (ours, reader) {
                (Record::Doc(a), Record::Doc(b)) => assert_eq!(
                    (&a.id, a.text(), &a.metadata),
                    (&b.id, b.text(), &b.metadata)
                ),
                (Record::Error(a), Record::Error(b)) => assert_eq!(a, b),
                (a, b) => panic!("{line}: {a:?} vs {b:?}"),
            }
        }
        let not_a_map = record_from_map(Value::from(5), source, &opts);
        assert!(matches!(not_a_map, Record::Error(e) if e.message.starts_with("not a record")));
    }

    #[test]
    fn reads_datatrove_layout_and_keeps_other_fields() {
        let r = parse(r#"{"id": 7, "text": "hé\n", "metadata": {"url": "u"}, "source": "cc"}"#);
        let Record::Doc(d) = r else { panic!() };
        assert_eq!(d.id, "7");
        assert_eq!(d.text(), "hé\n");
        assert_eq!(d.metadata["url"], "u");
        assert_eq!(d.metadata["source"], "cc");
    }

    #[test]
    fn bad_records_are_errors() {
        assert!(error_of(parse(r#"{"id": "a", "text": "x"#)).starts_with("broken JSON"));
        assert!(error_of(parse(r#"[1, 2]"#)).starts_with("broken JSON"));
        assert!(error_of(parse(r#"{"id": "a"}"#)).contains("no `text` field"));
        assert!(error_of(parse(r#"{"id": "a", "text": 3}"#)).contains("a number, not a string"));
        assert!(error_of(parse(r#"{"text": "a"} trailing"#)).starts_with("broken JSON"));
        let bad = b"{\"text\": \"caf\xe9\"}";
        let r = parse_jsonl_line(bad, SourcePos::default(), &ReadOptions::default());
        assert!(error_of(r).contains("invalid UTF-8 at byte 13"));
    }

    #[test]
    fn lossy_policy_replaces_and_flags() {
        let opts = ReadOptions {
            invalid_utf8: Utf8Policy::Replace,
            ..Default::default()
        };
        let r = parse_jsonl_line(b"{\"text\": \"caf\xe9\"}", SourcePos::default(), &opts);
        let Record::Doc(d) = r else { panic!() };
        assert_eq!(d.text(), "caf\u{fffd}");
        assert_eq!(d.annotations["reader"]["lossy_utf8"], true);
    }

    /// Every line through the shared (fast when possible) path gives the same record as the
    /// general serde path; a kept escaped text is exactly how serde_json writes the text.
    fn check_same(line: &str, opts: &ReadOptions) -> bool {
        let buf = Arc::new(InputBuf::owned(format!("xx{line}yy").into_bytes()));
        let src = SourcePos {
            file: Arc::from("f"),
            line: 3,
            byte_offset: 9,
        };
        let fast = parse_jsonl_line_shared(&buf, 2..2 + line.len(), src.clone(), opts);
        let general = parse_general(line, false, src, opts);
        assert_eq!(format!("{fast:?}"), format!("{general:?}"), "{line}");
        if let Record::Doc(d) = &fast {
            if let Some(raw) = d.raw_text().map(RawText::bytes) {
                let want = serde_json::to_string(d.text()).unwrap();
                assert_eq!(raw, &want.as_bytes()[1..want.len() - 1], "{line}");
                return true;
            }
        }
        false
    }

    #[test]
    fn common_layout_parses_as_serde_does() {
        let opts = ReadOptions::default();
        let pieces = [
            "a",
            "plain text longer than sixteen bytes",
            "é",
            "😀",
            "\\n",
            "\\t",
            "\\r",
            "\\b",
            "\\f",
            "\\\"",
            "\\\\",
            "\\/",
            "\\u0001",
            "\\u001f",
            "\\u001F",
            "\\u0008",
            "\\u000a",
            "\\u00e9",
            "\\u0041",
            "\\ud83d\\ude00",
            "\\ud800",
            "\\udc00x",
            "\\u12",
            "\\x",
            "\t",
            "\u{1}",
            "\u{7f}",
            "\u{2028}",
            " ",
            "\\u007f",
            "\\",
            "\"",
        ];
        // Run by hand (not the `proptest!` macro) so that a count over all cases can be checked.
        use proptest::prelude::*;
        use proptest::test_runner::{Config, TestRunner};
        let line = (
            0..8u8,
            prop::collection::vec(prop::sample::select(pieces.to_vec()), 0..12),
        )
            .prop_map(|(layout, pieces)| {
                let body = pieces.concat();
                match layout {
                    0 => format!(
                        r#"{{"id": "r{layout}", "text": "{body}", "metadata": {{"u": "x", "n": [1, {{}}]}}}}"#
                    ),
                    1 => format!(r#"{{"text":"{body}","id":"{body}"}}"#),
                    2 => format!(r#" {{ "metadata" : {{}} , "text" : "{body}" }} "#),
                    3 => format!(r#"{{"id": "a", "text": "{body}", "text": "b"}}"#),
                    4 => format!(r#"{{"id": 5, "text": "{body}", "metadata": null}}"#),
                    5 => format!(
                        r#"{{"id": "a", "text": "{body}", "source": "cc", "metadata": {{"k": 1}}}}"#
                    ),
                    6 => format!(r#"{{"id": "a", "text": "{body}"}} x"#),
                    _ => format!(
                        r#"{{"id": "a", "te\u0078t": "{body}", "metadata": {{"k": 1,}}}}"#
                    ),
                }
            });
        let passed_through = std::cell::Cell::new(0);
        let config = Config {
            cases: 4000,
            source_file: Some(file!()),
            ..Config::default()
        };
        TestRunner::new(config)
            .run(&line, |line| {
                if check_same(&line, &opts) {
                    passed_through.set(passed_through.get() + 1);
                }
                Ok(())
            })
            .unwrap();
        // The canonical cases do keep their escaped text (the test would be void otherwise).
        let passed_through = passed_through.get();
        assert!(passed_through > 150, "{passed_through}");
        for line in [
            r#"{"id": "a", "text": "x\ny"}"#,
            r#"{"id": "a", "text": "x", "metadata": {"a": 1}"#,
            r#"{"id": "a", "text": "x", "metadata": {"a": 1}},"#,
            r#"{"id": "a", "text": "x", "metadata": [1]}"#,
            r#"{"id": "a", "text": "x",}"#,
            r#"{"id": "a", "text": "x" "metadata": {}}"#,
            r#"{"id": "a"}"#,
            r#"{}"#,
            r#"{"text": 3}"#,
            r#"{"text": "a", "metadata": {"k": "v", "k": "w"}}"#,
            "{\"text\": \"a\"}\r\t ",
            r#"["text"]"#,
            "",
        ] {
            check_same(line, &opts);
        }
        let custom = ReadOptions {
            id_field: "text".into(),
            metadata_field: "text".into(),
            ..Default::default()
        };
        check_same(r#"{"text": "a", "metadata": {"k": 1}}"#, &custom);
        assert!(check_same(
            r#"{"id": "i", "text": "a\"\\\n\u0001é", "metadata": {}}"#,
            &opts
        ));
        assert!(!check_same(
            r#"{"id": "i", "text": "a\/", "metadata": {}}"#,
            &opts
        ));
    }

    /// A shared line is read without a UTF-8 check of the whole line first: a broken byte
    /// anywhere (key, id, text, metadata, punctuation, whitespace) must still make the error
    /// the checked path makes, and a valid non-ASCII character anywhere the same record.
    #[test]
    fn shared_path_checks_utf8_everywhere() {
        let opts = ReadOptions::default();
        let lines = [
            r#"{"id": "doc-1", "text": "Plain words, then \n more words: caf\u00e9 and some padding to pass 32 bytes.", "metadata": {"url": "http://x/y", "n": [1, 2]}}"#,
            r#"{"text": "Ünïcödé текст “quoted” 漢字 and ASCII long enough to need the wide scan step", "id": "é"}"#,
        ];
        let src = SourcePos::default();
        for line in lines {
            let line = line.as_bytes();
            for at in 0..line.len() {
                for bad in [
                    &[0xFFu8][..],
                    &[0xC3],
                    &[0x80],
                    &[0xE2, 0x80],
                    &[0xED, 0xA0, 0x80],
                ] {
                    let mut broken = line[..at].to_vec();
                    broken.extend_from_slice(bad);
                    broken.extend_from_slice(&line[at..]);
                    let buf = Arc::new(InputBuf::owned(broken.clone()));
                    let r = parse_jsonl_line_shared(&buf, 0..broken.len(), src.clone(), &opts);
                    let want = std::str::from_utf8(&broken).unwrap_err().valid_up_to();
                    match r {
                        Record::Error(e) => assert_eq!(
                            e.message,
                            format!("invalid UTF-8 at byte {want} of the line"),
                            "{at} {bad:?}"
                        ),
                        other => panic!("accepted broken UTF-8 at {at} {bad:?}: {other:?}"),
                    }
                }
                // A valid character (not at a quote or escape) keeps the record as the general
                // path reads it.
                if let Ok(s) = std::str::from_utf8(&line[..at]) {
                    let t = format!("{s}é{}", std::str::from_utf8(&line[at..]).unwrap());
                    check_same(&t, &opts);
                }
            }
        }
    }

    #[test]
    fn field_names_are_configurable() {
        let opts = ReadOptions {
            id_field: "doc_id".into(),
            text_field: "content".into(),
            ..Default::default()
        };
        let r = parse_jsonl_line(
            br#"{"doc_id": "x", "content": "body", "text": "other"}"#,
            SourcePos::default(),
            &opts,
        );
        let Record::Doc(d) = r else { panic!() };
        assert_eq!((d.id.as_str(), d.text()), ("x", "body"));
        assert_eq!(d.metadata["text"], "other");
    }
}
