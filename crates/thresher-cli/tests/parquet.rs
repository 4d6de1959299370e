//! Parquet in and out through the binary: the same decisions as the JSONL path on the shared
//! reference documents, typed FineWeb metadata, Parquet shards that resume byte for byte after
//! kill -9, damaged inputs as error records, input discovery and the output options. The
//! loaders' test (pyarrow, pandas, polars, datasets) runs the Python that `THRESHER_PYTHON`
//! names.

mod common;

use std::collections::BTreeMap;
use std::io::BufRead;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use arrow_array::{ArrayRef, Float64Array, Int64Array, RecordBatch, StringArray};
use arrow_schema::DataType;
use common::{bin, lines_of, run, stats};
use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
use parquet::arrow::ArrowWriter;
use parquet::file::properties::WriterProperties;
use serde_json::{json, Value};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn require_shared() -> bool {
    std::env::var_os("THRESHER_REQUIRE_SHARED").is_some()
}

/// The shared reference documents, or `None` (a skip) when ../shared is absent and not required.
fn reference_docs() -> Option<PathBuf> {
    let p = repo().join("../shared/reference/datatrove-filters/docs.jsonl.gz");
    if p.exists() {
        return Some(p);
    }
    assert!(
        !require_shared(),
        "../shared is required (THRESHER_REQUIRE_SHARED is set) but {} is absent",
        p.display()
    );
    println!("skipped: {} is absent", p.display());
    None
}

/// The records of a JSONL file (plain or .gz).
fn read_jsonl(path: &Path) -> Vec<Value> {
    let f = std::fs::File::open(path).unwrap();
    let r: Box<dyn std::io::Read> = if path.extension().is_some_and(|e| e == "gz") {
        Box::new(flate2::read::GzDecoder::new(f))
    } else {
        Box::new(f)
    };
    std::io::BufReader::new(r)
        .lines()
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect()
}

/// Writes `records` as a Parquet file of the FineWeb layout (`text`, `id`, `dump`, `url`,
/// `date`, `file_path`, `language`, `language_score`, `token_count`) plus `source` (the
/// record's `metadata.source`), `rows` rows per row group.
fn write_fineweb_parquet(records: &[Value], path: &Path, rows: usize) {
    let n = records.len();
    let s = |f: &dyn Fn(usize, &Value) -> String| -> ArrayRef {
        Arc::new(StringArray::from(
            records
                .iter()
                .enumerate()
                .map(|(i, r)| f(i, r))
                .collect::<Vec<_>>(),
        ))
    };
    let batch = RecordBatch::try_from_iter(vec![
        ("text", s(&|_, r| r["text"].as_str().unwrap().to_string())),
        ("id", s(&|_, r| r["id"].as_str().unwrap().to_string())),
        ("dump", s(&|_, _| "CC-MAIN-2024-10".into())),
        ("url", s(&|i, _| format!("https://example.com/{i}"))),
        ("date", s(&|_, _| "2024-02-20T12:00:00Z".into())),
        (
            "file_path",
            s(&|_, _| "s3://commoncrawl/crawl-data/x.warc.gz".into()),
        ),
        ("language", s(&|_, _| "en".into())),
        (
            "language_score",
            Arc::new(Float64Array::from(
                (0..n)
                    .map(|i| 0.5 + (i % 100) as f64 / 256.0)
                    .collect::<Vec<_>>(),
            )) as ArrayRef,
        ),
        (
            "token_count",
            Arc::new(Int64Array::from(
                records
                    .iter()
                    .map(|r| r["text"].as_str().unwrap().split_whitespace().count() as i64)
                    .collect::<Vec<_>>(),
            )),
        ),
        (
            "source",
            s(&|_, r| r["metadata"]["source"].as_str().unwrap_or("").to_string()),
        ),
    ])
    .unwrap();
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(rows))
        .build();
    let f = std::fs::File::create(path).unwrap();
    let mut w = ArrowWriter::try_new(f, batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// Every row of the Parquet shards in `dir`, in shard order, as JSON objects.
fn parquet_rows(dir: &Path) -> Vec<Value> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|rd| rd.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        if !f.to_string_lossy().ends_with(".parquet") {
            continue;
        }
        let r = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(&f).unwrap())
            .unwrap()
            .build()
            .unwrap();
        for b in r {
            let b = b.unwrap();
            for row in 0..b.num_rows() {
                let mut m = serde_json::Map::new();
                for (field, col) in b.schema().fields().iter().zip(b.columns()) {
                    m.insert(
                        field.name().clone(),
                        thresher_io::parquet::json_cell(&**col, row),
                    );
                }
                out.push(Value::Object(m));
            }
        }
    }
    out
}

