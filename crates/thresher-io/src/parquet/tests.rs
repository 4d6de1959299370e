//! Parquet files made with the arrow crate itself, read back; shards written and checked.

use std::path::Path;
use std::sync::Arc;

use arrow_array::builder::{ListBuilder, StringBuilder, StringDictionaryBuilder};
use arrow_array::types::Int32Type;
use arrow_array::{
    Array, ArrayRef, Float64Array, Int64Array, LargeStringArray, RecordBatch, StringArray,
    StringViewArray, StructArray, TimestampMicrosecondArray,
};
use arrow_schema::{DataType, Field, Schema};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use serde_json::json;

use super::*;
use crate::outdir::OutDir;
use crate::record::Record;
use crate::{OutputCompression, ReadOptions, WriteOptions};

/// Writes `batch` to `path` as Parquet, `rows_per_group` rows per row group.
fn write_parquet(path: &Path, batch: &RecordBatch, rows_per_group: usize) {
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(rows_per_group))
        .build();
    let f = std::fs::File::create(path).unwrap();
    let mut w = ArrowWriter::try_new(f, batch.schema(), Some(props)).unwrap();
    w.write(batch).unwrap();
    w.close().unwrap();
}

fn read(path: &Path, opts: ReadOptions) -> Vec<Record> {
    let f = std::fs::File::open(path).unwrap();
    let name: Arc<str> = Arc::from(path.to_string_lossy().as_ref());
    ParquetReader::new(f, name, opts).collect()
}

/// The FineWeb layout, three row groups.
fn fineweb_batch(n: usize) -> RecordBatch {
    let s = |f: &dyn Fn(usize) -> String| -> ArrayRef {
        Arc::new(StringArray::from((0..n).map(f).collect::<Vec<_>>()))
    };
    RecordBatch::try_from_iter(vec![
        (
            "text",
            s(&|i| format!("Document number {i}.\nSecond line.")),
        ),
        ("id", s(&|i| format!("<urn:uuid:{i:04}>"))),
        ("dump", s(&|_| "CC-MAIN-2024-10".to_string())),
        ("url", s(&|i| format!("https://example.com/{i}"))),
        ("date", s(&|_| "2024-02-20T12:00:00Z".to_string())),
        (
            "file_path",
            s(&|_| "s3://commoncrawl/x.warc.gz".to_string()),
        ),
        ("language", s(&|_| "en".to_string())),
        (
            "language_score",
            Arc::new(Float64Array::from(
                (0..n).map(|i| 0.5 + i as f64 / 1000.0).collect::<Vec<_>>(),
            )) as ArrayRef,
        ),
        (
            "token_count",
            Arc::new(Int64Array::from(
                (0..n).map(|i| i as i64 * 3).collect::<Vec<_>>(),
            )),
        ),
    ])
    .unwrap()
}

fn docs(records: &[Record]) -> Vec<&thresher_core::Document> {
    records
        .iter()
        .filter_map(|r| match r {
            Record::Doc(d) => Some(d),
            _ => None,
        })
        .collect()
}

#[test]
fn fineweb_layout_reads_with_no_configuration() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("000_00000.parquet");
    write_parquet(&p, &fineweb_batch(25), 10);
    let recs = read(&p, ReadOptions::default());
    assert_eq!(recs.len(), 25);
    let docs = docs(&recs);
    assert_eq!(docs.len(), 25);
    let d7 = docs[7];
    assert_eq!(d7.id, "<urn:uuid:0007>");
    assert_eq!(d7.text(), "Document number 7.\nSecond line.");
    assert_eq!(d7.source.line, 8, "1-based row number in the file");
    // Row 23 is in the third row group: rows keep counting across groups.
    assert_eq!(docs[23].source.line, 24);
    let m = &d7.metadata;
    assert_eq!(m["dump"], json!("CC-MAIN-2024-10"));
    assert_eq!(m["url"], json!("https://example.com/7"));
    assert_eq!(m["language_score"], json!(0.507));
    assert!(m["language_score"].is_f64());
    assert_eq!(m["token_count"], json!(21));
    assert!(m["token_count"].is_i64());
    let keys: Vec<&str> = m.keys().map(String::as_str).collect();
    for k in [
        "dump",
        "url",
        "date",
        "file_path",
        "language",
        "language_score",
        "token_count",
    ] {
        assert!(keys.contains(&k), "{keys:?}");
    }
    assert!(!keys.contains(&"text") && !keys.contains(&"id"));
}

