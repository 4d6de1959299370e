//! Issue 17, "nothing touched": the output directory is locked for a run, thresher removes
//! only what it wrote, follows no link inside OUTDIR, keeps its temporary data in
//! `OUTDIR/.work` and removes it on success, on failure and on SIGINT/SIGTERM.

use std::io::Write;
use std::path::Path;
use std::process::{Child, Output};
use std::time::{Duration, Instant};

mod common;
use common::{bin, run, stats};

fn stderr(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `n` documents of varied made-up prose (enough words to pass the quality filters some of the
/// time), a few MB for `n` in the tens of thousands.
fn write_input(path: &Path, n: usize) {
    let words = [
        "the", "river", "ran", "past", "an", "old", "mill", "where", "children", "played", "every",
        "summer", "and", "their", "parents", "worked", "in", "fields", "of", "wheat",
    ];
    let mut f = std::io::BufWriter::new(std::fs::File::create(path).unwrap());
    let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
    for i in 0..n {
        let mut text = String::new();
        for s in 0..12 {
            for w in 0..(8 + s % 5) {
                x ^= x << 13;
                x ^= x >> 7;
                x ^= x << 17;
                if w > 0 {
                    text.push(' ');
                }
                text.push_str(words[(x % words.len() as u64) as usize]);
            }
            text.push_str(if s % 4 == 3 { ".\n" } else { ". " });
        }
        let line = serde_json::json!({"id": format!("d{i}"), "text": text});
        writeln!(f, "{line}").unwrap();
    }
}

fn counts_add_up(outdir: &Path, n: u64) {
    let s = stats(outdir);
    let get = |k: &str| s[k].as_u64().unwrap();
    assert_eq!(get("in"), n, "{s}");
    assert_eq!(get("kept") + get("rejected") + get("errors"), n, "{s}");
}

/// Waits until the running child has taken OUTDIR's lock (its pid is in `.lock`).
fn wait_for_lock(child: &mut Child, outdir: &Path) {
    let want = format!("pid {} ", child.id());
    let t0 = Instant::now();
    while !std::fs::read_to_string(outdir.join(".lock")).is_ok_and(|s| s.starts_with(&want)) {
        assert!(child.try_wait().unwrap().is_none(), "the run ended early");
        assert!(t0.elapsed() < Duration::from_secs(60), "no lock taken");
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn dir_names(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .map(|rd| {
            rd.flatten()
                .map(|e| e.file_name().to_string_lossy().into_owned())
                .collect()
        })
        .unwrap_or_default();
    v.sort();
    v
}

#[test]
fn two_runs_into_one_outdir_the_second_is_refused() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("big.jsonl");
    write_input(&input, 40_000);
    let out = d.path().join("o");
    let (i, o) = (input.to_str().unwrap(), out.to_str().unwrap());
    let mut first = bin()
        .args(["run", "default", "-i", i, "-o", o, "-q"])
        .spawn()
        .unwrap();
    wait_for_lock(&mut first, &out);
    for extra in [&[][..], &["--overwrite"], &["--resume"]] {
        let mut args = vec!["run", "default", "-i", i, "-o", o, "-q"];
        args.extend_from_slice(extra);
        let second = run(&args);
        assert_eq!(
            second.status.code(),
            Some(3),
            "{extra:?}: {}",
            stderr(&second)
        );
        let msg = stderr(&second);
        assert!(
            msg.contains("in use by another thresher run")
                && msg.contains(&format!("pid {}", first.id())),
            "{msg}"
        );
    }
    assert!(
        first.try_wait().unwrap().is_none(),
        "the first run must still be running for the test to mean something"
    );
    assert!(first.wait().unwrap().success());
    // The first run lost nothing to the attempts.
    counts_add_up(&out, 40_000);
    // And a run that died leaves nothing that blocks the next: the lock goes with the process.
    let mut killed = bin()
        .args(["run", "default", "-i", i, "-o", o, "-q", "--overwrite"])
        .spawn()
        .unwrap();
    wait_for_lock(&mut killed, &out);
    killed.kill().unwrap();
    killed.wait().unwrap();
    let again = run(&["run", "default", "-i", i, "-o", o, "-q", "--resume"]);
    assert!(again.status.success(), "{}", stderr(&again));
    counts_add_up(&out, 40_000);
}

#[test]
fn overwrite_removes_only_what_thresher_wrote() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in.jsonl");
    write_input(&input, 300);
    let out = d.path().join("o");
    let (i, o) = (input.to_str().unwrap(), out.to_str().unwrap());
    let recipe = d.path().join("r.toml");
    let default = String::from_utf8(run(&["recipes", "default"]).stdout).unwrap();
    let steps = &default[default.find("[[step]]").unwrap()..];
    std::fs::write(&recipe, format!("[output]\nshard_max_docs = 25\n\n{steps}")).unwrap();
    let r = recipe.to_str().unwrap();
    assert!(run(&["run", r, "-i", i, "-o", o, "-q"]).status.success());
    // A user's own files in each of thresher's folders: --overwrite refuses, deletes nothing.
    for (folder, name) in [
        ("kept", "notes.txt"),
        ("rejected", "labels.csv"),
        ("errors", "00099.jsonl"),
        (".markers", "mine"),
        (".work", "keep-me"),
    ] {
        let path = out.join(folder).join(name);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(&path, "the user's").unwrap();
        let before = dir_names(&out.join("kept"));
        for mode in ["--overwrite", "--resume"] {
            let o2 = run(&["run", r, "-i", i, "-o", o, "-q", mode]);
            assert_eq!(o2.status.code(), Some(3), "{folder}/{name} {mode}");
            let msg = stderr(&o2);
            assert!(msg.contains(name) && msg.contains("did not write"), "{msg}");
            assert_eq!(std::fs::read_to_string(&path).unwrap(), "the user's");
            assert_eq!(dir_names(&out.join("kept")), before, "nothing removed");
        }
        // Without a flag too (the .work case used to be deleted silently).
        let o3 = run(&["run", r, "-i", i, "-o", o, "-q"]);
        assert_eq!(o3.status.code(), Some(3));
        assert_eq!(std::fs::read_to_string(&path).unwrap(), "the user's");
        std::fs::remove_file(&path).unwrap();
    }
    // With only its own files there, --overwrite replaces the run, and its other files stay.
    std::fs::write(out.join("README.md"), "my notes").unwrap();
    let o4 = run(&["run", r, "-i", i, "-o", o, "-q", "--overwrite"]);
    assert!(o4.status.success(), "{}", stderr(&o4));
    assert_eq!(
        std::fs::read_to_string(out.join("README.md")).unwrap(),
        "my notes"
    );
    counts_add_up(&out, 300);
    assert!(!out.join(".work").exists(), "{:?}", dir_names(&out));
}

#[test]
fn minhash_work_dir_with_foreign_files_is_not_deleted() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in.jsonl");
    write_input(&input, 50);
    let work = d.path().join("mh");
    std::fs::create_dir_all(work.join("shard-00000")).unwrap();
    std::fs::write(work.join("shard-00000/precious.txt"), "x").unwrap();
    let recipe = d.path().join("r.toml");
    std::fs::write(
        &recipe,
        format!(
            "[[step]]\ntype = \"minhash_dedup\"\nwork_dir = {:?}\n",
            work.to_str().unwrap()
        ),
    )
    .unwrap();
    let out = d.path().join("o");
    let o = run(&[
        "run",
        recipe.to_str().unwrap(),
        "-i",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]);
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    assert!(stderr(&o).contains("precious.txt"), "{}", stderr(&o));
    assert!(work.join("shard-00000/precious.txt").exists());
}

#[test]
fn links_planted_in_outdir_are_never_followed() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in.jsonl");
    write_input(&input, 60);
    let out = d.path().join("o");
    let (i, o) = (input.to_str().unwrap(), out.to_str().unwrap());
    let victim = d.path().join("victim.txt");
    let link = |at: &str| {
        let p = out.join(at);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        let _ = std::fs::remove_file(&p);
        std::os::unix::fs::symlink(&victim, &p).unwrap();
    };
    let untouched = |what: &str| {
        assert_eq!(
            std::fs::read_to_string(&victim).unwrap(),
            "precious",
            "{what}"
        );
    };
    std::fs::write(&victim, "precious").unwrap();
    // Temporary and final names at OUTDIR's top level are replaced, not written through.
    link(".stats.json.tmp");
    link(".run.json.tmp");
    link("stats.json");
    link(".run.json");
    let o1 = run(&["run", "default", "-i", i, "-o", o, "-q", "--overwrite"]);
    assert!(o1.status.success(), "{}", stderr(&o1));
    untouched("top-level links");
    for name in ["stats.json", ".run.json"] {
        let meta = std::fs::symlink_metadata(out.join(name)).unwrap();
        assert!(meta.file_type().is_file(), "{name} is still a link");
    }
    // A link at a shard's temporary name: the name is thresher's (a marker names the shard),
    // so the link is removed, never followed.
    for mode in ["--resume", "--overwrite"] {
        link("kept/.00000.jsonl.tmp");
        let o2 = run(&["run", "default", "-i", i, "-o", o, "-q", mode]);
        assert!(o2.status.success(), "{mode}: {}", stderr(&o2));
        untouched(mode);
        assert!(std::fs::symlink_metadata(out.join("kept/.00000.jsonl.tmp")).is_err());
    }
    // A link at a name that is not thresher's: refused.
    link(".markers/kept-00000.tmp");
    for mode in ["--resume", "--overwrite"] {
        let o2 = run(&["run", "default", "-i", i, "-o", o, "-q", mode]);
        assert_eq!(o2.status.code(), Some(3), "{mode}: {}", stderr(&o2));
        untouched(mode);
    }
    std::fs::remove_file(out.join(".markers/kept-00000.tmp")).unwrap();
    // A folder that is a link is refused.
    let elsewhere = d.path().join("elsewhere");
    std::fs::create_dir(&elsewhere).unwrap();
    let fresh = d.path().join("fresh");
    std::fs::create_dir(&fresh).unwrap();
    for folder in ["kept", ".markers", ".work"] {
        let p = fresh.join(folder);
        std::os::unix::fs::symlink(&elsewhere, &p).unwrap();
        let o3 = run(&[
            "run",
            "default",
            "-i",
            i,
            "-o",
            fresh.to_str().unwrap(),
            "-q",
        ]);
        assert_eq!(o3.status.code(), Some(3), "{folder}: {}", stderr(&o3));
        assert!(stderr(&o3).contains("symbolic link"), "{}", stderr(&o3));
        assert!(dir_names(&elsewhere).is_empty(), "{folder}");
        std::fs::remove_file(&p).unwrap();
    }
}

