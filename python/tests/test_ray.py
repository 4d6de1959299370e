"""The Ray executor (thresher.ray) on a real 3-node Ray cluster on this machine: the `default`
recipe on the shared reference documents, cut into files, with planted near-duplicates and exact
copies in other files, gives what a single `thresher run` gives (kept texts and annotations,
rejected reasons and values, counts overall, per step and per file); again with a Ray worker
killed during the MinHash stages, and when a job is submitted again after an interruption; and
`strip_chrome` / `corpus_boilerplate` / `paragraph_dedup` as corpus stages, on pages of sites
spread over the tasks, give the single run's output.

Needs ray (fails, not skips, without it under THRESHER_REQUIRE_SHARED=1, as without ../shared).
"""

import json
import os
import signal
import subprocess
import threading
import time
from pathlib import Path

import pytest

from conftest import SHARED_DOCS, need_shared, read_jsonl, thresher_command


def _need_ray():
    try:
        import ray  # noqa: F401
        from ray.cluster_utils import Cluster  # noqa: F401
    except ImportError as e:
        if os.environ.get("THRESHER_REQUIRE_SHARED") == "1":
            pytest.fail(f"ray is not installed: {e}")
        pytest.skip(f"ray is not installed: {e}")


@pytest.fixture(scope="module")
def cluster():
    """Three Ray nodes of one CPU and an 80 MB object store each, on this machine."""
    _need_ray()
    import ray
    from ray.cluster_utils import Cluster

    node = {"num_cpus": 1, "object_store_memory": 80 * 1024 * 1024}
    c = Cluster(initialize_head=True, head_node_args=node)
    for _ in range(2):
        c.add_node(**node)
    ray.init(address=c.address, log_to_driver=False)
    c.wait_for_nodes()
    assert len([n for n in ray.nodes() if n["Alive"]]) == 3
    yield c
    ray.shutdown()
    c.shutdown()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory):
    """The reference documents cut into 7 files of uneven sizes; a planted near-duplicate (one
    word changed) of every 150th document and two exact copies of every 97th, each in a file 3
    further on (wrapping, so some copies come before their original; the second copy's reason
    must name the original, not the first copy); one malformed line."""
    docs = read_jsonl(need_shared(SHARED_DOCS))
    d = tmp_path_factory.mktemp("ray-inputs")
    cuts = [0, 300, 1400, 1500, 2600, 3300, 4100, len(docs)]
    files = [[json.dumps(x) for x in docs[cuts[k] : cuts[k + 1]]] for k in range(len(cuts) - 1)]

    def home(i):
        return max(k for k, c in enumerate(cuts[:-1]) if c <= i)

    for i, doc in enumerate(docs):
        other = (home(i) + 3) % len(files)
        words = doc["text"].split(" ")
        if i % 150 == 0 and len(words) >= 200:
            words[len(words) // 2] = "planted"
            files[other].append(json.dumps(dict(doc, id=f"planted-{i}", text=" ".join(words))))
        if i % 97 == 0:
            files[other].append(json.dumps(dict(doc, id=f"exact-{i}")))
            files[other].append(json.dumps(dict(doc, id=f"twice-{i}")))
    files[3].append('{"id": "broken", "text": ')
    paths = []
    for k, lines in enumerate(files):
        p = d / f"part-{k}.jsonl"
        p.write_text("\n".join(lines) + "\n")
        paths.append(p)
    return paths


@pytest.fixture(scope="module")
def single(inputs, tmp_path_factory):
    out = tmp_path_factory.mktemp("single") / "out"
    subprocess.run(
        [*thresher_command(), "run", "default", "-i", *map(str, inputs), "-o", str(out), "-q",
         "--threads", "2"],
        check=True,
    )
    return out


def _lines(out: Path, kind: str) -> list:
    return [x for f in sorted((out / kind).glob("*.jsonl")) for x in read_jsonl(f)]


def _counts(stats: dict) -> dict:
    """What must be equal in stats.json: counts overall, per file and per step (not times or
    the steps' reports, whose figures depend on the sharding)."""
    keep = ("in", "kept", "rejected", "errors", "edited", "reasons", "type", "name")
    return {
        "total": {k: stats[k] for k in ("in", "kept", "rejected", "errors", "bytes_in")},
        "files": {Path(f).name: v for f, v in stats["files"].items()},
        "steps": [{k: s[k] for k in keep} for s in stats["steps"]],
    }


def assert_same_as_single(out: Path, single: Path):
    kept, want_kept = _lines(out, "kept"), _lines(single, "kept")
    # The same documents in the same order, with the same texts and annotations.
    assert [d["id"] for d in kept] == [d["id"] for d in want_kept]
    assert kept == want_kept
    rejected = {d["id"]: d for d in _lines(out, "rejected")}
    want_rejected = {d["id"]: d for d in _lines(single, "rejected")}
    assert rejected.keys() == want_rejected.keys()
    for k, d in want_rejected.items():
        assert rejected[k] == d, k
    errors = {(e.get("file"), e.get("line")): e for e in _lines(out, "errors")}
    want_errors = {(e.get("file"), e.get("line")): e for e in _lines(single, "errors")}
    assert errors == want_errors
    got, want = (json.loads((o / "stats.json").read_text()) for o in (out, single))
    assert _counts(got) == _counts(want)
    # The test's inputs exercise every cross-shard path.
    reasons = {d["id"]: (d["reason"], d["value_text"]) for d in want_rejected.values()}
    assert sum(r == "minhash_dedup:duplicate" for r, _ in reasons.values()) >= 40
    assert any(k.startswith("exact-") and r == "exact_dedup:duplicate" for k, (r, _) in reasons.items())
    # A second copy, whose shard's first copy repeats an earlier file's original, names the
    # original (the Ray run repoints the reason its shard's run gave).
    assert any(
        k.startswith("twice-") and r == "exact_dedup:duplicate" and not v.startswith("exact-")
        for k, (r, v) in reasons.items()
    )
    assert len(want_errors) == 1


def test_ray_run_equals_the_single_run(cluster, inputs, single, tmp_path):
    import thresher.ray

    out = tmp_path / "out"
    # `--shard I/4` cuts the inputs at a quarter of their bytes: each cut falls inside a file,
    # so three files are read in byte ranges by two tasks each.
    ends = [sum(p.stat().st_size for p in inputs[: k + 1]) for k in range(len(inputs))]
    assert not {ends[-1] * k // 4 for k in (1, 2, 3)} & {0, *ends}
    stats = thresher.ray.run("default", inputs, out, shards=4)
    assert stats.docs_in == stats.kept + stats.rejected + stats.errors
    assert_same_as_single(out, single)
    # The MinHash cluster stage ran as distributed connected components (4 parts, rounds of
    # large-star / small-star), and found the single run's clusters.
    report = json.loads((out / "stats.json").read_text())["steps"][-1]["report"]
    want = json.loads((single / "stats.json").read_text())["steps"][-1]["report"]
    assert report["distributed"]["parts"] == 4 and report["distributed"]["rounds"] >= 2
    for k in ("candidate_pairs", "clusters", "clustered_docs", "removed_docs", "docs_signed"):
        assert report[k] == want[k], k
    assert not (out / ".ray").exists()
    # Where the time went: the driver's wall seconds per stage, which add up to at most the run's.
    ex = json.loads((out / "stats.json").read_text())["executor"]
    assert ex["name"] == "ray" and ex["tasks"] == 4
    assert {"prefix", "exact", "minhash_signatures", "minhash_cluster", "minhash_filter"} <= set(ex["stage_seconds"])
    assert sum(ex["stage_seconds"].values()) <= stats.seconds + 0.01
    # Shard files: kept/IIIII-KKKKK.jsonl, in shard order.
    names = sorted(p.name for p in (out / "kept").glob("*.jsonl"))
    assert names and all(len(n) == len("00000-00000.jsonl") for n in names)


def _kill_a_minhash_worker(stop: threading.Event, killed: list):
    """Kills (SIGKILL), once, the Ray worker whose `thresher` child runs a MinHash stage."""
    while not stop.is_set() and not killed:
        for pid in os.listdir("/proc"):
            if not pid.isdigit():
                continue
            try:
                cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
                # The signatures, cluster and filter stages all name one of these recipes.
                if not any(c.endswith((b"signatures.toml", b"filter.toml")) for c in cmd):
                    continue
                ppid = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
                os.kill(ppid, signal.SIGKILL)
                killed.append(ppid)
                return
            except (OSError, ValueError, IndexError):
                continue
        time.sleep(0.005)


def test_a_worker_killed_during_minhash_is_retried(cluster, inputs, single, tmp_path):
    import thresher.ray

    out = tmp_path / "out"
    stop, killed = threading.Event(), []
    killer = threading.Thread(target=_kill_a_minhash_worker, args=(stop, killed))
    killer.start()
    try:
        thresher.ray.run("default", inputs, out, shards=3, max_retries=3)
    finally:
        stop.set()
        killer.join()
    assert killed, "no MinHash worker was seen to kill"
    assert_same_as_single(out, single)


def test_a_job_submitted_again_skips_completed_tasks(cluster, inputs, single, tmp_path):
    import thresher.ray

    out = tmp_path / "out"
    thresher.ray.run("default", inputs, out, shards=3, keep_work=True)
    work = out / ".ray"
    # An interrupted job: the final output not written, shard 1's prefix task not finished.
    for name in ("kept", "rejected", "errors"):
        for f in (out / name).glob("*"):
            f.unlink()
    (out / "stats.json").unlink()
    (work / "prefix" / "shard-00001.done").unlink()
    for stage in ("apply", "signatures", "filter"):
        for m in (work / stage).glob("*.done"):
            m.unlink()
    (work / "cluster.done").unlink()
    for p in (work / "exact").glob("*.done"):
        p.unlink()
    before = {i: (work / "prefix" / f"shard-{i:05d}" / "stats.json").stat().st_mtime_ns for i in range(3)}
    thresher.ray.run("default", inputs, out, shards=3, keep_work=True)
    after = {i: (work / "prefix" / f"shard-{i:05d}" / "stats.json").stat().st_mtime_ns for i in range(3)}
    assert before[0] == after[0] and before[2] == after[2], "completed prefix tasks ran again"
    assert before[1] != after[1], "the unfinished task did not run"
    assert_same_as_single(out, single)


def test_recipes_the_executor_cannot_run_are_refused():
    _need_ray()
    import thresher.ray
    from thresher import RecipeError

    with pytest.raises(RecipeError, match="sets `stage`"):
        thresher.ray.plan({"step": [{"type": "paragraph_dedup", "stage": "collect"}]})
    # The corpus-counting steps run as corpus stages (strip_chrome with corpus statistics only).
    assert thresher.ray.plan("default").corpus == [1, 2]
    assert thresher.ray.plan({"step": [{"type": "strip_chrome"}, {"type": "paragraph_dedup"}]}).corpus == [1]
    with pytest.raises(RecipeError, match="last step"):
        thresher.ray.plan({"step": [{"type": "minhash_dedup"}, {"type": "gopher_quality"}]})
    with pytest.raises(RecipeError, match="exact_dedup"):
        thresher.ray.plan({"step": [{"type": "exact_dedup"}, {"type": "gopher_quality"}]})
    with pytest.raises(RecipeError, match="compression"):
        thresher.ray.plan({"output": {"compression": "zstd"}, "step": [{"type": "exact_dedup"}]})
    # Parquet output (with its options) is written at the end; the stages get JSONL.
    pq = thresher.ray.plan({"output": {"format": "parquet", "compression": "zstd"}, "step": [{"type": "exact_dedup"}]})
    assert pq.parquet and pq.rest["output"] == {}
    with pytest.raises(RecipeError, match="jsonl or parquet"):
        thresher.ray.plan({"output": {"format": "csv"}, "step": [{"type": "exact_dedup"}]})
    p = thresher.ray.plan("default")
    assert p.exact == {"type": "exact_dedup"} and p.minhash["type"] == "minhash_dedup"
    assert p.distributed_cluster
    # What the distributed cluster stage does not do goes to the one-process minhash-cluster.
    for step in ({"keeper": "datatrove"}, {"verify_jaccard": 0.8}):
        assert not thresher.ray.plan({"step": [{"type": "gopher_quality"}, {"type": "minhash_dedup", **step}]}).distributed_cluster


def test_the_command_runs_the_ray_executor(cluster, inputs, single, tmp_path):
    """`thresher run ... --executor ray --address A` runs `python -m thresher.ray` against the
    running cluster."""
    import sys

    out = tmp_path / "out"
    env = dict(os.environ, THRESHER_PYTHON=sys.executable)
    # THRESHER_CLI: another build of the command to test (e.g. target/debug/thresher).
    command = [os.environ["THRESHER_CLI"]] if os.environ.get("THRESHER_CLI") else thresher_command()
    subprocess.run(
        [*command, "run", "default", "-i", *map(str, inputs), "-o", str(out), "-q",
         "--executor", "ray", "--address", cluster.address, "--tasks", "3"],
        check=True,
        env=env,
    )
    assert_same_as_single(out, single)
    bad = subprocess.run(
        [*command, "run", "default", "-i", str(inputs[0]), "-o", str(tmp_path / "x"),
         "--executor", "ray", "--shard", "0/2"],
        env=env,
        capture_output=True,
        text=True,
    )
    assert bad.returncode == 2 and "--shard" in bad.stderr


def test_nothing_reaching_minhash(cluster, inputs, tmp_path):
    """A recipe whose filter rejects every document: the MinHash stages have nothing to do and
    the counts are a single run's (the step is in the stats with no documents)."""
    import thresher.ray

    recipe = {"step": [{"type": "gopher_quality", "min_doc_words": 1000000, "max_doc_words": 2000000}, {"type": "minhash_dedup"}]}
    import thresher

    single = tmp_path / "single"
    thresher.run(recipe, [inputs[2], inputs[3]], single, threads=1, progress=False)
    out = tmp_path / "out"
    stats = thresher.ray.run(recipe, [inputs[2], inputs[3]], out, shards=2)
    assert stats.kept == 0 and stats.docs_in == stats.rejected + stats.errors > 0
    got, want = (json.loads((o / "stats.json").read_text()) for o in (out, single))
    assert _counts(got) == _counts(want)
    assert got["steps"][-1]["in"] == 0 and got["steps"][-1]["report"]["removed_docs"] == 0


def test_rejected_lines_are_repointed_only_where_named():
    """The apply stage's rewrite of a rejected file: only `exact_dedup:duplicate` lines whose
    value_text names a repointed id change; a file with none is left as it is (None)."""
    from thresher.ray import _repointed

    def line(d):
        return (json.dumps(d, ensure_ascii=False, separators=(",", ":")) + "\n").encode()

    dup = {"id": "b", "text": "x \"value_text\": y", "metadata": {}, "reason": "exact_dedup:duplicate",
           "value": None, "value_text": "a", "step": "exact_dedup"}
    other = dict(dup, id="c", value_text="z")
    short = {"id": "d", "text": "é", "metadata": {}, "reason": "text_length:too_short", "value": 3.0,
             "value_text": "a", "step": "text_length"}
    # An annotation with a key named value_text: the line is parsed whole.
    annotated = dict(dup, id="e", annotations={"value_text": "q"})
    data = b"".join(map(line, [dup, other, short, annotated]))
    assert _repointed(data, {"nope": "x"}) is None
    assert _repointed(line(short), {"a": "first"}) is None
    got = [json.loads(x) for x in b"".join(_repointed(data, {"a": "first"})).splitlines()]
    assert [g["value_text"] for g in got] == ["first", "z", "a", "first"]
    assert got[0] == dict(dup, value_text="first") and got[2] == short
    # The last line without its newline; a repointed id that needs escaping.
    last = b"".join(_repointed(line(short) + line(dup)[:-1], {"a": 'fi"rst'}))
    assert last.endswith(b'"value_text":"fi\\"rst","step":"exact_dedup"}')
    assert json.loads(last.splitlines()[1]) == dict(dup, value_text='fi"rst')


@pytest.fixture(scope="module")
def site_inputs(tmp_path_factory):
    """Three files of pages of three sites, each site's 12 pages spread 4 per file (so over
    the 3 tasks): every page opens with the site's menu (label lines: `strip_chrome`'s corpus
    statistics) and ends with its footer (a line with a digit, which `strip_chrome` leaves to
    `corpus_boilerplate`); one page of each site in each file quotes the same paragraph
    (`paragraph_dedup` keeps the first); the last file has a mirror page of a page of the
    first file (all its paragraphs seen before: rejected)."""
    d = tmp_path_factory.mktemp("site-inputs")
    paths = []
    for f in range(3):
        lines = []
        for k in range(4):
            for site in ("a.com", "b.org", "c.net"):
                n = f * 4 + k
                body = [f"Page {n} of {site} has its own sentence of prose here, number {w}." for w in range(3)]
                if k == 1:
                    body.insert(1, "A famous quotation that many sites repeat in full on their pages.")
                text = "\n".join([f"{site} home", "Products", "Contact us", *body, f"Copyright 2026 {site}"])
                lines.append({"id": f"{site}-{n}", "url": f"https://{site}/p{n}", "text": text})
        if f == 2:
            first = "\n".join(f"Page 0 of a.com has its own sentence of prose here, number {w}." for w in range(3))
            lines.append({"id": "mirror", "url": "https://mirror.example/0", "text": first})
        p = d / f"sites-{f}.jsonl"
        p.write_text("".join(json.dumps(x) + "\n" for x in lines))
        paths.append(p)
    return paths


#: Thresholds above any one task's count (at most about 5 pages of a site) and below the
#: whole input's (12): counting per task removes nothing.
CORPUS_RECIPE = {
    "step": [
        {"type": "strip_chrome", "corpus_min_docs": 7, "min_block_lines": 8},
        {"type": "corpus_boilerplate", "group_by": "url", "max_docs": 6},
        {"type": "paragraph_dedup", "expected_paragraphs": 10000},
    ]
}


@pytest.mark.parametrize("paragraphs", [True, False], ids=["stages", "exchange"])
def test_corpus_counts_and_paragraph_dedup_across_tasks(cluster, site_inputs, tmp_path, paragraphs):
    """`strip_chrome` (corpus statistics), `corpus_boilerplate` (per site) and
    `paragraph_dedup` as corpus stages: the Ray run equals the single run, which removed the
    menus, footers, quotation repeats and the mirror page across tasks. Without
    `paragraph_dedup`, the three tasks fit the cluster's three CPUs at once, so the counting
    steps count and strip inside the prefix tasks (their `exchange` stage)."""
    import thresher.ray

    plan = dict(CORPUS_RECIPE, step=CORPUS_RECIPE["step"][: 3 if paragraphs else 2])
    recipe = tmp_path / "corpus.toml"
    recipe.write_text(thresher.ray._toml(plan))
    single = tmp_path / "single"
    subprocess.run([*thresher_command(), "run", str(recipe), "-i", *map(str, site_inputs), "-o", str(single),
                    "-q"], check=True)
    out = tmp_path / "out"
    thresher.ray.run(plan, site_inputs, out, shards=3, keep_work=True)
    if paragraphs:
        # The counting steps' stages went through one summed sketch each (each later task read
        # it, not every shard's), the paragraph step through the running unions.
        sums = sorted(p.parent.name for p in (out / ".ray").glob("corpus-*/sum.sketch"))
        assert sums == ["corpus-000", "corpus-001"], sums
        assert list((out / ".ray").glob("corpus-002/union-*.bloom"))
    kept, want_kept = _lines(out, "kept"), _lines(single, "kept")
    assert kept == want_kept
    assert _lines(out, "rejected") == _lines(single, "rejected")
    got, want = (json.loads((o / "stats.json").read_text()) for o in (out, single))
    assert _counts(got) == _counts(want)
    assert got["executor"]["corpus"] == ("stages" if paragraphs else "exchange")
    # What the single run removed needs the whole input's counts (no task alone has enough).
    texts = [d["text"] for d in want_kept]
    assert not any("Products" in t or "Copyright" in t for t in texts)
    steps = {s["type"]: s for s in want["steps"]}
    assert steps["strip_chrome"]["edited"] == steps["corpus_boilerplate"]["edited"] == 36
    if paragraphs:
        assert len(texts) == 36
        assert sum("famous quotation" in t for t in texts) == 1
        assert [d["id"] for d in _lines(single, "rejected")] == ["mirror"]
        assert steps["paragraph_dedup"]["edited"] == 8


def test_parquet_output_equals_the_single_runs(cluster, inputs, tmp_path):
    """`[output] format = "parquet"`: the stages pass JSONL, each shard's last task rewrites its
    records as Parquet; the rows are the single Parquet run's, in order."""
    import pyarrow.parquet as pq

    import thresher.ray

    recipe = tmp_path / "pq.toml"
    recipe.write_text(
        '[output]\nformat = "parquet"\ncompression = "zstd"\n\n'
        '[[step]]\ntype = "gopher_quality"\n\n[[step]]\ntype = "exact_dedup"\n'
    )
    single = tmp_path / "single"
    subprocess.run([*thresher_command(), "run", str(recipe), "-i", *map(str, inputs), "-o", str(single),
                    "-q", "--threads", "2"], check=True)
    out = tmp_path / "out"
    stats = thresher.ray.run(str(recipe), inputs, out, shards=3)
    assert stats.docs_in == stats.kept + stats.rejected + stats.errors

    def rows(o: Path, kind: str) -> list:
        files = sorted((o / kind).glob("*.parquet"))
        assert not list((o / kind).glob("*.jsonl"))
        return [r for f in files for r in pq.read_table(f).to_pylist()]

    kept, want = rows(out, "kept"), rows(single, "kept")
    assert len(kept) == stats.kept and kept == want
    by_id = lambda rs: {r["id"]: r for r in rs}  # noqa: E731
    assert by_id(rows(out, "rejected")) == by_id(rows(single, "rejected"))
    # Cross-shard copies went from kept to rejected in the Ray run, as in the single run.
    assert any(r["reason"] == "exact_dedup:duplicate" for r in rows(out, "rejected"))
    err_key = lambda rs: sorted(json.dumps(r, sort_keys=True, default=str) for r in rs)  # noqa: E731
    assert err_key(rows(out, "errors")) == err_key(rows(single, "errors"))
    assert len(rows(out, "errors")) == 1
    names = sorted(p.name for p in (out / "kept").glob("*.parquet"))
    assert names and all(len(n) == len("00000-00000.parquet") for n in names)
    assert json.loads((out / "stats.json").read_text())["executor"]["stage_seconds"]["parquet"] >= 0
