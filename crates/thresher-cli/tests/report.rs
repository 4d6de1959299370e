//! The HTML run report: written at the end of a run, drawn again by `thresher report`,
//! bounded in size, and (with Chromium and THRESHER_PYTHON) rendered in a headless browser:
//! every chart draws marks, no console error, a sample document opens.

mod common;

use std::path::{Path, PathBuf};

use common::{bin, run};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn require_shared() -> bool {
    std::env::var_os("THRESHER_REQUIRE_SHARED").is_some()
}

/// The default recipe over the repository's sample corpus, into `out`.
fn sample_run(out: &Path) {
    let sample = repo().join("fixtures/sample");
    let o = run(&[
        "run",
        "default",
        "-i",
        sample.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("report.html"));
}

#[test]
fn a_run_writes_its_report_and_report_draws_it_again() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    sample_run(&out);
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    // Self-contained: the scripts are inline, nothing is fetched.
    assert!(!html.contains("<script src"), "no external script");
    assert!(!html.contains("https://cdn"), "no CDN");
    assert!(html.len() < 4_000_000, "{} bytes", html.len());
    for section in [
        "funnel",
        "reasons",
        "values",
        "distributions",
        "errors",
        "examples",
    ] {
        assert!(
            html.contains(&format!("<section id=\"{section}\"")),
            "{section}"
        );
    }
    // Every rejection reason of stats.json has its sample documents.
    let stats = common::stats(&out);
    for s in stats["steps"].as_array().unwrap() {
        for code in s["reasons"].as_object().unwrap().keys() {
            assert!(html.contains(&format!("<h3>{code}</h3>")), "{code}");
        }
    }
    // `thresher report` draws the same page from the files the run left.
    std::fs::remove_file(out.join("report.html")).unwrap();
    let o = run(&["report", out.to_str().unwrap()]);
    assert!(o.status.success());
    assert_eq!(
        String::from_utf8_lossy(&o.stdout).trim(),
        out.join("report.html").display().to_string()
    );
    assert_eq!(
        std::fs::read_to_string(out.join("report.html")).unwrap(),
        html
    );
    // --overwrite removes the report with the rest of the run's output.
    let o = run(&[
        "run",
        "default",
        "-i",
        repo().join("fixtures/sample/seed.jsonl").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "--overwrite",
        "--no-report",
    ]);
    assert!(o.status.success());
    assert!(!out.join("report.html").exists());
    assert!(!out.join("report-data.json").exists());
}

#[test]
fn explain_tells_why_a_document_was_rejected_or_kept() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    sample_run(&out);
    let rejected = common::lines_of(&out.join("rejected"));
    // A rejection with a numeric value and a threshold in the recipe.
    let r = rejected
        .iter()
        .find(|r| r["reason"] == "gopher_quality:gopher_short_doc")
        .expect("a short document in the sample");
    let id = r["id"].as_str().unwrap();
    let o = run(&["explain", out.to_str().unwrap(), id]);
    assert!(o.status.success());
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        text.starts_with(&format!("document {id}: rejected")),
        "{text}"
    );
    assert!(text.contains("gopher_quality           REJECTED"), "{text}");
    assert!(
        text.contains("c4_quality               not reached"),
        "{text}"
    );
    assert!(text.contains("threshold min_doc_words = 50"), "{text}");
    let kept = common::lines_of(&out.join("kept"));
    let id = kept[0]["id"].as_str().unwrap();
    let o = run(&["explain", out.to_str().unwrap(), id]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("why: every step kept it"), "{text}");
    let o = bin()
        .args(["explain", out.to_str().unwrap(), "no-such-id"])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
}

#[test]
fn report_lists_errors_per_file_and_refuses_a_non_run() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in.jsonl");
    let good =
        r#"{"id":"a","text":"Some text that is long enough to be kept by the filter here."}"#;
    std::fs::write(&input, format!("{good}\n{{not json\n{good}\n")).unwrap();
    let recipe = d.path().join("r.toml");
    std::fs::write(&recipe, "[[step]]\ntype = \"text_length\"\n").unwrap();
    let out = d.path().join("out");
    let o = run(&[
        "run",
        recipe.to_str().unwrap(),
        "-i",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let html = std::fs::read_to_string(out.join("report.html")).unwrap();
    let errors = &html[html.find("<section id=\"errors\"").unwrap()..];
    let errors = &errors[..errors.find("</section>").unwrap()];
    assert!(errors.contains("in.jsonl"), "{errors}");
    assert!(
        errors.contains("2: reader: "),
        "line 2, read error: {errors}"
    );

    let o = bin()
        .args(["report", d.path().to_str().unwrap()])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("stats.json"));
}

/// Renders the sample run's report in headless Chromium (scripts/report_check.py over the
/// DevTools protocol). Needs `chromium` on PATH and THRESHER_PYTHON with websocket-client;
/// required when THRESHER_REQUIRE_SHARED is set (CI). THRESHER_REPORT_SCREENSHOTS=DIR saves
/// the screenshots the README shows.
#[test]
fn report_draws_in_headless_chromium() {
    let chromium = ["chromium", "chromium-browser"].iter().any(|c| {
        std::process::Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    });
    let python = std::env::var_os("THRESHER_PYTHON");
    let (true, Some(python)) = (chromium, python) else {
        assert!(
            !require_shared(),
            "chromium and THRESHER_PYTHON (with websocket-client) are required \
             (THRESHER_REQUIRE_SHARED is set)"
        );
        println!("skipped: no chromium or THRESHER_PYTHON");
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    sample_run(&out);
    let mut cmd = std::process::Command::new(python);
    cmd.arg(repo().join("scripts/report_check.py"))
        .arg(out.join("report.html"));
    if let Some(dir) = std::env::var_os("THRESHER_REPORT_SCREENSHOTS") {
        cmd.arg("--screenshot-dir").arg(dir);
    }
    let o = cmd.output().unwrap();
    let summary = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{summary}\n{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let v: serde_json::Value = serde_json::from_str(&summary).unwrap();
    assert!(v["charts"].as_u64().unwrap() >= 10, "{summary}");
    assert_eq!(v["charts"], v["drawn"]);
}