#[test]
fn string_kinds_nulls_nested_and_timestamps() {
    let d = tempfile::tempdir().unwrap();
    let mut dict = StringDictionaryBuilder::<Int32Type>::new();
    for v in ["en", "fr", "en", "en"] {
        dict.append_value(v);
    }
    let mut tags = ListBuilder::new(StringBuilder::new());
    for row in [vec!["a", "b"], vec![], vec!["c"], vec!["d"]] {
        for t in row {
            tags.values().append_value(t);
        }
        tags.append(true);
    }
    let meta = StructArray::from(vec![
        (
            Arc::new(Field::new("source", DataType::Utf8, true)),
            Arc::new(StringArray::from(vec![
                Some("cc"),
                None,
                Some("wiki"),
                Some("cc"),
            ])) as ArrayRef,
        ),
        (
            Arc::new(Field::new("n", DataType::Int64, true)),
            Arc::new(Int64Array::from(vec![1, 2, 3, 4])) as ArrayRef,
        ),
    ]);
    let ts =
        TimestampMicrosecondArray::from(vec![Some(1_700_000_000_500_000), None, Some(0), Some(0)])
            .with_timezone("UTC");
    let texts: Vec<Option<&str>> = vec![Some("one"), Some("two"), None, Some("four")];
    for (kind, text) in [
        (
            "large",
            Arc::new(LargeStringArray::from(texts.clone())) as ArrayRef,
        ),
        (
            "view",
            Arc::new(StringViewArray::from(texts.clone())) as ArrayRef,
        ),
        (
            "plain",
            Arc::new(StringArray::from(texts.clone())) as ArrayRef,
        ),
    ] {
        let batch = RecordBatch::try_from_iter(vec![
            ("content", text),
            (
                "id",
                Arc::new(Int64Array::from(vec![Some(10), None, Some(12), Some(13)])) as ArrayRef,
            ),
            ("lang", Arc::new(dict.finish_cloned()) as ArrayRef),
            ("tags", Arc::new(tags.finish_cloned()) as ArrayRef),
            ("metadata", Arc::new(meta.clone()) as ArrayRef),
            ("crawled", Arc::new(ts.clone()) as ArrayRef),
        ])
        .unwrap();
        let p = d.path().join(format!("{kind}.parquet"));
        write_parquet(&p, &batch, 3);
        let opts = ReadOptions {
            text_field: "content".into(),
            ..ReadOptions::default()
        };
        let recs = read(&p, opts);
        assert_eq!(recs.len(), 4, "{kind}");
        let Record::Doc(first) = &recs[0] else {
            panic!("{kind}: {:?}", recs[0])
        };
        assert_eq!(first.id, "10", "{kind}: number ids become strings");
        assert_eq!(first.text(), "one");
        let m = &first.metadata;
        assert_eq!(m["lang"], json!("en"));
        assert_eq!(m["tags"], json!(["a", "b"]));
        assert_eq!(m["source"], json!("cc"), "struct metadata is flattened");
        assert_eq!(m["n"], json!(1));
        assert_eq!(m["crawled"], json!("2023-11-14T22:13:20.500Z"));
        let Record::Doc(second) = &recs[1] else {
            panic!()
        };
        assert!(
            second.id.ends_with(&format!("{kind}.parquet:2")),
            "{}",
            second.id
        );
        assert_eq!(second.metadata["lang"], json!("fr"));
        assert_eq!(second.metadata["source"], json!(null));
        assert_eq!(second.metadata["crawled"], json!(null));
        assert_eq!(second.metadata["tags"], json!([]));
        // A null text is an error record at its row, with the id it has.
        let Record::Error(e) = &recs[2] else {
            panic!("{:?}", recs[2])
        };
        assert_eq!(e.source.line, 3);
        assert_eq!(e.id, "12");
        assert_eq!(e.message, "row group 0, row 3: `content` is null");
        assert!(matches!(&recs[3], Record::Doc(d) if d.text() == "four"));
    }
}

