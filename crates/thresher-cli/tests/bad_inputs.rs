//! A catalogue of bad inputs, one test per kind: the `thresher` binary is run on a small input
//! built in a temporary directory, and the README's promise is checked for each:
//!
//! - a completed run exits 0, even with error records; a bad command line, recipe or input path
//!   exits 2 (nothing done);
//! - each bad record is an error record in `OUTDIR/errors/*.jsonl` with its `file` and
//!   `position` (`line`, `byte`), and the message says what is wrong;
//! - the valid records around it are kept (not lost with it);
//! - `stats.json` adds up: `in == kept + rejected + errors`, overall and per file, and the
//!   output files hold exactly that many records.

use std::collections::BTreeSet;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

mod common;
use common::lines_of;

/// A recipe that keeps every distinct text: what is checked is the reading, not the steps.
const RECIPE: &str = "\
[input]
max_doc_bytes = 1000000
[[step]]
type = \"exact_dedup\"
";

/// What one kind of bad input should give.
struct Case {
    /// The arguments after `-i` (paths as given).
    inputs: Vec<PathBuf>,
    /// The recipe's TOML (default: [`RECIPE`]).
    recipe: String,
    /// Extra command-line arguments.
    args: Vec<String>,
    /// The exit code.
    exit: i32,
    /// Ids that must be among the kept documents.
    kept: Vec<String>,
    /// Error records that must be there.
    errors: Vec<Want>,
    /// The number of error records, when it is known exactly (default: `errors.len()`).
    n_errors: Option<usize>,
    /// The number of input records, when it is known.
    n_in: Option<u64>,
    /// The run must end within this time (a hang is a failure).
    timeout: Duration,
}

/// An error record that must be in the output.
#[derive(Debug)]
struct Want {
    /// The end of its `file`.
    file: &'static str,
    /// Its `position.line`, when checked.
    line: Option<u64>,
    /// Its `position.byte`, when checked.
    byte: Option<u64>,
    /// Words its message must hold (empty: any message).
    message: &'static str,
}

fn err(file: &'static str, line: u64, message: &'static str) -> Want {
    Want {
        file,
        line: Some(line),
        byte: None,
        message,
    }
}

fn err_at(file: &'static str, byte: u64, message: &'static str) -> Want {
    Want {
        file,
        line: None,
        byte: Some(byte),
        message,
    }
}

fn err_any(file: &'static str, message: &'static str) -> Want {
    Want {
        file,
        line: None,
        byte: None,
        message,
    }
}

impl Case {
    fn new(inputs: Vec<PathBuf>) -> Case {
        Case {
            inputs,
            recipe: RECIPE.to_string(),
            args: Vec::new(),
            exit: 0,
            kept: Vec::new(),
            errors: Vec::new(),
            n_errors: None,
            n_in: None,
            timeout: Duration::from_secs(60),
        }
    }
    fn kept(mut self, ids: &[&str]) -> Case {
        self.kept.extend(ids.iter().map(|s| s.to_string()));
        self
    }
    fn error(mut self, w: Want) -> Case {
        self.errors.push(w);
        self
    }
    fn n_in(mut self, n: u64) -> Case {
        self.n_in = Some(n);
        self
    }
    fn n_errors(mut self, n: usize) -> Case {
        self.n_errors = Some(n);
        self
    }
    /// Any number of error records (at least the ones listed).
    fn any_errors(mut self) -> Case {
        self.n_errors = Some(usize::MAX);
        self
    }
    fn recipe(mut self, toml: &str) -> Case {
        self.recipe = toml.to_string();
        self
    }
    fn exit(mut self, code: i32) -> Case {
        self.exit = code;
        self
    }
}

