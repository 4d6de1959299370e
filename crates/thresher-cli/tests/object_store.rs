//! Object stores through the binary, against real servers that the tests start: an
//! S3-compatible one (moto's server mode) and a plain http server (Python's `http.server`).
//!
//! - `s3://` in and out give the same shards, byte for byte, and the same counts as the same
//!   run on local files; a run killed with SIGKILL and resumed against the store gives the same
//!   shards again, and at no time does the store hold a partial shard.
//! - `http://` inputs read as the same local files do.
//!
//! The Python comes from `THRESHER_MOTO_PYTHON` (a virtualenv with `moto[server]` and its
//! boto3; .ci/run makes one), else `THRESHER_PYTHON`, else `python3`. Objects are put in and
//! taken out with boto3, a client independent of thresher's. Without a Python that has moto the
//! S3 test is skipped with a message, unless `THRESHER_REQUIRE_SHARED` is set: then it fails.

mod common;

use std::collections::BTreeMap;
use std::io::BufRead;
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant};

use arrow_array::{ArrayRef, RecordBatch, StringArray};
use common::{bin, run, stats};
use serde_json::Value;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn required() -> bool {
    std::env::var_os("THRESHER_REQUIRE_SHARED").is_some()
}

/// Skips the test (returns `None`) with a message, or fails it when skipping is not allowed.
fn skip<T>(why: &str) -> Option<T> {
    assert!(!required(), "THRESHER_REQUIRE_SHARED is set: {why}");
    println!("skipped: {why}");
    None
}

fn reference_docs() -> Option<PathBuf> {
    let p = repo().join("../shared/reference/datatrove-filters/docs.jsonl.gz");
    if p.exists() {
        Some(p)
    } else {
        skip(&format!("{} is absent", p.display()))
    }
}

fn python() -> String {
    std::env::var("THRESHER_MOTO_PYTHON")
        .or_else(|_| std::env::var("THRESHER_PYTHON"))
        .unwrap_or_else(|_| "python3".into())
}

/// A free TCP port on the loopback interface.
fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// A server process, killed when dropped.
struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Starts `python args... PORT` and waits (30 s at most) until the port takes connections.
fn start_server(args: &[&str], dir: &Path) -> Result<Server, String> {
    let port = free_port();
    let child = Command::new(python())
        .args(args)
        .arg(port.to_string())
        .current_dir(dir)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("cannot start {} {args:?}: {e}", python()))?;
    let mut server = Server { child, port };
    let t0 = Instant::now();
    while t0.elapsed() < Duration::from_secs(30) {
        if let Ok(Some(status)) = server.child.try_wait() {
            return Err(format!("{} {args:?} exited: {status}", python()));
        }
        if TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return Ok(server);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err(format!("{} {args:?} did not listen within 30 s", python()))
}

/// The moto S3 server, or `None` (a skip, or a failure when required) if it cannot start.
fn moto(dir: &Path) -> Option<Server> {
    let probe = Command::new(python())
        .args(["-c", "import moto.server, boto3"])
        .output();
    match probe {
        Ok(o) if o.status.success() => {}
        Ok(o) => {
            return skip(&format!(
                "{} has no moto[server] (THRESHER_MOTO_PYTHON): {}",
                python(),
                String::from_utf8_lossy(&o.stderr).trim()
            ))
        }
        Err(e) => return skip(&format!("cannot run {}: {e}", python())),
    }
    match start_server(&["-m", "moto.server", "-H", "127.0.0.1", "-p"], dir) {
        Ok(s) => Some(s),
        Err(e) => skip(&e),
    }
}

