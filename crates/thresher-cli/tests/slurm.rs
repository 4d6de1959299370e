//! Slurm-style sharded runs: `--shard I/N` (or the SLURM_ARRAY_* variables), `--set`,
//! `minhash-cluster` and `merge-stats`, against one single-process run of the same recipe.

mod common;

use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

use common::{bin, lines_of, run, stats};
use serde_json::Value;

/// The shared reference documents (4,563 real web texts), or `None` when ../shared is absent.
fn reference_docs() -> Option<Vec<Value>> {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/reference/datatrove-filters/docs.jsonl.gz");
    let Ok(f) = std::fs::File::open(&p) else {
        assert!(
            std::env::var_os("THRESHER_REQUIRE_SHARED").is_none(),
            "../shared is required (THRESHER_REQUIRE_SHARED is set) but absent"
        );
        println!("skipped: {} is absent", p.display());
        return None;
    };
    let mut text = String::new();
    flate2::read::GzDecoder::new(f)
        .read_to_string(&mut text)
        .unwrap();
    Some(
        text.lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect(),
    )
}

/// The input directory: the reference documents cut into 7 files of uneven sizes, plus planted
/// near-duplicates (a few words changed) of every 150th document, each put in another file
/// (before or after its original), and one malformed line. Returns the directory.
fn build_inputs(dir: &Path, docs: &[Value]) -> PathBuf {
    let input = dir.join("in");
    std::fs::create_dir(&input).unwrap();
    let cuts = [0, 300, 1400, 1500, 2600, 3300, 4100, docs.len()];
    let mut files: Vec<String> = vec![String::new(); cuts.len() - 1];
    for k in 0..files.len() {
        for d in &docs[cuts[k]..cuts[k + 1]] {
            files[k].push_str(&format!("{d}\n"));
        }
    }
    for (i, d) in docs.iter().enumerate().step_by(150) {
        let text = d["text"].as_str().unwrap();
        let words: Vec<&str> = text.split(' ').collect();
        if words.len() < 200 {
            continue;
        }
        let mut copy = d.clone();
        let mut w: Vec<String> = words.iter().map(|s| s.to_string()).collect();
        w[words.len() / 2] = "planted".into();
        copy["id"] = format!("planted-{i}").into();
        copy["text"] = w.join(" ").into();
        let home = cuts.iter().rposition(|&c| c <= i).unwrap();
        let other = (home + 3) % files.len();
        files[other].push_str(&format!("{copy}\n"));
    }
    files[3].push_str("{\"id\": \"broken\", \"text\": \n");
    for (k, f) in files.iter().enumerate() {
        std::fs::write(input.join(format!("part-{k}.jsonl")), f).unwrap();
    }
    input
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Steps: a per-document filter, then MinHash in its sharded `signatures` stage; the single
/// run turns it back into one process with `--set`.
fn write_recipe(dir: &Path, work: &Path) -> PathBuf {
    let p = dir.join("sharded.toml");
    std::fs::write(
        &p,
        format!(
            "[[step]]\ntype = \"gopher_repetition\"\n\n[[step]]\ntype = \"minhash_dedup\"\n\
             stage = \"signatures\"\nwork_dir = {:?}\ncluster_metadata = true\n",
            s(work)
        ),
    )
    .unwrap();
    p
}

/// The counts of a stats.json that must not depend on sharding: overall, per file (by name),
/// and per step without timings or reports.
fn counts(v: &Value) -> Value {
    let steps: Vec<Value> = v["steps"]
        .as_array()
        .unwrap()
        .iter()
        .map(|st| {
            serde_json::json!([
                st["type"],
                st["in"],
                st["kept"],
                st["rejected"],
                st["errors"],
                st["edited"],
                st["reasons"]
            ])
        })
        .collect();
    serde_json::json!({
        "in": v["in"], "kept": v["kept"], "rejected": v["rejected"], "errors": v["errors"],
        "bytes_in": v["bytes_in"], "files": v["files"], "steps": steps,
    })
}

/// 4 processes with `--shard i/4` (stage 1), `minhash-cluster`, 4 processes with the filter
/// stage (one of them given its shard by SLURM_ARRAY_* variables with a 1-based array) give
/// the single run's kept, rejected and error records, in the same order, and merged stats with
/// the same counts.
#[test]
fn four_shard_slurm_run_equals_the_single_run() {
    let Some(docs) = reference_docs() else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let input = build_inputs(d.path(), &docs);
    let work = d.path().join("work");
    let recipe = write_recipe(d.path(), &work);
    let r = s(&recipe);

    let single = d.path().join("single");
    let single_work = d.path().join("single-work");
    let o = run(&[
        "run",
        r,
        "-i",
        s(&input),
        "-o",
        s(&single),
        "-q",
        "--threads",
        "2",
        "--set",
        "minhash_dedup.stage=single",
        "--set",
        &format!("minhash_dedup.work_dir=\"{}\"", s(&single_work)),
    ]);
    assert!(o.status.success());

    // Stage 1: four concurrent processes.
    let outs: Vec<PathBuf> = (0..4).map(|i| d.path().join(format!("sig{i}"))).collect();
    let children: Vec<_> = outs
        .iter()
        .enumerate()
        .map(|(i, out)| {
            bin()
                .args([
                    "run",
                    r,
                    "-i",
                    s(&input),
                    "-o",
                    s(out),
                    "-q",
                    "--threads",
                    "1",
                ])
                .args(["--shard", &format!("{i}/4")])
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    // All files were read; the large ones were cut into byte ranges (the shards' `files` list
    // them more than once), with ranges that merge-stats joins below.
    let mut seen: Vec<String> = outs
        .iter()
        .flat_map(|o| {
            stats(o)["files"]
                .as_object()
                .unwrap()
                .keys()
                .cloned()
                .collect::<Vec<_>>()
        })
        .collect();
    let n = seen.len();
    seen.sort();
    seen.dedup();
    assert_eq!(seen.len(), 7, "{seen:?}");
    assert!(n > 7, "no file was cut into byte ranges");

    // Stage 2: the cluster stage, as docs/dedup.md writes it.
    // Two shards expected where four are: refused before clustering.
    let o = run(&["minhash-cluster", "--recipe", r, "--shards", "2"]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("expected the 2 shards"));
    let c = run(&["minhash-cluster", "--recipe", r, "--shards", "4"]);
    assert!(c.status.success());
    let rep: Value = serde_json::from_slice(&c.stdout).unwrap();
    assert_eq!(rep["shards"], 4, "{rep}");

    // The same stage as distributed connected components (docs/dedup.md): 3 pairs tasks,
    // rounds of 3 tasks until one converges, ids and decide per shard. Each shard's
    // decisions.bin is byte for byte minhash-cluster's.
    let decisions = |i: usize| work.join(format!("shard-{i:05}")).join("decisions.bin");
    let want: Vec<Vec<u8>> = (0..4)
        .map(|i| std::fs::read(decisions(i)).unwrap())
        .collect();
    for i in 0..4 {
        std::fs::remove_file(decisions(i)).unwrap();
    }
    let cc = d.path().join("cc");
    let json = |args: &[&str]| -> Value {
        let o = run(args);
        assert!(
            o.status.success(),
            "{args:?}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        serde_json::from_slice(&o.stdout).unwrap()
    };
    let mut pairs = 0;
    for k in 0..3 {
        let part = format!("{k}/3");
        let p = json(&[
            "minhash-pairs",
            "--recipe",
            r,
            "--part",
            &part,
            "--cc-dir",
            s(&cc),
        ]);
        pairs += p["candidate_pairs"].as_u64().unwrap();
    }
    assert_eq!(pairs, rep["candidate_pairs"].as_u64().unwrap());
    let mut round = 0;
    loop {
        let r = round.to_string();
        // Every task of the round runs (no short cut): the next round reads them all.
        let converged: Vec<bool> = (0..3)
            .map(|k| {
                let part = format!("{k}/3");
                json(&[
                    "cc-round",
                    "--cc-dir",
                    s(&cc),
                    "--round",
                    &r,
                    "--part",
                    &part,
                ])["converged"]
                    == true
            })
            .collect();
        let done = converged.iter().all(|&c| c);
        round += 1;
        if done {
            break;
        }
        assert!(round < 50, "no convergence");
    }
    let last = round.to_string();
    for i in 0..4 {
        let shard = i.to_string();
        let common = [
            "--recipe",
            r,
            "--cc-dir",
            s(&cc),
            "--round",
            &last,
            "--shard",
            &shard,
        ];
        json(&[&["minhash-ids"][..], &common].concat());
    }
    let mut removed = 0;
    for (i, want) in want.iter().enumerate() {
        let shard = i.to_string();
        let common = [
            "--recipe",
            r,
            "--cc-dir",
            s(&cc),
            "--round",
            &last,
            "--shard",
            &shard,
        ];
        removed += json(&[&["minhash-decide"][..], &common].concat())["removed_docs"]
            .as_u64()
            .unwrap();
        assert!(std::fs::read(decisions(i)).unwrap() == *want, "shard {i}");
    }
    assert_eq!(removed, rep["removed_docs"].as_u64().unwrap());
    // What the distributed stage does not do is refused (exit 2), pointing at minhash-cluster.
    let o = run(&[
        "minhash-pairs",
        "--recipe",
        r,
        "--set",
        "minhash_dedup.keeper=datatrove",
        "--part",
        "0/3",
        "--cc-dir",
        s(&cc),
    ]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("minhash-cluster"));

    // Stage 3: the filter stage; shard 2 from Slurm's variables (--array=1-4: task 3).
    let filt: Vec<PathBuf> = (0..4)
        .map(|i| d.path().join(format!("filter{i}")))
        .collect();
    for (i, out) in filt.iter().enumerate() {
        let mut cmd: Command = bin();
        cmd.args([
            "run",
            r,
            "-i",
            s(&input),
            "-o",
            s(out),
            "-q",
            "--threads",
            "1",
        ])
        .args(["--set", "minhash_dedup.stage=filter"]);
        if i == 2 {
            cmd.env("SLURM_ARRAY_TASK_ID", "3")
                .env("SLURM_ARRAY_TASK_MIN", "1")
                .env("SLURM_ARRAY_TASK_COUNT", "4");
        } else {
            cmd.args(["--shard", &format!("{i}/4")]);
        }
        let o = cmd.output().unwrap();
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    }

    // Kept records in the same order; rejected and error records the same set (a run writes
    // each phase's rejections as they come, so their order follows the phases, not the input).
    for category in ["kept", "rejected", "errors"] {
        let line = |v: &Value| v.to_string();
        let mut want: Vec<String> = lines_of(&single.join(category)).iter().map(line).collect();
        let mut got: Vec<String> = filt
            .iter()
            .flat_map(|o| lines_of(&o.join(category)))
            .map(|v| line(&v))
            .collect();
        if category != "kept" {
            want.sort();
            got.sort();
        }
        assert_eq!(got.len(), want.len(), "{category}");
        if let Some(i) = (0..got.len()).find(|&i| got[i] != want[i]) {
            let id = |l: &str| serde_json::from_str::<Value>(l).unwrap()["id"].clone();
            panic!(
                "{category}: record {i} differs: {} vs {}",
                id(&got[i]),
                id(&want[i])
            );
        }
    }
    let single_stats = stats(&single);
    let dups = single_stats["steps"][1]["reasons"]["minhash_dedup:duplicate"]
        .as_u64()
        .unwrap_or(0);
    assert!(dups >= 40, "expected near duplicates, got {dups}");
    println!(
        "single run: in {} kept {} rejected {} errors {}; minhash_dedup:duplicate {dups}; \
         cluster report {rep}",
        single_stats["in"], single_stats["kept"], single_stats["rejected"], single_stats["errors"]
    );
    assert_eq!(single_stats["errors"], 1);
    // Clusters cross shards: some planted copy's kept document is in another shard.
    let rejected = lines_of(&single.join("rejected"));
    assert!(rejected
        .iter()
        .any(|l| l["id"].as_str().unwrap().starts_with("planted-")
            && l["reason"] == "minhash_dedup:duplicate"));

    // The shards' stats, merged, count what the single run counted.
    let merged = d.path().join("merged.json");
    let mut args = vec!["merge-stats".to_string()];
    args.extend(filt.iter().map(|o| s(o).to_string()));
    args.extend(["-o".into(), s(&merged).to_string()]);
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    assert!(run(&args).status.success());
    let merged: Value = serde_json::from_str(&std::fs::read_to_string(&merged).unwrap()).unwrap();
    assert_eq!(counts(&merged), counts(&single_stats));

    // The same stats twice overlap: refused, exit 2.
    let o = run(&["merge-stats", s(&filt[0]), s(&filt[0])]);
    assert_eq!(o.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&o.stderr).contains("more than one shard"));
}

/// One large JSONL file and 4 shards: the file is cut into 4 byte ranges, and the shards'
/// kept, rejected and error records, in shard order, are the single run's (ids made from
/// `file:line` and error positions included); merge-stats gives the single run's counts.
#[test]
fn one_big_file_in_four_byte_ranges_equals_the_single_run() {
    let Some(docs) = reference_docs() else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    // 800 documents (about 25 MB), every third without an id, blank lines, one broken line
    // and a last line without a newline.
    let mut text = String::new();
    for (i, doc) in docs.iter().take(800).enumerate() {
        let mut doc = doc.clone();
        if i % 3 == 0 {
            doc.as_object_mut().unwrap().remove("id");
        }
        text.push_str(&doc.to_string());
        text.push('\n');
        if i % 97 == 0 {
            text.push_str("\n  \n");
        }
        if i == 400 {
            text.push_str("{\"text\": \"broken\n");
        }
    }
    text.pop();
    let input = d.path().join("big.jsonl");
    std::fs::write(&input, &text).unwrap();
    let single = four_byte_ranges_equal_the_single_run(d.path(), &input, 51);
    let kept = lines_of(&single.join("kept"));
    assert!(kept
        .iter()
        .any(|l| l["id"].as_str().unwrap().contains("big.jsonl:")));
    assert_eq!(stats(&single)["errors"], 1);
}

/// Runs `gopher_repetition` on `input` once whole and as 4 shard processes (`--shard i/4`,
/// each over at least `min_in` records), and checks that each shard read one byte range of
/// it, that the shards' kept, rejected and error records in shard order are the single run's,
/// and that merge-stats gives the single run's counts. Returns the single run's directory.
fn four_byte_ranges_equal_the_single_run(dir: &Path, input: &Path, min_in: u64) -> PathBuf {
    four_byte_ranges_with(
        dir,
        input,
        min_in,
        "[[step]]\ntype = \"gopher_repetition\"\n",
    )
}

/// [`four_byte_ranges_equal_the_single_run`] with the recipe `recipe_text`.
fn four_byte_ranges_with(dir: &Path, input: &Path, min_in: u64, recipe_text: &str) -> PathBuf {
    let size = std::fs::metadata(input).unwrap().len();
    let recipe = dir.join("r.toml");
    std::fs::write(&recipe, recipe_text).unwrap();
    let r = s(&recipe);
    let single = dir.join("single");
    let o = run(&["run", r, "-i", s(input), "-o", s(&single), "-q"]);
    assert!(o.status.success());
    let outs: Vec<PathBuf> = (0..4).map(|i| dir.join(format!("s{i}"))).collect();
    let children: Vec<_> = outs
        .iter()
        .enumerate()
        .map(|(i, out)| {
            bin()
                .args(["run", r, "-i", s(input), "-o", s(out), "-q"])
                .args(["--threads", "1", "--shard", &format!("{i}/4")])
                .spawn()
                .unwrap()
        })
        .collect();
    for mut c in children {
        assert!(c.wait().unwrap().success());
    }
    for (i, o) in outs.iter().enumerate() {
        let st = stats(o);
        let f = &st["files"][s(input)];
        assert!(st["in"].as_u64().unwrap() >= min_in, "shard {i}: {st}");
        assert_eq!(f["ranges"].as_array().unwrap().len(), 1, "shard {i}: {f}");
        assert_eq!(f["size"].as_u64(), Some(size));
    }
    for kind in ["kept", "rejected", "errors"] {
        let want = lines_of(&single.join(kind));
        let got: Vec<Value> = outs.iter().flat_map(|o| lines_of(&o.join(kind))).collect();
        assert_eq!(got.len(), want.len(), "{kind}");
        assert!(
            got == want,
            "{kind}: the shards' records differ from the single run's"
        );
    }
    let merged = dir.join("merged.json");
    let mut args = vec!["merge-stats"];
    args.extend(outs.iter().map(|o| s(o)));
    args.extend(["-o", s(&merged)]);
    assert!(run(&args).status.success());
    let merged: Value = serde_json::from_str(&std::fs::read_to_string(&merged).unwrap()).unwrap();
    assert_eq!(counts(&merged), counts(&stats(&single)));
    assert_eq!(merged["skipped"], stats(&single)["skipped"]);
    single
}

/// `--set` errors name the valid keys and exit 2; `--shard` is checked; `minhash-cluster`
/// takes the recipe positionally or as --recipe, and --set.
#[test]
fn set_and_shard_are_checked() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("a.jsonl");
    std::fs::write(&input, "{\"text\": \"hello world\"}\n").unwrap();
    let work = d.path().join("work");
    let recipe = write_recipe(d.path(), &work);
    let out = d.path().join("out");
    let base = ["run", s(&recipe), "-i", s(&input), "-o", s(&out), "-q"];
    let fails = |extra: &[&str], what: &str| {
        let mut a = base.to_vec();
        a.extend_from_slice(extra);
        let o = run(&a);
        let err = String::from_utf8_lossy(&o.stderr).into_owned();
        assert_eq!(o.status.code(), Some(2), "{extra:?}: {err}");
        assert!(err.contains(what), "{extra:?}: {err}");
    };
    fails(&["--set", "minhash_dedup.bandz=3"], "unknown field `bandz`");
    fails(&["--set", "minhash_dedup.bandz=3"], "`bands`");
    fails(
        &["--set", "exact_dedup.normalize=true"],
        "no `exact_dedup` step",
    );
    fails(&["--set", "steps.9.x=1"], "no step 9");
    fails(&["--set", "nonsense"], "expected STEP.KEY=VALUE");
    fails(&["--shard", "4/4"], "zero-based");
    fails(
        &["--shard", "1/4", "--set", "minhash_dedup.shard_index=3"],
        "leave shard_index to --shard",
    );

    // A one-shard "array": signatures, cluster (positional recipe), filter.
    let mut a = base.to_vec();
    a.extend(["--shard", "0/1"]);
    assert!(run(&a).status.success());
    assert!(run(&["minhash-cluster", s(&recipe)]).status.success());
    let o = run(&[
        "minhash-cluster",
        "--recipe",
        s(&recipe),
        "--set",
        "minhash_dedup.bandz=1",
    ]);
    assert_eq!(o.status.code(), Some(2));
    let out2 = d.path().join("out2");
    let o = run(&[
        "run",
        s(&recipe),
        "-i",
        s(&input),
        "-o",
        s(&out2),
        "-q",
        "--shard",
        "0/1",
        "--set",
        "minhash_dedup.stage=filter",
    ]);
    assert!(o.status.success());
    // ("hello world" is rejected by gopher_repetition; the filter stage ran without errors.)
    assert_eq!(
        (stats(&out2)["in"].as_u64(), stats(&out2)["errors"].as_u64()),
        (Some(1), Some(0))
    );

    // A shard with no records (one file of one line, two shards: the second half of the file
    // holds no record start) runs and reads nothing.
    let empty = d.path().join("empty");
    let o = run(&[
        "run",
        s(&recipe),
        "-i",
        s(&input),
        "-o",
        s(&empty),
        "-q",
        "--shard",
        "1/2",
        "--set",
        &format!("minhash_dedup.work_dir=\"{}\"", s(&d.path().join("w2"))),
    ]);
    assert!(o.status.success());
    assert_eq!(stats(&empty)["in"], 0);
}

/// `--executor ray` hands the run to `python -m thresher.ray run ...` (here a stand-in script
/// named by THRESHER_PYTHON that records its arguments) and exits with its code; the options
/// of local runs are refused with it, and its options without it.
#[cfg(unix)]
#[test]
fn executor_ray_delegates_to_the_python_executor() {
    use std::os::unix::fs::PermissionsExt;
    let d = tempfile::tempdir().unwrap();
    let args_file = d.path().join("args.txt");
    let fake = d.path().join("fake-python");
    std::fs::write(
        &fake,
        format!(
            "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\nexit 7\n",
            args_file.display()
        ),
    )
    .unwrap();
    std::fs::set_permissions(&fake, std::fs::Permissions::from_mode(0o755)).unwrap();
    let o = common::bin()
        .env("THRESHER_PYTHON", &fake)
        .args([
            "run",
            "default",
            "-i",
            "a.jsonl",
            "b.jsonl",
            "-o",
            "out",
            "--executor",
            "ray",
            "--address",
            "auto",
            "--tasks",
            "4",
            "--threads",
            "2",
            "--overwrite",
            "-q",
        ])
        .output()
        .unwrap();
    assert_eq!(
        o.status.code(),
        Some(7),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
    let got = std::fs::read_to_string(&args_file).unwrap();
    let want = "-m thresher.ray run default -i a.jsonl b.jsonl -o out --threads 2 --address auto \
                --tasks 4 --overwrite -q";
    assert_eq!(got.split_whitespace().collect::<Vec<_>>().join(" "), want);

    for (args, needle) in [
        (&["--executor", "ray", "--shard", "0/2"][..], "--shard"),
        (
            &["--executor", "ray", "--set", "exact_dedup.normalize=false"][..],
            "--set",
        ),
        (&["--tasks", "3"][..], "--executor ray"),
    ] {
        let o = common::bin()
            .env("THRESHER_PYTHON", &fake)
            .args(["run", "default", "-i", "a.jsonl", "-o", "out"])
            .args(args)
            .output()
            .unwrap();
        assert_eq!(o.status.code(), Some(2), "{args:?}");
        assert!(
            String::from_utf8_lossy(&o.stderr).contains(needle),
            "{args:?}"
        );
    }
    let o = common::bin()
        .env("THRESHER_PYTHON", d.path().join("missing"))
        .args([
            "run",
            "default",
            "-i",
            "a.jsonl",
            "-o",
            "out",
            "--executor",
            "ray",
        ])
        .output()
        .unwrap();
    assert_eq!(o.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&o.stderr).contains("THRESHER_PYTHON"));
}

/// One Parquet file of 16 row groups and 4 shards: each shard reads the row groups that start
/// in its byte range, and the shards' records, in shard order, are the single run's (ids made
/// from `file:row` included); merge-stats gives the single run's counts.
#[test]
fn one_parquet_file_in_four_byte_ranges_equals_the_single_run() {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, RecordBatch, StringArray};
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;

    let Some(docs) = reference_docs() else {
        return;
    };
    let d = tempfile::tempdir().unwrap();
    let docs = &docs[..800];
    let text: Vec<&str> = docs.iter().map(|v| v["text"].as_str().unwrap()).collect();
    // Every third document without an id: its id is made from the file and row.
    let ids: Vec<Option<String>> = docs
        .iter()
        .enumerate()
        .map(|(i, v)| (i % 3 != 0).then(|| v["id"].as_str().unwrap().to_string()))
        .collect();
    let batch = RecordBatch::try_from_iter(vec![
        ("text", Arc::new(StringArray::from(text)) as ArrayRef),
        ("id", Arc::new(StringArray::from(ids)) as ArrayRef),
    ])
    .unwrap();
    let input = d.path().join("big.parquet");
    let props = WriterProperties::builder()
        .set_max_row_group_row_count(Some(50))
        .build();
    let mut w = ArrowWriter::try_new(
        std::fs::File::create(&input).unwrap(),
        batch.schema(),
        Some(props),
    )
    .unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
    let single = four_byte_ranges_equal_the_single_run(d.path(), &input, 100);
    assert_eq!(stats(&single)["in"], 800);
    assert!(lines_of(&single.join("kept"))
        .iter()
        .any(|l| l["id"].as_str().unwrap().contains("big.parquet:")));
}

/// One `.warc.gz` of one gzip member per record (real crawl samples of ../shared put one after
/// the other, and a corrupt member) and 4 shards: each shard reads the records of the members
/// that start in its byte range, and the shards' kept, rejected and error records, in shard
/// order, are the single run's (offsets in the decompressed stream included); merge-stats
/// gives the single run's counts and skipped-record kinds.
#[test]
fn one_warc_gz_file_in_four_byte_ranges_equals_the_single_run() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/corpus/warc-samples");
    if !dir.is_dir() {
        assert!(
            std::env::var_os("THRESHER_REQUIRE_SHARED").is_none(),
            "../shared is required (THRESHER_REQUIRE_SHARED is set) but absent"
        );
        println!("skipped: {} is absent", dir.display());
        return;
    }
    let d = tempfile::tempdir().unwrap();
    let mut data = Vec::new();
    for (k, name) in [
        "resiliparse-cc-2020-08-sample.warc.gz",
        "dolma-sample-0000.warc.gz",
        "pywb-iana.warc.gz",
        "ukwa-wikipedia-mona-lisa.warc.gz",
        "ukwa-gov.uk-BL-20140325121225068-00000.warc.gz",
    ]
    .iter()
    .enumerate()
    {
        let mut f = std::fs::read(dir.join(name)).unwrap();
        if k == 2 {
            // Bytes in the middle of its first member changed: a corrupt member.
            f[200] ^= 0x5a;
            f[201] ^= 0x5a;
        }
        data.extend(f);
    }
    let input = d.path().join("crawl.warc.gz");
    std::fs::write(&input, &data).unwrap();
    let recipe = "[[step]]\ntype = \"html_extract\"\n\n[[step]]\ntype = \"gopher_repetition\"\n";
    let single = four_byte_ranges_with(d.path(), &input, 1, recipe);
    let st = stats(&single);
    assert!(st["kept"].as_u64().unwrap() > 50, "{st}");
    assert!(st["errors"].as_u64().unwrap() >= 1, "{st}");
    assert!(!st["skipped"].as_object().unwrap().is_empty(), "{st}");
}

