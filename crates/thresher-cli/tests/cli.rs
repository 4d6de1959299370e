//! End-to-end tests of the `thresher` binary on real documents (fixtures/sample) with bad
//! records mixed in: accounting, determinism across thread counts, crash + resume, exit codes.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;

mod common;
use common::{bin, lines_of, run, stats};

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn sample() -> PathBuf {
    repo().join("fixtures/sample")
}

/// Every output file's bytes, and stats.json without timings.
fn snapshot(outdir: &Path) -> BTreeMap<String, Vec<u8>> {
    let mut map = BTreeMap::new();
    for cat in ["kept", "rejected", "errors"] {
        let dir = outdir.join(cat);
        let Ok(rd) = std::fs::read_dir(&dir) else {
            continue;
        };
        for e in rd.flatten() {
            let name = e.file_name().to_string_lossy().into_owned();
            map.insert(format!("{cat}/{name}"), std::fs::read(e.path()).unwrap());
        }
    }
    let mut s = stats(outdir);
    strip_seconds(&mut s);
    map.insert("stats.json".into(), s.to_string().into_bytes());
    map
}

fn strip_seconds(v: &mut Value) {
    match v {
        Value::Object(m) => {
            m.remove("seconds");
            m.remove("wall_seconds");
            m.values_mut().for_each(strip_seconds);
        }
        Value::Array(a) => a.iter_mut().for_each(strip_seconds),
        _ => {}
    }
}

/// Writes the sample's real documents plus at least 10 kinds of bad records into `dir`.
/// Returns (valid documents, bad records) as the reader should count them.
fn build_input_with_bad_records(dir: &Path) -> (u64, u64) {
    let mut good = 0;
    for e in std::fs::read_dir(sample()).unwrap().flatten() {
        if e.path().extension().is_some_and(|x| x == "jsonl") {
            let text = std::fs::read_to_string(e.path()).unwrap();
            good += text.lines().filter(|l| !l.trim().is_empty()).count() as u64;
            std::fs::copy(e.path(), dir.join(e.file_name())).unwrap();
        }
    }
    // A real document to damage.
    let doc = std::fs::read_to_string(sample().join("redpajama-c4-refined.jsonl")).unwrap();
    let first = doc.lines().next().unwrap();
    let mut bad = 0;
    let mut mixed = Vec::new();
    // 1 valid, then: 2 broken JSON, 3 no text, 4 text not a string, 5 not an object,
    // 6 invalid UTF-8, 7 over max_doc_bytes, 8 text null.
    mixed.extend_from_slice(
        first
            .replace("\"text\"", "\"id\":\"mixed-1\",\"text\"")
            .as_bytes(),
    );
    mixed.extend_from_slice(b"\n");
    mixed.extend_from_slice(&first.as_bytes()[..first.len() / 2]);
    mixed.extend_from_slice(b"\n{\"id\":\"no-text\",\"body\":\"x\"}\n");
    mixed.extend_from_slice(b"{\"id\":\"num\",\"text\":42}\n[\"an\",\"array\"]\n");
    mixed.extend_from_slice(b"{\"id\":\"latin1\",\"text\":\"caf\xe9\"}\n");
    mixed.extend_from_slice(
        format!("{{\"id\":\"huge\",\"text\":\"{}\"}}\n", "a".repeat(300_000)).as_bytes(),
    );
    mixed.extend_from_slice(b"{\"id\":\"null\",\"text\":null}\n\n   \n");
    // 16 absurdly deep nesting in the metadata.
    let deep = format!(
        "{{\"id\":\"deep\",\"text\":\"x\",\"metadata\":{}{}}}\n",
        "[".repeat(50_000),
        "]".repeat(50_000)
    );
    mixed.extend_from_slice(deep.as_bytes());
    bad += 8;
    good += 1;
    std::fs::write(dir.join("mixed.jsonl"), &mixed).unwrap();
    // 9 truncated gzip: the first lines survive, the cut is one error.
    let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let dclm = std::fs::read_to_string(sample().join("dclm-majority_data.jsonl")).unwrap();
    let lines: Vec<&str> = dclm.lines().take(40).collect();
    for (i, l) in lines.iter().enumerate() {
        writeln!(
            gz,
            "{}",
            l.replacen('{', &format!("{{\"id\":\"gz-{i}\","), 1)
        )
        .unwrap();
    }
    let full = gz.finish().unwrap();
    let cut = &full[..full.len() * 2 / 3];
    std::fs::write(dir.join("truncated.jsonl.gz"), cut).unwrap();
    let mut d = flate2::read::MultiGzDecoder::new(cut);
    let mut got = Vec::new();
    let _ = std::io::Read::read_to_end(&mut d, &mut got);
    good += got.iter().filter(|&&b| b == b'\n').count() as u64;
    bad += 1;
    // 10 empty file.
    std::fs::write(dir.join("empty.jsonl"), b"").unwrap();
    bad += 1;
    // 11 binary file posing as JSONL: one long line without a newline, over the limit.
    let bin: Vec<u8> = (0..400_000u32)
        .map(|i| (i.wrapping_mul(2_654_435_761) >> 13) as u8 | 1)
        .map(|b| if b == b'\n' { 0 } else { b })
        .collect();
    std::fs::write(dir.join("binary.jsonl"), bin).unwrap();
    bad += 1;
    // 12 a .txt with NUL bytes (binary) and 13 a .txt with invalid UTF-8; 14 a good .txt.
    std::fs::write(dir.join("blob.txt"), b"PK\x03\x04\x00\x00binary").unwrap();
    std::fs::write(dir.join("latin1.txt"), b"Caf\xe9 cr\xe8me").unwrap();
    std::fs::write(dir.join("page.txt"), "A real line of text.\nAnother one.\n").unwrap();
    bad += 2;
    good += 1;
    // 15 a corrupt zstd file.
    std::fs::write(
        dir.join("corrupt.jsonl.zst"),
        b"\x28\xb5\x2f\xfd garbage garbage",
    )
    .unwrap();
    bad += 1;
    (good, bad)
}

