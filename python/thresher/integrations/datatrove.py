"""A datatrove ``PipelineStep`` that runs a thresher recipe on datatrove ``Document``\\ s, so a
datatrove pipeline swaps its filter block for one step and keeps its readers, writers and
executors::

    from datatrove.executor import LocalPipelineExecutor
    from datatrove.pipeline.readers import JsonlReader
    from datatrove.pipeline.writers import JsonlWriter
    from thresher.integrations.datatrove import ThresherStep

    LocalPipelineExecutor(pipeline=[
        JsonlReader("data/"),
        ThresherStep("fineweb", exclusion_writer=JsonlWriter("out/rejected")),
        JsonlWriter("out/kept"),
    ], tasks=4).run()

Kept documents go on with their text replaced by the final text. Rejected ones are dropped
(counted as ``dropped`` and ``dropped_<reason>``, written to ``exclusion_writer`` with
``metadata["filter_reason"]``). Documents a step could not process are dropped too, counted
as ``errors`` and written to ``exclusion_writer`` with ``metadata["thresher_error"]``.
"""

from __future__ import annotations

import contextlib
from typing import Any, Optional

from datatrove.data import DocumentsPipeline
from datatrove.pipeline.base import PipelineStep
from datatrove.utils.batching import batched
from datatrove.utils.typeshelper import StatHints

from .. import Pipeline


class ThresherStep(PipelineStep):
    """Runs a thresher recipe (bundled name, path, TOML text or dict) on the documents, in
    batches of ``batch_size``. The recipe is checked when the step is made; each task builds
    its own steps (the step pickles as the recipe's text)."""

    name = "thresher"
    type = "🔻 - FILTER"

    def __init__(
        self,
        recipe: Any,
        batch_size: int = 1000,
        exclusion_writer: Optional[Any] = None,
        threads: int = 1,
    ) -> None:
        super().__init__()
        self.recipe_text = Pipeline(recipe, threads=threads).recipe_text
        self.batch_size = batch_size
        self.exclusion_writer = exclusion_writer
        self.threads = threads
        self._pipeline: Optional[Pipeline] = None

    def __getstate__(self) -> dict:
        state = self.__dict__.copy()
        state["_pipeline"] = None
        return state

    @property
    def pipeline(self) -> Pipeline:
        """This task's pipeline, built on first use."""
        if self._pipeline is None:
            self._pipeline = Pipeline(self.recipe_text, threads=self.threads)
        return self._pipeline

    def run(self, data: DocumentsPipeline, rank: int = 0, world_size: int = 1) -> DocumentsPipeline:
        p = self.pipeline
        native = p._native
        writer_cm = self.exclusion_writer if self.exclusion_writer else contextlib.nullcontext()
        with writer_cm as writer:
            for batch in batched(data, self.batch_size):
                self.stat_update("batches")
                with self.track_time("batch"):
                    out = native.process_columns(
                        [p.id_field, p.text_field, p.metadata_field],
                        [
                            [d.id for d in batch],
                            [d.text for d in batch],
                            [d.metadata for d in batch],
                        ],
                        len(batch),
                    )
                decided = {}
                for i, text in zip(out["kept_index"], out["kept_text"]):
                    decided[i] = ("kept", text)
                for i, reason in zip(out["rejected_index"], out["reason"]):
                    decided[i] = ("rejected", reason)
                for i, error in zip(out["error_index"], out["error"]):
                    decided[i] = ("error", error)
                for i, doc in enumerate(batch):
                    self.stat_update(StatHints.total)
                    what, detail = decided[i]
                    if what == "kept":
                        doc.text = detail
                        self.stat_update(StatHints.forwarded)
                        self.update_doc_stats(doc)
                        yield doc
                        continue
                    self.stat_update(StatHints.dropped)
                    if what == "rejected":
                        self.stat_update(f"dropped_{detail}")
                        doc.metadata["filter_reason"] = detail
                    else:
                        self.stat_update("errors")
                        doc.metadata["thresher_error"] = detail
                    if writer is not None:
                        writer.write(doc, rank)