#[test]
fn projection_reads_only_the_named_columns() {
    let d = tempfile::tempdir().unwrap();
    let p = d.path().join("f.parquet");
    write_parquet(&p, &fineweb_batch(5), 100);
    let opts = ReadOptions {
        columns: Some(vec!["url".into(), "token_count".into()]),
        ..ReadOptions::default()
    };
    let recs = read(&p, opts);
    let docs = docs(&recs);
    let keys: Vec<&String> = docs[0].metadata.keys().collect();
    assert_eq!(keys.len(), 2, "{keys:?}");
    assert_eq!(docs[0].id, "<urn:uuid:0000>");
}

#[test]
fn broken_files_are_error_records_and_reading_goes_on() {
    let d = tempfile::tempdir().unwrap();
    // Not Parquet at all; no text column; empty.
    let junk = d.path().join("junk.parquet");
    std::fs::write(&junk, b"this is not parquet at all, just some bytes").unwrap();
    let recs = read(&junk, ReadOptions::default());
    assert_eq!(recs.len(), 1);
    assert!(
        matches!(&recs[0], Record::Error(e) if e.message.contains("not a readable Parquet") && e.source.line == 0)
    );
    let notext = d.path().join("notext.parquet");
    let b = RecordBatch::try_from_iter(vec![(
        "body",
        Arc::new(StringArray::from(vec!["x"])) as ArrayRef,
    )])
    .unwrap();
    write_parquet(&notext, &b, 10);
    let recs = read(&notext, ReadOptions::default());
    assert!(
        matches!(&recs[..], [Record::Error(e)] if e.message.contains("no `text` column (columns: body)"))
    );

    // A file whose second row group's pages are damaged: rows of the first and third groups are
    // documents, the second is one error record naming the row group and its first row.
    let p = d.path().join("damaged.parquet");
    let n = 30;
    let batch = RecordBatch::try_from_iter(vec![(
        "text",
        Arc::new(StringArray::from(
            (0..n)
                .map(|i| format!("text of row {i} {}", "pad ".repeat(40)))
                .collect::<Vec<_>>(),
        )) as ArrayRef,
    )])
    .unwrap();
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(10))
        .set_dictionary_enabled(false)
        .set_compression(parquet::basic::Compression::SNAPPY)
        .build();
    let mut w = ArrowWriter::try_new(
        std::fs::File::create(&p).unwrap(),
        batch.schema(),
        Some(props),
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let meta = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&p).unwrap())
        .unwrap()
        .metadata()
        .clone();
    let col = meta.row_group(1).column(0);
    let (start, len) = col.byte_range();
    let mut bytes = std::fs::read(&p).unwrap();
    // Garbles the middle of the chunk (page header and compressed data).
    for b in &mut bytes[start as usize + 2..(start + len) as usize - 2] {
        *b = b.wrapping_mul(31).wrapping_add(7);
    }
    std::fs::write(&p, &bytes).unwrap();
    let recs = read(&p, ReadOptions::default());
    let docs_n = docs(&recs).len();
    let errors: Vec<_> = recs
        .iter()
        .filter_map(|r| match r {
            Record::Error(e) => Some(e),
            _ => None,
        })
        .collect();
    assert_eq!(docs_n, 20, "{errors:?}");
    assert_eq!(errors.len(), 1, "{errors:?}");
    assert_eq!(errors[0].source.line, 11);
    assert!(
        errors[0].message.starts_with("row group 1: rows 11..20"),
        "{}",
        errors[0].message
    );
    assert!(
        errors[0].message.contains("10 rows lost"),
        "{}",
        errors[0].message
    );
    // The documents after the damage are the third group's.
    assert!(matches!(recs.last(), Some(Record::Doc(d)) if d.source.line == 30));

    // Cut short: the footer is gone.
    let cut = d.path().join("cut.parquet");
    std::fs::write(&cut, &bytes[..bytes.len() / 2]).unwrap();
    let recs = read(&cut, ReadOptions::default());
    assert_eq!(recs.len(), 1);
}

