//! The progress display: on a terminal (a pty) a bar with percent, ETA and the pass; off one,
//! a plain line every --progress-every seconds with the same figures; -q shows neither; the
//! log file gets JSON events.

mod common;

use std::io::Read;
use std::os::fd::{FromRawFd, OwnedFd};
use std::path::Path;
use std::process::Stdio;

use common::bin;

/// A JSONL input of `n` documents (about 450 bytes each), and a one-step recipe, in `dir`.
fn input(dir: &Path, n: usize) -> (String, String) {
    let words = [
        "the", "of", "and", "to", "in", "is", "was", "for", "on", "that", "with",
    ];
    let mut text = String::new();
    let mut state = 12345u64;
    for i in 0..n {
        let mut t = String::new();
        for _ in 0..80 {
            state = state
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            t.push_str(words[(state >> 33) as usize % words.len()]);
            t.push(' ');
        }
        text.push_str(&format!(
            "{{\"id\":\"d{i}\",\"text\":\"{}.\"}}\n",
            t.trim_end()
        ));
    }
    let path = dir.join("in.jsonl");
    std::fs::write(&path, text).unwrap();
    let recipe = dir.join("r.toml");
    std::fs::write(&recipe, "[[step]]\ntype = \"gopher_quality\"\n").unwrap();
    (
        path.to_str().unwrap().to_string(),
        recipe.to_str().unwrap().to_string(),
    )
}

#[test]
fn off_a_terminal_a_line_every_few_seconds_with_eta() {
    let d = tempfile::tempdir().unwrap();
    let (input, recipe) = input(d.path(), 60_000);
    let log = d.path().join("log.jsonl");
    let out = d.path().join("out");
    let o = bin()
        .args(["run", &recipe, "-i", &input, "-o"])
        .arg(&out)
        // A line every 10 ms: the run takes about 0.2 s on a quick machine, which at 0.1 s
        // gave two lines, not the three this test needs.
        .args(["--threads", "1", "--progress-every", "0.01", "--log-file"])
        .arg(&log)
        .output()
        .unwrap();
    assert!(o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    let lines: Vec<&str> = err
        .lines()
        .filter(|l| l.starts_with("thresher: "))
        .collect();
    assert!(lines.len() >= 3, "periodic lines: {err}");
    assert!(
        lines
            .iter()
            .all(|l| l.contains("pass 1/1 (step 1: gopher_quality)")
                && l.contains('%')
                && l.contains(" MB · ")),
        "{err}"
    );
    // Once some input has been read, the recent rate gives an ETA.
    assert!(lines.iter().any(|l| l.contains("ETA 0:")), "{err}");
    // No bar, no escape sequences off a terminal.
    assert!(!err.contains('\u{1b}'), "{err}");
    assert!(err.contains("in 60000  kept"), "summary: {err}");
    // The log file: the run's start and end and the progress, as JSON lines.
    let events: Vec<serde_json::Value> = std::fs::read_to_string(&log)
        .unwrap()
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let messages: Vec<&str> = events
        .iter()
        .filter_map(|e| e["fields"]["message"].as_str())
        .collect();
    assert!(messages.contains(&"run started"), "{messages:?}");
    assert!(messages.contains(&"pass started"), "{messages:?}");
    assert!(messages.contains(&"run finished"), "{messages:?}");
    assert!(
        events.iter().any(|e| e["fields"]["eta_s"].is_number()),
        "a progress event with an ETA"
    );
    let done = events
        .iter()
        .find(|e| e["fields"]["message"] == "run finished")
        .unwrap();
    assert_eq!(done["fields"]["docs_in"], 60_000);

    // -q: no progress lines and no summary.
    let o = bin()
        .args(["-q", "run", &recipe, "-i", &input, "-o"])
        .arg(d.path().join("out2"))
        .args(["--progress-every", "0.1"])
        .output()
        .unwrap();
    assert!(o.status.success());
    assert!(
        o.stderr.is_empty(),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn on_a_terminal_a_bar_with_percent_eta_and_the_pass() {
    let d = tempfile::tempdir().unwrap();
    // Enough documents for a pass of more than a second: the rates (and so the ETA) need two
    // samples of the bar (redrawn every 200 ms) at least 0.2 s apart within the pass; 60,000
    // took 0.4 s on an idle machine.
    let (input, recipe) = input(d.path(), 300_000);
    let (mut master, mut slave) = (0, 0);
    let size = libc::winsize {
        ws_row: 40,
        ws_col: 200,
        ws_xpixel: 0,
        ws_ypixel: 0,
    };
    // SAFETY: openpty writes two descriptors into the integers given; no name buffer or
    // termios is passed, and the window size outlives the call.
    let rc = unsafe {
        libc::openpty(
            &mut master,
            &mut slave,
            std::ptr::null_mut(),
            std::ptr::null(),
            &size,
        )
    };
    assert_eq!(rc, 0, "openpty");
    // SAFETY: both descriptors were just opened by openpty and are owned here only.
    let (master, slave) = unsafe { (OwnedFd::from_raw_fd(master), OwnedFd::from_raw_fd(slave)) };
    let mut child = bin()
        .args(["run", &recipe, "-i", &input, "-o"])
        .arg(d.path().join("out"))
        .args(["--threads", "1"])
        .env("TERM", "xterm")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::from(slave))
        .spawn()
        .unwrap();
    // Read the terminal until the child has closed its side (EIO on Linux).
    let mut tty = std::fs::File::from(master);
    let reader = std::thread::spawn(move || {
        let mut all = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = tty.read(&mut buf) {
            if n == 0 {
                break;
            }
            all.extend_from_slice(&buf[..n]);
        }
        all
    });
    let status = child.wait().unwrap();
    assert!(status.success());
    let out = String::from_utf8_lossy(&reader.join().unwrap()).into_owned();
    // The bar is redrawn in place (escape sequences), with percent, the pass and an ETA.
    assert!(out.contains('\u{1b}'), "redrawn in place: {out:?}");
    assert!(out.contains("pass 1/1 (step 1: gopher_quality)"), "{out:?}");
    assert!(out.contains("ETA 0:"), "{out:?}");
    assert!(
        out.contains("%") && out.contains("] "),
        "a bar and a percent: {out:?}"
    );
    assert!(out.contains("in 300000  kept"), "summary: {out:?}");
}