const TEST_RECIPE: &str = "\
description = \"test\"
[input]
max_doc_bytes = 200000
[output]
shard_max_docs = 50
[[step]]
type = \"exact_dedup\"
";

#[test]
fn bad_records_are_reported_and_counts_add_up() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in");
    std::fs::create_dir(&input).unwrap();
    let (good, bad) = build_input_with_bad_records(&input);
    let recipe = d.path().join("r.toml");
    std::fs::write(&recipe, TEST_RECIPE).unwrap();
    let out = d.path().join("out");
    let o = run(&[
        "run",
        recipe.to_str().unwrap(),
        "-i",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success());
    let s = stats(&out);
    let n = |k: &str| s[k].as_u64().unwrap();
    assert_eq!(n("in"), good + bad, "{s:#}");
    assert_eq!(n("errors"), bad, "{s:#}");
    assert_eq!(n("in"), n("kept") + n("rejected") + n("errors"));
    for (name, f) in s["files"].as_object().unwrap() {
        let g = |k: &str| f[k].as_u64().unwrap();
        assert_eq!(g("in"), g("kept") + g("rejected") + g("errors"), "{name}");
    }
    assert_eq!(lines_of(&out.join("kept")).len() as u64, n("kept"));
    assert_eq!(lines_of(&out.join("rejected")).len() as u64, n("rejected"));
    let errors = lines_of(&out.join("errors"));
    assert_eq!(errors.len() as u64, bad);
    let msgs: Vec<String> = errors
        .iter()
        .map(|e| {
            assert!(e["file"].as_str().unwrap().contains("/in/"), "{e}");
            format!(
                "{}:{} {}",
                e["file"].as_str().unwrap().rsplit('/').next().unwrap(),
                e["position"]["line"],
                e["error"].as_str().unwrap()
            )
        })
        .collect();
    let all = msgs.join("\n");
    for expect in [
        "mixed.jsonl:2 broken JSON",
        "mixed.jsonl:3 no `text` field",
        "mixed.jsonl:4 field `text` is a number, not a string",
        "mixed.jsonl:5 broken JSON",
        "mixed.jsonl:6 invalid UTF-8 at byte",
        "mixed.jsonl:7 record of",
        "mixed.jsonl:8 field `text` is null, not a string",
        "mixed.jsonl:11 broken JSON: recursion limit exceeded",
        "truncated.jsonl.gz:",
        "empty.jsonl:0 empty file",
        "binary.jsonl:1 record of 400000 bytes is over max_doc_bytes",
        "blob.txt:0 binary file",
        "latin1.txt:0 invalid UTF-8 at byte 3",
        "corrupt.jsonl.zst:1 input is truncated or corrupt",
    ] {
        assert!(all.contains(expect), "missing error `{expect}` in:\n{all}");
    }
    // Rejected records say why and which twin was kept.
    for r in lines_of(&out.join("rejected")) {
        assert_eq!(r["reason"], "exact_dedup:duplicate");
        // The kept twin's id is not a number: `value` is null, the id is in `value_text`.
        assert!(r["value"].is_null(), "{r}");
        assert!(
            r["value_text"].as_str().is_some_and(|t| !t.is_empty()),
            "{r}"
        );
    }
}