fn kept_line(i: usize) -> String {
    format!(
        "{}\n",
        json!({"id": format!("d{i}"), "text": format!("text {i} é \"q\"\n"), "metadata": {"url": format!("u{i}"), "n": i}})
    )
}

fn write_shards(
    dir: &Path,
    opts: &WriteOptions,
    resume: bool,
    lines: &[String],
    chunk: usize,
) -> Vec<(std::path::PathBuf, u64)> {
    let out = OutDir::open(dir).unwrap();
    let mut w = ParquetShardedWriter::new(
        &out,
        Category::Kept,
        opts.clone(),
        OutputCompression::Zstd,
        resume,
    )
    .unwrap();
    for run in lines.chunks(chunk) {
        let pieces: Vec<&[u8]> = run.iter().map(|l| l.as_bytes()).collect();
        let ends: Vec<usize> = (1..=pieces.len()).collect();
        w.write_pieces(&pieces, &ends).unwrap();
    }
    w.finish().unwrap()
}

#[test]
fn shards_are_deterministic_and_resume_checks_them() {
    let lines: Vec<String> = (0..25_000).map(kept_line).collect();
    let opts = WriteOptions {
        shard_max_docs: 12_000,
        ..WriteOptions::default()
    };
    let a = tempfile::tempdir().unwrap();
    let b = tempfile::tempdir().unwrap();
    let sa = write_shards(a.path(), &opts, false, &lines, 1000);
    let sb = write_shards(b.path(), &opts, false, &lines, 333);
    assert_eq!(
        sa.iter().map(|s| s.1).collect::<Vec<_>>(),
        [12_000, 12_000, 1000]
    );
    for (x, y) in sa.iter().zip(&sb) {
        assert_eq!(
            std::fs::read(&x.0).unwrap(),
            std::fs::read(&y.0).unwrap(),
            "batch timing changed the bytes"
        );
    }
    // Read back: the fixed schema, and the values.
    let f = std::fs::File::open(&sa[0].0).unwrap();
    let r = ParquetRecordBatchReaderBuilder::try_new(f).unwrap();
    assert_eq!(
        r.metadata().num_row_groups(),
        2,
        "10,000 rows per row group"
    );
    assert_eq!(r.metadata().file_metadata().created_by(), Some("thresher"));
    let batches: Vec<RecordBatch> = r.build().unwrap().map(|b| b.unwrap()).collect();
    assert_eq!(batches[0].schema(), Category::Kept.schema());
    let text = batches[0]
        .column(1)
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    assert_eq!(text.value(3), "text 3 é \"q\"\n");
    let meta = batches[0]
        .column(2)
        .as_any()
        .downcast_ref::<StringArray>()
        .unwrap();
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(meta.value(3)).unwrap(),
        json!({"url": "u3", "n": 3})
    );
    assert!(batches[0].column(3).is_null(3));

    // Resume: the last shard lost, the others replayed and checked.
    std::fs::remove_file(&sa[2].0).unwrap();
    let again = write_shards(a.path(), &opts, true, &lines, 777);
    assert_eq!(again, sa);
    assert_eq!(
        std::fs::read(&sa[2].0).unwrap(),
        std::fs::read(&sb[2].0).unwrap()
    );
    // A changed replay is refused.
    let mut changed = lines.clone();
    changed[5] = kept_line(99_999);
    let out = OutDir::open(a.path()).unwrap();
    let mut w = ParquetShardedWriter::new(
        &out,
        Category::Kept,
        opts.clone(),
        OutputCompression::Zstd,
        true,
    )
    .unwrap();
    let e = changed
        .iter()
        .try_for_each(|l| w.write_line(l.as_bytes()))
        .and_then(|()| w.finish().map(drop))
        .unwrap_err();
    assert!(e.to_string().contains("differs"), "{e}");
}