/// (id, text) of the kept documents in order; (id, "step:reason") of the rejected, sorted.
type Decisions = (Vec<(String, String)>, Vec<(String, String)>);

fn decisions(kept: &[Value], rejected: &[Value]) -> Decisions {
    let k = kept
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                r["text"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    let mut j: Vec<(String, String)> = rejected
        .iter()
        .map(|r| {
            (
                r["id"].as_str().unwrap().to_string(),
                format!(
                    "{}:{}",
                    r["step"].as_str().unwrap(),
                    r["reason"].as_str().unwrap()
                ),
            )
        })
        .collect();
    j.sort();
    (k, j)
}

fn thresher_run(recipe: &str, input: &Path, out: &Path, extra: &[&str]) -> std::process::Output {
    let mut args = vec![
        "run",
        recipe,
        "-i",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-q",
    ];
    args.extend_from_slice(extra);
    let o = run(&args);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    o
}

/// The reference documents as Parquet (written by the arrow crate, several row groups) give the
/// same `fineweb` decisions and texts as the JSONL file, in JSONL and in Parquet output; the
/// FineWeb columns come back as typed metadata.
#[test]
fn reference_docs_parquet_in_same_decisions_as_jsonl() {
    let Some(docs) = reference_docs() else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let records = read_jsonl(&docs);
    let pq = d.path().join("docs.parquet");
    write_fineweb_parquet(&records, &pq, 1000);

    let from_jsonl = d.path().join("jsonl");
    thresher_run("fineweb", &docs, &from_jsonl, &[]);
    let from_pq = d.path().join("pq");
    thresher_run("fineweb", &pq, &from_pq, &[]);
    let recipe = d.path().join("pq.toml");
    let fineweb = String::from_utf8(run(&["recipes", "fineweb"]).stdout).unwrap();
    std::fs::write(
        &recipe,
        format!("{fineweb}\n[output]\nformat = \"parquet\"\n"),
    )
    .unwrap();
    let pq_pq = d.path().join("pq-pq");
    thresher_run(recipe.to_str().unwrap(), &pq, &pq_pq, &[]);

    let want = decisions(
        &lines_of(&from_jsonl.join("kept")),
        &lines_of(&from_jsonl.join("rejected")),
    );
    assert!(
        want.0.len() > 1000 && want.1.len() > 1000,
        "{} {}",
        want.0.len(),
        want.1.len()
    );
    let got = decisions(
        &lines_of(&from_pq.join("kept")),
        &lines_of(&from_pq.join("rejected")),
    );
    assert!(got == want, "Parquet input decided otherwise than JSONL");
    let got = decisions(
        &parquet_rows(&pq_pq.join("kept")),
        &parquet_rows(&pq_pq.join("rejected")),
    );
    assert!(got == want, "Parquet output differs from JSONL output");
    for s in [stats(&from_pq), stats(&pq_pq)] {
        assert_eq!(s["in"], json!(records.len()));
        assert_eq!(s["errors"], json!(0));
    }

    // Typed metadata from the FineWeb columns.
    let kept = lines_of(&from_pq.join("kept"));
    let m = &kept[0]["metadata"];
    assert!(m["language_score"].is_f64(), "{m}");
    assert!(m["token_count"].is_i64(), "{m}");
    assert_eq!(m["dump"], "CC-MAIN-2024-10");
    assert_eq!(m["language"], "en");
    assert!(m["url"]
        .as_str()
        .unwrap()
        .starts_with("https://example.com/"));
    for k in ["date", "file_path", "source"] {
        assert!(m[k].is_string(), "{k}: {m}");
    }
    // In Parquet output every FineWeb column is a column again, with its type (the inputs'
    // schemas fix them: `[output] metadata_columns = "auto"`); the JSON `metadata` column holds
    // the keys no input column typed (none here).
    let pq_kept = parquet_rows(&pq_pq.join("kept"));
    assert_eq!(pq_kept[0]["metadata"], "{}");
    for (k, v) in m.as_object().unwrap() {
        assert_eq!(&pq_kept[0][k], v, "{k}");
    }
    for cat in ["kept", "rejected"] {
        let f = std::fs::File::open(pq_pq.join(cat).join("00000.parquet")).unwrap();
        let schema = ParquetRecordBatchReaderBuilder::try_new(f)
            .unwrap()
            .schema()
            .clone();
        let t = |n: &str| schema.field_with_name(n).unwrap().data_type().clone();
        assert_eq!(t("language_score"), DataType::Float64, "{cat}");
        assert_eq!(t("token_count"), DataType::Int64, "{cat}");
        assert_eq!(t("url"), DataType::Utf8, "{cat}");
    }
    // `metadata_columns = "json"`: every key in the JSON column, as thresher reads it back.
    std::fs::write(
        &recipe,
        format!("{fineweb}\n[output]\nformat = \"parquet\"\nmetadata_columns = \"json\"\n"),
    )
    .unwrap();
    let pq_json = d.path().join("pq-json");
    thresher_run(recipe.to_str().unwrap(), &pq, &pq_json, &[]);
    let json_kept = parquet_rows(&pq_json.join("kept"));
    assert!(json_kept[0].get("url").is_none());
    let pm: Value = serde_json::from_str(json_kept[0]["metadata"].as_str().unwrap()).unwrap();
    assert_eq!(&pm, m);
    // thresher reads its own Parquet output back: the same ids and texts, the metadata object.
    let again = d.path().join("again");
    let empty = d.path().join("empty.toml");
    std::fs::write(&empty, "[[step]]\ntype = \"flag_encoding_damage\"\n").unwrap();
    thresher_run(empty.to_str().unwrap(), &pq_pq.join("kept"), &again, &[]);
    let back = lines_of(&again.join("kept"));
    assert_eq!(back.len(), kept.len());
    for (b, k) in back.iter().zip(&kept) {
        assert!(b["id"] == k["id"] && b["text"] == k["text"], "{}", k["id"]);
    }
    let mut bm = back[0]["metadata"].clone();
    bm.as_object_mut().unwrap().remove("annotations");
    assert_eq!(&bm, m);
}

/// The snapshot of an output directory: every shard's bytes, stats.json without timings.
fn snapshot(outdir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut map = BTreeMap::new();
    for cat in ["kept", "rejected", "errors"] {
        let Ok(rd) = std::fs::read_dir(outdir.join(cat)) else {
            continue;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            map.insert(format!("{cat}/{name}"), std::fs::read(e.path()).unwrap());
        }
    }
    let mut s = stats(outdir);
    strip_seconds(&mut s);
    map.insert("stats.json".into(), s.to_string().into_bytes());
    map
}

/// `v` without its timings (every `seconds` key).
fn strip_seconds(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("seconds");
            m.remove("wall_seconds");
            m.values_mut().for_each(strip_seconds);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_seconds),
        _ => {}
    }
}

