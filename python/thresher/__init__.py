"""thresher: turn raw crawled web text into clean, deduplicated text for training language
models, from Python.

- :func:`run` runs a recipe over files, as the ``thresher run`` command does, and returns the
  run's :class:`RunStats`.
- :class:`Pipeline` runs a recipe on in-memory batches: a list of dicts, a ``pyarrow.Table`` or
  ``RecordBatch``, or a pandas ``DataFrame``; ``process`` returns kept, rejected and errors in
  the same form.
- :func:`recipes` and :func:`steps` list the bundled recipes and the step types with each
  parameter's type, default and doc.

A recipe is a bundled recipe's name (``"fineweb"``), a path to a TOML file, a TOML text, or a
dict shaped like the TOML (``{"step": [{"type": "gopher_quality"}]}``).

Every input record ends up kept, rejected with a reason, or an error.
"""

from __future__ import annotations

import json
import os
import sys
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

from . import _thresher
from ._thresher import RecipeError, RunError

__all__ = [
    "run",
    "Pipeline",
    "Result",
    "RunStats",
    "StepStats",
    "FileStats",
    "Recipe",
    "Step",
    "Param",
    "recipes",
    "steps",
    "RecipeError",
    "RunError",
    "HAS_LANGID",
    "__version__",
]

__version__: str = _thresher.VERSION

#: Whether this build has the ``language_id`` step. The wheel has it, and reads its table from
#: the ``thresher-langid-data`` package (``pip install thresher[langid]``) or the file named by
#: ``THRESHER_LANGID_TABLE``; without either, a recipe with the step is refused saying so.
HAS_LANGID: bool = _thresher.HAS_LANGID

RecipeLike = Union[str, "os.PathLike[str]", Dict[str, Any]]


# --- listings ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Recipe:
    """A bundled recipe."""

    name: str
    description: str
    #: The recipe's TOML text.
    text: str


@dataclass(frozen=True)
class Param:
    """One parameter of a step: its recipe key, type, default (as TOML writes it; ``unset``
    for an absent optional value) and doc line."""

    name: str
    type: str
    default: str
    doc: str


@dataclass(frozen=True)
class Step:
    """A step type a recipe can use."""

    name: str
    description: str
    params: List[Param]
    #: False for a step this build lacks (``language_id`` in the wheel).
    available: bool = True


def recipes() -> List[Recipe]:
    """The bundled recipes."""
    return [Recipe(n, d, t) for n, d, t in _thresher.recipes()]


def steps() -> List[Step]:
    """The step types, each with its parameters' types, defaults and docs."""
    return [
        Step(n, d, [Param(*p) for p in params], available)
        for n, d, params, available in _thresher.steps()
    ]


# --- run ----------------------------------------------------------------------------------------


@dataclass
class StepStats:
    """One step's counts in a run."""

    type: str
    name: str
    docs_in: int
    kept: int
    rejected: int
    errors: int
    edited: int
    reasons: Dict[str, int]
    seconds: float
    report: Dict[str, Any] = field(default_factory=dict)

    @classmethod
    def _from(cls, d: Dict[str, Any]) -> "StepStats":
        return cls(
            type=d["type"],
            name=d["name"],
            docs_in=d["in"],
            kept=d["kept"],
            rejected=d["rejected"],
            errors=d["errors"],
            edited=d["edited"],
            reasons=dict(d["reasons"]),
            seconds=d["seconds"],
            report=dict(d.get("report", {})),
        )


@dataclass
class FileStats:
    """One input file's counts in a run."""

    docs_in: int
    kept: int
    rejected: int
    errors: int
    bytes: int
    skipped: Dict[str, int] = field(default_factory=dict)


