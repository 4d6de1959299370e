"""Pipeline.process on pyarrow Tables/RecordBatches and pandas DataFrames.

The columns cross to Rust as Python lists (``to_pylist``): every cell becomes a Python object
first. The output keeps the input's own columns (``take`` of the kept and rejected rows), so
each column keeps its Arrow or pandas type exactly; only the text column is replaced.
"""

from __future__ import annotations

from typing import Any, Dict, List

from . import Result


def _columns(p: Any, names: List[str], columns: List[list], rows: int) -> Dict[str, list]:
    return p._native.process_columns([str(n) for n in names], columns, rows)


def _text_array(pa: Any, texts: List[str], typ: Any) -> Any:
    try:
        return pa.array(texts, type=typ)
    except (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError):
        return pa.array(texts, type=pa.string())


def _take(pa: Any, table: Any, index: List[int], text_field: str, texts: List[str]) -> Any:
    out = table.take(pa.array(index, type=pa.int64()))
    pos = out.schema.get_field_index(text_field)
    if pos >= 0:
        f = out.schema.field(pos)
        arr = _text_array(pa, texts, f.type)
        out = out.set_column(pos, f.with_type(arr.type), arr)
    return out


def _errors_table(pa: Any, out: Dict[str, list]) -> Any:
    return pa.table(
        {
            "index": pa.array(out["error_index"], type=pa.int64()),
            "id": pa.array(out["error_id"], type=pa.string()),
            "error": pa.array(out["error"], type=pa.string()),
            "step": pa.array(out["error_step"], type=pa.string()),
        }
    )


def _to_batch(pa: Any, table: Any) -> Any:
    return pa.record_batch([c.combine_chunks() for c in table.columns], schema=table.schema)


def process_arrow(p: Any, batch: Any) -> Result:
    """``p.process`` of a pyarrow Table or RecordBatch."""
    import pyarrow as pa

    is_batch = isinstance(batch, pa.RecordBatch)
    table = pa.Table.from_batches([batch]) if is_batch else batch
    names = table.column_names
    columns = [table.column(n).to_pylist() for n in names]
    out = _columns(p, names, columns, table.num_rows)
    kept = _take(pa, table, out["kept_index"], p.text_field, out["kept_text"])
    rejected = _take(pa, table, out["rejected_index"], p.text_field, out["rejected_text"])
    rejected = rejected.append_column("reason", pa.array(out["reason"], type=pa.string()))
    rejected = rejected.append_column("value", pa.array(out["value"], type=pa.float64()))
    rejected = rejected.append_column(
        "value_text", pa.array(out["value_text"], type=pa.string())
    )
    rejected = rejected.append_column("step", pa.array(out["step"], type=pa.string()))
    errors = _errors_table(pa, out)
    if is_batch:
        return Result(_to_batch(pa, kept), _to_batch(pa, rejected), _to_batch(pa, errors))
    return Result(kept, rejected, errors)


def process_pandas(p: Any, df: Any) -> Result:
    """``p.process`` of a pandas DataFrame: the kept and rejected rows keep their index labels
    and every column its dtype."""
    import pandas as pd

    names = list(df.columns)
    columns = [df[c].tolist() for c in names]
    out = _columns(p, names, columns, len(df))

    def rows(index: List[int], texts: List[str]) -> Any:
        part = df.iloc[index].copy()
        if p.text_field in part.columns:
            part[p.text_field] = pd.Series(texts, index=part.index, dtype=df[p.text_field].dtype)
        return part

    kept = rows(out["kept_index"], out["kept_text"])
    rejected = rows(out["rejected_index"], out["rejected_text"])
    rejected["reason"] = pd.Series(out["reason"], index=rejected.index, dtype=object)
    rejected["value"] = pd.Series(out["value"], index=rejected.index, dtype="float64")
    rejected["value_text"] = pd.Series(out["value_text"], index=rejected.index, dtype=object)
    rejected["step"] = pd.Series(out["step"], index=rejected.index, dtype=object)
    errors = pd.DataFrame(
        {
            "index": pd.Series(out["error_index"], dtype="int64"),
            "id": pd.Series(out["error_id"], dtype=object),
            "error": pd.Series(out["error"], dtype=object),
            "step": pd.Series(out["error_step"], dtype=object),
        }
    )
    return Result(kept, rejected, errors)
