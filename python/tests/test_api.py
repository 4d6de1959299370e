"""The Python API: recipes, steps, run, Pipeline on dicts, errors and refusals."""

import json
import subprocess
import threading
import time

import pytest

import thresher
from conftest import FIXTURES, REPO, cli_run, read_jsonl, thresher_command


def test_recipes_and_steps_are_listed():
    names = {r.name: r for r in thresher.recipes()}
    assert "fineweb" in names and "[[step]]" in names["fineweb"].text
    assert names["fineweb"].description
    steps = {s.name: s for s in thresher.steps()}
    gq = steps["gopher_quality"]
    assert gq.available and gq.description
    p = {x.name: x for x in gq.params}["min_doc_words"]
    assert (p.type, p.default) == ("integer", "50")
    assert p.doc
    # The wheel has the language-ID step (its table comes from thresher[langid]: test_langid).
    assert thresher.HAS_LANGID
    lid = steps["language_id"]
    assert lid.available and "languages" in {x.name for x in lid.params}


def test_recipe_forms_agree(tmp_path):
    """A recipe as a bundled name, a path (str or Path), a TOML text or a dict."""
    short = "The committee will meet on Monday to discuss the new budget and the plan."
    docs = [{"id": "a", "text": short}, {"id": "b", "text": "hi"}]
    as_dict = {"step": [{"type": "gopher_quality", "min_doc_words": 3}]}
    text = "[[step]]\ntype = \"gopher_quality\"\nmin_doc_words = 3\n"
    path = tmp_path / "r.toml"
    path.write_text(text)
    results = [thresher.Pipeline(r).process(docs) for r in (as_dict, text, path, str(path))]
    assert [d["id"] for d in results[0].kept] == ["a"]
    assert [(d["id"], d["reason"]) for d in results[0].rejected] == [
        ("b", "gopher_quality:gopher_short_doc")
    ]
    assert all(r == results[0] for r in results)
    # The bundled fineweb recipe (default gopher_quality: 50 words at least) drops both.
    r = thresher.Pipeline("fineweb").process(docs)
    assert len(r.rejected) == 2 and thresher.Pipeline("fineweb").recipe_text.count("[[step]]") == 4


def test_bad_recipes_are_refused_with_the_line():
    with pytest.raises(thresher.RecipeError, match=r"<string>:3: .*unknown field `nope`"):
        thresher.Pipeline("[[step]]\ntype = \"gopher_quality\"\nnope = 1\n")
    with pytest.raises(thresher.RecipeError, match="unknown step type"):
        thresher.Pipeline({"step": [{"type": "no_such_step"}]})
    with pytest.raises(thresher.RecipeError):
        thresher.Pipeline("no-such-recipe")


def test_two_pass_steps_point_to_run():
    for step in ("minhash_dedup", "corpus_boilerplate"):
        with pytest.raises(thresher.RecipeError, match=r"whole corpus.*thresher\.run\(\)"):
            thresher.Pipeline({"step": [{"type": step}]})


def test_every_record_is_decided_and_bad_ones_are_errors():
    good = "The committee will meet on Monday to discuss the new budget and the plan."
    batch = [
        {"id": "ok", "text": good, "metadata": {"n": 1}},
        {"id": "num", "text": 5},
        {"id": "none"},
        "not a dict",
        {"id": 7, "text": "hi"},
        {"text": good, "when": object()},  # metadata JSON has no form for: its str()
    ]
    p = thresher.Pipeline({"step": [{"type": "gopher_quality", "min_doc_words": 3}]})
    r = p.process(batch)
    assert len(r.kept) + len(r.rejected) + len(r.errors) == len(batch)
    errors = {e["index"]: e for e in r.errors}
    assert errors[1]["error"] == "field `text` is a number, not a string"
    assert errors[1]["id"] == "num" and errors[1]["step"] is None
    assert errors[2]["error"] == "no `text` field"
    assert errors[3]["error"] == "not a dict but str"
    assert [d["id"] for d in r.rejected] == ["7"]  # a number id becomes its text
    assert r.rejected[0]["step"] == "gopher_quality"
    kept = {d["id"]: d for d in r.kept}
    assert kept["ok"]["metadata"] == {"n": 1}
    assert "batch:6" in kept and kept["batch:6"]["metadata"]["when"].startswith("<object")
    stats = p.step_stats()
    assert stats[0].docs_in == 3