#[test]
fn output_does_not_depend_on_threads() {
    let d = tempfile::tempdir().unwrap();
    let mut snaps = Vec::new();
    for t in ["1", "2", "3"] {
        let out = d.path().join(format!("out{t}"));
        let o = run(&[
            "run",
            "default",
            "-i",
            sample().to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--threads",
            t,
            "-q",
        ]);
        assert!(o.status.success());
        snaps.push(snapshot(&out));
    }
    assert!(snaps[0].keys().any(|k| k.starts_with("kept/")));
    assert_eq!(snaps[0], snaps[1]);
    assert_eq!(snaps[0], snaps[2]);
}

/// Runs `recipe` on `input` once whole, then, for each fraction of that run's time, starts it,
/// kills it (SIGKILL) after that fraction, resumes it, and checks the output equals the whole
/// run's. Returns the whole run's snapshot and how many kills landed before the run ended.
fn kill_and_resume(
    dir: &Path,
    recipe: &Path,
    input: &Path,
    fracs: &[u64],
) -> (BTreeMap<String, Vec<u8>>, usize) {
    let (r, i) = (recipe.to_str().unwrap(), input.to_str().unwrap());
    let reference = dir.join("ref");
    // A first run warms the page cache and the binary, so that the timed one below lasts as
    // long as the killed runs do (timed cold, the later kill points fell after the runs' end).
    assert!(run(&[
        "run",
        r,
        "-i",
        i,
        "-o",
        dir.join("warm").to_str().unwrap(),
        "-q"
    ])
    .status
    .success());
    let t0 = std::time::Instant::now();
    assert!(
        run(&["run", r, "-i", i, "-o", reference.to_str().unwrap(), "-q"])
            .status
            .success()
    );
    let full_ms = t0.elapsed().as_millis() as u64;
    let want = snapshot(&reference);
    let mut interrupted = 0;
    for frac in fracs {
        let out = dir.join(format!("out{frac}"));
        let o = out.to_str().unwrap();
        let mut child = bin()
            .args(["run", r, "-i", i, "-o", o, "-q"])
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(full_ms * frac / 100));
        let _ = child.kill(); // SIGKILL on Unix
        let _ = child.wait();
        if !out.join("stats.json").exists() {
            interrupted += 1;
        }
        let res = run(&["run", r, "-i", i, "-o", o, "-q", "--resume"]);
        assert!(res.status.success(), "resume after kill at {frac}%");
        assert_eq!(snapshot(&out), want, "resume after kill at {frac}% differs");
    }
    (want, interrupted)
}