/// Runs the binary on the case `build` makes, and checks the promise. `kind` names the case in
/// every failure message.
fn check(kind: &str, build: impl FnOnce(&Path) -> Case) {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let case = build(&input);
    let recipe = d.path().join("recipe.toml");
    std::fs::write(&recipe, &case.recipe).unwrap();
    let out = d.path().join("out");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_thresher"));
    cmd.arg("run").arg(&recipe).arg("-i");
    cmd.args(&case.inputs);
    cmd.arg("-o").arg(&out).args(["-q", "--threads", "2"]);
    cmd.args(&case.args);
    cmd.stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let (code, stderr) = run_with_timeout(kind, cmd, case.timeout);
    assert_eq!(
        code, case.exit,
        "{kind}: exit code {code}, expected {}; stderr:\n{stderr}",
        case.exit
    );
    if case.exit != 0 {
        assert!(
            !stderr.trim().is_empty(),
            "{kind}: exit {code} without a message"
        );
        return;
    }
    let stats: Value = serde_json::from_str(
        &std::fs::read_to_string(out.join("stats.json"))
            .unwrap_or_else(|e| panic!("{kind}: no stats.json: {e}")),
    )
    .unwrap_or_else(|e| panic!("{kind}: stats.json is not JSON: {e}"));
    let n = |v: &Value, k: &str| {
        v[k].as_u64()
            .unwrap_or_else(|| panic!("{kind}: stats.json has no `{k}`: {v:#}"))
    };
    assert_eq!(
        n(&stats, "in"),
        n(&stats, "kept") + n(&stats, "rejected") + n(&stats, "errors"),
        "{kind}: in != kept + rejected + errors: {stats:#}"
    );
    for (name, f) in stats["files"].as_object().expect("files") {
        assert_eq!(
            n(f, "in"),
            n(f, "kept") + n(f, "rejected") + n(f, "errors"),
            "{kind}: in != kept + rejected + errors for {name}: {stats:#}"
        );
    }
    let kept = lines_of(&out.join("kept"));
    let rejected = lines_of(&out.join("rejected"));
    let errors = lines_of(&out.join("errors"));
    assert_eq!(kept.len() as u64, n(&stats, "kept"), "{kind}: kept records");
    assert_eq!(
        rejected.len() as u64,
        n(&stats, "rejected"),
        "{kind}: rejected records"
    );
    assert_eq!(
        errors.len() as u64,
        n(&stats, "errors"),
        "{kind}: error records"
    );
    let shown = errors
        .iter()
        .map(Value::to_string)
        .collect::<Vec<_>>()
        .join("\n");
    for e in &errors {
        let file = e["file"].as_str().unwrap_or("");
        assert!(
            !file.is_empty(),
            "{kind}: an error record without its file: {e}"
        );
        assert!(
            e["position"]["line"].is_u64() && e["position"]["byte"].is_u64(),
            "{kind}: an error record without its position: {e}"
        );
        assert!(
            e["error"].as_str().is_some_and(|m| !m.is_empty()),
            "{kind}: an error record without a message: {e}"
        );
    }
    for w in &case.errors {
        let found = errors.iter().any(|e| {
            e["file"].as_str().unwrap_or("").ends_with(w.file)
                && w.line.is_none_or(|l| e["position"]["line"] == l)
                && w.byte.is_none_or(|b| e["position"]["byte"] == b)
                && e["error"].as_str().unwrap_or("").contains(w.message)
        });
        assert!(
            found,
            "{kind}: missing error record {w:?}; errors:\n{shown}"
        );
    }
    match case.n_errors {
        Some(usize::MAX) => {}
        Some(k) => assert_eq!(errors.len(), k, "{kind}: error records:\n{shown}"),
        None => assert_eq!(
            errors.len(),
            case.errors.len(),
            "{kind}: error records:\n{shown}"
        ),
    }
    let ids: BTreeSet<&str> = kept.iter().filter_map(|d| d["id"].as_str()).collect();
    for id in &case.kept {
        assert!(
            ids.contains(id.as_str()),
            "{kind}: `{id}` is not kept; kept: {ids:?}; errors:\n{shown}"
        );
    }
    if let Some(want) = case.n_in {
        assert_eq!(
            n(&stats, "in"),
            want,
            "{kind}: input records; kept {ids:?}; errors:\n{shown}"
        );
    }
}

/// Runs `cmd`, killing it after `timeout`; returns the exit code (-1 for a signal) and stderr.
fn run_with_timeout(kind: &str, mut cmd: Command, timeout: Duration) -> (i32, String) {
    let mut child = cmd.spawn().expect("run thresher");
    let start = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            let mut stderr = String::new();
            if let Some(mut e) = child.stderr.take() {
                let _ = std::io::Read::read_to_string(&mut e, &mut stderr);
            }
            return (status.code().unwrap_or(-1), stderr);
        }
        if start.elapsed() > timeout {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{kind}: thresher did not end within {timeout:?} (killed)");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------------------------
// Input builders.

/// A valid JSONL line (with its newline) of id `id` and a text of its own.
fn good(id: &str) -> Vec<u8> {
    format!("{{\"id\":\"{id}\",\"text\":\"The record {id} is a valid document.\"}}\n").into_bytes()
}

/// `good("g1")`, `bad` (its newline added), `good("g2")`, written to `dir/name`.
fn sandwich(dir: &Path, name: &str, bad: &[u8]) -> PathBuf {
    let mut data = good("g1");
    data.extend_from_slice(bad);
    data.push(b'\n');
    data.extend(good("g2"));
    let p = dir.join(name);
    std::fs::write(&p, data).unwrap();
    p
}

/// A JSONL case: `bad` between two good lines; the bad line is line 2 and an error with
/// `message`.
fn bad_line(dir: &Path, bad: &[u8], message: &'static str) -> Case {
    let p = sandwich(dir, "a.jsonl", bad);
    let g1 = good("g1").len() as u64;
    Case::new(vec![p])
        .kept(&["g1", "g2"])
        .error(Want {
            file: "a.jsonl",
            line: Some(2),
            byte: Some(g1),
            message,
        })
        .n_in(3)
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).unwrap();
    e.finish().unwrap()
}

/// `n` good lines `prefix-0`, `prefix-1`...
fn good_lines(prefix: &str, n: usize) -> Vec<u8> {
    (0..n)
        .flat_map(|i| good(&format!("{prefix}-{i}")))
        .collect()
}

/// An HTML page of its own for `id`.
fn page(id: &str) -> String {
    format!(
        "<html><head><title>Page {id}</title></head><body><article><p>This is the page {id}, \
         a valid document with a paragraph of text in it.</p></article></body></html>"
    )
}

/// A WARC record with `headers` (after the version line) and `block`, and its trailing CRLFs.
fn warc_raw(version: &str, headers: &str, block: &[u8]) -> Vec<u8> {
    let mut out = format!("{version}\r\n{headers}\r\n").into_bytes();
    out.extend_from_slice(block);
    out.extend_from_slice(b"\r\n\r\n");
    out
}