/// The bundled sample as one Parquet file (`id`, `text`, `source`), 50 rows per row group.
fn sample_parquet(path: &Path) {
    let mut records = Vec::new();
    let mut files: Vec<PathBuf> = std::fs::read_dir(repo().join("fixtures/sample"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    for f in files {
        for mut r in read_jsonl(&f) {
            if r["id"].is_null() {
                r["id"] = json!(format!("{}:{}", f.display(), records.len()));
            }
            if !r["id"].is_string() {
                r["id"] = json!(r["id"].to_string());
            }
            r["metadata"] = json!({"source": f.file_name().unwrap().to_string_lossy()});
            records.push(r);
        }
    }
    write_fineweb_parquet(&records, path, 50);
}

/// kill -9 at points across a Parquet-in, Parquet-out run, then --resume: every shard is
/// byte-identical to an uninterrupted run's.
#[test]
fn parquet_shards_resume_byte_identical_after_kill_minus_nine() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("sample.parquet");
    sample_parquet(&input);
    let recipe = d.path().join("r.toml");
    let default = String::from_utf8(run(&["recipes", "default"]).stdout).unwrap();
    let steps = &default[default.find("[[step]]").unwrap()..];
    std::fs::write(
        &recipe,
        format!("[output]\nformat = \"parquet\"\nshard_max_docs = 20\n\n{steps}"),
    )
    .unwrap();
    let (r, i) = (recipe.to_str().unwrap(), input.to_str().unwrap());
    let reference = d.path().join("ref");
    let t0 = std::time::Instant::now();
    thresher_run(r, &input, &reference, &[]);
    let full_ms = t0.elapsed().as_millis() as u64;
    let want = snapshot(&reference);
    assert!(want.keys().filter(|k| k.ends_with(".parquet")).count() > 10);
    let mut interrupted = 0;
    for frac in [5u64, 15, 25, 35, 45, 55, 65, 75, 85] {
        let out = d.path().join(format!("out{frac}"));
        let o = out.to_str().unwrap();
        let mut child = bin()
            .args(["run", r, "-i", i, "-o", o, "-q"])
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(full_ms * frac / 100));
        let _ = child.kill();
        let _ = child.wait();
        if !out.join("stats.json").exists() {
            interrupted += 1;
        }
        let res = run(&["run", r, "-i", i, "-o", o, "-q", "--resume"]);
        assert!(res.status.success(), "resume after kill at {frac}%");
        let got = snapshot(&out);
        let differ: Vec<&String> = want
            .keys()
            .chain(got.keys())
            .filter(|k| want.get(*k) != got.get(*k))
            .collect();
        assert!(
            differ.is_empty(),
            "resume after kill at {frac}% differs: {differ:?}"
        );
    }
    assert!(
        interrupted >= 4,
        "only {interrupted} of 9 kills landed mid-run"
    );
}

