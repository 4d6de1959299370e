"""The API gives exactly the CLI's decisions and texts on the shared reference documents, for
lists of dicts, pyarrow and pandas batches, the datatrove step and datasets.map."""

import json

import pytest

import thresher


def expected(cli):
    out = {}
    for i, (kind, line) in cli.items():
        if kind == "kept":
            out[i] = ("kept", line["text"])
        elif kind == "rejected":
            out[i] = ("rejected", line["reason"], line["step"], line["text"])
        else:
            out[i] = ("error", line["error"])
    return out


def batches(docs, size):
    for i in range(0, len(docs), size):
        yield docs[i : i + size]


def test_dicts_match_the_cli(reference_docs, cli_fineweb):
    p = thresher.Pipeline("fineweb")
    got = {}
    for batch in batches(reference_docs, 1000):
        r = p.process(batch)
        assert len(r.kept) + len(r.rejected) + len(r.errors) == len(batch)
        for d in r.kept:
            got[d["id"]] = ("kept", d["text"])
            assert d["metadata"] == cli_fineweb[d["id"]][1]["metadata"]
        for d in r.rejected:
            got[d["id"]] = ("rejected", d["reason"], d["step"], d["text"])
            cli = cli_fineweb[d["id"]][1]
            assert (d["value"], d["value_text"]) == (cli["value"], cli["value_text"])
        for d in r.errors:
            got[d["id"]] = ("error", d["error"])
    want = expected(cli_fineweb)
    assert len(want) == len(reference_docs)
    assert got == want
    kept = sum(1 for v in want.values() if v[0] == "kept")
    assert 0 < kept < len(want)


def test_threads_agree(reference_docs):
    one = thresher.Pipeline("fineweb").process(reference_docs[:800])
    many = thresher.Pipeline("fineweb", threads=0).process(reference_docs[:800])
    assert one.kept == many.kept and one.rejected == many.rejected


def test_arrow_matches_the_cli(reference_docs, cli_fineweb):
    pa = pytest.importorskip("pyarrow")
    p = thresher.Pipeline("fineweb")
    want = expected(cli_fineweb)
    got = {}
    for batch in batches(reference_docs, 1000):
        table = pa.Table.from_pylist(batch)
        for form in (table, table.to_batches()[0]):
            r = p.process(form) if form is table else thresher.Pipeline("fineweb").process(form)
            assert isinstance(r.kept, type(form)) and isinstance(r.rejected, type(form))
            assert r.kept.num_rows + r.rejected.num_rows + r.errors.num_rows == len(batch)
        for row in r.kept.to_pylist():
            got[row["id"]] = ("kept", row["text"])
        for row in r.rejected.to_pylist():
            got[row["id"]] = ("rejected", row["reason"], row["step"], row["text"])
            cli = cli_fineweb[row["id"]][1]
            assert (row["value"], row["value_text"]) == (cli["value"], cli["value_text"])
    assert got == want


def test_pandas_matches_the_cli(reference_docs, cli_fineweb):
    pd = pytest.importorskip("pandas")
    p = thresher.Pipeline("fineweb")
    df = pd.DataFrame(reference_docs[:1500])
    r = p.process(df)
    assert len(r.kept) + len(r.rejected) + len(r.errors) == len(df)
    want = expected(cli_fineweb)
    for _, row in r.kept.iterrows():
        assert want[row["id"]] == ("kept", row["text"])
    for _, row in r.rejected.iterrows():
        assert want[row["id"]] == ("rejected", row["reason"], row["step"], row["text"])


def test_datatrove_step_matches_the_cli(tmp_path, cli_fineweb):
    pytest.importorskip("datatrove")
    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter

    from conftest import SHARED_DOCS, need_shared, read_jsonl
    from thresher.integrations.datatrove import ThresherStep

    docs = need_shared(SHARED_DOCS)
    LocalPipelineExecutor(
        pipeline=[
            JsonlReader(str(docs.parent), glob_pattern=docs.name),
            ThresherStep("fineweb", exclusion_writer=JsonlWriter(str(tmp_path / "rejected"))),
            JsonlWriter(str(tmp_path / "kept")),
        ],
        tasks=1,
        logging_dir=str(tmp_path / "logs"),
    ).run()
    want = expected(cli_fineweb)
    kept = [d for f in sorted((tmp_path / "kept").glob("*.jsonl.gz")) for d in read_jsonl(f)]
    rejected = [d for f in sorted((tmp_path / "rejected").glob("*.jsonl.gz")) for d in read_jsonl(f)]
    assert len(kept) + len(rejected) == len(want)
    for d in kept:
        assert want[d["id"]] == ("kept", d["text"])
    for d in rejected:
        assert want[d["id"]][:2] == ("rejected", d["metadata"]["filter_reason"])


def test_datasets_map_keeps_the_cli_kept(reference_docs, cli_fineweb):
    datasets = pytest.importorskip("datasets")
    from thresher.integrations.batches import Filter

    sample = [{"id": d["id"], "text": d["text"], "source": d["metadata"]["source"]}
              for d in reference_docs[:600]]
    ds = datasets.Dataset.from_list(sample)
    out = ds.map(Filter("fineweb"), batched=True, batch_size=128)
    want = expected(cli_fineweb)
    kept = {i for i in (d["id"] for d in sample) if want[i][0] == "kept"}
    assert set(out["id"]) == kept
    for row in out:
        assert row["text"] == want[row["id"]][1]
        assert row["source"]
    assert out.features["source"].dtype == "string"