/// The WARC headers of a response record `id` whose block is `len` bytes.
fn warc_headers(id: &str, len: &str) -> String {
    format!(
        "WARC-Type: response\r\nWARC-Record-ID: <urn:uuid:{id}>\r\n\
         WARC-Target-URI: http://example.com/{id}\r\nWARC-Date: 2024-01-01T00:00:00Z\r\n\
         Content-Type: application/http; msgtype=response\r\nContent-Length: {len}\r\n"
    )
}

/// An HTTP response holding `body` with extra headers.
fn http(extra: &str, body: &[u8]) -> Vec<u8> {
    let mut out =
        format!("HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n{extra}\r\n")
            .into_bytes();
    out.extend_from_slice(body);
    out
}

/// A valid WARC response record of the page `id` (document id `urn:uuid:{id}`).
fn warc_ok(id: &str) -> Vec<u8> {
    warc_with_block(id, &http("", page(id).as_bytes()))
}

fn warc_with_block(id: &str, block: &[u8]) -> Vec<u8> {
    warc_raw(
        "WARC/1.0",
        &warc_headers(id, &block.len().to_string()),
        block,
    )
}

fn cat(parts: &[&[u8]]) -> Vec<u8> {
    parts.concat()
}

fn write(dir: &Path, name: &str, data: &[u8]) -> PathBuf {
    let p = dir.join(name);
    if let Some(parent) = p.parent() {
        std::fs::create_dir_all(parent).unwrap();
    }
    std::fs::write(&p, data).unwrap();
    p
}

/// Bytes that look like nothing (a fixed pseudo-random sequence).
fn noise(n: usize, seed: u64) -> Vec<u8> {
    let mut x = seed | 1;
    (0..n)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        })
        .collect()
}

/// A WARC case: a good record, `bad`, a good record; the bad record is at the offset after the
/// first and must be an error with `message`.
fn warc_case(dir: &Path, bad: &[u8], message: &'static str) -> Case {
    let first = warc_ok("g1");
    let data = cat(&[&first, bad, &warc_ok("g2")]);
    let p = write(dir, "a.warc", &data);
    Case::new(vec![p])
        .kept(&["urn:uuid:g1", "urn:uuid:g2"])
        .error(err_at("a.warc", first.len() as u64, message))
        .n_in(3)
}

const HTML_RECIPE: &str = "\
[[step]]
type = \"html_extract\"
[[step]]
type = \"exact_dedup\"
";