/// A damaged Parquet file among good inputs: one error record naming the file and row group,
/// the run goes on, and every row is accounted for.
#[test]
fn corrupt_parquet_is_an_error_record_and_counts_add_up() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("in");
    std::fs::create_dir(&dir).unwrap();
    sample_parquet(&dir.join("a.parquet"));
    let good = parquet_rows_count(&dir.join("a.parquet"));
    // b.parquet: the same with its second row group garbled.
    let bytes = std::fs::read(dir.join("a.parquet")).unwrap();
    let meta = ParquetRecordBatchReaderBuilder::try_new(
        std::fs::File::open(dir.join("a.parquet")).unwrap(),
    )
    .unwrap()
    .metadata()
    .clone();
    let (start, len) = meta.row_group(1).column(0).byte_range();
    let group_rows = meta.row_group(1).num_rows() as u64;
    let mut damaged = bytes.clone();
    for b in &mut damaged[start as usize + 4..(start + len) as usize - 4] {
        *b ^= 0x5A;
    }
    std::fs::write(dir.join("b.parquet"), &damaged).unwrap();
    // c.parquet: not Parquet at all.
    std::fs::write(dir.join("c.parquet"), b"PAR1 not really").unwrap();
    let out = d.path().join("out");
    thresher_run("default", &dir, &out, &[]);
    let s = stats(&out);
    let n = |k: &str| s[k].as_u64().unwrap();
    assert_eq!(n("in"), n("kept") + n("rejected") + n("errors"));
    // a: every row; b: every row but the lost row group's, plus one error for it; c: one error.
    assert_eq!(n("in"), good + (good - group_rows + 1) + 1);
    let errors = lines_of(&out.join("errors"));
    let b_err: Vec<&Value> = errors
        .iter()
        .filter(|e| e["file"].as_str().unwrap().ends_with("b.parquet"))
        .collect();
    assert_eq!(b_err.len(), 1, "{errors:?}");
    let first = meta.row_group(0).num_rows() as u64 + 1;
    assert_eq!(b_err[0]["position"]["line"], json!(first));
    assert!(
        b_err[0]["error"]
            .as_str()
            .unwrap()
            .starts_with("row group 1: "),
        "{}",
        b_err[0]
    );
    assert!(errors
        .iter()
        .any(|e| e["file"].as_str().unwrap().ends_with("c.parquet")
            && e["error"]
                .as_str()
                .unwrap()
                .contains("not a readable Parquet file")));
}