def test_exact_dedup_state_spans_batches():
    p = thresher.Pipeline({"step": [{"type": "exact_dedup"}]})
    assert len(p.process([{"text": "a"}, {"text": "b"}]).kept) == 2
    r = p.process([{"text": "b"}, {"text": "c"}])
    assert [d["text"] for d in r.kept] == ["c"]
    assert r.rejected[0]["reason"] == "exact_dedup:duplicate"
    assert r.rejected[0]["value"] is None and r.rejected[0]["value_text"]  # the kept twin's id


def test_run_returns_typed_stats(tmp_path):
    inputs = FIXTURES / "cc_en_head-0091.jsonl"
    seen = []
    stats = thresher.run("fineweb", inputs, tmp_path / "out", threads=1, progress=seen.append)
    assert isinstance(stats, thresher.RunStats)
    assert stats.docs_in == stats.kept + stats.rejected + stats.errors > 0
    assert [s.type for s in stats.steps] == [
        "gopher_repetition", "gopher_quality", "c4_quality", "fineweb_quality"
    ]
    on_disk = json.loads((tmp_path / "out" / "stats.json").read_text())
    d = stats.to_dict()
    assert d["in"] == on_disk["in"] and d["kept"] == on_disk["kept"]
    assert d["steps"][0]["reasons"] == on_disk["steps"][0]["reasons"]
    # A second run into the same directory needs overwrite (as the CLI's --overwrite).
    with pytest.raises(thresher.RunError):
        thresher.run("fineweb", inputs, tmp_path / "out", progress=False)
    again = thresher.run("fineweb", [inputs], tmp_path / "out", overwrite=True, progress=False)
    assert again.kept == stats.kept
    with pytest.raises(thresher.RunError, match="input"):
        thresher.run("fineweb", tmp_path / "missing.jsonl", tmp_path / "o2", progress=False)


def test_run_progress_and_ctrl_c(tmp_path):
    """Ctrl-C in Python stops the run after the batch in hand; resume finishes it."""
    big = tmp_path / "big.jsonl"
    lines = (FIXTURES / "dclm-majority_data.jsonl").read_text().splitlines()
    with open(big, "w") as f:
        for k in range(60):
            for i, line in enumerate(lines):
                d = json.loads(line)
                d["id"] = f"{k}-{i}"
                f.write(json.dumps(d) + "\n")
    script = f"""
import _thread, threading, thresher
calls = []
def progress(p):
    calls.append(p)
    if len(calls) == 2:
        _thread.interrupt_main()
try:
    thresher.run("default", {str(big)!r}, {str(tmp_path / 'out')!r}, threads=1, progress=progress)
    print("finished")
except KeyboardInterrupt:
    print("interrupted", calls[-1]["docs"] > 0)
"""
    import sys

    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert out.stdout.strip() in ("interrupted True", "finished"), out.stderr
    if out.stdout.strip() == "finished":
        pytest.skip("the run finished before the interrupt (machine too fast for this input)")
    stats = thresher.run("default", big, tmp_path / "out", resume=True, progress=False)
    assert stats.docs_in == len(lines) * 60 == stats.kept + stats.rejected + stats.errors


def test_the_thresher_command_is_installed(tmp_path):
    out = subprocess.run([*thresher_command(), "steps", "gopher_quality"], capture_output=True, text=True)
    assert out.returncode == 0 and "min_doc_words" in out.stdout
    out = subprocess.run([*thresher_command(), "run", "fineweb", "-i", "nope", "-o", str(tmp_path)],
                         capture_output=True, text=True)
    assert out.returncode == 2


def test_gil_is_released_while_rust_works(reference_docs):
    """A Python thread keeps running while another is inside process()."""
    p = thresher.Pipeline("fineweb")
    batch = reference_docs[:1500]
    ticks = []
    stop = threading.Event()

    def spin():
        while not stop.is_set():
            ticks.append(time.perf_counter())
            time.sleep(0.001)

    t = threading.Thread(target=spin)
    t.start()
    time.sleep(0.05)
    t0 = time.perf_counter()
    p.process(batch)
    t1 = time.perf_counter()
    stop.set()
    t.join()
    inside = [x for x in ticks if t0 < x < t1]
    # With the GIL held the whole call, the spinner could not tick inside it.
    assert t1 - t0 > 0.05
    assert len(inside) >= 10, (len(inside), t1 - t0)