#[test]
fn kill_minus_nine_then_resume_gives_identical_output() {
    let d = tempfile::tempdir().unwrap();
    let input = sample();
    let recipe = d.path().join("r.toml");
    // The bundled default recipe's steps (including any two-pass step), with small shards so that
    // kills land between and inside shard writes.
    let default = String::from_utf8(run(&["recipes", "default"]).stdout).unwrap();
    let steps = &default[default.find("[[step]]").unwrap()..];
    std::fs::write(&recipe, format!("[output]\nshard_max_docs = 20\n\n{steps}")).unwrap();
    // Twelve kill points, drawn afresh each run (the seed is printed to replay a failure), one
    // in each twelfth of the run so that they spread over all its phases.
    let seed = std::env::var("THRESHER_KILL_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| {
            std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(1, |d| d.as_nanos() as u64)
        });
    eprintln!("kill points seed: THRESHER_KILL_SEED={seed}");
    let mut x = seed | 1;
    let fracs: Vec<u64> = (0..12u64)
        .map(|k| {
            // xorshift64
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            1 + k * 8 + x % 8
        })
        .collect();
    let (want, interrupted) = kill_and_resume(d.path(), &recipe, &input, &fracs);
    assert!(want.keys().filter(|k| k.starts_with("kept/")).count() > 10);
    // Most kills must have landed mid-run for the test to mean something.
    assert!(
        interrupted >= 7,
        "only {interrupted} of 12 kills interrupted the run (points {fracs:?})"
    );
}

#[test]
fn exit_codes_and_messages() {
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("o");
    let o = out.to_str().unwrap();
    // A missing input is an error before any work starts.
    let r = run(&["run", "default", "-i", "/nonexistent/x.jsonl", "-o", o]);
    assert_eq!(r.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&r.stderr).contains("input not found: /nonexistent/x.jsonl"));
    assert!(!out.join("stats.json").exists());
    // A bad recipe names the line.
    let recipe = d.path().join("bad.toml");
    std::fs::write(
        &recipe,
        "[[step]]\ntype = \"exact_dedup\"\n\n[[step]]\ntype = \"no_such_step\"\n",
    )
    .unwrap();
    let r = run(&[
        "run",
        recipe.to_str().unwrap(),
        "-i",
        sample().to_str().unwrap(),
        "-o",
        o,
    ]);
    assert_eq!(r.status.code(), Some(2));
    assert!(
        String::from_utf8_lossy(&r.stderr).contains("bad.toml:5: unknown step type `no_such_step`")
    );
    // An unwritable OUTDIR (here: below a regular file).
    let file = d.path().join("file");
    std::fs::write(&file, "x").unwrap();
    let r = run(&[
        "run",
        "default",
        "-i",
        sample().to_str().unwrap(),
        "-o",
        file.join("out").to_str().unwrap(),
    ]);
    assert_eq!(r.status.code(), Some(3));
    // A second run into the same OUTDIR must be asked for.
    let small = sample().join("redpajama-c4-refined.jsonl");
    let s = small.to_str().unwrap();
    assert!(run(&["run", "default", "-i", s, "-o", o, "-q"])
        .status
        .success());
    assert_eq!(
        run(&["run", "default", "-i", s, "-o", o, "-q"])
            .status
            .code(),
        Some(3)
    );
    assert!(
        run(&["run", "default", "-i", s, "-o", o, "-q", "--overwrite"])
            .status
            .success()
    );
    // --strict fails when a record was an error.
    let bad = d.path().join("bad.jsonl");
    std::fs::write(&bad, "{\"text\": 1}\n").unwrap();
    let r = run(&[
        "run",
        "default",
        "-i",
        bad.to_str().unwrap(),
        "-o",
        d.path().join("s").to_str().unwrap(),
        "-q",
        "--strict",
    ]);
    assert_eq!(r.status.code(), Some(1));
    // Help is there for a new user.
    let h = run(&["run", "--help"]);
    assert!(h.status.success());
    assert!(String::from_utf8_lossy(&h.stdout).contains("--resume"));
}