/// boto3 against the server on `port`: `op` is `put BUCKET LOCALDIR PREFIX` (uploads every
/// file of the folder, creating the bucket) or `get BUCKET PREFIX LOCALDIR` (downloads every
/// object under the prefix).
fn boto(port: u16, op: &[&str]) {
    const SCRIPT: &str = r#"
import os, sys, boto3
s3 = boto3.client("s3", endpoint_url=sys.argv[1], region_name="us-east-1",
                  aws_access_key_id="test", aws_secret_access_key="test")
op, bucket = sys.argv[2], sys.argv[3]
if op == "put":
    local, prefix = sys.argv[4], sys.argv[5]
    try:
        s3.create_bucket(Bucket=bucket)
    except s3.exceptions.BucketAlreadyOwnedByYou:
        pass
    for root, _, names in os.walk(local):
        for n in names:
            p = os.path.join(root, n)
            s3.upload_file(p, bucket, prefix + os.path.relpath(p, local))
else:
    prefix, local = sys.argv[4], sys.argv[5]
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix):
        for o in page.get("Contents", []):
            p = os.path.join(local, o["Key"][len(prefix):])
            os.makedirs(os.path.dirname(p), exist_ok=True)
            s3.download_file(bucket, o["Key"], p)
"#;
    let o = Command::new(python())
        .args(["-c", SCRIPT, &format!("http://127.0.0.1:{port}")])
        .args(op)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "boto3 {op:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
}

/// The environment a run against the moto server on `port` gets: credentials and endpoint as
/// the AWS tools take them, and its own TMPDIR (staging and downloads).
fn s3_env(cmd: &mut Command, port: u16, tmp: &Path) {
    cmd.env("AWS_ACCESS_KEY_ID", "test")
        .env("AWS_SECRET_ACCESS_KEY", "test")
        .env("AWS_REGION", "us-east-1")
        .env("AWS_ENDPOINT_URL", format!("http://127.0.0.1:{port}"))
        .env("TMPDIR", tmp);
}