/// SIGINT and SIGTERM stop the run with 130 and 143, leave no `.work`, and `--resume` gives
/// the output of an uninterrupted run. Nothing is written to `$TMPDIR`.
#[test]
fn sigterm_and_sigint_clean_work_and_resume() {
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("big.jsonl");
    write_input(&input, 40_000);
    let tmpdir = d.path().join("tmp");
    std::fs::create_dir(&tmpdir).unwrap();
    let i = input.to_str().unwrap();
    let reference = d.path().join("ref");
    let whole = bin()
        .args([
            "run",
            "default",
            "-i",
            i,
            "-o",
            reference.to_str().unwrap(),
            "-q",
        ])
        .env("TMPDIR", &tmpdir)
        .output()
        .unwrap();
    assert!(whole.status.success(), "{}", stderr(&whole));
    for (sig, code) in [(libc::SIGTERM, 143), (libc::SIGINT, 130)] {
        let out = d.path().join(format!("o{sig}"));
        let o = out.to_str().unwrap();
        let mut child = bin()
            .args(["run", "default", "-i", i, "-o", o, "-q"])
            .env("TMPDIR", &tmpdir)
            .spawn()
            .unwrap();
        wait_for_lock(&mut child, &out);
        // Once the run is under way (its first spill file exists).
        let t0 = Instant::now();
        while dir_names(&out.join(".work")).is_empty() && t0.elapsed() < Duration::from_secs(60) {
            std::thread::sleep(Duration::from_millis(20));
        }
        // SAFETY: sends a signal to our own child process.
        assert_eq!(unsafe { libc::kill(child.id() as i32, sig) }, 0);
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(code), "signal {sig}");
        assert!(!out.join(".work").exists(), "{:?}", dir_names(&out));
        assert!(!out.join("stats.json").exists());
        let again = run(&["run", "default", "-i", i, "-o", o, "-q", "--resume"]);
        assert!(again.status.success(), "{}", stderr(&again));
        for cat in ["kept", "rejected", "errors"] {
            for name in dir_names(&reference.join(cat)) {
                assert_eq!(
                    std::fs::read(reference.join(cat).join(&name)).unwrap(),
                    std::fs::read(out.join(cat).join(&name)).unwrap(),
                    "{cat}/{name} after signal {sig}"
                );
            }
            assert_eq!(dir_names(&reference.join(cat)), dir_names(&out.join(cat)));
        }
    }
    assert!(dir_names(&tmpdir).is_empty(), "{:?}", dir_names(&tmpdir));
}