/// The seed page (fixtures/seed): the bundled default recipe repairs it and keeps it.
#[test]
fn default_recipe_repairs_and_keeps_the_seed() {
    let seed = repo().join("fixtures/seed/000_6cac269eaefacd00.txt");
    let expected =
        std::fs::read_to_string(repo().join("fixtures/seed/000_6cac269eaefacd00.expected.txt"))
            .unwrap();
    let d = tempfile::tempdir().unwrap();
    let out = d.path().join("out");
    let o = run(&[
        "run",
        "default",
        "-i",
        seed.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success());
    let kept = lines_of(&out.join("kept"));
    assert_eq!(
        kept.len(),
        1,
        "the seed was not kept: {:?}",
        lines_of(&out.join("rejected"))
    );
    assert_eq!(kept[0]["text"].as_str().unwrap().trim(), expected.trim());
    assert_eq!(kept[0]["id"], "000_6cac269eaefacd00");
}

/// Sharded near dedup (signatures per shard -> `thresher minhash-cluster` -> filter per shard)
/// removes the same documents as one process over all shards.
#[test]
fn sharded_minhash_equals_single_process() {
    let d = tempfile::tempdir().unwrap();
    let dclm = std::fs::read_to_string(sample().join("dclm-majority_data.jsonl")).unwrap();
    let mut shards = [String::new(), String::new()];
    for (i, l) in dclm.lines().enumerate() {
        let mut v: Value = serde_json::from_str(l).unwrap();
        v["id"] = format!("d{i:04}").into();
        shards[i % 2].push_str(&format!("{v}\n"));
        // A near copy (one word appended) of every fifth document, in the other shard.
        if i % 5 == 0 {
            v["id"] = format!("n{i:04}").into();
            let t = v["text"].as_str().unwrap_or_default().to_string();
            v["text"] = format!("{t} extra").into();
            shards[(i + 1) % 2].push_str(&format!("{v}\n"));
        }
    }
    let paths: Vec<PathBuf> = (0..2)
        .map(|k| {
            let p = d.path().join(format!("shard{k}.jsonl"));
            std::fs::write(&p, &shards[k]).unwrap();
            p
        })
        .collect();
    let work = d.path().join("work");
    let recipe = |name: &str, extra: &str| {
        let p = d.path().join(name);
        std::fs::write(&p, format!("[[step]]\ntype = \"minhash_dedup\"\n{extra}")).unwrap();
        p.to_string_lossy().into_owned()
    };
    let rejected = |out: &Path| -> Vec<(String, String)> {
        let mut v: Vec<_> = lines_of(&out.join("rejected"))
            .iter()
            .map(|r| {
                (
                    r["id"].as_str().unwrap().to_string(),
                    r["value"].to_string(),
                )
            })
            .collect();
        v.sort();
        v
    };
    let single = d.path().join("single");
    let r = recipe("single.toml", "");
    let inputs = [paths[0].to_str().unwrap(), paths[1].to_str().unwrap()];
    let o = run(&[
        "run",
        &r,
        "-i",
        inputs[0],
        inputs[1],
        "-o",
        single.to_str().unwrap(),
        "-q",
    ]);
    assert!(o.status.success());
    let want = rejected(&single);
    assert!(
        want.len() >= 30,
        "expected near duplicates, got {}",
        want.len()
    );
    let w = work.to_str().unwrap();
    for (k, p) in paths.iter().enumerate() {
        let r = recipe(
            &format!("sig{k}.toml"),
            &format!("stage = \"signatures\"\nshard_index = {k}\nwork_dir = {w:?}\n"),
        );
        let out = d.path().join(format!("sig{k}"));
        assert!(run(&[
            "run",
            &r,
            "-i",
            p.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "-q"
        ])
        .status
        .success());
    }
    let c = run(&[
        "minhash-cluster",
        &recipe(
            "sig0.toml",
            &format!("stage = \"signatures\"\nshard_index = 0\nwork_dir = {w:?}\n"),
        ),
    ]);
    assert!(c.status.success());
    let mut got = Vec::new();
    for (k, p) in paths.iter().enumerate() {
        let r = recipe(
            &format!("filter{k}.toml"),
            &format!("stage = \"filter\"\nshard_index = {k}\nwork_dir = {w:?}\n"),
        );
        let out = d.path().join(format!("filter{k}"));
        assert!(run(&[
            "run",
            &r,
            "-i",
            p.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "-q"
        ])
        .status
        .success());
        got.extend(rejected(&out));
    }
    got.sort();
    assert_eq!(got, want);
}

/// A JSONL file of several MiB (read through memory maps) made of the sample's real documents,
/// with bad records, CRLF line ends, blank lines, a record over `max_doc_bytes`, a record
/// longer than a batch's map, and a last line without a newline. Returns the records in it.
fn build_large_input(path: &Path) -> u64 {
    let mut docs = Vec::new();
    for e in std::fs::read_dir(sample()).unwrap().flatten() {
        if e.path().extension().is_some_and(|x| x == "jsonl") {
            let text = std::fs::read_to_string(e.path()).unwrap();
            docs.extend(
                text.lines()
                    .filter(|l| !l.trim().is_empty())
                    .map(str::to_string),
            );
        }
    }
    docs.sort();
    let mut out = Vec::new();
    let mut records = 0;
    let mut copy = 0;
    while out.len() < 6 << 20 {
        for (i, d) in docs.iter().enumerate() {
            // Every other copy is an exact duplicate, the others get a new id only.
            let line = d.replacen('{', &format!("{{\"id\":\"c{copy}-{i}\","), 1);
            let line = if copy % 2 == 0 {
                line.replacen("\"text\"", "\"drop\":0,\"text\"", 1)
            } else {
                line
            };
            out.extend_from_slice(line.as_bytes());
            out.extend_from_slice(if i % 7 == 0 { b"\r\n" } else { b"\n" });
            records += 1;
        }
        out.extend_from_slice(b"\n  \n{\"id\":\"broken\",\"text\":\"abc\n");
        out.extend_from_slice(b"{\"id\":\"latin1\",\"text\":\"caf\xe9\"}\n");
        records += 2;
        copy += 1;
    }
    // Over max_doc_bytes (200,000 in the recipe), and within it but longer than a 2 MiB map.
    out.extend_from_slice(
        format!("{{\"id\":\"huge\",\"text\":\"{}\"}}\n", "a".repeat(300_000)).as_bytes(),
    );
    records += 1;
    out.extend_from_slice(b"{\"id\":\"last\",\"text\":\"no newline at the end\"}");
    records += 1;
    std::fs::write(path, &out).unwrap();
    records
}

#[test]
fn mapped_input_gives_the_output_of_read_input() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("large.jsonl");
    let records = build_large_input(&input);
    assert!(std::fs::metadata(&input).unwrap().len() > 4 << 20);
    let mut snaps = Vec::new();
    for (mmap, threads) in [("true", "1"), ("true", "2"), ("false", "2")] {
        let recipe = d.path().join(format!("r-{mmap}.toml"));
        std::fs::write(
            &recipe,
            TEST_RECIPE.replace("[input]\n", &format!("[input]\nmmap = {mmap}\n")),
        )
        .unwrap();
        let out = d.path().join(format!("out-{mmap}-{threads}"));
        let o = run(&[
            "run",
            recipe.to_str().unwrap(),
            "-i",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "--threads",
            threads,
            "-q",
        ]);
        assert!(o.status.success());
        let s = stats(&out);
        let n = |k: &str| s[k].as_u64().unwrap();
        assert_eq!(n("in"), records);
        assert_eq!(n("in"), n("kept") + n("rejected") + n("errors"));
        assert!(n("rejected") > 100 && n("errors") > 10, "{s}");
        snaps.push(snapshot(&out));
    }
    assert_eq!(snaps[0], snaps[1], "mapped: 1 and 2 threads differ");
    assert_eq!(snaps[0], snaps[2], "mapped and read input differ");
}

