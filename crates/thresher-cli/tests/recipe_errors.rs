//! Recipes and options that cannot be right are refused before any work (issue 17, items 8 and
//! 9): exit code 2, a message that names the recipe line of the offending key, and no output.

use std::path::{Path, PathBuf};
use std::process::Output;

fn sample() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fixtures/sample")
}

/// Runs `thresher run RECIPE -i fixtures/sample -o TMP/out` with `extra` arguments, where
/// RECIPE is `recipe` written to TMP/r.toml; returns the output and the output directory.
fn run_recipe(recipe: &str, extra: &[&str]) -> (Output, tempfile::TempDir) {
    let tmp = tempfile::tempdir().unwrap();
    let path = tmp.path().join("r.toml");
    std::fs::write(&path, recipe).unwrap();
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_thresher"))
        .arg("run")
        .arg(&path)
        .arg("-i")
        .arg(sample())
        .arg("-o")
        .arg(tmp.path().join("out"))
        .args(extra)
        .output()
        .expect("run thresher");
    (out, tmp)
}

/// Expects exit code 2, `r.toml:LINE:` and `what` in the message, and no output directory.
fn refused(recipe: &str, line: usize, what: &str) {
    let (out, tmp) = run_recipe(recipe, &[]);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{recipe}\n{stderr}");
    assert!(stderr.contains(&format!("r.toml:{line}: ")), "{stderr}");
    assert!(stderr.contains(what), "{stderr}");
    assert!(!tmp.path().join("out").exists(), "{stderr}");
}

#[test]
fn negative_ratio_threshold_is_refused() {
    refused(
        "[[step]]\ntype = \"gopher_repetition\"\ndup_para_frac = -0.3\n",
        3,
        "`dup_para_frac` = -0.3",
    );
}

#[test]
fn line_punct_thr_above_one_is_refused() {
    refused(
        "[[step]]\ntype = \"fineweb_quality\"\nline_punct_thr = 7.0\n",
        3,
        "`line_punct_thr` = 7 must be within [0, 1]",
    );
}

#[test]
fn min_doc_words_above_max_doc_words_is_refused() {
    refused(
        "[[step]]\ntype = \"gopher_quality\"\nmin_doc_words = 500\nmax_doc_words = 100\n",
        3,
        "`min_doc_words` = 500 is above `max_doc_words` = 100",
    );
}

#[test]
fn zstd_level_9999_is_refused() {
    refused(
        "[output]\ncompression = \"zstd\"\nlevel = 9999\n[[step]]\ntype = \"exact_dedup\"\n",
        3,
        "`level` = 9999",
    );
}

#[test]
fn empty_text_field_is_refused() {
    refused(
        "[input]\ntext_field = \"\"\n[[step]]\ntype = \"exact_dedup\"\n",
        2,
        "`text_field` must not be empty",
    );
    refused(
        "[input]\nmax_doc_bytes = 0\n[[step]]\ntype = \"exact_dedup\"\n",
        2,
        "`max_doc_bytes`",
    );
}

#[test]
fn type_error_points_at_the_key_line() {
    refused(
        "[[step]]\ntype = \"gopher_quality\"\n\nmin_doc_words = \"abc\"\n",
        4,
        "invalid type: string \"abc\"",
    );
}

#[test]
fn threads_above_limit_is_refused() {
    let (out, tmp) = run_recipe(
        "[[step]]\ntype = \"exact_dedup\"\n",
        &["--threads", "100000"],
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("--threads 100000 is more than 1024"),
        "{stderr}"
    );
    assert!(!tmp.path().join("out").exists());
}

/// A build without the `langid` feature refuses `language_id` at its line, saying how to get
/// it; bundled recipes that use it are still listed, and refused only when run.
#[cfg(not(feature = "langid"))]
#[test]
fn language_id_without_the_feature_is_refused() {
    refused(
        "[[step]]\ntype = \"exact_dedup\"\n\n[[step]]\ntype = \"language_id\"\n",
        5,
        "step `language_id` needs thresher built with the `langid` feature",
    );
    let thresher = env!("CARGO_BIN_EXE_thresher");
    let list = std::process::Command::new(thresher)
        .arg("recipes")
        .output()
        .unwrap();
    assert!(list.status.success());
    let list = String::from_utf8_lossy(&list.stdout);
    assert!(
        list.lines()
            .any(|l| l.starts_with("fineweb-en ") && l.contains("language_id")),
        "{list}"
    );
    let tmp = tempfile::tempdir().unwrap();
    let out = std::process::Command::new(thresher)
        .args(["run", "fineweb-en", "-i"])
        .arg(sample())
        .arg("-o")
        .arg(tmp.path().join("out"))
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(
        stderr.contains("bundled:fineweb-en:8: step `language_id` needs"),
        "{stderr}"
    );
}
