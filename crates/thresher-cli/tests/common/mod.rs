//! Helpers shared by the binary's integration tests: run it, read what it wrote.
#![allow(dead_code)] // each test file uses its own subset

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use serde_json::Value;

/// The `thresher` binary under test.
pub fn bin() -> Command {
    Command::new(env!("CARGO_BIN_EXE_thresher"))
}

/// Runs the binary to completion; prints its stderr when it fails.
pub fn run(args: &[&str]) -> Output {
    let out = bin().args(args).output().expect("run thresher");
    if !out.status.success() {
        eprintln!("stderr: {}", String::from_utf8_lossy(&out.stderr));
    }
    out
}

/// OUTDIR/stats.json.
pub fn stats(outdir: &Path) -> Value {
    let text = std::fs::read_to_string(outdir.join("stats.json")).expect("stats.json");
    serde_json::from_str(&text).expect("stats.json is JSON")
}

/// Every record of the shards in `dir` (one output category), in shard order; temporary
/// (dot) files are skipped.
pub fn lines_of(dir: &Path) -> Vec<Value> {
    let Ok(rd) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = rd.filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        if f.file_name()
            .is_some_and(|n| n.to_string_lossy().starts_with('.'))
        {
            continue;
        }
        for l in std::fs::read_to_string(&f).unwrap().lines() {
            out.push(serde_json::from_str(l).unwrap());
        }
    }
    out
}