#[test]
fn mapped_input_resumes_after_kill_minus_nine() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("large.jsonl");
    build_large_input(&input);
    let recipe = d.path().join("r.toml");
    std::fs::write(&recipe, TEST_RECIPE).unwrap();
    kill_and_resume(d.path(), &recipe, &input, &[10, 40, 70]);
}

/// Starts `thresher run default` on `input` (its stderr captured), for tests that act on the
/// input or the process while it runs.
fn spawn_default(input: &Path, out: &Path) -> std::process::Child {
    bin()
        .args([
            "run",
            "default",
            "-i",
            input.to_str().unwrap(),
            "-o",
            out.to_str().unwrap(),
            "-q",
        ])
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap()
}

/// An input cut by another process while thresher reads it through memory maps: the size check
/// before a map notices (an error record, and the run goes on), or a mapped page is gone
/// (SIGBUS: a message and exit code 3), or everything was read before the cut. Never a crash by
/// signal, and the counts add up whenever the run completes.
#[test]
fn input_truncated_during_a_mapped_run_is_reported() {
    use std::os::unix::process::ExitStatusExt;
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("large.jsonl");
    build_large_input(&input);
    let full = std::fs::read(&input).unwrap();
    for wait_ms in [5u64, 20, 60] {
        let out = d.path().join(format!("out{wait_ms}"));
        let child = spawn_default(&input, &out);
        std::thread::sleep(std::time::Duration::from_millis(wait_ms));
        let file = std::fs::OpenOptions::new()
            .write(true)
            .open(&input)
            .unwrap();
        file.set_len(1000).unwrap();
        let o = child.wait_with_output().unwrap();
        // Put the input back for the next round.
        std::fs::write(&input, &full).unwrap();
        let stderr = String::from_utf8_lossy(&o.stderr);
        assert_eq!(o.status.signal(), None, "killed by a signal: {stderr}");
        match o.status.code() {
            Some(3) => {
                assert!(stderr.contains("--resume"), "{stderr}");
                eprintln!("cut after {wait_ms} ms: bus error");
            }
            Some(0) => {
                let s = stats(&out);
                let n = |k: &str| s[k].as_u64().unwrap();
                assert_eq!(n("in"), n("kept") + n("rejected") + n("errors"));
                eprintln!(
                    "cut after {wait_ms} ms: {} records, {} errors",
                    n("in"),
                    n("errors")
                );
            }
            other => panic!("exit {other:?}: {stderr}"),
        }
    }
}