#[test]
fn rejected_and_error_rows() {
    let d = tempfile::tempdir().unwrap();
    let out = OutDir::open(d.path()).unwrap();
    let mut w = ParquetShardedWriter::new(
        &out,
        Category::Rejected,
        WriteOptions::default(),
        OutputCompression::None,
        false,
    )
    .unwrap();
    w.write_line(br#"{"id":"a","text":"t","metadata":{},"reason":"too_short","value":3,"value_text":null,"step":"gopher_quality"}"#).unwrap();
    w.write_line(br#"{"id":"b","text":"","metadata":{"k":[1]},"reason":"duplicate","value":null,"value_text":"doc-1","step":"exact_dedup","annotations":{"s":{"k":1}}}"#).unwrap();
    assert!(
        w.write_line(br#"{"id":"c"}"#).is_err(),
        "a line of another shape is refused"
    );
    let shards = w.finish().unwrap();
    let f = std::fs::File::open(&shards[0].0).unwrap();
    let b = ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(b.num_rows(), 2);
    let value = b.column(4).as_any().downcast_ref::<Float64Array>().unwrap();
    assert_eq!(value.value(0), 3.0);
    assert!(value.is_null(1));
    let vt = b.column(5).as_any().downcast_ref::<StringArray>().unwrap();
    assert!(vt.is_null(0));
    assert_eq!(vt.value(1), "doc-1");

    let mut w = ParquetShardedWriter::new(
        &out,
        Category::Errors,
        WriteOptions::default(),
        OutputCompression::Zstd,
        false,
    )
    .unwrap();
    w.write_line(br#"{"id":"","file":"in/x.parquet","position":{"line":11,"byte":0},"error":"row group 1: broken"}"#).unwrap();
    let shards = w.finish().unwrap();
    let f = std::fs::File::open(&shards[0].0).unwrap();
    let b = ParquetRecordBatchReaderBuilder::try_new(f)
        .unwrap()
        .build()
        .unwrap()
        .next()
        .unwrap()
        .unwrap();
    assert_eq!(b.schema(), Category::Errors.schema());
    let line = b.column(2).as_any().downcast_ref::<Int64Array>().unwrap();
    assert_eq!(line.value(0), 11);
    assert!(b.column(5).is_null(0));
}

#[test]
fn schemas_are_documented_ones() {
    let names = |c: Category| -> Vec<String> {
        c.schema()
            .fields()
            .iter()
            .map(|f| f.name().clone())
            .collect()
    };
    assert_eq!(
        names(Category::Kept),
        ["id", "text", "metadata", "annotations"]
    );
    assert_eq!(
        names(Category::Rejected),
        [
            "id",
            "text",
            "metadata",
            "reason",
            "value",
            "value_text",
            "step",
            "annotations"
        ]
    );
    assert_eq!(
        names(Category::Errors),
        ["id", "file", "line", "byte", "error", "step"]
    );
    let _ = Schema::empty();
}

/// Documents of every shape a row is made from: escapes and control characters, non-ASCII,
/// empty and long texts, metadata and annotations or none, texts left escaped in an input
/// buffer (as the JSONL reader leaves them) or decoded.
fn shaped_docs() -> Vec<thresher_core::Document> {
    use thresher_core::{Document, InputBuf, RawText};
    let texts = [
        String::new(),
        "plain".to_string(),
        "quote\" back\\slash\n\ttab \u{1}\u{1f}\u{7f} é “ü” 😀".to_string(),
        format!("{}\n\"end\"", "word ".repeat(400)),
    ];
    let mut docs = Vec::new();
    for (i, t) in texts.iter().enumerate() {
        let mut d = Document::new(format!("id\"{i}\n"), t.as_str());
        d.metadata
            .insert("url".into(), json!(format!("http://x/{i}\"")));
        d.metadata.insert("n".into(), json!(i as f64 + 0.1));
        docs.push(d.clone());
        d.annotate("step", "score", json!([1, "a", {"b": null}]));
        docs.push(d);
        // The text as the JSONL reader leaves it: escaped, in the input buffer.
        let escaped = serde_json::to_string(t).unwrap().into_bytes();
        let end = escaped.len() - 1;
        let buf = Arc::new(InputBuf::owned(escaped));
        let raw = RawText::new(buf, 1..end, &crate::jsonl::JsonString);
        docs.push(Document::from_raw_text(format!("r{i}"), raw));
    }
    docs
}

/// Rows built from documents are those built from their JSON lines, with the lines' sizes.
#[test]
fn rows_from_documents_are_rows_from_their_lines() {
    use crate::jsonl::write::{write_kept, write_rejected, OutBuf};
    use crate::RejectedText;
    use thresher_core::Reason;
    let line = |f: &dyn Fn(&mut OutBuf)| {
        let mut b = OutBuf::new(None);
        f(&mut b);
        b.end_line();
        b.pieces().0.concat()
    };
    let docs = shaped_docs();
    let (mut direct, mut parsed) = (Rows::new(Category::Kept), Rows::new(Category::Kept));
    let mut taken = Rows::new(Category::Kept);
    for d in &docs {
        direct.push_kept(d);
        parsed.push(&line(&|b| write_kept(b, d))).unwrap();
        let mut own = d.clone();
        taken.take_kept(&mut own);
        assert_eq!((own.text(), &own.id), ("", &d.id));
    }
    let (a, b, c) = (
        direct.finish_chunk().unwrap(),
        parsed.finish_chunk().unwrap(),
        taken.finish_chunk().unwrap(),
    );
    assert_eq!(a.batch, b.batch);
    assert_eq!(a.lens, b.lens);
    assert_eq!((&a.batch, &a.lens), (&c.batch, &c.lens));

    let values = [
        json!(0.1),
        json!(3),
        json!(-7),
        json!(1e300),
        json!(u64::MAX),
        serde_json::Value::Null,
        json!(true),
        json!("dup-of \"x\"\n"),
        json!([1, "a"]),
        json!({"k": 1}),
    ];
    let policies = [
        RejectedText::Full,
        RejectedText::None,
        RejectedText::Head(3),
    ];
    let (mut direct, mut parsed) = (Rows::new(Category::Rejected), Rows::new(Category::Rejected));
    let mut taken = Rows::new(Category::Rejected);
    for d in &docs {
        for v in &values {
            for &p in &policies {
                let r = Reason::new("too_\"short", v.clone());
                direct.push_rejected(d, &r, "gopher_quality", p);
                parsed
                    .push(&line(&|b| write_rejected(b, d, &r, "gopher_quality", p)))
                    .unwrap();
                taken.take_rejected(&mut d.clone(), &r, "gopher_quality", p);
            }
        }
    }
    let (a, b, c) = (
        direct.finish_chunk().unwrap(),
        parsed.finish_chunk().unwrap(),
        taken.finish_chunk().unwrap(),
    );
    assert_eq!(a.batch, b.batch);
    assert_eq!(a.lens, b.lens);
    assert_eq!((&a.batch, &a.lens), (&c.batch, &c.lens));
}

/// The text column the rows hold (string views of the documents' own texts) is written as the
/// same bytes as a plain string column: the shards' schema, and their bytes, are what they were
/// when the rows held copies.
#[test]
fn text_views_write_the_bytes_plain_strings_write() {
    use arrow_array::cast::AsArray;
    let mut rows = Rows::new(Category::Kept);
    for mut d in shaped_docs().into_iter().cycle().take(3000) {
        rows.take_kept(&mut d);
    }
    let views = rows.finish_chunk().unwrap().batch;
    assert_eq!(views.schema_ref().field(1).data_type(), &DataType::Utf8View);
    let mut cols = views.columns().to_vec();
    let plain: StringArray = cols[1].as_string_view().iter().collect();
    cols[1] = Arc::new(plain) as ArrayRef;
    let strings = RecordBatch::try_new(Category::Kept.schema(), cols).unwrap();
    let write = |b: &RecordBatch| {
        let mut out = Vec::new();
        let mut w = ArrowWriter::try_new(&mut out, Category::Kept.schema(), None).unwrap();
        w.write(b).unwrap();
        w.close().unwrap();
        out
    };
    assert!(write(&views) == write(&strings));
}

/// With typed metadata columns too: the same rows from documents as from their lines, the
/// lines' sizes unchanged (the whole metadata object's), values of another type left in JSON.
#[test]
fn typed_metadata_columns_split_the_metadata() {
    use super::{MetaColumn, MetaKind};
    use crate::jsonl::write::{write_kept, OutBuf};
    use arrow_array::cast::AsArray;
    let meta: Arc<[MetaColumn]> = [
        ("flag", MetaKind::Boolean),
        ("n", MetaKind::Float64),
        ("count", MetaKind::Int64),
        ("url", MetaKind::Utf8),
    ]
    .into_iter()
    .map(|(name, kind)| MetaColumn {
        name: name.into(),
        kind,
    })
    .collect();
    let mut docs = shaped_docs();
    let extra = [
        json!({}),
        json!({"n": 3, "url": null}),
        json!({"flag": false, "count": 12, "other": [1]}),
        json!({"count": u64::MAX, "url": "u", "n": 0.5, "flag": true}),
    ];
    for (i, m) in extra.iter().enumerate() {
        let mut d = thresher_core::Document::new(format!("e{i}"), "text");
        d.metadata = m.as_object().unwrap().clone();
        docs.push(d);
    }
    let line = |d: &thresher_core::Document| {
        let mut b = OutBuf::new(None);
        write_kept(&mut b, d);
        b.end_line();
        b.pieces().0.concat()
    };
    let mut direct = Rows::with_meta(Category::Kept, meta.clone());
    let mut parsed = Rows::with_meta(Category::Kept, meta.clone());
    for d in &docs {
        direct.push_kept(d);
        parsed.push(&line(d)).unwrap();
    }
    let (a, b) = (
        direct.finish_chunk().unwrap(),
        parsed.finish_chunk().unwrap(),
    );
    assert_eq!(a.batch, b.batch);
    assert_eq!(a.lens, b.lens);
    let n = docs.len();
    let batch = a.batch;
    assert_eq!(batch.num_columns(), 4 + 4);
    let json_col = batch.column(2).as_string::<i32>();
    // {"n": 3, "url": null}: an integer is not a float64, null is not a string: both in JSON.
    assert_eq!(json_col.value(n - 3), r#"{"n":3,"url":null}"#);
    assert!(batch.column(5).is_null(n - 3) && batch.column(7).is_null(n - 3));
    assert_eq!(json_col.value(n - 2), r#"{"other":[1]}"#);
    assert_eq!(
        batch
            .column(6)
            .as_primitive::<arrow_array::types::Int64Type>()
            .value(n - 2),
        12
    );
    // u64::MAX does not fit int64: it stays in JSON; the rest are columns.
    assert_eq!(
        json_col.value(n - 1),
        format!(r#"{{"count":{}}}"#, u64::MAX)
    );
    assert!(batch.column(4).as_boolean().value(n - 1));
    assert_eq!(batch.column(7).as_string::<i32>().value(n - 1), "u");
}

/// Shards written from row chunks, cut anywhere, are those written from the lines.
#[test]
fn row_chunks_make_the_shards_lines_make() {
    use crate::jsonl::write::{write_kept, OutBuf};
    let docs: Vec<_> = shaped_docs().into_iter().cycle().take(25_000).collect();
    // Small shards by bytes: the long texts cut them at different row counts.
    let opts = WriteOptions {
        shard_max_bytes: 3 << 20,
        ..WriteOptions::default()
    };
    let write = |dir: &Path, chunk: Option<usize>| {
        let out = OutDir::open(dir).unwrap();
        let mut w = ParquetShardedWriter::new(
            &out,
            Category::Kept,
            opts.clone(),
            OutputCompression::Zstd,
            false,
        )
        .unwrap();
        match chunk {
            // Texts moved into the rows: as the executor writes them.
            Some(n) if n % 2 == 1 => {
                for run in docs.chunks(n) {
                    let mut rows = Rows::new(Category::Kept);
                    run.iter().for_each(|d| rows.take_kept(&mut d.clone()));
                    w.write_rows(&rows.finish_chunk().unwrap()).unwrap();
                }
            }
            Some(n) => {
                for run in docs.chunks(n) {
                    let mut rows = Rows::new(Category::Kept);
                    run.iter().for_each(|d| rows.push_kept(d));
                    w.write_rows(&rows.finish_chunk().unwrap()).unwrap();
                }
            }
            None => {
                for d in &docs {
                    let mut b = OutBuf::new(None);
                    write_kept(&mut b, d);
                    b.end_line();
                    w.write_line(&b.pieces().0.concat()).unwrap();
                }
            }
        }
        w.finish().unwrap()
    };
    let base = tempfile::tempdir().unwrap();
    let want = write(base.path(), None);
    assert!(want.len() > 2, "{want:?}");
    for n in [1, 777, 4096, 30_000] {
        let d = tempfile::tempdir().unwrap();
        let got = write(d.path(), Some(n));
        assert_eq!(got.len(), want.len());
        for (x, y) in got.iter().zip(&want) {
            assert_eq!(x.1, y.1);
            assert!(
                std::fs::read(&x.0).unwrap() == std::fs::read(&y.0).unwrap(),
                "chunks of {n} changed {}",
                x.0.display()
            );
        }
    }
}

/// An Arrow batch read directly (the Python package's pyarrow path) gives the records the
/// Parquet reader gives for the same rows, numbered from `first_line`; without the text column
/// every row is an error.
#[test]
fn batch_records_read_as_the_parquet_reader_reads() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("f.parquet");
    let batch = fineweb_batch(5);
    write_parquet(&path, &batch, 5);
    let from_file = read(&path, ReadOptions::default());
    let name: Arc<str> = "batch".into();
    let direct = batch_records(&batch, &name, 10, &ReadOptions::default());
    assert_eq!(direct.len(), 5);
    for (a, b) in docs(&direct).iter().zip(docs(&from_file)) {
        assert_eq!(
            (&a.id, a.text(), &a.metadata),
            (&b.id, b.text(), &b.metadata)
        );
    }
    assert_eq!(docs(&direct)[0].source.line, 11);
    let opts = ReadOptions {
        text_field: "body".into(),
        ..ReadOptions::default()
    };
    assert_eq!(text_column(batch.schema_ref(), &opts), None);
    let errors = batch_records(&batch, &name, 0, &opts);
    assert_eq!(errors.len(), 5);
    assert!(errors.iter().all(
        |r| matches!(r, Record::Error(e) if e.message.starts_with("no `body` column (columns: text, id"))
    ));
}

/// Reads `path` as the given byte ranges, one reader each, one after the other.
fn read_ranges(path: &Path, cuts: &[u64]) -> Vec<Record> {
    let name: Arc<str> = Arc::from(path.to_string_lossy().as_ref());
    cuts.windows(2)
        .flat_map(|w| {
            let f = std::fs::File::open(path).unwrap();
            ParquetReader::with_range(f, name.clone(), ReadOptions::default(), Some(w[0]..w[1]))
                .collect::<Vec<_>>()
        })
        .collect()
}

#[test]
fn byte_ranges_read_every_row_group_once() {
    let d = tempfile::tempdir().unwrap();
    let path = d.path().join("groups.parquet");
    // 7 row groups of 30 rows (the last one 10).
    write_parquet(&path, &fineweb_batch(190), 30);
    let size = std::fs::metadata(&path).unwrap().len();
    let whole = read(&path, ReadOptions::default());
    let key = |r: &[Record]| -> Vec<(String, String, u64)> {
        docs(r)
            .iter()
            .map(|d| (d.id.to_string(), d.text().to_string(), d.source.line))
            .collect()
    };
    assert_eq!(docs(&whole).len(), 190);
    // Every cut of the file, from one range to a range per few bytes, reads the same
    // documents in the same order with the whole file's row numbers.
    for parts in [1u64, 2, 3, 4, 7, 16, 100] {
        let cuts: Vec<u64> = (0..=parts).map(|i| i * size / parts).collect();
        let got = read_ranges(&path, &cuts);
        assert_eq!(got.len(), whole.len(), "{parts} ranges");
        assert_eq!(key(&got), key(&whole), "{parts} ranges");
    }
    // A broken file gives one error between all its ranges: the first range's.
    let junk = d.path().join("junk.parquet");
    std::fs::write(&junk, vec![b'x'; 4000]).unwrap();
    let got = read_ranges(&junk, &[0, 1000, 2000, 4000]);
    assert!(matches!(&got[..], [Record::Error(e)] if e.message.contains("not a readable Parquet")));
    let got = read_ranges(&junk, &[1000, 2000, 4000]);
    assert!(got.is_empty());
}
