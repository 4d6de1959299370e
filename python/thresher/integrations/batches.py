"""A recipe as a batch function: for ``datasets.Dataset.map(batched=True)`` (a dict of columns)
and Ray Data's ``map_batches`` (``batch_format="pyarrow"`` or ``"pandas"``).

    from thresher.integrations.batches import Filter
    ds = ds.map(Filter("fineweb"), batched=True, batch_size=1000, num_proc=4)
    ds = ray_ds.map_batches(Filter, fn_constructor_args=("fineweb",),
                            batch_format="pyarrow", concurrency=2)

Only the kept rows come back, with every column; the text column holds the final text.
A :class:`Filter` pickles as its recipe (the steps are built again in each worker process).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Dict, List

from .. import Pipeline


def keep(pipeline: Pipeline, batch: Any) -> Any:
    """The kept rows of ``batch`` (a dict of equal-length column lists, a pyarrow Table or
    RecordBatch, a pandas DataFrame or a list of dicts), in the same form."""
    if isinstance(batch, Mapping):  # datasets passes a LazyBatch, a Mapping
        return _keep_columns(pipeline, batch)
    return pipeline.process(batch).kept


def _keep_columns(pipeline: Pipeline, batch: Mapping) -> Dict[str, List[Any]]:
    names = list(batch.keys())
    columns = [list(batch[n]) for n in names]
    rows = len(columns[0]) if columns else 0
    out = pipeline._native.process_columns([str(n) for n in names], columns, rows)
    index = out["kept_index"]
    result = {n: [c[i] for i in index] for n, c in zip(names, columns)}
    if pipeline.text_field in result:
        result[pipeline.text_field] = out["kept_text"]
    return result


class Filter:
    """A callable that keeps a batch's rows that pass ``recipe``; picklable (it carries the
    recipe's text and rebuilds its pipeline in each process)."""

    def __init__(self, recipe: Any, threads: int = 1) -> None:
        self._pipeline = Pipeline(recipe, threads=threads)
        self._recipe_text = self._pipeline.recipe_text
        self._threads = threads

    def __call__(self, batch: Any) -> Any:
        return keep(self._pipeline, batch)

    @property
    def pipeline(self) -> Pipeline:
        """The pipeline (its ``step_stats()`` count what this process decided)."""
        return self._pipeline

    def __getstate__(self) -> Dict[str, Any]:
        return {"recipe_text": self._recipe_text, "threads": self._threads}

    def __setstate__(self, state: Dict[str, Any]) -> None:
        self._recipe_text = state["recipe_text"]
        self._threads = state["threads"]
        self._pipeline = Pipeline(self._recipe_text, threads=self._threads)