fn thresher(args: &[&str], port: u16, tmp: &Path) -> std::process::Output {
    let mut cmd = bin();
    cmd.args(args);
    s3_env(&mut cmd, port, tmp);
    let o = cmd.output().unwrap();
    assert!(
        o.status.success(),
        "thresher {args:?}: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    o
}

/// The first `n` records of a JSONL.gz file.
fn head_records(path: &Path, n: usize) -> Vec<Value> {
    let f = std::fs::File::open(path).unwrap();
    std::io::BufReader::new(flate2::read::GzDecoder::new(f))
        .lines()
        .take(n)
        .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
        .collect()
}

/// `records` as a Parquet file with `id` and `text` columns, 300 rows per row group.
fn write_parquet(records: &[Value], path: &Path) {
    let col = |k: &str| -> ArrayRef {
        Arc::new(StringArray::from(
            records
                .iter()
                .map(|r| r[k].as_str().unwrap().to_string())
                .collect::<Vec<_>>(),
        ))
    };
    let batch = RecordBatch::try_from_iter(vec![("id", col("id")), ("text", col("text"))]).unwrap();
    let props = parquet::file::properties::WriterProperties::builder()
        .set_max_row_group_row_count(Some(300))
        .build();
    let f = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(f, batch.schema(), Some(props)).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

/// Every shard of an output directory, by `cat/name`.
fn shards(outdir: &Path) -> BTreeMap<String, Vec<u8>> {
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
    map
}

/// stats.json without timings, and with each input file named by its file name only (a local
/// path and a URL name the same file).
fn comparable_stats(outdir: &Path) -> Value {
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.remove("seconds");
                m.remove("wall_seconds");
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    let mut s = stats(outdir);
    strip(&mut s);
    if let Some(files) = s.get_mut("files").and_then(Value::as_object_mut) {
        let renamed: serde_json::Map<String, Value> = std::mem::take(files)
            .into_iter()
            .map(|(k, v)| (k.rsplit('/').next().unwrap().to_string(), v))
            .collect();
        *files = renamed;
    }
    s
}

/// The shared reference documents (JSONL.gz) and a Parquet file of 2,000 of them, with a
/// README that input discovery must skip, put in `s3://thresher/in/`: `thresher run default`
/// from there to `s3://thresher/out/` writes the same shards, byte for byte, with the same
/// counts, as the same run on the local folder. Then, with small shards, runs killed (SIGKILL)
/// at several points and resumed against the store give the same shards again; right after
/// each kill, every shard object in the store is whole (equal to the finished run's).
#[test]
fn s3_in_and_out_match_a_local_run_and_resume_after_kill() {
    let Some(docs) = reference_docs() else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let Some(server) = moto(d.path()) else {
        return;
    };
    let port = server.port;
    let tmp = d.path().join("tmp");
    std::fs::create_dir(&tmp).unwrap();
    let input = d.path().join("in");
    std::fs::create_dir_all(input.join("more")).unwrap();
    std::fs::copy(&docs, input.join("docs.jsonl.gz")).unwrap();
    write_parquet(&head_records(&docs, 2000), &input.join("more/docs.parquet"));
    std::fs::write(input.join("README.md"), "# not an input\n").unwrap();
    boto(port, &["put", "thresher", input.to_str().unwrap(), "in/"]);

    // The local reference run.
    let local = d.path().join("local");
    let o = run(&[
        "run",
        "default",
        "-i",
        input.to_str().unwrap(),
        "-o",
        local.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success());
    let want = shards(&local);
    let want_stats = comparable_stats(&local);
    assert!(want.keys().any(|k| k.starts_with("kept/")), "{want:?}");
    assert_eq!(want_stats["skipped"]["unknown_format_file"], 1);
    assert!(want_stats["in"].as_u64().unwrap() > 2000, "{want_stats}");

    // The same through the store.
    thresher(
        &[
            "run",
            "default",
            "-i",
            "s3://thresher/in/",
            "-o",
            "s3://thresher/out/",
            "-q",
        ],
        port,
        &tmp,
    );
    let got = d.path().join("got");
    boto(port, &["get", "thresher", "out/", got.to_str().unwrap()]);
    assert_eq!(
        shards(&got),
        want,
        "shards through s3 differ from the local run's"
    );
    assert_eq!(comparable_stats(&got), want_stats);
    assert!(got.join("run.json").exists() && got.join(".markers").is_dir());
    // The staging directory is gone, and so are the downloaded inputs.
    let left: Vec<_> = std::fs::read_dir(&tmp).unwrap().flatten().collect();
    assert!(left.is_empty(), "{left:?}");

    // A second run into the same URL is refused without --resume or --overwrite...
    let mut again = bin();
    again.args([
        "run",
        "default",
        "-i",
        "s3://thresher/in/docs.jsonl.gz",
        "-o",
        "s3://thresher/out/",
        "-q",
    ]);
    s3_env(&mut again, port, &tmp);
    let o = again.output().unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("--overwrite"),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // ...and replaces it with --overwrite (a single object named as input).
    thresher(
        &[
            "run",
            "default",
            "-i",
            "s3://thresher/in/docs.jsonl.gz",
            "-o",
            "s3://thresher/out/",
            "-q",
            "--overwrite",
        ],
        port,
        &tmp,
    );
    let one = d.path().join("one");
    boto(port, &["get", "thresher", "out/", one.to_str().unwrap()]);
    let s = comparable_stats(&one);
    assert_eq!(s["files"].as_object().unwrap().len(), 1, "{s}");
    assert!(s["in"].as_u64() < want_stats["in"].as_u64());

    // Kill -9 and resume, with small shards so that kills land between and inside uploads.
    let default = String::from_utf8(run(&["recipes", "default"]).stdout).unwrap();
    let steps = &default[default.find("[[step]]").unwrap()..];
    let recipe = d.path().join("small.toml");
    std::fs::write(
        &recipe,
        format!("[output]\nshard_max_docs = 300\n\n{steps}"),
    )
    .unwrap();
    let r = recipe.to_str().unwrap();
    let local_small = d.path().join("local-small");
    let inp = input.to_str().unwrap();
    let o = run(&[
        "run",
        r,
        "-i",
        inp,
        "-o",
        local_small.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success());
    let want = shards(&local_small);
    let want_stats = comparable_stats(&local_small);
    assert!(want.len() > 10, "{}", want.len());
    // The whole run through the store, timed: the kills land at fractions of it.
    let t0 = Instant::now();
    thresher(
        &[
            "run",
            r,
            "-i",
            "s3://thresher/in/",
            "-o",
            "s3://thresher/small/",
            "-q",
        ],
        port,
        &tmp,
    );
    let full = t0.elapsed();
    let got = d.path().join("small");
    boto(port, &["get", "thresher", "small/", got.to_str().unwrap()]);
    assert_eq!(shards(&got), want);
    let mut interrupted = 0;
    for (k, frac) in [25u32, 50, 75].into_iter().enumerate() {
        let url = format!("s3://thresher/killed{k}/");
        let mut cmd = bin();
        cmd.args(["run", r, "-i", "s3://thresher/in/", "-o", &url, "-q"]);
        s3_env(&mut cmd, port, &tmp);
        let mut child = cmd.spawn().unwrap();
        std::thread::sleep(full * frac / 100);
        let _ = child.kill(); // SIGKILL
        let status = child.wait().unwrap();
        if !status.success() {
            interrupted += 1;
        }
        // What a reader sees right after the kill: whole shards only.
        let seen = d.path().join(format!("seen{k}"));
        boto(
            port,
            &[
                "get",
                "thresher",
                &format!("killed{k}/"),
                seen.to_str().unwrap(),
            ],
        );
        for (name, bytes) in shards(&seen) {
            assert!(
                want.get(&name) == Some(&bytes),
                "after the kill at {frac}%, {name} in the store is not the whole shard"
            );
        }
        thresher(
            &[
                "run",
                r,
                "-i",
                "s3://thresher/in/",
                "-o",
                &url,
                "-q",
                "--resume",
            ],
            port,
            &tmp,
        );
        let got = d.path().join(format!("resumed{k}"));
        boto(
            port,
            &[
                "get",
                "thresher",
                &format!("killed{k}/"),
                got.to_str().unwrap(),
            ],
        );
        assert_eq!(
            shards(&got),
            want,
            "resume after the kill at {frac}% differs"
        );
        assert_eq!(comparable_stats(&got), want_stats);
    }
    assert!(
        interrupted >= 2,
        "only {interrupted} of 3 kills interrupted the run"
    );
}

/// An `http://` input (a file of a plain http server) reads as the same local file does; a
/// missing one is an input error (exit 2).
#[test]
fn http_input_matches_the_local_file() {
    let Some(docs) = reference_docs() else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let served = d.path().join("served");
    std::fs::create_dir(&served).unwrap();
    std::fs::copy(&docs, served.join("docs.jsonl.gz")).unwrap();
    let server = match start_server(&["-m", "http.server", "-b", "127.0.0.1"], &served) {
        Ok(s) => s,
        Err(e) => return skip(&e).unwrap_or(()),
    };
    let local = d.path().join("local");
    let input = served.join("docs.jsonl.gz");
    let o = run(&[
        "run",
        "default",
        "-i",
        input.to_str().unwrap(),
        "-o",
        local.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success());
    let url = format!("http://127.0.0.1:{}/docs.jsonl.gz", server.port);
    let remote = d.path().join("remote");
    let o = run(&[
        "run",
        "default",
        "-i",
        &url,
        "-o",
        remote.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success());
    assert!(!shards(&local).is_empty());
    assert_eq!(shards(&remote), shards(&local));
    assert_eq!(comparable_stats(&remote), comparable_stats(&local));
    let missing = format!("http://127.0.0.1:{}/nope.jsonl", server.port);
    let out = d.path().join("missing");
    let o = run(&[
        "run",
        "default",
        "-i",
        &missing,
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