/// Slurm-style stages of the corpus steps, given by `--set` on one recipe: 3 shards of pages of
/// three sites (each site's 12 pages spread over the shards) run `corpus_boilerplate`
/// (`group_by = "url"`) in its `count` stage, then `paragraph_dedup` in its `collect` stage
/// (boilerplate applied), then both in their `apply` stage; the shards' records in order and
/// the merged counts are the single run's, which removed footers and repeated paragraphs that
/// no shard alone repeats often enough.
#[test]
fn corpus_stages_by_set_equal_the_single_run() {
    let d = tempfile::tempdir().unwrap();
    let mut text = String::new();
    for n in 0..12 {
        for site in ["a.com", "b.org", "c.net"] {
            let mut lines: Vec<String> = (0..2)
                .map(|w| format!("Page {n} of {site}, its own paragraph number {w}."))
                .collect();
            if n % 4 == 1 {
                lines.push("A quotation that many sites repeat on their pages.".into());
            }
            lines.push(format!("Copyright 2026 {site} all rights reserved"));
            let doc = serde_json::json!({"id": format!("{site}-{n}"), "url": format!("https://{site}/{n}"), "text": lines.join("\n")});
            text.push_str(&doc.to_string());
            text.push('\n');
        }
    }
    let mirror = "Page 0 of a.com, its own paragraph number 0.\nPage 0 of a.com, its own paragraph number 1.";
    text.push_str(
        &serde_json::json!({"id": "mirror", "url": "https://m.example/", "text": mirror})
            .to_string(),
    );
    text.push('\n');
    let input = d.path().join("pages.jsonl");
    std::fs::write(&input, &text).unwrap();
    let recipe = d.path().join("r.toml");
    // Above any shard's count (4 pages of a site), below the input's (12).
    std::fs::write(
        &recipe,
        "[[step]]\ntype = \"corpus_boilerplate\"\ngroup_by = \"url\"\nmax_docs = 6\n\n\
         [[step]]\ntype = \"paragraph_dedup\"\nexpected_paragraphs = 10000\n",
    )
    .unwrap();
    let (r, i) = (s(&recipe), s(&input));
    let single = d.path().join("single");
    assert!(run(&["run", r, "-i", i, "-o", s(&single), "-q"])
        .status
        .success());
    let (sk, bl) = (d.path().join("sketches"), d.path().join("blooms"));
    std::fs::create_dir_all(&sk).unwrap();
    std::fs::create_dir_all(&bl).unwrap();
    let apply_bp = [
        "--set".to_string(),
        "corpus_boilerplate.stage=apply".into(),
        "--set".into(),
        format!("corpus_boilerplate.sketches=[{:?}]", s(&sk)),
    ];
    let stage = |name: &str, k: usize, sets: Vec<String>| -> PathBuf {
        let out = d.path().join(format!("{name}-{k}"));
        let mut args: Vec<String> = ["run", r, "-i", i, "-o", s(&out), "-q", "--shard"]
            .iter()
            .map(|x| x.to_string())
            .collect();
        args.push(format!("{k}/3"));
        args.extend(sets);
        let o = bin().args(&args).output().unwrap();
        assert!(
            o.status.success(),
            "{name} {k}: {}",
            String::from_utf8_lossy(&o.stderr)
        );
        out
    };
    for k in 0..3 {
        let sketch = sk.join(format!("{k}.sketch"));
        stage(
            "count",
            k,
            vec![
                "--set".into(),
                "corpus_boilerplate.stage=count".into(),
                "--set".into(),
                format!("corpus_boilerplate.sketch_file={:?}", s(&sketch)),
            ],
        );
    }
    for k in 0..2 {
        let mut sets = apply_bp.to_vec();
        sets.extend([
            "--set".into(),
            "paragraph_dedup.stage=collect".into(),
            "--set".into(),
            format!(
                "paragraph_dedup.filter_file={:?}",
                s(&bl.join(format!("{k}.bloom")))
            ),
        ]);
        stage("collect", k, sets);
    }
    let outs: Vec<PathBuf> = (0..3)
        .map(|k| {
            let earlier: Vec<String> = (0..k)
                .map(|j| format!("{:?}", s(&bl.join(format!("{j}.bloom")))))
                .collect();
            let mut sets = apply_bp.to_vec();
            sets.extend([
                "--set".into(),
                "paragraph_dedup.stage=apply".into(),
                "--set".into(),
                format!("paragraph_dedup.filters=[{}]", earlier.join(", ")),
            ]);
            stage("apply", k, sets)
        })
        .collect();
    for kind in ["kept", "rejected"] {
        let want = lines_of(&single.join(kind));
        let got: Vec<Value> = outs.iter().flat_map(|o| lines_of(&o.join(kind))).collect();
        assert!(
            got == want,
            "{kind}: the shards' records differ from the single run's"
        );
    }
    let kept = lines_of(&single.join("kept"));
    assert_eq!(kept.len(), 36);
    let texts: Vec<&str> = kept.iter().map(|l| l["text"].as_str().unwrap()).collect();
    assert!(texts.iter().all(|t| !t.contains("Copyright")));
    assert_eq!(texts.iter().filter(|t| t.contains("quotation")).count(), 1);
    assert_eq!(lines_of(&single.join("rejected"))[0]["id"], "mirror");
    let merged = d.path().join("merged.json");
    let mut args = vec!["merge-stats"];
    args.extend(outs.iter().map(|o| s(o)));
    args.extend(["-o", s(&merged)]);
    assert!(run(&args).status.success());
    let merged: Value = serde_json::from_str(&std::fs::read_to_string(&merged).unwrap()).unwrap();
    assert_eq!(counts(&merged), counts(&stats(&single)));
    // An apply stage whose sketches are missing is a recipe error (exit 2).
    let o = run(&[
        "run",
        r,
        "-i",
        i,
        "-o",
        s(&d.path().join("bad")),
        "-q",
        "--set",
        "corpus_boilerplate.stage=apply",
        "--set",
        "corpus_boilerplate.sketches=[\"/nonexistent.sketch\"]",
    ]);
    assert_eq!(
        o.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&o.stderr)
    );
}
