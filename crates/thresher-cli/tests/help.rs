//! The command explains itself: `--version` names the commit, `--help` opens with what
//! thresher does, `-i`'s help names every input format, errors name what is valid.

mod common;

use common::bin;

#[test]
fn version_help_and_errors_explain_themselves() {
    let o = bin().arg("--version").output().unwrap();
    let v = String::from_utf8_lossy(&o.stdout);
    assert!(
        v.starts_with("thresher 0.") && v.contains("(commit "),
        "{v}"
    );

    let o = bin().arg("--help").output().unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    assert!(
        help.starts_with("thresher turns raw crawled web text"),
        "{help}"
    );
    for cmd in ["report", "explain", "--log-file", "--verbose", "--quiet"] {
        assert!(help.contains(cmd), "{cmd}: {help}");
    }

    let o = bin().args(["run", "--help"]).output().unwrap();
    let help = String::from_utf8_lossy(&o.stdout);
    for format in [
        ".jsonl", ".ndjson", ".warc", ".wet", ".arc", ".html", ".txt", ".parquet", ".gz", ".zst",
    ] {
        assert!(help.contains(format), "{format}: {help}");
    }
    assert!(help.contains("--progress-every"), "{help}");

    let o = bin().args(["recipes", "nope"]).output().unwrap();
    assert_eq!(o.status.code(), Some(2));
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("bundled: ") && err.contains("default"),
        "{err}"
    );
    let o = bin().args(["steps", "nope"]).output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("known: ") && err.contains("gopher_quality"),
        "{err}"
    );
}

/// Output into a pipe whose reader has gone (`thresher recipes | head -1`) ends the command
/// quietly, as other Unix tools end, instead of a panic about a broken pipe.
#[test]
fn a_closed_output_pipe_ends_the_command_without_a_panic() {
    use std::os::unix::process::ExitStatusExt;
    use std::process::Stdio;
    let mut child = bin()
        .args(["steps"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    // Close the reading end before the command writes.
    drop(child.stdout.take());
    let o = child.wait_with_output().unwrap();
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(!err.contains("panicked"), "{err}");
    assert!(
        // Ended by SIGPIPE (13 on Linux), or done before it wrote.
        o.status.success() || o.status.signal() == Some(13),
        "{:?} {err}",
        o.status
    );
}