/// Declares one test per kind: `name => |dir| case`, optionally with attributes.
macro_rules! kinds {
    ($($(#[$attr:meta])* $name:ident => $build:expr;)*) => {
        $(
            #[test]
            $(#[$attr])*
            fn $name() {
                check(stringify!($name), $build);
            }
        )*
    };
}

// ---------------------------------------------------------------------------------------------
// JSONL.

kinds! {
    json_truncated_object => |d| bad_line(d, br#"{"id":"bad","text":"abc"#, "broken JSON");
    json_trailing_garbage => |d| bad_line(d, br#"{"id":"bad","text":"x"} trailing"#, "broken JSON");
    json_two_objects_on_a_line => |d| bad_line(d, br#"{"id":"b1","text":"x"}{"id":"b2","text":"y"}"#, "broken JSON");
    json_not_an_object => |d| bad_line(d, br#""just a string""#, "");
    json_array_line => |d| bad_line(d, br#"[{"id":"bad","text":"x"}]"#, "");
    json_number_line => |d| bad_line(d, b"42", "");
    json_null_line => |d| bad_line(d, b"null", "");
    json_unquoted_keys => |d| bad_line(d, b"{id:\"bad\",text:\"x\"}", "broken JSON");
    missing_text_field => |d| bad_line(d, br#"{"id":"bad","body":"x"}"#, "no `text` field");
    text_not_a_string => |d| bad_line(d, br#"{"id":"bad","text":["a","b"]}"#, "not a string");
    text_is_an_object => |d| bad_line(d, br#"{"id":"bad","text":{"a":"b"}}"#, "not a string");
    id_not_a_string_or_number => |d| {
        // The reader takes any non-string id as its JSON text (jsonl.rs: `v.to_string()`), so
        // the record is kept under the id `{"x":1}`; an error record would do too. Not lost.
        let p = sandwich(d, "a.jsonl", br#"{"id":{"x":1},"text":"object id"}"#);
        Case::new(vec![p]).kept(&["g1", "g2"]).n_in(3).any_errors()
    };
    id_is_a_boolean_or_array => |d| {
        let p = write(d, "a.jsonl", &cat(&[
            &good("g1"),
            br#"{"id":true,"text":"boolean id"}"#, b"\n",
            br#"{"id":["a"],"text":"array id"}"#, b"\n",
            &good("g2"),
        ]));
        Case::new(vec![p]).kept(&["g1", "g2"]).n_in(4).any_errors()
    };
    id_is_a_number => |d| {
        let p = sandwich(d, "a.jsonl", br#"{"id":12345,"text":"numeric id"}"#);
        Case::new(vec![p]).kept(&["g1", "12345", "g2"]).n_in(3)
    };
    metadata_not_an_object => |d| {
        // Not an error by nature: either carried as it is or an error, never lost.
        let p = sandwich(d, "a.jsonl", br#"{"id":"m","text":"meta","metadata":[1,2]}"#);
        Case::new(vec![p]).kept(&["g1", "g2"]).n_in(3).any_errors()
    };
    invalid_utf8_in_text => |d| bad_line(d, b"{\"id\":\"bad\",\"text\":\"caf\xe9 cr\xe8me\"}", "invalid UTF-8");
    invalid_utf8_in_key => |d| bad_line(d, b"{\"id\":\"bad\",\"te\xffxt\":\"x\",\"text\":\"y\"}", "invalid UTF-8");
    invalid_utf8_replaced_when_asked => |d| {
        let p = sandwich(d, "a.jsonl", b"{\"id\":\"lossy\",\"text\":\"caf\xe9\"}");
        Case::new(vec![p])
            .recipe("[input]\ninvalid_utf8 = \"replace\"\n[[step]]\ntype = \"exact_dedup\"\n")
            .kept(&["g1", "lossy", "g2"])
            .n_in(3)
    };
    overlong_line => |d| {
        let long = format!("{{\"id\":\"long\",\"text\":\"{}\"}}", "x".repeat(1000));
        let p = sandwich(d, "a.jsonl", long.as_bytes());
        Case::new(vec![p])
            .recipe("[input]\nmax_doc_bytes = 300\n[[step]]\ntype = \"exact_dedup\"\n")
            .kept(&["g1", "g2"])
            .error(err("a.jsonl", 2, "over max_doc_bytes"))
            .n_in(3)
    };
    overlong_last_line_without_newline => |d| {
        let mut data = good("g1");
        data.extend(format!("{{\"id\":\"long\",\"text\":\"{}\"}}", "x".repeat(1000)).bytes());
        let p = write(d, "a.jsonl", &data);
        Case::new(vec![p])
            .recipe("[input]\nmax_doc_bytes = 300\n[[step]]\ntype = \"exact_dedup\"\n")
            .kept(&["g1"])
            .error(err("a.jsonl", 2, "over max_doc_bytes"))
            .n_in(2)
    };
    empty_and_blank_lines => |d| {
        let data = cat(&[b"\n\n", &good("g1"), b"   \n\t\n\r\n", &good("g2"), b"\n \n"]);
        let p = write(d, "a.jsonl", &data);
        Case::new(vec![p]).kept(&["g1", "g2"]).n_in(2)
    };
    only_blank_lines => |d| {
        let p = write(d, "a.jsonl", b"\n  \n\r\n\n");
        let q = write(d, "b.jsonl", &good("g1"));
        Case::new(vec![p, q]).kept(&["g1"]).error(err("a.jsonl", 0, "empty file")).n_in(2)
    };
    crlf_line_endings => |d| {
        let data: Vec<u8> = cat(&[&good("g1"), &good("g2"), &good("g3")])
            .into_iter()
            .flat_map(|b| if b == b'\n' { vec![b'\r', b'\n'] } else { vec![b] })
            .collect();
        let p = write(d, "a.jsonl", &data);
        Case::new(vec![p]).kept(&["g1", "g2", "g3"]).n_in(3)
    };
    last_line_without_newline => |d| {
        let mut data = good("g1");
        data.extend_from_slice(br#"{"id":"g2","text":"no newline at the end"}"#);
        let p = write(d, "a.jsonl", &data);
        Case::new(vec![p]).kept(&["g1", "g2"]).n_in(2)
    };
    nul_bytes_in_a_string => |d| bad_line(d, b"{\"id\":\"bad\",\"text\":\"a\0b\"}", "");
    nul_bytes_outside_strings => |d| bad_line(d, b"\0\0{\"id\":\"bad\",\"text\":\"x\"}\0", "");
    deep_nesting_100k_levels => |d| {
        let deep = format!(
            "{{\"id\":\"deep\",\"text\":\"x\",\"metadata\":{{\"a\":{}{}}}}}",
            "[".repeat(100_000),
            "]".repeat(100_000)
        );
        bad_line(d, deep.as_bytes(), "broken JSON")
    };
    deep_nesting_whole_line => |d| {
        let deep = format!("{}{}", "{\"a\":".repeat(100_000), "}".repeat(100_000));
        bad_line(d, deep.as_bytes(), "")
    };
    long_string_of_escapes => |d| {
        let text = "\\n\\\"\\\\\\u00e9\\ud83d\\ude00\\t".repeat(20_000);
        let line = format!("{{\"id\":\"esc\",\"text\":\"{text}\"}}");
        let p = sandwich(d, "a.jsonl", line.as_bytes());
        Case::new(vec![p]).kept(&["g1", "esc", "g2"]).n_in(3)
    };
    lone_surrogate_escape => |d| bad_line(d, br#"{"id":"bad","text":"a\ud800b"}"#, "");
    lone_low_surrogate_escape => |d| bad_line(d, br#"{"id":"bad","text":"a\udc00b"}"#, "");
    bad_escape => |d| bad_line(d, br#"{"id":"bad","text":"a\qb"}"#, "broken JSON");
    raw_control_character_in_string => |d| bad_line(d, b"{\"id\":\"bad\",\"text\":\"a\x01b\"}", "");
    duplicate_text_field => |d| {
        // Two `text` fields: an error, or the record read one way; never lost.
        let p = sandwich(d, "a.jsonl", br#"{"id":"dup","text":"one","text":"two"}"#);
        Case::new(vec![p]).kept(&["g1", "g2"]).n_in(3).any_errors()
    };
}

// ---------------------------------------------------------------------------------------------
// Compressed JSONL.

kinds! {
    truncated_gzip => |d| {
        let full = gzip(&good_lines("gz", 400));
        let cut = &full[..full.len() / 2];
        let p = write(d, "a.jsonl.gz", cut);
        let q = write(d, "b.jsonl", &good("after"));
        // What can be decoded is kept; the cut is one error; the next file is read.
        let mut got = Vec::new();
        let _ = std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(cut), &mut got);
        let whole_lines = got.iter().filter(|&&b| b == b'\n').count() as u64;
        Case::new(vec![p, q])
            .kept(&["gz-0", "gz-1", "after"])
            .error(err_any("a.jsonl.gz", "truncated or corrupt"))
            .n_in(whole_lines + 2)
    };
    gzip_with_garbage_appended => |d| {
        let mut data = gzip(&good_lines("gz", 20));
        data.extend_from_slice(b"this is not gzip at all\n");
        let p = write(d, "a.jsonl.gz", &data);
        let mut c = Case::new(vec![p]).kept(&["gz-0", "gz-19"]);
        // The garbage is at most one error (gzip itself warns and ignores it).
        c.n_errors = Some(usize::MAX);
        c
    };
    corrupt_zstd => |d| {
        let p = write(d, "a.jsonl.zst", b"\x28\xb5\x2f\xfd garbage garbage garbage");
        let q = write(d, "b.jsonl", &good("after"));
        Case::new(vec![p, q])
            .kept(&["after"])
            .error(err("a.jsonl.zst", 1, "truncated or corrupt"))
            .n_in(2)
    };
    truncated_zstd => |d| {
        let full = zstd_frame(&good_lines("zs", 300));
        let p = write(d, "a.jsonl.zst", &full[..full.len() * 2 / 3]);
        Case::new(vec![p])
            .kept(&["zs-0"])
            .error(err_any("a.jsonl.zst", "truncated or corrupt"))
    };
    empty_jsonl_file => |d| {
        let p = write(d, "a.jsonl", b"");
        let q = write(d, "b.jsonl", &good("g1"));
        Case::new(vec![p, q]).kept(&["g1"]).error(err("a.jsonl", 0, "empty file")).n_in(2)
    };
    empty_gz => |d| {
        // A gzip stream of nothing, and a zero-byte file named .gz.
        let p = write(d, "a.jsonl.gz", &gzip(b""));
        let q = write(d, "b.jsonl.gz", b"");
        let r = write(d, "c.jsonl", &good("g1"));
        Case::new(vec![p, q, r])
            .kept(&["g1"])
            .error(err("a.jsonl.gz", 0, "empty file"))
            .error(err("b.jsonl.gz", 0, "empty file"))
            .n_in(3)
    };
    binary_file_named_jsonl => |d| {
        let data = noise(20_000, 7);
        let lines = data
            .split(|&b| b == b'\n')
            .filter(|l| {
                let l = l.strip_suffix(b"\r").unwrap_or(l);
                !l.iter().all(u8::is_ascii_whitespace)
            })
            .count();
        let p = write(d, "a.jsonl", &data);
        let q = write(d, "b.jsonl", &good("g1"));
        Case::new(vec![p, q])
            .kept(&["g1"])
            .error(err_any("a.jsonl", ""))
            .n_errors(lines)
            .n_in(lines as u64 + 1)
    };
    gzip_of_binary_named_jsonl => |d| {
        let p = write(d, "a.jsonl.gz", &gzip(&noise(5_000, 11).iter().map(|&b| b | 1).filter(|&b| b != b'\n').collect::<Vec<u8>>()));
        Case::new(vec![p]).error(err("a.jsonl.gz", 1, "")).n_in(1)
    };
}

/// A zstd frame of `data`, made by the `zstd` command-line tool if there is one, else a
/// hand-made frame of raw blocks (no compression) so the test needs no zstd crate.
fn zstd_frame(data: &[u8]) -> Vec<u8> {
    // Frame header: magic, descriptor (single segment, 4-byte content size), content size.
    let mut out = vec![0x28, 0xb5, 0x2f, 0xfd, 0b1010_0000];
    out.extend_from_slice(&(data.len() as u32).to_le_bytes());
    let mut chunks = data.chunks(16 * 1024).peekable();
    while let Some(c) = chunks.next() {
        let last = u32::from(chunks.peek().is_none());
        // Raw block: type 0; header = last | type << 1 | size << 3 (3 bytes LE).
        let h = last | ((c.len() as u32) << 3);
        out.extend_from_slice(&h.to_le_bytes()[..3]);
        out.extend_from_slice(c);
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Plain text and HTML files.

kinds! {
    txt_binary => |d| {
        let p = write(d, "blob.txt", b"PK\x03\x04\x00\x00binary\x00stuff");
        let q = write(d, "ok.txt", b"A good text file.\n");
        Case::new(vec![p, q]).kept(&["ok"]).error(err("blob.txt", 0, "binary file")).n_in(2)
    };
    txt_empty => |d| {
        let p = write(d, "empty.txt", b"");
        let q = write(d, "ok.txt", b"A good text file.\n");
        Case::new(vec![p, q]).kept(&["ok"]).error(err("empty.txt", 0, "empty file")).n_in(2)
    };
    txt_invalid_utf8 => |d| {
        let p = write(d, "latin1.txt", b"Caf\xe9 cr\xe8me br\xfbl\xe9e");
        let q = write(d, "ok.txt", b"A good text file.\n");
        Case::new(vec![p, q])
            .kept(&["ok"])
            .error(err("latin1.txt", 0, "invalid UTF-8 at byte 3"))
            .n_in(2)
    };
    txt_over_max_doc_bytes => |d| {
        let p = write(d, "big.txt", "word ".repeat(200).as_bytes());
        let q = write(d, "ok.txt", b"A good text file.\n");
        Case::new(vec![p, q])
            .recipe("[input]\nmax_doc_bytes = 300\n[[step]]\ntype = \"exact_dedup\"\n")
            .kept(&["ok"])
            .error(err("big.txt", 0, "over max_doc_bytes"))
            .n_in(2)
    };
    html_without_body => |d| {
        // Not lost: extracted to nothing, it is rejected (or an error), never dropped.
        let p = write(d, "nobody.html", b"<html><head><title>No body</title></head></html>");
        let q = write(d, "ok.html", page("ok").as_bytes());
        Case::new(vec![p, q]).recipe(HTML_RECIPE).kept(&["ok"]).n_in(2).any_errors()
    };
    html_invalid_encoding => |d| {
        let mut bad = b"<html><head><meta charset=\"utf-8\"></head><body><article><p>".to_vec();
        bad.extend_from_slice(b"Caf\xe9 cr\xe8me \xff\xfe\xfd and a paragraph long enough to keep.");
        bad.extend_from_slice(b"</p></article></body></html>");
        let p = write(d, "bad.html", &bad);
        let q = write(d, "ok.html", page("ok").as_bytes());
        Case::new(vec![p, q]).recipe(HTML_RECIPE).kept(&["ok"]).n_in(2).any_errors()
    };
    html_binary => |d| {
        let p = write(d, "bin.html", &noise(3000, 5));
        let q = write(d, "ok.html", page("ok").as_bytes());
        Case::new(vec![p, q]).recipe(HTML_RECIPE).kept(&["ok"]).n_in(2).any_errors()
    };
    html_empty => |d| {
        let p = write(d, "empty.html", b"");
        let q = write(d, "ok.html", page("ok").as_bytes());
        Case::new(vec![p, q]).recipe(HTML_RECIPE).kept(&["ok"]).n_in(2).any_errors()
    };
}

// ---------------------------------------------------------------------------------------------
// WARC and ARC.

kinds! {
    warc_truncated_record => |d| {
        let first = warc_ok("g1");
        let second = warc_ok("cut");
        let data = cat(&[&first, &second[..second.len() - 60]]);
        let p = write(d, "a.warc", &data);
        Case::new(vec![p])
            .kept(&["urn:uuid:g1"])
            .error(err_at("a.warc", first.len() as u64, "truncated record"))
            .n_in(2)
    };
    warc_bad_version_line => |d| {
        let block = http("", page("bad").as_bytes());
        warc_case(d, &warc_raw("WARX/1.0", &warc_headers("bad", &block.len().to_string()), &block), "junk")
    };
    warc_missing_content_length => |d| {
        let block = http("", page("bad").as_bytes());
        let headers = warc_headers("bad", "0").replace("Content-Length: 0\r\n", "");
        warc_case(d, &warc_raw("WARC/1.0", &headers, &block), "Content-Length")
    };
    warc_non_numeric_content_length => |d| {
        let block = http("", page("bad").as_bytes());
        warc_case(d, &warc_raw("WARC/1.0", &warc_headers("bad", "12abc"), &block), "Content-Length")
    };
    warc_negative_content_length => |d| {
        let block = http("", page("bad").as_bytes());
        warc_case(d, &warc_raw("WARC/1.0", &warc_headers("bad", "-5"), &block), "Content-Length")
    };
    warc_header_without_end => |d| {
        // The header block never ends: at the end of input, an error.
        let first = warc_ok("g1");
        let data = cat(&[&first, b"WARC/1.0\r\nWARC-Type: response\r\nContent-Length: 10\r\n"]);
        let p = write(d, "a.warc", &data);
        Case::new(vec![p])
            .kept(&["urn:uuid:g1"])
            .error(err_at("a.warc", first.len() as u64, "header"))
            .n_in(2)
    };
    warc_without_type => |d| {
        let block = http("", page("bad").as_bytes());
        let headers = warc_headers("bad", &block.len().to_string()).replace("WARC-Type: response\r\n", "");
        warc_case(d, &warc_raw("WARC/1.0", &headers, &block), "WARC-Type")
    };
    warc_http_without_status_line => |d| {
        warc_case(d, &warc_with_block("bad", page("bad").as_bytes()), "bad HTTP response")
    };
    warc_gz_truncated_member => |d| {
        let first = warc_ok("g1");
        let mut data = gzip(&first);
        let second = gzip(&warc_ok("cut"));
        data.extend_from_slice(&second[..second.len() / 2]);
        let p = write(d, "a.warc.gz", &data);
        Case::new(vec![p])
            .kept(&["urn:uuid:g1"])
            .error(err_at("a.warc.gz", first.len() as u64, ""))
            .n_in(2)
    };
    warc_bad_chunked_encoding => |d| {
        // Badly chunked: the body is taken as it is (crawlers store de-chunked bodies and keep
        // the header) or the record is an error; never lost, and the next record is read.
        let block = http("Transfer-Encoding: chunked\r\n", format!("zz\r\n{}\r\n0\r\n\r\n", page("bad")).as_bytes());
        let first = warc_ok("g1");
        let data = cat(&[&first, &warc_with_block("bad", &block), &warc_ok("g2")]);
        let p = write(d, "a.warc", &data);
        Case::new(vec![p]).kept(&["urn:uuid:g1", "urn:uuid:g2"]).n_in(3).any_errors()
    };
    warc_corrupt_gzip_content_encoding => |d| {
        let block = http("Content-Encoding: gzip\r\n", &cat(&[b"\x1f\x8b\x08\x00", &noise(400, 3)]));
        warc_case(d, &warc_with_block("bad", &block), "gzip")
    };
    warc_corrupt_brotli_content_encoding => |d| {
        let block = http("Content-Encoding: br\r\n", &noise(400, 9));
        warc_case(d, &warc_with_block("bad", &block), "br")
    };
    warc_corrupt_deflate_content_encoding => |d| {
        let block = http("Content-Encoding: deflate\r\n", &noise(400, 13));
        warc_case(d, &warc_with_block("bad", &block), "deflate")
    };
    warc_empty_file => |d| {
        let p = write(d, "a.warc", b"");
        let q = write(d, "b.warc", &warc_ok("g1"));
        Case::new(vec![p, q]).kept(&["urn:uuid:g1"]).error(err("a.warc", 0, "empty file")).n_in(2)
    };
    warc_garbage_file => |d| {
        let p = write(d, "a.warc", &noise(5000, 17));
        let q = write(d, "b.warc", &warc_ok("g1"));
        Case::new(vec![p, q]).kept(&["urn:uuid:g1"]).error(err_at("a.warc", 0, "")).any_errors()
    };
    arc_truncated => |d| {
        let version = b"1 0 Example\nURL IP-address Archive-date Content-type Archive-length\n";
        let filedesc = cat(&[
            format!("filedesc://a.arc 0.0.0.0 20240101000000 text/plain {}\n", version.len()).as_bytes(),
            version,
            b"\n",
        ]);
        let rec = |id: &str| {
            let block = http("", page(id).as_bytes());
            let mut r = format!("http://example.com/{id} 1.2.3.4 20240101000000 text/html {}\n", block.len()).into_bytes();
            r.extend_from_slice(&block);
            r.push(b'\n');
            r
        };
        let good = rec("g1");
        let cut = rec("cut");
        let head = cat(&[&filedesc, &good]);
        let data = cat(&[&head, &cut[..cut.len() - 50]]);
        let p = write(d, "a.arc", &data);
        Case::new(vec![p])
            .kept(&["http://example.com/g1 20240101000000"])
            .error(err_at("a.arc", head.len() as u64, "truncated ARC record"))
            .n_in(2)
    };
    arc_bad_header_line => |d| {
        let filedesc = b"filedesc://a.arc 0.0.0.0 20240101000000 text/plain 0\n\n";
        let block = http("", page("g1").as_bytes());
        let mut good = format!("http://example.com/g1 1.2.3.4 20240101000000 text/html {}\n", block.len()).into_bytes();
        good.extend_from_slice(&block);
        good.push(b'\n');
        let head = filedesc.to_vec();
        let data = cat(&[&head, b"http://example.com/bad 1.2.3.4 notalength\n", &good]);
        let p = write(d, "a.arc", &data);
        Case::new(vec![p])
            .kept(&["http://example.com/g1 20240101000000"])
            .error(err_at("a.arc", head.len() as u64, "malformed ARC header"))
            .any_errors()
    };
}

// ---------------------------------------------------------------------------------------------
// Files, directories, command line.

/// Whether this process runs as root (which reads files whatever their mode).
fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions and cannot fail.
    unsafe { libc::geteuid() == 0 }
}

#[test]
fn unreadable_file() {
    if is_root() {
        eprintln!("unreadable_file: skipped: running as root, which reads a chmod 000 file");
        return;
    }
    use std::os::unix::fs::PermissionsExt;
    check("unreadable_file", |d| {
        let p = write(d, "a.jsonl", &good("secret"));
        std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o000)).unwrap();
        let q = write(d, "b.jsonl", &good("g1"));
        Case::new(vec![p, q])
            .kept(&["g1"])
            .error(err("a.jsonl", 0, "cannot open"))
            .n_in(2)
    });
}

kinds! {
    mixed_directory => |d| {
        write(d, "a.jsonl", &good_lines("a", 3));
        write(d, "b.jsonl", &cat(&[&good("b-0"), b"{broken\n", &good("b-2")]));
        write(d, "c.txt", b"");
        write(d, "d.txt", b"A good text document.");
        write(d, "sub/e.jsonl.gz", &gzip(&good_lines("e", 2)));
        write(d, "sub/f.warc", &cat(&[&warc_ok("w1"), b"WARC/1.0\r\nbroken"]));
        write(d, "sub/g.html", page("g").as_bytes());
        write(d, ".hidden.jsonl", b"{broken\n");
        Case::new(vec![d.to_path_buf()])
            .kept(&["a-0", "a-1", "a-2", "b-0", "b-2", "d", "e-0", "e-1", "urn:uuid:w1", "g"])
            .error(err("b.jsonl", 2, "broken JSON"))
            .error(err("c.txt", 0, "empty file"))
            .error(err_any("sub/f.warc", ""))
            .n_in(13)
    };
    duplicate_input_paths => |d| {
        // The same file given twice: read twice (the second copies are duplicates) or once;
        // either way nothing is lost and the counts add up.
        let p = write(d, "a.jsonl", &good_lines("a", 2));
        let mut c = Case::new(vec![p.clone(), p]).kept(&["a-0", "a-1"]);
        c.n_errors = Some(0);
        c
    };
    missing_input_path => |d| Case::new(vec![d.join("nope.jsonl")]).exit(2);
    empty_input_directory => |d| {
        std::fs::create_dir(d.join("empty")).unwrap();
        Case::new(vec![d.join("empty")]).exit(2)
    };
    glob_matching_nothing => |d| Case::new(vec![d.join("*.warc")]).exit(2);
    unknown_step_in_recipe => |d| {
        let p = write(d, "a.jsonl", &good("g1"));
        Case::new(vec![p]).recipe("[[step]]\ntype = \"no_such_step\"\n").exit(2)
    };
    unknown_recipe_key => |d| {
        let p = write(d, "a.jsonl", &good("g1"));
        Case::new(vec![p]).recipe("[input]\nmax_doc_bytes = 10\nbogus = 1\n[[step]]\ntype = \"exact_dedup\"\n").exit(2)
    };
    recipe_not_toml => |d| {
        let p = write(d, "a.jsonl", &good("g1"));
        Case::new(vec![p]).recipe("this is [not toml\n").exit(2)
    };
    zero_max_doc_bytes => |d| {
        let p = write(d, "a.jsonl", &good("g1"));
        Case::new(vec![p]).recipe("[input]\nmax_doc_bytes = 0\n[[step]]\ntype = \"exact_dedup\"\n").exit(2)
    };
    bad_command_line_flag => |d| {
        let p = write(d, "a.jsonl", &good("g1"));
        let mut c = Case::new(vec![p]).exit(2);
        c.args.push("--no-such-flag".into());
        c
    };
}

// ---------------------------------------------------------------------------------------------
// Issue 17: the failures found by probing the release binary, each with its promise.

kinds! {
    utf8_bom_at_start_of_jsonl => |d| {
        let p = write(d, "a.jsonl", &cat(&[b"\xef\xbb\xbf", &good("g1"), &good("g2")]));
        Case::new(vec![p]).kept(&["g1", "g2"]).n_in(2)
    };
    directory_symlink_cycle => |d| {
        write(d, "b.jsonl", &good("g1"));
        std::fs::create_dir(d.join("sub")).unwrap();
        std::os::unix::fs::symlink("..", d.join("sub/up")).unwrap();
        let mut c = Case::new(vec![d.to_path_buf()]).kept(&["g1"]).n_in(1);
        c.timeout = Duration::from_secs(10);
        c
    };
    warc_content_length_too_large => |d| {
        let block = http("", page("bad").as_bytes());
        let bad = warc_raw("WARC/1.0", &warc_headers("bad", &(block.len() + 300).to_string()), &block);
        warc_case(d, &bad, "")
    };
    warc_content_length_too_small => |d| {
        let block = http("", page("bad").as_bytes());
        let bad = warc_raw("WARC/1.0", &warc_headers("bad", &(block.len() - 40).to_string()), &block);
        // The bad record must be an error, not kept cut short.
        let mut c = warc_case(d, &bad, "");
        c.n_in = None;
        c.n_errors = Some(usize::MAX);
        c
    };
    warc_content_length_huge => |d| {
        let block = http("", page("bad").as_bytes());
        warc_case(d, &warc_raw("WARC/1.0", &warc_headers("bad", "1000000000000000"), &block), "")
    };
    warc_gz_garbage_between_members => |d| {
        let data = cat(&[&gzip(&warc_ok("g1")), b"garbage between members\n", &gzip(&warc_ok("g2"))]);
        let p = write(d, "a.warc.gz", &data);
        Case::new(vec![p]).kept(&["urn:uuid:g1", "urn:uuid:g2"]).any_errors()
    };
}

#[test]
fn fifo_without_writer() {
    // A FIFO nobody writes to: the run must not hang. An error record for it (exit 0) or a
    // refusal of the input path (exit 2) are both kept promises; the test accepts either.
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let fifo = input.join("a.jsonl");
    let c = std::ffi::CString::new(fifo.to_str().unwrap()).unwrap();
    // SAFETY: a valid NUL-terminated path.
    assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
    let good_file = write(&input, "b.jsonl", &good("g1"));
    let recipe = d.path().join("recipe.toml");
    std::fs::write(&recipe, RECIPE).unwrap();
    let out = d.path().join("out");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_thresher"));
    cmd.arg("run")
        .arg(&recipe)
        .arg("-i")
        .arg(&fifo)
        .arg(&good_file)
        .arg("-o")
        .arg(&out)
        .arg("-q")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let (code, stderr) = run_with_timeout("fifo_without_writer", cmd, Duration::from_secs(5));
    assert!(
        code == 0 || code == 2,
        "fifo_without_writer: exit {code}; stderr:\n{stderr}"
    );
    if code == 0 {
        let errors = lines_of(&out.join("errors"));
        assert!(
            errors
                .iter()
                .any(|e| e["file"].as_str().unwrap_or("").ends_with("a.jsonl")),
            "fifo_without_writer: no error record for the FIFO: {errors:?}"
        );
        let kept = lines_of(&out.join("kept"));
        assert!(kept.iter().any(|k| k["id"] == "g1"), "b.jsonl is read");
    }
}