/// The bus-error handler itself (the race above may not reach it).
#[test]
fn bus_error_is_a_message_and_exit_code_3() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("large.jsonl");
    build_large_input(&input);
    let out = d.path().join("out");
    let child = spawn_default(&input, &out);
    std::thread::sleep(std::time::Duration::from_millis(150));
    let killed = Command::new("kill")
        .args(["-BUS", &child.id().to_string()])
        .status()
        .unwrap();
    let o = child.wait_with_output().unwrap();
    if !killed.success() {
        return; // finished before the signal: nothing to check
    }
    let stderr = String::from_utf8_lossy(&o.stderr);
    assert_eq!(o.status.code(), Some(3), "{stderr}");
    assert!(stderr.contains("memory map"), "{stderr}");
}

/// `thresher steps` lists every step with its description; `thresher steps NAME` prints every
/// parameter of the step's config (its default serialized: every field is a key), with a type,
/// a default and a doc line.
#[test]
fn steps_name_prints_every_parameter() {
    use thresher::registry;
    let list = String::from_utf8(run(&["steps"]).stdout).unwrap();
    for name in registry::step_names() {
        let line = list
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("{name} not listed:\n{list}"));
        assert!(
            line.len() > name.len() + 10,
            "{name}: no description: {line}"
        );

        let out = run(&["steps", name]);
        assert!(out.status.success(), "thresher steps {name}");
        let text = String::from_utf8(out.stdout).unwrap();
        assert!(text.starts_with(&format!("{name}: ")), "{text}");
        let defaults = registry::step_defaults(name).unwrap();
        for key in defaults.as_object().unwrap().keys() {
            let line = text
                .lines()
                .find(|l| l.split_whitespace().next() == Some(key.as_str()))
                .unwrap_or_else(|| panic!("{name}: parameter `{key}` not printed:\n{text}"));
            assert!(line.contains("(default: "), "{name}.{key}: {line}");
        }
    }
    let out = run(&["steps", "nope"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("no step `nope` (known: "));
}