fn parquet_rows_count(p: &Path) -> u64 {
    let r = ParquetRecordBatchReaderBuilder::try_new(std::fs::File::open(p).unwrap()).unwrap();
    r.metadata().file_metadata().num_rows() as u64
}

/// Only known formats are read from a directory; the rest is counted and named once; an
/// explicit unknown name is exit 2; a previous output directory means its kept documents.
#[test]
fn input_discovery_does_not_surprise() {
    let d = tempfile::tempdir().unwrap();
    let dir = d.path().join("dataset");
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::copy(
        repo().join("fixtures/sample/seed.jsonl"),
        dir.join("data/seed.jsonl"),
    )
    .unwrap();
    std::fs::write(dir.join("README.md"), "# A dataset card\n").unwrap();
    std::fs::write(dir.join("data.csv"), "a,b\n").unwrap();
    std::fs::write(dir.join("LICENSE"), "text\n").unwrap();
    let out = d.path().join("out");
    let o = thresher_run("default", &dir, &out, &[]);
    let s = stats(&out);
    assert_eq!(s["in"], json!(1));
    assert_eq!(s["skipped"]["unknown_format_file"], json!(3));
    let stderr = String::from_utf8_lossy(&o.stderr);
    let warnings: Vec<&str> = stderr
        .lines()
        .filter(|l| l.starts_with("warning:"))
        .collect();
    assert_eq!(warnings.len(), 1, "{stderr}");
    assert!(
        warnings[0].contains("README.md") && warnings[0].contains("3 input files"),
        "{stderr}"
    );

    // An explicit path with an unknown extension.
    let o = bin()
        .args([
            "run",
            "default",
            "-i",
            dir.join("README.md").to_str().unwrap(),
            "-o",
        ])
        .arg(d.path().join("o2"))
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("unknown input format"));

    // A previous run's output directory as input: its kept documents, nothing else.
    let run1 = d.path().join("run1");
    thresher_run("default", &repo().join("fixtures/sample"), &run1, &[]);
    let kept1 = stats(&run1)["kept"].as_u64().unwrap();
    assert!(stats(&run1)["rejected"].as_u64().unwrap() > 0);
    let run2 = d.path().join("run2");
    thresher_run("default", &run1, &run2, &[]);
    let s2 = stats(&run2);
    assert_eq!(s2["in"].as_u64().unwrap(), kept1);
    assert_eq!(s2["errors"], json!(0));
    assert!(s2["files"]
        .as_object()
        .unwrap()
        .keys()
        .all(|f| f.contains("/kept/")));
}

