//! The bundled `fineweb-full` recipe (FineWeb's whole order, WARC to PII-formatted text) end to
//! end on the shared WARC samples, with datatrove's URL block lists read from the installed
//! datatrove package (`THRESHER_PYTHON`; the lists are not shipped with thresher).

// The recipe has a `language_id` step, which exists only with the `langid` feature.
#![cfg(feature = "langid")]

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

use common::{lines_of, run, stats};

/// The installed `datatrove/assets` folder, or `None` (a skip, or a failure when
/// THRESHER_REQUIRE_SHARED is set) when Python or datatrove is missing.
fn datatrove_assets() -> Option<PathBuf> {
    let py = std::env::var("THRESHER_PYTHON").unwrap_or_else(|_| "python3".into());
    let out = Command::new(&py)
        .args([
            "-c",
            "import datatrove, os; print(os.path.join(os.path.dirname(datatrove.__file__), 'assets'))",
        ])
        .output();
    match out {
        Ok(o) if o.status.success() => {
            Some(PathBuf::from(String::from_utf8(o.stdout).unwrap().trim()))
        }
        _ => {
            assert!(
                std::env::var_os("THRESHER_REQUIRE_SHARED").is_none(),
                "datatrove (THRESHER_PYTHON={py}) is required but missing"
            );
            println!("skipped: no datatrove in {py}");
            None
        }
    }
}

#[test]
fn fineweb_full_runs_on_the_warc_samples() {
    let samples = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/warc-samples");
    if !samples.is_dir() {
        assert!(
            std::env::var_os("THRESHER_REQUIRE_SHARED").is_none(),
            "../shared is required (THRESHER_REQUIRE_SHARED is set) but absent"
        );
        println!("skipped: {} is absent", samples.display());
        return;
    }
    let Some(assets) = datatrove_assets() else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    let set = format!("url_filter.datatrove_assets={}", assets.display());
    let o = run(&[
        "run",
        "fineweb-full",
        "-i",
        samples.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--set",
        &set,
        "-q",
    ]);
    assert!(o.status.success());
    let s = stats(&out);
    let n = |k: &str| s[k].as_u64().unwrap();
    assert_eq!(n("in"), n("kept") + n("rejected") + n("errors"));
    assert!(n("kept") > 0, "{s}");
    let names: Vec<&str> = s["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| st["name"].as_str().unwrap())
        .collect();
    assert_eq!(names.first(), Some(&"url_filter"), "{names:?}");
    assert_eq!(names.last(), Some(&"pii"), "{names:?}");
    for step in [
        "html_extract",
        "language_id",
        "gopher_quality",
        "minhash_dedup",
    ] {
        assert!(names.contains(&step), "{step} missing from {names:?}");
    }
    // Every kept page went through the whole order: extracted text, English, and datatrove's
    // MinHash cluster id (-1 when alone).
    for doc in lines_of(&out.join("kept")) {
        assert!(!doc["text"].as_str().unwrap().is_empty(), "{doc}");
        assert!(doc["metadata"]["minhash_cluster_id"].is_i64(), "{doc}");
    }
}