@dataclass
class RunStats:
    """A run's accounting (``OUTDIR/stats.json``): ``docs_in == kept + rejected + errors``,
    overall and per file."""

    docs_in: int
    kept: int
    rejected: int
    errors: int
    bytes_in: int
    seconds: float
    skipped: Dict[str, int]
    files: Dict[str, FileStats]
    steps: List[StepStats]
    _raw: Dict[str, Any] = field(repr=False, default_factory=dict)

    @classmethod
    def _from_json(cls, text: str) -> "RunStats":
        d = json.loads(text)
        return cls(
            docs_in=d["in"],
            kept=d["kept"],
            rejected=d["rejected"],
            errors=d["errors"],
            bytes_in=d["bytes_in"],
            seconds=d["seconds"],
            skipped=dict(d["skipped"]),
            files={
                k: FileStats(
                    docs_in=f["in"],
                    kept=f["kept"],
                    rejected=f["rejected"],
                    errors=f["errors"],
                    bytes=f["bytes"],
                    skipped=dict(f.get("skipped", {})),
                )
                for k, f in d["files"].items()
            },
            steps=[StepStats._from(s) for s in d["steps"]],
            _raw=d,
        )

    def to_dict(self) -> Dict[str, Any]:
        """The stats as ``stats.json`` holds them."""
        return json.loads(json.dumps(self._raw))


ProgressCallback = Callable[[Dict[str, int]], None]


def _tqdm_progress() -> Optional[ProgressCallback]:
    """A tqdm bar fed by the run's counters, when tqdm is installed and stderr is a terminal
    (or a notebook: tqdm.auto picks the widget there)."""
    try:
        from tqdm.auto import tqdm
    except ImportError:
        return None
    in_notebook = "ipykernel" in sys.modules
    if not in_notebook and not (hasattr(sys.stderr, "isatty") and sys.stderr.isatty()):
        return None
    bar = tqdm(unit=" docs", dynamic_ncols=True)

    def update(p: Dict[str, int]) -> None:
        bar.update(p["docs"] - bar.n)
        rate = 100.0 * p["kept"] / p["docs"] if p["docs"] else 0.0
        phase = f"pass {p['phase'] + 1}/{p['phases']} " if p["phases"] > 1 else ""
        bar.set_postfix_str(f"{phase}kept {p['kept']} ({rate:.1f}%)", refresh=False)

    update.close = bar.close  # type: ignore[attr-defined]
    return update


def run(
    recipe: RecipeLike,
    inputs: Union[str, "os.PathLike[str]", Sequence[Union[str, "os.PathLike[str]"]]],
    output: Union[str, "os.PathLike[str]"],
    threads: Optional[int] = None,
    resume: bool = False,
    overwrite: bool = False,
    progress: Union[None, bool, ProgressCallback] = None,
) -> RunStats:
    """Runs ``recipe`` over ``inputs`` (files, directories or globs: JSONL, WARC/WET/ARC, HTML,
    text; ``.gz``/``.zst`` read transparently) and writes ``output/{kept,rejected,errors}/`` and
    ``output/stats.json``, exactly as ``thresher run`` does.

    ``threads``: worker threads (``None``: one per core). ``resume`` finishes an interrupted run
    in ``output``; ``overwrite`` replaces a previous run's output.
    ``progress``: a callable given the live counters (``docs``, ``bytes``, ``kept``, ``phase``,
    ``phases``, ``phase_docs``) about five times a second; ``None`` shows a tqdm bar when tqdm
    is installed and this is a terminal or notebook; ``False`` shows nothing.

    The GIL is released during the run. Ctrl-C stops it after the batch in hand (the output so
    far is complete and ``resume=True`` finishes it) and raises ``KeyboardInterrupt``.
    """
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    callback: Optional[ProgressCallback]
    if progress is None or progress is True:
        callback = _tqdm_progress()
    elif progress is False:
        callback = None
    else:
        callback = progress
    try:
        text = _thresher.run(
            recipe,
            [os.fspath(i) for i in inputs],
            os.fspath(output),
            threads=threads or 0,
            resume=resume,
            overwrite=overwrite,
            progress=callback,
        )
    finally:
        close = getattr(callback, "close", None)
        if close is not None:
            close()
    return RunStats._from_json(text)


# --- in-memory pipeline -------------------------------------------------------------------------