/// `rejected_text`, compression per category, and run.json.
#[test]
fn output_options_and_run_file() {
    let d = tempfile::tempdir().unwrap();
    let recipe = d.path().join("r.toml");
    let default = String::from_utf8(run(&["recipes", "default"]).stdout).unwrap();
    let steps = &default[default.find("[[step]]").unwrap()..];
    std::fs::write(
        &recipe,
        format!(
            "[output]\nrejected_text = \"head:10\"\nrejected_compression = \"zstd\"\n\n{steps}"
        ),
    )
    .unwrap();
    let out = d.path().join("out");
    thresher_run(
        recipe.to_str().unwrap(),
        &repo().join("fixtures/sample"),
        &out,
        &["--threads", "2"],
    );
    let names = |c: &str| -> Vec<String> {
        std::fs::read_dir(out.join(c))
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect()
    };
    assert!(names("kept").iter().all(|n| n.ends_with(".jsonl")));
    assert!(names("rejected").iter().all(|n| n.ends_with(".jsonl.zst")));
    let mut rejected = Vec::new();
    for n in names("rejected") {
        let mut r = zstd_decode(&out.join("rejected").join(n));
        rejected.append(&mut r);
    }
    assert!(!rejected.is_empty());
    for r in &rejected {
        assert!(r["text"].as_str().unwrap().chars().count() <= 10);
        assert!(r["value"].is_number() || r["value"].is_null(), "{r}");
        assert!(
            r["value_text"].is_string() || r["value_text"].is_null(),
            "{r}"
        );
    }
    let run_file: Value =
        serde_json::from_str(&std::fs::read_to_string(out.join("run.json")).unwrap()).unwrap();
    assert_eq!(run_file["thresher_version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(run_file["threads"], json!(2));
    assert_eq!(run_file["recipe"]["output"]["rejected_text"], "head:10");
    assert!(run_file["recipe"]["steps"].as_array().unwrap().len() > 1);
    assert!(run_file["files"].as_array().unwrap().len() >= 10);
    // --overwrite replaces it (it is thresher's).
    thresher_run(
        recipe.to_str().unwrap(),
        &repo().join("fixtures/sample"),
        &out,
        &["--overwrite"],
    );
    assert!(out.join("run.json").exists());
}

fn zstd_decode(p: &Path) -> Vec<Value> {
    let bytes = zstd::decode_all(std::fs::File::open(p).unwrap()).unwrap();
    String::from_utf8(bytes)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

/// Every output category of real runs (JSONL and Parquet, from a Hugging Face-style Parquet
/// folder written by pyarrow) loads with pyarrow, pandas, polars and `datasets` without a
/// schema error, with the row counts of stats.json; and pyarrow's Parquet gives the JSONL
/// path's decisions. Runs the Python named by `THRESHER_PYTHON` (with those packages).
#[test]
fn python_loaders_read_every_output() {
    let Some(docs) = reference_docs() else {
        return;
    };
    let Some(python) = std::env::var_os("THRESHER_PYTHON") else {
        assert!(
            !require_shared(),
            "THRESHER_PYTHON must name a Python with pyarrow, pandas, polars and datasets \
             (THRESHER_REQUIRE_SHARED is set)"
        );
        println!("skipped: THRESHER_PYTHON is not set");
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let script = repo().join("crates/thresher-cli/tests/parquet_loaders.py");
    let hf = d.path().join("hf");
    let py = |args: &[&str]| {
        let o = std::process::Command::new(&python)
            .arg(&script)
            .args(args)
            .env("HF_DATASETS_CACHE", d.path().join("hf-cache"))
            .env("HF_HUB_OFFLINE", "1")
            .output()
            .unwrap();
        assert!(
            o.status.success(),
            "{}\n{}",
            String::from_utf8_lossy(&o.stdout),
            String::from_utf8_lossy(&o.stderr)
        );
        String::from_utf8(o.stdout).unwrap()
    };
    py(&["convert", docs.to_str().unwrap(), hf.to_str().unwrap()]);
    let fineweb = String::from_utf8(run(&["recipes", "fineweb"]).stdout).unwrap();
    let pq_recipe = d.path().join("pq.toml");
    std::fs::write(
        &pq_recipe,
        format!("{fineweb}\n[output]\nformat = \"parquet\"\nshard_max_docs = 1000\n"),
    )
    .unwrap();
    let jl_recipe = d.path().join("jl.toml");
    std::fs::write(
        &jl_recipe,
        format!("{fineweb}\n[output]\nshard_max_docs = 1000\n"),
    )
    .unwrap();
    let (out_pq, out_jl, ref_jl) = (
        d.path().join("pq"),
        d.path().join("jl"),
        d.path().join("ref"),
    );
    thresher_run(pq_recipe.to_str().unwrap(), &hf, &out_pq, &[]);
    thresher_run(jl_recipe.to_str().unwrap(), &hf, &out_jl, &[]);
    thresher_run("fineweb", &docs, &ref_jl, &[]);
    // The folder's README.md is skipped; its damaged file makes the errors category.
    for out in [&out_pq, &out_jl] {
        let got = py(&["load", out.to_str().unwrap()]);
        let s = stats(out);
        assert_eq!(s["errors"], json!(1));
        assert_eq!(s["skipped"]["unknown_format_file"], json!(1));
        for cat in ["kept", "rejected", "errors"] {
            let n = s[cat].as_u64().unwrap();
            for lib in ["pyarrow", "pandas", "polars", "datasets"] {
                let want = format!("{cat} {lib} {n}");
                assert!(
                    got.lines().any(|l| l == want),
                    "missing `{want}` in:\n{got}"
                );
            }
        }
    }
    let want = decisions(
        &lines_of(&ref_jl.join("kept")),
        &lines_of(&ref_jl.join("rejected")),
    );
    let got = decisions(
        &lines_of(&out_jl.join("kept")),
        &lines_of(&out_jl.join("rejected")),
    );
    assert!(
        got == want,
        "pyarrow-written Parquet decided otherwise than JSONL"
    );
    let got = decisions(
        &parquet_rows(&out_pq.join("kept")),
        &parquet_rows(&out_pq.join("rejected")),
    );
    assert!(got == want);
    let m = &lines_of(&out_jl.join("kept"))[0]["metadata"];
    assert!(
        m["language_score"].is_f64() && m["token_count"].is_i64(),
        "{m}"
    );
}

/// `thresher to-parquet` turns a JSONL run's output into the very Parquet shards a Parquet run
/// writes (byte for byte, typed metadata columns from the Parquet input included): what the Ray
/// executor's last task per shard relies on.
#[test]
fn to_parquet_of_a_jsonl_run_is_the_parquet_run() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("sample.parquet");
    sample_parquet(&input);
    let steps = "[[step]]\ntype = \"gopher_quality\"\n\n[[step]]\ntype = \"exact_dedup\"\n";
    let pq_recipe = d.path().join("pq.toml");
    std::fs::write(
        &pq_recipe,
        format!("[output]\nformat = \"parquet\"\nshard_max_docs = 40\n\n{steps}"),
    )
    .unwrap();
    let jsonl_recipe = d.path().join("jsonl.toml");
    std::fs::write(&jsonl_recipe, steps).unwrap();
    let (direct, via) = (d.path().join("direct"), d.path().join("via"));
    thresher_run(pq_recipe.to_str().unwrap(), &input, &direct, &[]);
    thresher_run(jsonl_recipe.to_str().unwrap(), &input, &via, &[]);
    let conv = d.path().join("conv");
    let mut compared = 0;
    for cat in ["kept", "rejected", "errors"] {
        let mut from: Vec<PathBuf> = std::fs::read_dir(via.join(cat))
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        from.sort();
        if from.is_empty() {
            continue;
        }
        let mut args = vec![
            "to-parquet".to_string(),
            pq_recipe.display().to_string(),
            "--category".into(),
            cat.into(),
            "-i".into(),
            input.display().to_string(),
            "-o".into(),
            conv.display().to_string(),
            "--from".into(),
        ];
        args.extend(from.iter().map(|p| p.display().to_string()));
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = run(&args);
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        let printed = String::from_utf8_lossy(&o.stdout).to_string();
        let mut want: Vec<PathBuf> = std::fs::read_dir(direct.join(cat))
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| p.extension().is_some_and(|e| e == "parquet"))
            .collect();
        want.sort();
        assert_eq!(printed.lines().count(), want.len(), "{printed}");
        for w in &want {
            let got = conv.join(cat).join(w.file_name().unwrap());
            assert_eq!(
                std::fs::read(&got).unwrap(),
                std::fs::read(w).unwrap(),
                "{}",
                got.display()
            );
            compared += 1;
        }
    }
    // Several kept shards (40 documents each), and rejected ones.
    assert!(compared >= 3, "{compared}");
    // A recipe whose output is not Parquet is refused.
    let o = run(&[
        "to-parquet",
        jsonl_recipe.to_str().unwrap(),
        "--category",
        "kept",
        "-o",
        conv.to_str().unwrap(),
        "--from",
        input.to_str().unwrap(),
    ]);
    assert_eq!(o.status.code(), Some(2));
}
