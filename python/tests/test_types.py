"""Arrow and pandas round trips keep every column and its type."""

import datetime as dt

import pytest

import thresher

GOOD = "The committee will meet on Monday to discuss the new budget and the plan."
#: Keeps GOOD (14 words), drops "short" (one word).
RECIPE = {"step": [{"type": "gopher_quality", "min_doc_words": 3}]}


def test_arrow_round_trip_keeps_types():
    pa = pytest.importorskip("pyarrow")
    n = 4
    table = pa.table(
        {
            "text": pa.array([GOOD, "short", None, GOOD + "x"], type=pa.large_string()),
            "id": pa.array(["a", "b", "c", "d"]),
            "i32": pa.array([1, 2, 3, 4], type=pa.int32()),
            "score": pa.array([0.5, None, 1.5, 2.5], type=pa.float32()),
            "when": pa.array([dt.datetime(2024, 1, i + 1) for i in range(n)], type=pa.timestamp("ms")),
            "tags": pa.array([["x"], [], ["y", "z"], None], type=pa.list_(pa.string())),
            "meta": pa.array([{"k": i, "u": "s"} for i in range(n)]),
            "cat": pa.array(["p", "q", "p", "q"]).dictionary_encode(),
        }
    ).replace_schema_metadata({b"origin": b"test"})
    r = thresher.Pipeline(RECIPE).process(table)
    assert r.kept.num_rows + r.rejected.num_rows + r.errors.num_rows == n
    assert r.kept.schema.equals(table.schema, check_metadata=True)
    assert r.rejected.schema.field("i32").type == pa.int32()
    assert r.rejected.schema.names[-4:] == ["reason", "value", "value_text", "step"]
    assert r.rejected.schema.field("value").type == pa.float64()
    assert r.kept.column("id").to_pylist() == ["a", "d"]
    assert r.kept.column("when").to_pylist()[1] == dt.datetime(2024, 1, 4)
    assert r.kept.column("meta").to_pylist()[1] == {"k": 3, "u": "s"}
    assert r.errors.to_pylist() == [
        {"index": 2, "id": "c", "error": "row 3: `text` is null", "step": None}
    ]
    # A RecordBatch comes back as RecordBatches.
    rb = thresher.Pipeline(RECIPE).process(table.to_batches()[0])
    assert isinstance(rb.kept, pa.RecordBatch) and rb.kept.schema.equals(table.schema)


def test_pandas_round_trip_keeps_dtypes_and_index():
    pd = pytest.importorskip("pandas")
    df = pd.DataFrame(
        {
            "text": [GOOD, "short", GOOD + " more"],
            "n": pd.Series([1, 2, 3], dtype="int64"),
            "f": pd.Series([1.5, 2.5, None], dtype="float64"),
            "when": pd.to_datetime(["2024-01-01", "2024-01-02", "2024-01-03"]),
            "cat": pd.Categorical(["a", "b", "a"]),
        },
        index=[10, 20, 30],
    )
    r = thresher.Pipeline(RECIPE).process(df)
    assert list(r.kept.index) == [10, 30] and list(r.rejected.index) == [20]
    assert (r.kept.dtypes == df.dtypes).all()
    assert r.kept["when"].iloc[1] == pd.Timestamp("2024-01-03")
    assert r.rejected["reason"].iloc[0] == "gopher_quality:gopher_short_doc"
    assert len(r.errors) == 0 and list(r.errors.columns) == ["index", "id", "error", "step"]


def test_dict_of_columns_for_datasets_map():
    from thresher.integrations.batches import Filter, keep

    f = Filter(RECIPE)
    out = f({"text": [GOOD, "short"], "n": [1, 2]})
    assert out == {"text": [GOOD], "n": [1]}
    import pickle

    g = pickle.loads(pickle.dumps(f))
    assert g({"text": [GOOD], "n": [5]}) == {"text": [GOOD], "n": [5]}
    assert keep(f.pipeline, [{"text": GOOD}])[0]["text"] == GOOD


def test_arrow_c_stream_inputs_and_missing_text_column():
    """Anything with __arrow_c_stream__ (polars: string_view columns) is read through the Arrow
    C stream interface and comes back as pyarrow Tables; without the text column every row is
    an error; a result stream can be read once."""
    pa = pytest.importorskip("pyarrow")
    pl = pytest.importorskip("polars")
    df = pl.DataFrame({"id": ["a", "b"], "text": [GOOD, "short"], "n": [1, 2]})
    r = thresher.Pipeline(RECIPE).process(df)
    assert isinstance(r.kept, pa.Table)
    assert r.kept.column("id").to_pylist() == ["a"] and r.rejected.column("id").to_pylist() == ["b"]
    assert r.kept.schema.field("text").type == pa.string_view()  # polars exports string_view
    assert r.kept.schema.field("n").type == pa.int64()

    no_text = pa.table({"id": ["a", "b"], "body": [GOOD, GOOD]})
    r = thresher.Pipeline(RECIPE).process(no_text)
    assert r.kept.num_rows == r.rejected.num_rows == 0
    assert r.errors.column("index").to_pylist() == [0, 1]
    assert r.errors.column("error")[0].as_py().startswith("no `text` column (columns: id, body)")

    p = thresher.Pipeline(RECIPE)
    kept, _, _ = p._native.process_arrow(pa.table({"text": [GOOD]}))
    assert pa.table(kept).num_rows == 1
    with pytest.raises(ValueError, match="already consumed"):
        pa.table(kept)
