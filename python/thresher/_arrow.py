"""Pipeline.process on pyarrow Tables/RecordBatches and pandas DataFrames.

pyarrow data crosses to Rust and back through the Arrow C stream interface
(``__arrow_c_stream__``): no Python object is made per cell, and each text is copied once, from
the Arrow buffer into its document. The rows are read as the Parquet reader reads a file's
(id, text, metadata column, every other column as typed metadata). The kept and rejected
outputs are the input's rows (Arrow ``take``) with every column, its type and the schema's
metadata kept; only the text column is replaced.

pandas columns cross as Python lists; the output keeps the input's index labels and dtypes.
"""

from __future__ import annotations

from typing import Any, Dict, List

from . import Result


def _columns(p: Any, names: List[str], columns: List[list], rows: int) -> Dict[str, list]:
    return p._native.process_columns([str(n) for n in names], columns, rows)


def _to_batch(pa: Any, table: Any) -> Any:
    return pa.record_batch([c.combine_chunks() for c in table.columns], schema=table.schema)


def process_arrow(p: Any, batch: Any) -> Result:
    """``p.process`` of a pyarrow Table or RecordBatch (or any object with
    ``__arrow_c_stream__``, which gives Tables back)."""
    import pyarrow as pa

    is_batch = isinstance(batch, pa.RecordBatch)
    data = pa.Table.from_batches([batch]) if is_batch else batch
    kept, rejected, errors = (pa.table(s) for s in p._native.process_arrow(data))
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
