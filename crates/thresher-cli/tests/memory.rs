//! Memory of one large document (issue 17 item 11): the peak resident memory of a run over a
//! single 20 MB document stays under a multiple of the document's size, on top of what the same
//! run takes for a tiny document. docs/memory.md has the measured multiples per step.

use std::io::Write;
use std::path::Path;
use std::process::Command;

/// Size of the generated document's text, in bytes.
const DOC_BYTES: usize = 20 << 20;

/// The recipes checked and the multiple of the document's size each may take above the base.
/// Measured on this document (debug build): 15.6x through `default` (its peak is
/// `gopher_repetition`'s word and n-gram tables; short words make it high) and 3.1x through
/// `paragraph_dedup`. docs/memory.md has the release figures per step, before and after.
const CASES: &[(&str, &str, f64)] = &[
    // A filter sized for a million paragraphs (1.7 MiB): the default one (171 MiB) fills up
    // with the document's paragraphs, which is the filter's memory, not the document's.
    (
        "paragraph_dedup",
        "[[step]]\ntype = \"paragraph_dedup\"\nexpected_paragraphs = 1000000\n",
        6.0,
    ),
    ("default", "", 20.0),
];

/// Prose-like text: words from a fixed vocabulary (a deterministic generator, so the run is
/// the same on every machine), sentences, lines and blank-line paragraphs, no repeats long
/// enough to end the filters early.
fn document(bytes: usize) -> String {
    let syllables = [
        "ka", "lo", "mi", "ne", "ru", "ta", "shi", "po", "ven", "dar", "el", "ost", "in", "gra",
        "fu", "be", "so", "tri", "an", "mor",
    ];
    let mut state = 0x2545_f491_4f6c_dd1du64;
    let mut next = |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    let mut text = String::with_capacity(bytes + 256);
    while text.len() < bytes {
        for _ in 0..1 + next(5) {
            for _ in 0..1 + next(3) {
                for w in 0..5 + next(15) {
                    if w > 0 {
                        text.push(' ');
                    }
                    for _ in 0..1 + next(3) {
                        text.push_str(syllables[next(syllables.len())]);
                    }
                }
                text.push_str(". ");
            }
            text.push('\n');
        }
        text.push('\n');
    }
    text
}

/// Runs `thresher run recipe -i input -o out` and returns the child's peak resident memory in
/// bytes, from `wait4` (which reports that child alone, unlike `RUSAGE_CHILDREN`).
// The child is waited for by `wait4`, which clippy does not know as a wait.
#[allow(clippy::zombie_processes)]
fn peak_rss(recipe: &Path, input: &Path, out: &Path) -> u64 {
    let child = Command::new(env!("CARGO_BIN_EXE_thresher"))
        .args([
            "run",
            recipe.to_str().unwrap(),
            "-i",
            input.to_str().unwrap(),
            "-o",
        ])
        .arg(out)
        .args(["--overwrite", "--threads", "2"])
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("thresher starts");
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: an all-zero rusage is a valid value of this plain C struct.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    // SAFETY: `pid` is our own child, not yet waited for; the pointers are to live locals.
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut usage) };
    assert_eq!(r, pid, "wait4 failed");
    assert!(
        libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0,
        "thresher failed on {}",
        input.display()
    );
    // ru_maxrss is in KiB on Linux.
    u64::try_from(usage.ru_maxrss).unwrap() * 1024
}

#[test]
fn memory_of_one_large_document_is_bounded() {
    let dir = tempfile::tempdir().unwrap();
    let write_doc = |name: &str, text: &str| {
        let path = dir.path().join(name);
        let mut f = std::fs::File::create(&path).unwrap();
        let line = serde_json::json!({"id": name, "text": text, "url": "https://example.com/a"});
        writeln!(f, "{line}").unwrap();
        path
    };
    let tiny = write_doc("tiny.jsonl", "A tiny document.\n\nIt has two paragraphs.");
    let big_text = document(DOC_BYTES);
    let big = write_doc("big.jsonl", &big_text);
    drop(big_text);
    let default = Command::new(env!("CARGO_BIN_EXE_thresher"))
        .args(["recipes", "default"])
        .output()
        .unwrap();
    assert!(default.status.success());
    for &(name, steps, multiple) in CASES {
        let recipe = dir.path().join(format!("{name}.toml"));
        let body = if steps.is_empty() {
            String::from_utf8(default.stdout.clone()).unwrap()
        } else {
            steps.to_string()
        };
        std::fs::write(&recipe, body).unwrap();
        let out = dir.path().join(format!("out-{name}"));
        let base = peak_rss(&recipe, &tiny, &out);
        let peak = peak_rss(&recipe, &big, &out);
        let above = peak.saturating_sub(base) as f64 / DOC_BYTES as f64;
        println!(
            "{name}: base {} MB, peak {} MB: {above:.1} x the document above the base",
            base >> 20,
            peak >> 20
        );
        assert!(
            above <= multiple,
            "{name}: {above:.1} x the document's size above the base, limit {multiple}"
        );
    }
}