@dataclass
class Result:
    """What ``Pipeline.process`` decided, in the form of its input.

    For a list of dicts: lists of dicts shaped as the ``thresher`` command's lines (``id``,
    ``text``, ``metadata`` and, when a step noted something, ``annotations``; rejected ones add
    ``reason``, ``value``, ``value_text`` and ``step``, as the command writes them; errors are ``id``, ``index`` in the batch, ``error``,
    ``step``). For a pyarrow Table/RecordBatch or a pandas DataFrame: the input's rows with
    every column and its type kept and the text column replaced by the final text; rejected
    rows add ``reason``, ``value`` (float64, null when not a number), ``value_text`` (the value
    when it is not a number, else ``""``) and ``step`` columns; errors are ``index``,
    ``id``, ``error`` and ``step`` columns. Any other object with ``__arrow_c_stream__`` (a
    polars DataFrame, say) gives pyarrow Tables.
    """

    kept: Any
    rejected: Any
    errors: Any

    def __iter__(self):
        return iter((self.kept, self.rejected, self.errors))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Result):
            return NotImplemented
        return all(_same(a, b) for a, b in zip(self, other))


def _same(a: Any, b: Any) -> bool:
    if hasattr(a, "equals"):  # pyarrow, pandas
        return type(a) is type(b) and bool(a.equals(b))
    return bool(a == b)


class Pipeline:
    """A recipe's steps, built once, deciding about in-memory batches.

    ``threads=1`` (the default) works on the calling thread: run several batches at once from
    several Python threads (the GIL is released while Rust works) or processes. ``threads=0``
    uses one thread per core for each batch.

    Steps that keep state across documents (exact dedup, paragraph dedup) keep it from one
    ``process`` call to the next, so the pipeline dedups a stream of batches. Steps that need
    the whole corpus before deciding (``minhash_dedup``, ``corpus_boilerplate``) are refused:
    use :func:`run` for them.
    """

    def __init__(self, recipe: RecipeLike, threads: int = 1) -> None:
        self._native = _thresher.Pipeline(recipe, threads=threads)
        self.id_field, self.text_field, self.metadata_field = self._native.fields

    @property
    def recipe_text(self) -> str:
        """The recipe's TOML text."""
        return self._native.recipe_text

    def step_stats(self) -> List[StepStats]:
        """Each step's counts over every batch processed so far."""
        return [StepStats._from(s) for s in json.loads(self._native.step_stats())]

    def process(self, batch: Any) -> Result:
        """Decides about ``batch``: a list of dicts, a ``pyarrow.Table`` or ``RecordBatch``, or a
        pandas ``DataFrame``. Returns a :class:`Result` in the same form; every record is in
        exactly one of kept, rejected and errors."""
        if isinstance(batch, list):
            return Result(*self._native.process_dicts(batch))
        kind = type(batch).__module__.split(".")[0]
        if kind == "pyarrow":
            from . import _arrow

            return _arrow.process_arrow(self, batch)
        if kind == "pandas":
            from . import _arrow

            return _arrow.process_pandas(self, batch)
        if hasattr(batch, "__arrow_c_stream__"):  # polars, duckdb, nanoarrow, ...
            from . import _arrow

            return _arrow.process_arrow(self, batch)
        if isinstance(batch, (tuple,)) or hasattr(batch, "__iter__") and not isinstance(
            batch, (str, bytes, dict)
        ):
            return Result(*self._native.process_dicts(list(batch)))
        raise TypeError(
            "batch: expected a list of dicts, a pyarrow Table or RecordBatch, or a pandas "
            f"DataFrame, not {type(batch).__name__}"
        )

    def __call__(self, batch: Any) -> Any:
        """The kept part of ``process(batch)``: fit for ``datasets.Dataset.map(batched=True)``
        (a dict of columns) and Ray Data's ``map_batches`` (a pyarrow Table, a pandas
        DataFrame or a dict of columns). See ``thresher.integrations.batches``."""
        from .integrations.batches import keep

        return keep(self, batch)