/// A write that fails (here the file-size limit, as a full disk would) names the file, and
/// leaves no spill file behind to keep the disk full.
#[test]
fn a_failed_write_names_the_file_and_leaves_no_work_data() {
    use std::os::unix::process::CommandExt;
    let d = tempfile::tempdir().unwrap();
    let input = d.path().join("in.jsonl");
    write_input(&input, 4_000);
    let out = d.path().join("o");
    let mut cmd = bin();
    cmd.args([
        "run",
        "default",
        "-i",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-q",
    ]);
    // SAFETY: between fork and exec, only async-signal-safe calls (setrlimit, signal).
    unsafe {
        cmd.pre_exec(|| {
            let lim = libc::rlimit {
                rlim_cur: 200_000,
                rlim_max: 200_000,
            };
            libc::setrlimit(libc::RLIMIT_FSIZE, &lim);
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        });
    }
    let o = cmd.output().unwrap();
    assert_eq!(o.status.code(), Some(3), "{}", stderr(&o));
    let msg = stderr(&o);
    assert!(
        msg.contains(".work/spill-") || msg.contains(".jsonl"),
        "{msg}"
    );
    assert!(!out.join(".work").exists(), "{:?}", dir_names(&out));
    // The next run can go on (resume) once the limit is gone.
    let again = run(&[
        "run",
        "default",
        "-i",
        input.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
        "-q",
        "--resume",
    ]);
    assert!(again.status.success(), "{}", stderr(&again));
    counts_add_up(&out, 4_000);
}
