//! The README's round trip, run as written: a Hugging Face-style Parquet folder in, the
//! `fineweb` recipe with Parquet output, the result loaded with
//! `datasets.load_dataset("parquet", ...)`. The shell block is taken from README.md itself, so
//! the example cannot drift from what thresher does.
//!
//! Needs the shared reference documents and a Python with pyarrow and datasets
//! (`THRESHER_PYTHON`); without them the test is skipped with a message, unless
//! `THRESHER_REQUIRE_SHARED` is set: then it fails.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// The shell block that follows `intro` in README.md.
fn readme_block(intro: &str) -> String {
    let readme = std::fs::read_to_string(repo().join("README.md")).unwrap();
    let at = readme
        .find(intro)
        .expect("the round-trip example is in README.md");
    let rest = &readme[at..];
    let start = rest.find("```sh\n").expect("a sh block follows") + "```sh\n".len();
    let len = rest[start..].find("\n```").expect("the block ends");
    rest[start..start + len].to_string()
}

#[test]
fn readme_parquet_round_trip_runs_as_written() {
    let required = std::env::var_os("THRESHER_REQUIRE_SHARED").is_some();
    let docs = repo().join("../shared/reference/datatrove-filters/docs.jsonl.gz");
    let python = std::env::var("THRESHER_PYTHON").unwrap_or_else(|_| "python3".into());
    let probe = Command::new(&python)
        .args(["-c", "import pyarrow, datasets"])
        .output();
    let missing = if !docs.exists() {
        Some(format!("{} is absent", docs.display()))
    } else if !probe.is_ok_and(|o| o.status.success()) {
        Some(format!(
            "{python} has no pyarrow or datasets (THRESHER_PYTHON)"
        ))
    } else {
        None
    };
    if let Some(why) = missing {
        assert!(!required, "THRESHER_REQUIRE_SHARED is set: {why}");
        println!("skipped: {why}");
        return;
    }
    let block = readme_block("Round trip with a Hugging Face-style Parquet folder:");
    let d = tempfile::tempdir().unwrap();
    // The folder as the Hub has it: data/train-*.parquet, a README.md (and one damaged file).
    let o = Command::new(&python)
        .arg(repo().join("crates/thresher-cli/tests/parquet_loaders.py"))
        .args(["convert", docs.to_str().unwrap()])
        .arg(d.path().join("hf-folder"))
        .output()
        .unwrap();
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // `thresher` and `python` on PATH, as a user has them.
    let bin = d.path().join("bin");
    std::fs::create_dir(&bin).unwrap();
    std::os::unix::fs::symlink(env!("CARGO_BIN_EXE_thresher"), bin.join("thresher")).unwrap();
    // A wrapper, not a symlink: a symlinked virtualenv python no longer finds its
    // pyvenv.cfg, and so not the packages installed in it.
    let wrapper = bin.join("python");
    std::fs::write(&wrapper, format!("#!/bin/sh\nexec '{python}' \"$@\"\n")).unwrap();
    std::fs::set_permissions(
        &wrapper,
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )
    .unwrap();
    let path = format!(
        "{}:{}",
        bin.display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let o = Command::new("bash")
        .args(["-euo", "pipefail", "-c", &block])
        .current_dir(d.path())
        .env("PATH", path)
        .env("HF_DATASETS_CACHE", d.path().join("hf-cache"))
        .env("HF_HUB_OFFLINE", "1")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // It prints the kept and rejected row counts and the first kept document's url.
    let stats = common::stats(&d.path().join("out"));
    let line = stdout.lines().last().unwrap_or_default();
    let fields: Vec<&str> = line.split_whitespace().collect();
    assert_eq!(fields.len(), 3, "{stdout}");
    assert_eq!(fields[0], stats["kept"].to_string(), "{stdout}");
    assert_eq!(fields[1], stats["rejected"].to_string(), "{stdout}");
    assert!(fields[2].starts_with("https://example.com/"), "{stdout}");
    assert_eq!(stats["skipped"]["unknown_format_file"], 1);
    assert!(stats["kept"].as_u64().unwrap() > 1000);
}
