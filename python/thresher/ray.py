"""Run a recipe on a Ray cluster: ``thresher.ray.run(recipe, inputs, output, address=...)``, or
``thresher run RECIPE -i ... -o OUT --executor ray [--address ADDR] [--tasks N]`` (the command
runs ``python -m thresher.ray``, this module's :func:`main`).

The executor schedules; the work is the ``thresher`` command's, run by each Ray task as a child
process (``python -m thresher``, the same program as ``thresher``, or the program the
environment variable THRESHER_BIN names on the workers) on one shard of the inputs.
Every output file lives under ``output``, which must be on a file system all nodes see (as for
Slurm). The stages, for a recipe ``P... [exact_dedup] [minhash_dedup]``:

0. ``corpus`` (per corpus-counting step of ``P``: ``corpus_boilerplate``, ``strip_chrome`` with
   ``corpus_min_docs > 0``, ``paragraph_dedup``; in recipe order): ``N`` tasks (``N - 1`` for
   ``paragraph_dedup``) each run ``P`` up to that step on shard ``I/N``, the earlier such steps
   in their ``apply`` stage and this one in its ``count`` stage (writes the shard's count-min
   sketch) or ``collect`` stage (writes the shard's Bloom filter). The ``prefix`` tasks then run
   every such step in its ``apply`` stage: the counting steps load the sum of all shards'
   sketches (the single run's counts; one task writes it, ``thresher sum-sketches``, so that
   each shard reads one sketch file), ``paragraph_dedup`` on shard ``I`` the union of shards
   ``0..I``'s filters (the single run's filter at the shard's first document; one task writes
   the running unions, so that each shard reads one filter file). When every corpus step
   counts lines (no ``paragraph_dedup``) and the cluster can run the ``N`` prefix tasks at
   once (a placement group holds them), this stage is not run: the prefix tasks run those
   steps in their ``exchange`` stage (count, write the shard's sketch, wait for the others',
   add them, strip), so the steps before them run once.
1. ``prefix`` (``N`` tasks): the recipe without its trailing ``minhash_dedup`` on shard ``I/N``
   of the inputs (``thresher run --shard I/N``: about ``1/N`` of the input bytes, contiguous, an
   uncompressed JSONL file cut into byte ranges at record starts, a Parquet file at row group
   starts, other files whole; the shards
   in order are the single run's input order). Each task then scans its kept documents and returns, hash-
   partitioned into ``N`` parts, a 64-bit key of each one's exact-dedup normalisation.
2. ``exact`` (``N`` tasks, when the recipe ends with ``exact_dedup`` before the MinHash step):
   partition ``p`` gathers part ``p`` of every shard; keys seen in two shards or more are
   checked with the real ``exact_dedup`` step on the texts, in global input order, so a later
   shard's copy of an earlier shard's text is rejected with the first copy's id, as one run
   does. ``apply`` (``N`` tasks) moves those documents from kept to rejected and points the
   reasons of the shard's own later copies at the first copy.
3. ``minhash_dedup``'s sharded stages: ``signatures`` (``N`` tasks, on each shard's kept
   documents), the cluster stage, ``filter`` (``N`` tasks). The cluster stage is distributed
   connected components (``thresher minhash-pairs``, then rounds of ``thresher cc-round``
   until one converges, then ``thresher minhash-ids`` and ``minhash-decide`` per shard: no
   task holds every node; docs/ray.md); with ``keeper`` other than ``lowest_seq`` or with
   ``verify_jaccard`` it is ``thresher minhash-cluster`` in one task.
4. With ``[output] format = "parquet"``, one task per shard rewrites its final records as
   Parquet (``thresher to-parquet``). The outputs are linked into
   ``output/{kept,rejected,errors}/IIIII-KKKKK.jsonl`` (or ``.parquet``; shard ``I``, its
   ``K``-th file; names sort in the single run's input order) and the shards' stats merged
   (``thresher merge-stats``, then the cross-shard removals added per step and per file) into
   ``output/stats.json``.

Faults: tasks are retried by Ray (``max_retries``); each task writes into a folder of its own
under ``output/.ray`` and, when done, a marker ``NAME.done`` holding its result; a retried task,
or the same job submitted again, returns the marker's result instead of working again. A killed
task's child process dies with it (``PR_SET_PDEATHSIG``) and the retry starts its folder anew.

What is not distributed yet: the MinHash cluster stage with ``keeper = "datatrove"`` or
``"priority"`` or ``verify_jaccard`` (one task); an ``exact_dedup`` that is not the step right
before the trailing ``minhash_dedup`` (or the last step) is refused. Each corpus stage runs the
steps before its step once more (the inputs are read again, not the stage's output).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import mmap
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

from . import RecipeError, RunError, RunStats, recipes

__all__ = ["run", "main", "plan"]

#: Steps with a sharded form run as a corpus stage (see the module's doc); ``strip_chrome``
#: only with corpus statistics (``corpus_min_docs > 0``).
_CORPUS_STEPS = {"corpus_boilerplate", "strip_chrome", "paragraph_dedup"}
#: The parameters of those stages, which the executor sets.
_STAGE_KEYS = ("stage", "sketch_file", "sketches", "filter_file", "filters")
#: ``[output]`` keys of a Parquet output, which only the last task's rewrite reads.
_PARQUET_OUTPUT_KEYS = {"compression", "kept_compression", "rejected_compression", "errors_compression",
                        "level", "metadata_columns"}


# --- recipe -------------------------------------------------------------------------------------


def _recipe_dict(recipe: Union[str, "os.PathLike[str]", Dict[str, Any]]) -> Dict[str, Any]:
    """The recipe as a dict, from a bundled name, a TOML path, a TOML text or a dict."""
    try:
        import tomllib  # Python 3.11
    except ImportError:  # pragma: no cover - older Pythons
        try:
            import tomli as tomllib  # type: ignore[no-redef]
        except ImportError as e:
            raise RecipeError("thresher.ray reads TOML recipes with Python 3.11+ or tomli") from e
    if isinstance(recipe, dict):
        return json.loads(json.dumps(recipe))
    spec = os.fspath(recipe)
    for r in recipes():
        if r.name == spec:
            return tomllib.loads(r.text)
    if os.path.exists(spec):
        with open(spec, "rb") as f:
            return tomllib.load(f)
    try:
        return tomllib.loads(spec)
    except tomllib.TOMLDecodeError as e:
        raise RecipeError(f"{spec}: not a bundled recipe, a file or TOML text: {e}") from e


def _toml_value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        if isinstance(v, float) and v != v:
            return "nan"
        if v in (float("inf"), float("-inf")):
            return "inf" if v > 0 else "-inf"
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)  # a TOML basic string: JSON's escapes are TOML's
    if isinstance(v, list):
        return "[" + ", ".join(_toml_value(x) for x in v) + "]"
    if isinstance(v, dict):
        return "{" + ", ".join(f"{json.dumps(k)} = {_toml_value(x)}" for k, x in v.items()) + "}"
    raise RecipeError(f"cannot write {v!r} as TOML")


def _toml(recipe: Dict[str, Any]) -> str:
    """TOML text for a recipe dict (scalars, then tables, then the ``[[step]]`` array)."""
    lines: List[str] = []
    tables = {k: v for k, v in recipe.items() if isinstance(v, dict)}
    arrays = {
        k: v
        for k, v in recipe.items()
        if isinstance(v, list) and v and all(isinstance(x, dict) for x in v)
    }
    for k, v in recipe.items():
        if k not in tables and k not in arrays:
            lines.append(f"{json.dumps(k)} = {_toml_value(v)}")
    for k, v in tables.items():
        lines.append(f"\n[{json.dumps(k)}]")
        lines.extend(f"{json.dumps(a)} = {_toml_value(b)}" for a, b in v.items())
    for k, v in arrays.items():
        for t in v:
            lines.append(f"\n[[{json.dumps(k)}]]")
            lines.extend(f"{json.dumps(a)} = {_toml_value(b)}" for a, b in t.items())
    return "\n".join(lines) + "\n"


class Plan:
    """How a recipe is cut into distributed stages (see the module's doc)."""

    def __init__(self, recipe: Dict[str, Any]) -> None:
        out = recipe.get("output", {})
        if not isinstance(out, dict):
            out = {}
        #: ``[output] format = "parquet"``: the stages pass JSONL between them and each shard's
        #: last task rewrites its records as Parquet (``thresher to-parquet``) with the recipe's
        #: own ``[output]`` (``original``).
        self.parquet = out.get("format", "jsonl") == "parquet"
        self.original = recipe
        if out.get("format", "jsonl") not in ("jsonl", "parquet"):
            raise RecipeError(f"[output] format {out.get('format')!r}: jsonl or parquet")
        # The stages re-read and rewrite the kept and rejected JSONL: plain, with texts. Parquet
        # options apply to the last task's rewrite only.
        allowed = {"format", "shard_max_docs", "shard_max_bytes", "fsync"}
        if self.parquet:
            allowed |= _PARQUET_OUTPUT_KEYS
        other = sorted(set(out) - allowed)
        if other:
            raise RecipeError(f"the Ray executor does not support [output] {', '.join(other)} yet")
        if self.parquet:
            stage_out = {k: v for k, v in out.items() if k in ("shard_max_docs", "shard_max_bytes", "fsync")}
            recipe = dict(recipe, output=stage_out)
        steps = list(recipe.get("step", []))
        if not steps:
            raise RecipeError("the recipe has no [[step]]")
        types = [s.get("type") for s in steps]
        self.minhash: Optional[Dict[str, Any]] = None
        if types[-1] == "minhash_dedup":
            self.minhash = dict(steps[-1])
            steps = steps[:-1]
            types = types[:-1]
            if self.minhash.get("stage", "single") != "single":
                raise RecipeError("minhash_dedup: the Ray executor sets `stage` itself")
        #: Whether the MinHash cluster stage runs distributed (``keeper = "lowest_seq"``
        #: without ``verify_jaccard``), else in one task (``thresher minhash-cluster``).
        self.distributed_cluster = self.minhash is not None and (
            self.minhash.get("keeper", "lowest_seq") == "lowest_seq" and "verify_jaccard" not in self.minhash
        )
        if "minhash_dedup" in types:
            raise RecipeError(
                "the Ray executor runs minhash_dedup distributed only as the recipe's last step"
            )
        self.exact: Optional[Dict[str, Any]] = None
        if "exact_dedup" in types:
            if types.index("exact_dedup") != len(types) - 1 or types.count("exact_dedup") > 1:
                raise RecipeError(
                    "the Ray executor runs exact_dedup across tasks only as the last step "
                    "before minhash_dedup (or the last step)"
                )
            self.exact = dict(steps[-1])
        #: Indexes (in the prefix's steps) of the steps run as corpus stages, in order.
        self.corpus: List[int] = []
        for j, s in enumerate(steps):
            t = s.get("type")
            if t in _CORPUS_STEPS and (t != "strip_chrome" or s.get("corpus_min_docs", 0) > 0):
                if any(k in s for k in _STAGE_KEYS):
                    raise RecipeError(f"{t}: the Ray executor sets `stage` and its files itself")
                self.corpus.append(j)
        self.prefix: Optional[Dict[str, Any]] = None
        if steps:
            self.prefix = {k: v for k, v in recipe.items() if k != "step"}
            self.prefix["step"] = steps
        #: The recipe's other sections (input options, output options), for the later stages.
        self.rest = {k: v for k, v in recipe.items() if k not in ("step", "input")}

    @property
    def can_exchange(self) -> bool:
        """Whether the corpus steps can count and apply inside the prefix tasks (their
        ``exchange`` stage, when the tasks run at the same time): all of them count lines
        (``paragraph_dedup``'s shard ``I`` needs the earlier shards' whole filters before its
        first document, so it keeps its own stage)."""
        return bool(self.corpus) and all(
            self.prefix is not None and self.prefix["step"][j]["type"] != "paragraph_dedup" for j in self.corpus
        )

    def staged_prefix(self, work: str, shards: int, shard: int, upto: Optional[int] = None,
                      exchange: bool = False) -> Dict[str, Any]:
        """The prefix recipe of shard ``shard``: each corpus step in its ``apply`` stage reading
        the files of its corpus stage under ``work``; with ``upto`` (a corpus step's index), the
        steps up to that one only, that one in its ``count`` (``collect``) stage; with
        ``exchange``, each corpus step in its ``exchange`` stage (counting, then waiting for
        the other shards' sketches, in the same run)."""
        assert self.prefix is not None
        steps = [dict(s) for s in self.prefix["step"]]
        for j in self.corpus:
            if upto is not None and j > upto:
                break
            d = _corpus_dir(work, j)
            s = steps[j]
            if exchange:
                s.update(stage="exchange", sketch_file=str(d / f"sketch-{shard:05d}.sketch"),
                         sketches=[str(d / f"sketch-{k:05d}.sketch") for k in range(shards)])
            elif s["type"] == "paragraph_dedup":
                if j == upto:
                    s.update(stage="collect", filter_file=str(d / f"filter-{shard:05d}.bloom"))
                else:
                    # One run's filter at this shard's first document: the union of the earlier
                    # shards' filters, which the union task wrote as one file.
                    s.update(stage="apply", filters=[str(d / f"union-{shard - 1:05d}.bloom")] if shard else [])
            elif j == upto:
                s.update(stage="count", sketch_file=str(d / f"sketch-{shard:05d}.sketch"))
            else:
                # The sum task's one file: each shard reads it, not every shard's sketch.
                s.update(stage="apply", sketches=[str(d / "sum.sketch")])
        if upto is not None:
            steps = steps[: upto + 1]
        return dict(self.prefix, step=steps)

    def minhash_recipe(self, work_dir: str, stage: str) -> Dict[str, Any]:
        """The recipe of a MinHash stage: the step alone, over the prefix's kept JSONL."""
        assert self.minhash is not None
        step = dict(self.minhash, stage=stage, work_dir=work_dir)
        return dict(self.rest, step=[step])


def plan(recipe: Union[str, "os.PathLike[str]", Dict[str, Any]]) -> Plan:
    """The stages the executor would run for ``recipe`` (refuses a recipe it cannot run)."""
    return Plan(_recipe_dict(recipe))


# --- tasks (plain functions; `run` wraps them in ray.remote) -----------------------------------


def _thresher(args: Sequence[str]) -> str:
    """Runs the ``thresher`` command as a child process that dies with this one (the program
    THRESHER_BIN names, else ``python -m thresher``, the package's own); returns its standard
    output, raises RunError with its standard error on failure."""

    def die_with_parent() -> None:
        try:
            import ctypes

            ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, 9)  # PR_SET_PDEATHSIG, SIGKILL
        except OSError:
            pass

    program = os.environ.get("THRESHER_BIN")
    p = subprocess.run(
        [program] + list(args) if program else [sys.executable, "-m", "thresher", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=die_with_parent,
    )
    if p.returncode != 0:
        raise RunError(f"thresher {' '.join(args)}: exit {p.returncode}: {p.stderr.strip()}")
    return p.stdout


def _done(marker: Path) -> Optional[Any]:
    """The result a completed task left in its marker, if any."""
    try:
        return json.loads(marker.read_text())
    except (OSError, ValueError):
        return None


def _mark(marker: Path, result: Any) -> Any:
    tmp = marker.with_suffix(".tmp")
    tmp.write_text(json.dumps(result))
    os.replace(tmp, marker)
    return result


def _fresh(folder: Path) -> None:
    if folder.exists():
        shutil.rmtree(folder)
    folder.mkdir(parents=True)


def _files(folder: Path, kind: str) -> List[str]:
    return sorted(str(p) for p in (folder / kind).glob("*.jsonl"))


def _exact_key(text: str) -> int:
    """A key equal for any two texts that ``exact_dedup``'s normalisation makes equal
    (whitespace runs, case); texts with equal keys are then compared by the step itself.
    Python's lower-casing gives a word-final sigma its final form, the step does not: both
    sigmas are folded here."""
    norm = " ".join(text.lower().replace("\u03c2", "\u03c3").split())
    return int.from_bytes(hashlib.blake2b(norm.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def _corpus_dir(work: str, step: int) -> Path:
    return Path(work) / f"corpus-{step:03d}"


def _corpus_task(work: str, step: int, shard: int, shards: int, recipe_path: str, inputs: List[str],
                 threads: int) -> Dict[str, Any]:
    """A corpus stage on shard ``shard``: runs the prefix up to corpus step ``step`` (in its
    ``count`` or ``collect`` stage, which writes the shard's sketch or filter under the stage's
    folder), then drops the run's output, which is not needed. Returns the documents that
    reached the step."""
    root = _corpus_dir(work, step)
    marker = root / f"shard-{shard:05d}.done"
    done = _done(marker)
    if done is not None:
        return done
    out = root / f"run-{shard:05d}"
    _fresh(out)
    _thresher(["run", recipe_path, "-i", *inputs, "-o", str(out), "-q", "--overwrite",
               "--shard", f"{shard}/{shards}", "--threads", str(threads)])
    stats = json.loads((out / "stats.json").read_text())
    shutil.rmtree(out, ignore_errors=True)
    return _mark(marker, {"in": stats["steps"][-1]["in"]})


def _corpus_dirs(work: str, steps: List[int]) -> None:
    for j in steps:
        _corpus_dir(work, j).mkdir(parents=True, exist_ok=True)


def _gang(ray: Any, shards: int, threads: int) -> Any:
    """A placement group of ``shards`` bundles of ``threads`` CPUs, so that the prefix tasks,
    whose exchange stages wait for each other, all run at the same time; ``None`` when the
    cluster cannot hold them all (or does not make room within a minute)."""
    from ray.util.placement_group import placement_group, remove_placement_group

    if ray.cluster_resources().get("CPU", 0) < shards * threads:
        return None
    group = placement_group([{"CPU": threads}] * shards, strategy="SPREAD")
    try:
        ray.get(group.ready(), timeout=60)
    except Exception:
        remove_placement_group(group)
        return None
    return group


def _bundle(group: Any, i: int) -> Dict[str, Any]:
    """Task options that put a task in bundle ``i`` of ``group`` (none without a group)."""
    if group is None:
        return {}
    from ray.util.scheduling_strategies import PlacementGroupSchedulingStrategy

    return {"scheduling_strategy": PlacementGroupSchedulingStrategy(
        placement_group=group, placement_group_bundle_index=i)}


def _sum_task(work: str, step: int, shards: int, *_after: Any) -> Dict[str, Any]:
    """The sum of a corpus stage's sketches (``thresher sum-sketches``): ``sum.sketch``, which
    every later task reads instead of each shard's sketch (``2N`` reads rather than ``N²``)."""
    d = _corpus_dir(work, step)
    marker = d / "sum.done"
    done = _done(marker)
    if done is not None:
        return done
    files = [str(d / f"sketch-{k:05d}.sketch") for k in range(shards)]
    result = json.loads(_thresher(["sum-sketches", *files, "-o", str(d / "sum.sketch")]))
    return _mark(marker, result)


def _union_task(work: str, step: int, shards: int, *_after: Any) -> Dict[str, Any]:
    """The running unions of a ``paragraph_dedup`` corpus stage's filters: ``union-K.bloom`` is
    ``filter-0 | ... | filter-K`` (the bits after the header OR-ed; the headers, which hold the
    filter's shape, must be equal), so that shard ``K + 1`` reads one file, not ``K + 1``."""
    d = _corpus_dir(work, step)
    marker = d / "union.done"
    done = _done(marker)
    if done is not None:
        return done
    head, acc, size = b"", 0, 0
    header = 32  # magic and three u64 (bits, hashes, words): BloomFilter::write_to
    for k in range(shards - 1):
        data = (d / f"filter-{k:05d}.bloom").read_bytes()
        if k == 0:
            head, size = data[:header], len(data) - header
        elif data[:header] != head or len(data) - header != size:
            raise RunError(f"{d}/filter-{k:05d}.bloom: another filter shape than filter-00000.bloom")
        # Little-endian words as one little-endian integer: OR-ing the integers ORs the words.
        acc |= int.from_bytes(data[header:], "little")
        del data
        tmp = d / f"union-{k:05d}.bloom.tmp"
        tmp.write_bytes(head + acc.to_bytes(size, "little"))
        os.replace(tmp, d / f"union-{k:05d}.bloom")
    return _mark(marker, {"unions": shards - 1})


def _prefix_task(
    work: str,
    shard: int,
    shards: int,
    recipe_path: str,
    inputs: List[str],
    threads: int,
    with_keys: bool,
) -> List[Any]:
    """Stage 1 on shard ``shard``: runs the prefix recipe, then scans the kept documents.
    Returns ``[summary, part_0, ..., part_{N-1}]``: part ``p`` lists ``(key, position, kept
    file's index, offset in it)`` of the shard's kept documents whose key falls in partition
    ``p`` (about 25 bytes each, pickled)."""
    root = Path(work) / "prefix"
    out = root / f"shard-{shard:05d}"
    marker = root / f"shard-{shard:05d}.done"
    done = _done(marker)
    if done is None:
        _fresh(out)
        _thresher(
            ["run", recipe_path, "-i", *inputs, "-o", str(out), "-q", "--overwrite",
             "--shard", f"{shard}/{shards}", "--threads", str(threads)]
        )
        stats = json.loads((out / "stats.json").read_text())
        # Entries are [path, size] or, for a byte range of the file, [path, size, [start, end]].
        order = [e[0] for e in json.loads((out / ".run.json").read_text())["inputs"]]
        # Kept documents are written in input order: file by file, each file's kept count.
        file_of = [f for f in order if f in stats["files"] for _ in range(stats["files"][f]["kept"])]
        ids: List[str] = []
        kept_files = _files(out, "kept")
        entries: List[List[Tuple[int, int, int, int]]] = [[] for _ in range(shards)]
        pos = 0
        for file_index, path in enumerate(kept_files):
            with open(path, "rb") as f:
                offset = 0
                for line in f:
                    d = json.loads(line)
                    ids.append(d["id"])
                    if with_keys:
                        key = _exact_key(d["text"])
                        entries[key % shards].append((key, pos, file_index, offset))
                    offset += len(line)
                    pos += 1
        if pos != len(file_of):
            raise RunError(f"shard {shard}: {pos} kept lines, stats say {len(file_of)}")
        parts = [{"shard": shard, "files": kept_files, "entries": e} for e in entries]
        done = _mark(marker, {"ids": ids, "file_of": file_of, "parts": parts, "dir": str(out)})
    # The driver gets the folder only: the ids and files stay in the marker, for this shard's
    # later tasks.
    return [{"dir": done["dir"], "marker": str(marker)}, *done["parts"]]


def _prefix_doc_files(summary: Dict[str, Any]) -> Tuple[List[str], List[str]]:
    """The id and the original input file of each kept document of a prefix task, in order."""
    done = json.loads(Path(summary["marker"]).read_text())
    return done["ids"], done["file_of"]


def _count(files: List[str]) -> Dict[str, int]:
    counts: Dict[str, int] = {}
    for f in files:
        counts[f] = counts.get(f, 0) + 1
    return counts


def _exact_task(work: str, part: int, exact_step: Dict[str, Any], *shard_parts: Any) -> List[Any]:
    """Partition ``part`` of the cross-shard exact dedup: returns ``(shard, position,
    first copy's id)`` for each kept document that repeats an earlier shard's text."""
    marker = Path(work) / "exact" / f"part-{part:05d}.done"
    done = _done(marker)
    if done is not None:
        return done
    by_key: Dict[int, List[Tuple[int, int, str, int]]] = {}
    for sp in shard_parts:
        for key, pos, file_index, offset in sp["entries"]:
            by_key.setdefault(key, []).append((sp["shard"], pos, sp["files"][file_index], offset))
    candidates = sorted(
        e for group in by_key.values() if len({s for s, *_ in group}) > 1 for e in group
    )
    removed = []
    if candidates:
        from . import Pipeline

        docs, real = [], {}
        for shard, pos, path, offset in candidates:
            with open(path, "rb") as f:
                f.seek(offset)
                d = json.loads(f.readline())
            tag = f"{shard}:{pos}"
            real[tag] = d["id"]
            docs.append({"id": tag, "text": d["text"]})
        step = {k: v for k, v in exact_step.items()}
        kept, rejected, errors = Pipeline({"step": [step]}).process(docs)
        if errors:
            raise RunError(f"exact dedup, partition {part}: {errors[0]}")
        for r in rejected:
            shard, pos = map(int, r["id"].split(":"))
            twin = r.get("value_text") or r.get("value")
            removed.append([shard, pos, real[twin]])
    (Path(work) / "exact").mkdir(parents=True, exist_ok=True)
    return _mark(marker, removed)


def _apply_task(work: str, shard: int, summary: Dict[str, Any], *removed_parts: List[Any]) -> Dict[str, Any]:
    """Moves this shard's cross-shard exact duplicates from kept to rejected; points the reasons
    of the shard's own copies of them at the first copy. Returns the kept files for the MinHash
    stages, the rejected files, and the original file of each removed document."""
    root = Path(work) / "apply"
    marker = root / f"shard-{shard:05d}.done"
    done = _done(marker)
    if done is not None:
        return done
    src = Path(summary["dir"])
    mine = {pos: twin for part in removed_parts for s, pos, twin in part if s == shard}
    ids, file_of = _prefix_doc_files(summary)
    out = root / f"shard-{shard:05d}"
    _fresh(out)
    result: Dict[str, Any] = {"kept": _files(src, "kept"), "rejected": _files(src, "rejected"),
                              "removed": _count([file_of[p] for p in mine]), "gone": sorted(mine)}
    if mine:
        # The shard's own first copy of a text that an earlier shard had: its later copies
        # (rejected by the shard's run) name the earlier shard's first copy instead.
        repoint = {ids[p]: twin for p, twin in mine.items()}
        kept_out = out / "kept.jsonl"
        moved_out = out / "exact.jsonl"
        pos = 0
        with open(kept_out, "wb") as k, open(moved_out, "wb") as m:
            for path in result["kept"]:
                with open(path, "rb") as f:
                    for line in f:
                        if pos in mine:
                            d = json.loads(line)
                            m.write(_rejected_line(d, mine[pos]))
                        else:
                            k.write(line)
                        pos += 1
        rejected = []
        for i, path in enumerate(result["rejected"]):
            fixed = out / f"rejected-{i:05d}.jsonl"
            with open(path, "rb") as f:
                size = os.fstat(f.fileno()).st_size
                data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ) if size else b""
                pieces = _repointed(data, repoint)
                changed = pieces is not None
                if pieces is not None:
                    with open(fixed, "wb") as w:
                        w.writelines(pieces)
                # The pieces are views of the map: gone before it closes.
                del pieces
                if size:
                    data.close()
            # A file with nothing to change is the output as it is.
            rejected.append(str(fixed) if changed else path)
        result["kept"] = [str(kept_out)] if pos > len(mine) else []
        result["rejected"] = rejected + [str(moved_out)]
    return _mark(marker, result)


_DUPLICATE = b'"exact_dedup:duplicate"'
_VALUE_TEXT = b'"value_text":'
_REASON = b'"reason":'


def _once(data: Any, sub: bytes, start: int, end: int) -> int:
    """Where ``sub`` is in ``data[start:end]`` if it is there exactly once, else -1 (``data``
    may be a map, which has ``find`` but not ``count``)."""
    at = data.find(sub, start, end)
    if at < 0 or data.find(sub, at + 1, end) >= 0:
        return -1
    return at


def _repointed(data: Any, repoint: Dict[str, str]) -> Optional[List[Any]]:
    """The pieces of ``data`` (a rejected file's bytes, or a map of them) with the
    ``value_text`` of each ``exact_dedup:duplicate`` line that names a key of ``repoint``
    replaced by its value; ``None`` when no line changes.

    Lines are edited in place, neither parsed nor copied: a JSON string cannot hold the bytes
    ``"reason":`` or ``"value_text":`` unescaped, so in a line with one of each they are the
    top-level keys (a line with more, from metadata or annotations, is parsed whole). Parsing
    or copying every line cost seconds per GB of rejected text."""
    view = memoryview(data)
    pieces: List[Any] = []
    prev = 0
    decoder = json.JSONDecoder()
    i = data.find(_DUPLICATE)
    while i >= 0:
        start = data.rfind(b"\n", 0, i) + 1
        end = data.find(b"\n", i)
        end = len(data) if end < 0 else end + 1
        new: Optional[bytes] = None
        r, at = _once(data, _REASON, start, end), _once(data, _VALUE_TEXT, start, end)
        if r >= 0 and at >= 0:
            r += len(_REASON)
            if data[r : r + len(_DUPLICATE)] == _DUPLICATE:
                at += len(_VALUE_TEXT)
                tail = bytes(view[at:end]).decode("utf-8", "surrogatepass")
                try:
                    twin, stop = decoder.raw_decode(tail)
                except ValueError:
                    twin, stop = None, 0
                if isinstance(twin, str) and twin in repoint:
                    rest = at + len(tail[:stop].encode("utf-8", "surrogatepass"))
                    pieces += [view[prev:at], json.dumps(repoint[twin], ensure_ascii=False).encode()]
                    prev = rest
        else:
            d = json.loads(bytes(view[start:end]))
            if d.get("reason") == "exact_dedup:duplicate" and d.get("value_text") in repoint:
                d["value_text"] = repoint[d["value_text"]]
                new = (json.dumps(d, ensure_ascii=False, separators=(",", ":")) + "\n").encode()
                pieces += [view[prev:start], new]
                prev = end
        i = data.find(_DUPLICATE, end)
    if not pieces:
        return None
    pieces.append(view[prev:])
    return pieces


def _rejected_line(d: Dict[str, Any], twin: str) -> bytes:
    """A kept line turned into ``exact_dedup``'s rejected line, fields in thresher's order."""
    r = {"id": d["id"], "text": d["text"], "metadata": d.get("metadata", {}),
         "reason": "exact_dedup:duplicate", "value": None, "value_text": twin, "step": "exact_dedup"}
    if "annotations" in d:
        r["annotations"] = d["annotations"]
    return (json.dumps(r, ensure_ascii=False, separators=(",", ":")) + "\n").encode()


def _minhash_task(work: str, stage: str, shard: int, index: int, recipe_path: str,
                  kept: List[str], threads: int, summary: Dict[str, Any], gone: List[int]) -> Dict[str, Any]:
    """A MinHash stage (``signatures`` or ``filter``) on one shard's kept documents, as MinHash
    shard ``index`` (the non-empty shards, numbered in order)."""
    root = Path(work) / stage
    marker = root / f"shard-{shard:05d}.done"
    done = _done(marker)
    if done is not None:
        return done
    out = root / f"shard-{shard:05d}"
    _fresh(out)
    _thresher(["run", recipe_path, "-i", *kept, "-o", str(out), "-q", "--overwrite",
               "--threads", str(threads), "--set", f"minhash_dedup.shard_index={index}"])
    stats = json.loads((out / "stats.json").read_text())
    result: Dict[str, Any] = {"dir": str(out), "stats": stats, "removed": {}, "kept": [], "rejected": [],
                              "attempt": time.time_ns()}
    removed_ids: List[str] = []
    if stage == "filter":
        final = root / f"shard-{shard:05d}-final"
        _fresh(final)
        for kind in ("kept", "rejected"):
            for k, path in enumerate(_files(out, kind)):
                fixed = final / f"{kind}-{k:05d}.jsonl"
                with open(path, "rb") as f, open(fixed, "wb") as w:
                    for line in f:
                        d = _restore_annotations(json.loads(line))
                        if kind == "rejected":
                            removed_ids.append(d["id"])
                        w.write((json.dumps(d, ensure_ascii=False, separators=(",", ":")) + "\n").encode())
                result[kind].append(str(fixed))
        # The original input file of each removed document, by its id among the shard's kept
        # documents (in order, so repeated ids are matched in turn).
        ids, file_of = _prefix_doc_files(summary)
        skip = set(gone)
        file_by_id: Dict[str, List[str]] = {}
        for p, (doc_id, fname) in enumerate(zip(ids, file_of)):
            if p not in skip:
                file_by_id.setdefault(doc_id, []).append(fname)
        result["removed"] = _count([file_by_id[d].pop(0) for d in removed_ids])
    return _mark(marker, result)


def _restore_annotations(d: Dict[str, Any]) -> Dict[str, Any]:
    """A document of the MinHash stages as one run writes it: reading the prefix's kept JSONL
    put the prefix steps' annotations into the metadata (as any extra field); they go back in
    front of the MinHash step's own."""
    meta = d.get("metadata")
    if isinstance(meta, dict) and isinstance(meta.get("annotations"), dict):
        earlier = meta.pop("annotations")
        later = d.pop("annotations", {})
        rest = {k: d.pop(k) for k in list(d) if k not in ("id", "text", "metadata")}
        d["annotations"] = {**earlier, **later}
        # Rejected lines keep thresher's field order: reason, value, value_text, step, annotations.
        ann = d.pop("annotations")
        d.update(rest)
        d["annotations"] = ann
    return d


def _cluster_task(work: str, recipe_path: str, shards: int, *_after: Any) -> Dict[str, Any]:
    """The MinHash cluster stage in one process (``thresher minhash-cluster``), for what the
    distributed stage does not do (``keeper`` other than ``lowest_seq``, ``verify_jaccard``)."""
    marker = Path(work) / "cluster.done"
    done = _done(marker)
    if done is not None:
        return done
    report = json.loads(_thresher(["minhash-cluster", "--recipe", recipe_path, "--shards", str(shards)]))
    return _mark(marker, report)


def _cc_task(marks: str, name: str, args: List[str], *_after: Any) -> Dict[str, Any]:
    """One task of the distributed cluster stage: ``thresher ARGS`` (``minhash-pairs``,
    ``cc-round``, ``minhash-ids`` or ``minhash-decide``; each rewrites its own folder of the
    components' folder, so a retry starts anew), its JSON report kept in marker ``NAME.done``."""
    marker = Path(marks) / f"{name}.done"
    done = _done(marker)
    if done is not None:
        return done
    return _mark(marker, json.loads(_thresher(args)))


def _distributed_cluster(ray: Any, work: Path, sig_path: str, sigs: List[Any], shards: int, parts: int,
                         memory_mb: int, opts: Dict[str, Any]) -> Dict[str, Any]:
    """The MinHash cluster stage as distributed connected components (docs/ray.md): ``parts``
    pairs tasks over slices of the band buckets, then rounds of ``parts`` large-star /
    small-star tasks until one converges, then per MinHash shard an ids task and a decide task
    that writes the shard's ``decisions.bin``. No task holds every node. Returns the stage's
    report (the figures of ``minhash-cluster``'s, plus the rounds)."""
    marker = work / "cluster.done"
    done = _done(marker)
    if done is not None:
        return done
    # The signatures tasks' results name their attempt: a rerun signatures task (a job
    # submitted again after losing markers) gets a fresh components folder.
    results = ray.get(sigs)
    key = hashlib.blake2b(json.dumps([r.get("attempt") for r in results]).encode(), digest_size=6).hexdigest()
    cc, marks = work / f"cc-{key}", work / f"cc-{key}-done"
    marks.mkdir(parents=True, exist_ok=True)
    task = ray.remote(_cc_task).options(**opts)
    m = str(marks)
    base = ["--recipe", sig_path, "--cc-dir", str(cc)]
    pairs = ray.get([task.remote(m, f"pairs-{k:05d}", ["minhash-pairs", *base, "--part", f"{k}/{parts}"])
                     for k in range(parts)])
    rounds: List[Dict[str, Any]] = []
    r = 0
    while True:
        got = ray.get([task.remote(m, f"round-{r:05d}-{k:05d}",
                                   ["cc-round", "--cc-dir", str(cc), "--round", str(r), "--part", f"{k}/{parts}",
                                    "--memory-mb", str(memory_mb)]) for k in range(parts)])
        rounds.append({"round": r, "records_in": sum(g["records_in"] for g in got),
                       "max_sort_bytes": max(g["sort_bytes"] for g in got)})
        r += 1
        if all(g["converged"] for g in got):
            break
        if r > 400:
            raise RunError("minhash cluster: the connected components did not converge in 400 rounds")
    final = ["--round", str(r)]
    ray.get([task.remote(m, f"ids-{s:05d}", ["minhash-ids", *base, *final, "--shard", str(s)])
             for s in range(shards)])
    decided = ray.get([task.remote(m, f"decide-{s:05d}", ["minhash-decide", *base, *final, "--shard", str(s)])
                       for s in range(shards)])
    first = pairs[0]
    report = {
        "shards": first["shards"], "docs_seen": first["docs_seen"], "docs_signed": first["docs_signed"],
        "candidate_pairs": sum(p["candidate_pairs"] for p in pairs), "verified_pairs": 0,
        "rejected_by_jaccard": 0,
        "clusters": sum(d["clusters"] for d in decided),
        "clustered_docs": sum(d["clustered_docs"] for d in decided),
        "removed_docs": sum(d["removed_docs"] for d in decided),
        "band_bytes": first["band_bytes"],
        # The largest sort buffer of one task: no task holds the graph.
        "cluster_heap_bytes": max(x["max_sort_bytes"] for x in rounds),
        "distributed": {"parts": parts, "rounds": len(rounds), "records_per_round": [x["records_in"] for x in rounds]},
    }
    return _mark(marker, report)


# --- the driver ---------------------------------------------------------------------------------


def _add_step(total: Dict[str, Any], s: Dict[str, Any]) -> None:
    for k in ("in", "kept", "rejected", "errors", "edited", "seconds", "wall_seconds"):
        total[k] = total.get(k, 0) + s.get(k, 0)
    for r, n in s["reasons"].items():
        total.setdefault("reasons", {})[r] = total.get("reasons", {}).get(r, 0) + n


def _move(stats: Dict[str, Any], step: Optional[Dict[str, Any]], files: Dict[str, int], reason: str) -> None:
    """Counts documents moved from kept to rejected (``files``: how many of each input file),
    overall, per file and (when given) in ``step``'s counts."""
    n = sum(files.values())
    stats["kept"] -= n
    stats["rejected"] += n
    if step is not None and n:
        step["kept"] -= n
        step["rejected"] += n
        step["reasons"][reason] = step["reasons"].get(reason, 0) + n
    for f, k in files.items():
        stats["files"][f]["kept"] -= k
        stats["files"][f]["rejected"] += k


def _parquet_task(work: str, shard: int, recipe_path: str, inputs: List[str],
                  files: Dict[str, List[str]]) -> Dict[str, List[str]]:
    """Shard ``shard``'s final records of each category rewritten as the recipe's Parquet
    output (``thresher to-parquet``, which writes what a run with that output writes)."""
    root = Path(work) / "parquet"
    marker = root / f"shard-{shard:05d}.done"
    done = _done(marker)
    if done is not None:
        return done
    out = root / f"shard-{shard:05d}"
    _fresh(out)
    result: Dict[str, List[str]] = {}
    for kind, paths in files.items():
        result[kind] = []
        if paths:
            printed = _thresher(["to-parquet", recipe_path, "--category", kind, "-i", *inputs,
                                 "--from", *paths, "-o", str(out)])
            result[kind] = [line.split("\t")[0] for line in printed.splitlines() if line.strip()]
    return _mark(marker, result)


def _link(files: List[str], dest: Path, shard: int, first: int = 0) -> int:
    dest.mkdir(parents=True, exist_ok=True)
    for k, f in enumerate(files, start=first):
        target = dest / f"{shard:05d}-{k:05d}{Path(f).suffix}"
        if target.exists():
            target.unlink()
        try:
            os.link(f, target)
        except OSError:
            shutil.copyfile(f, target)
    return first + len(files)


def run(
    recipe: Union[str, "os.PathLike[str]", Dict[str, Any]],
    inputs: Union[str, "os.PathLike[str]", Sequence[Union[str, "os.PathLike[str]"]]],
    output: Union[str, "os.PathLike[str]"],
    address: Optional[str] = None,
    shards: Optional[int] = None,
    threads: int = 1,
    max_retries: int = 3,
    overwrite: bool = False,
    keep_work: bool = False,
) -> RunStats:
    """Runs ``recipe`` over ``inputs`` on a Ray cluster and writes ``output`` as
    ``thresher run`` does (``kept/``, ``rejected/``, ``errors/``, ``stats.json``); the documents
    kept, their texts, the rejected reasons and the counts are those of a single run (see the
    module's doc for the limits).

    ``address``: the cluster (``ray.init(address=...)``); ``None`` uses the Ray session this
    process already has, or starts a local one (which stays up for the process's later calls;
``ray.shutdown()`` stops it sooner than Ray's exit hook does). ``shards``: tasks per stage (default: the
    cluster's CPUs divided by ``threads``); the inputs are split by bytes (uncompressed JSONL
    files into byte ranges, Parquet files by row groups, other files whole), so more shards
    than compressed or WARC files leaves some empty. ``threads``: worker threads (and Ray CPUs) of each task.
    ``max_retries``: Ray's retries of a task whose worker died. A job submitted again with the
    same ``output`` skips the tasks whose markers are there; ``overwrite`` starts afresh.
    ``keep_work``: keep ``output/.ray`` (the stages' folders) after a successful run.
    """
    import ray

    t0 = time.time()
    laps: Dict[str, float] = {}
    last = [t0]

    def lap(name: str) -> None:
        # Wall seconds of each stage of the driver, for stats.json's `executor` entry.
        now = time.time()
        laps[name] = round(laps.get(name, 0.0) + now - last[0], 3)
        last[0] = now

    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    inputs = [os.path.abspath(os.fspath(i)) for i in inputs]
    out = Path(output).absolute()
    the_plan = Plan(_recipe_dict(recipe))
    if (out / "stats.json").exists() and not overwrite:
        if (out / ".ray").exists() or not (out / ".ray-run").exists():
            raise RunError(f"{out}: holds a previous run's output (give overwrite=True)")
        return RunStats._from_json((out / "stats.json").read_text())
    work = out / ".ray"
    if overwrite:
        for name in ("kept", "rejected", "errors", ".ray", "stats.json", ".ray-run"):
            p = out / name
            if p.is_dir():
                shutil.rmtree(p)
            elif p.exists():
                p.unlink()
    work.mkdir(parents=True, exist_ok=True)

    if not ray.is_initialized():
        # A local session started here has no dashboard: nothing reads it, and it costs a core
        # share on a small machine.
        local = {"include_dashboard": False} if address is None else {}
        ray.init(address=address, ignore_reinit_error=True, log_to_driver=False, **local)
    lap("ray_init")
    if shards is None:
        cpus = int(ray.cluster_resources().get("CPU", 1))
        shards = max(1, cpus // max(1, threads))
    opts = dict(num_cpus=threads, max_retries=max_retries, retry_exceptions=False)
    w = str(work)

    stats: Dict[str, Any]
    if the_plan.prefix is None:
        raise RecipeError("a recipe of minhash_dedup alone: run it with `thresher run`")
    # The corpus steps: counted and applied inside the prefix tasks when those can all run at
    # once (a placement group holds a CPU share for each); else their own stages, one step after
    # the other, each counting (or collecting) what reaches its step, the earlier ones applied
    # with the whole input's counts (the steps before a corpus step then run once per stage).
    group = _gang(ray, shards, threads) if the_plan.can_exchange else None
    exchange = group is not None
    corpus = ray.remote(_corpus_task).options(**opts)
    for j in [] if exchange else the_plan.corpus:
        d = _corpus_dir(w, j)
        d.mkdir(parents=True, exist_ok=True)
        # The last shard's filter would be read by no later shard.
        paragraph = the_plan.prefix["step"][j]["type"] == "paragraph_dedup"
        refs = []
        for i in range(shards - 1 if paragraph else shards):
            path = d / f"recipe-{i:05d}.toml"
            path.write_text(_toml(the_plan.staged_prefix(w, shards, i, j)))
            refs.append(corpus.remote(w, j, i, shards, str(path), inputs, threads))
        if paragraph and refs:
            refs = [ray.remote(_union_task).options(num_cpus=1, max_retries=max_retries).remote(w, j, shards, *refs)]
        elif refs:
            refs = [ray.remote(_sum_task).options(num_cpus=1, max_retries=max_retries).remote(w, j, shards, *refs)]
        ray.get(refs)
    if the_plan.corpus:
        lap("corpus")
    prefix_paths = []
    for i in range(shards):
        # One recipe for all shards unless a paragraph_dedup reads the earlier shards' filters.
        path = work / (f"prefix-{i:05d}.toml" if the_plan.corpus else "prefix.toml")
        if i == 0 or the_plan.corpus:
            if exchange:
                _corpus_dirs(w, the_plan.corpus)
            path.write_text(_toml(the_plan.staged_prefix(w, shards, i, exchange=exchange)))
        prefix_paths.append(str(path))
    with_keys = the_plan.exact is not None
    prefix = ray.remote(_prefix_task)
    stage1 = [
        prefix.options(num_returns=shards + 1, **opts, **_bundle(group, i))
        .remote(w, i, shards, prefix_paths[i], inputs, threads, with_keys)
        for i in range(shards)
    ]
    try:
        summaries = ray.get([refs[0] for refs in stage1])
    except BaseException:
        # With exchange stages the other tasks wait for the failed one's sketch: stop them.
        if exchange:
            for refs in stage1:
                ray.cancel(refs[0], force=True)
        raise
    finally:
        if group is not None:
            from ray.util.placement_group import remove_placement_group

            remove_placement_group(group)
    lap("prefix")

    # Stats of the prefix, merged across shards (per file, per step).
    merged = _thresher(["merge-stats", *[s["dir"] for s in summaries]])
    stats = json.loads(merged)
    stats.pop("shards", None)
    lap("merge_stats")

    applied: List[Dict[str, Any]]
    if the_plan.exact is not None:
        exact = ray.remote(_exact_task).options(**opts)
        removed_refs = [
            exact.remote(w, p, the_plan.exact, *[refs[1 + p] for refs in stage1]) for p in range(shards)
        ]
        apply = ray.remote(_apply_task).options(**opts)
        applied = ray.get([apply.remote(w, i, summaries[i], *removed_refs) for i in range(shards)])
        for a in applied:
            _move(stats, stats["steps"][-1], a["removed"], "exact_dedup:duplicate")
        lap("exact")
    else:
        applied = [{"kept": _files(Path(s["dir"]), "kept"), "rejected": _files(Path(s["dir"]), "rejected"),
                    "removed": {}, "gone": []} for s in summaries]

    final_kept: List[List[str]] = [a["kept"] for a in applied]
    final_rejected: List[List[str]] = [list(a["rejected"]) for a in applied]
    if the_plan.minhash is not None:
        mh_work = str(work / "minhash")
        sig_path, flt_path = work / "signatures.toml", work / "filter.toml"
        sig_path.write_text(_toml(the_plan.minhash_recipe(mh_work, "signatures")))
        flt_path.write_text(_toml(the_plan.minhash_recipe(mh_work, "filter")))
        busy = [i for i in range(shards) if applied[i]["kept"]]
        mh = ray.remote(_minhash_task).options(**opts)
        sigs = [mh.remote(w, "signatures", i, k, str(sig_path), applied[i]["kept"], threads,
                          summaries[i], applied[i]["gone"]) for k, i in enumerate(busy)]
        if not busy:
            # Nothing reached MinHash: no stage to run (a single run's step sees no documents).
            report = {"shards": 0, "docs_seen": 0, "docs_signed": 0, "candidate_pairs": 0, "verified_pairs": 0,
                      "rejected_by_jaccard": 0, "clusters": 0, "clustered_docs": 0, "removed_docs": 0,
                      "band_bytes": 0, "cluster_heap_bytes": 0}
        elif the_plan.distributed_cluster:
            ray.get(sigs)
            lap("minhash_signatures")
            report = _distributed_cluster(ray, work, str(sig_path), sigs, len(busy), shards,
                                          int(the_plan.minhash.get("memory_budget_mb", 1024)), opts)
        else:
            cluster = ray.remote(_cluster_task).options(num_cpus=1, max_retries=max_retries)
            report = ray.get(cluster.remote(w, str(sig_path), len(busy), *sigs))
        lap("minhash_cluster")
        filtered = ray.get([mh.remote(w, "filter", i, k, str(flt_path), applied[i]["kept"], threads,
                                      summaries[i], applied[i]["gone"]) for k, i in enumerate(busy)])
        mh_step: Dict[str, Any] = {"type": "minhash_dedup", "name": the_plan.minhash.get("name", "minhash_dedup"),
                                   "in": 0, "kept": 0, "rejected": 0, "errors": 0, "edited": 0,
                                   "reasons": {}, "seconds": 0.0}
        for i, f in zip(busy, filtered):
            s = f["stats"]
            if s["errors"]:
                raise RunError(f"minhash filter, shard {i}: {s['errors']} errors re-reading kept documents")
            _add_step(mh_step, s["steps"][0])
            final_kept[i] = f["kept"]
            final_rejected[i] += f["rejected"]
            _move(stats, None, f["removed"], "")
        mh_step["report"] = report
        stats["steps"].append(mh_step)
        lap("minhash_filter")

    # The output, laid out as a single run's.
    final = [{"kept": final_kept[i], "rejected": final_rejected[i],
              "errors": _files(Path(summaries[i]["dir"]), "errors")} for i in range(shards)]
    if the_plan.parquet:
        recipe_path = work / "output.toml"
        recipe_path.write_text(_toml(the_plan.original))
        to_parquet = ray.remote(_parquet_task).options(**opts)
        final = ray.get([to_parquet.remote(w, i, str(recipe_path), inputs, final[i]) for i in range(shards)])
        lap("parquet")
    for i in range(shards):
        for kind in ("kept", "rejected", "errors"):
            _link(final[i][kind], out / kind, i)
    for kind in ("kept", "rejected", "errors"):
        (out / kind).mkdir(exist_ok=True)
    lap("output")
    stats["seconds"] = time.time() - t0
    stats["executor"] = {"name": "ray", "tasks": shards, "stage_seconds": laps,
                         "corpus": ("exchange" if exchange else "stages") if the_plan.corpus else None}
    check = stats["kept"] + stats["rejected"] + stats["errors"]
    if check != stats["in"]:
        raise RunError(f"accounting: in {stats['in']} != kept + rejected + errors {check}")
    (out / ".ray-run").write_text(json.dumps({"recipe": the_plan.prefix, "inputs": inputs, "shards": shards}))
    tmp = out / "stats.json.tmp"
    tmp.write_text(json.dumps(stats, indent=2) + "\n")
    os.replace(tmp, out / "stats.json")
    if not keep_work:
        shutil.rmtree(work, ignore_errors=True)
    return RunStats._from_json((out / "stats.json").read_text())


# --- command line -------------------------------------------------------------------------------


def _shutdown() -> None:
    """Stops the local Ray session this process started, or disconnects from a cluster."""
    ray = sys.modules.get("ray")
    if ray is not None and ray.is_initialized():
        ray.shutdown()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m thresher.ray run RECIPE -i INPUT... -o OUT [--address A] [--tasks N]
    [--threads T] [--overwrite] [--strict] [-q]``: what ``thresher run --executor ray`` runs.
    Exit codes as ``thresher run``'s: 0 done, 1 ``--strict`` and errors, 2 bad recipe, 3 failure."""
    parser = argparse.ArgumentParser(prog="thresher run --executor ray")
    sub = parser.add_subparsers(dest="command", required=True)
    r = sub.add_parser("run", help="run a recipe on a Ray cluster")
    r.add_argument("recipe")
    r.add_argument("-i", "--input", dest="inputs", nargs="+", required=True)
    r.add_argument("-o", "--output", required=True)
    r.add_argument("--address", default=None, help="Ray cluster address (default: a local one)")
    r.add_argument("--tasks", type=int, default=None, help="tasks per stage (default: CPUs / threads)")
    r.add_argument("-t", "--threads", type=int, default=1, help="threads (and Ray CPUs) per task")
    r.add_argument("--max-retries", type=int, default=3)
    r.add_argument("--overwrite", action="store_true")
    r.add_argument("--strict", action="store_true")
    r.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    try:
        stats = run(args.recipe, args.inputs, args.output, address=args.address, shards=args.tasks,
                    threads=max(1, args.threads), max_retries=args.max_retries, overwrite=args.overwrite)
    except RecipeError as e:
        print(f"thresher: {e}", file=sys.stderr)
        return 2
    except RunError as e:
        print(f"thresher: {e}", file=sys.stderr)
        return 3
    finally:
        # Stopped here rather than by Ray's exit hook, which first sleeps and then waits on
        # each of its processes: 1.5 s less for every command-line run (measured, docs/ray.md).
        _shutdown()
    if not args.quiet:
        print(f"in {stats.docs_in}  kept {stats.kept}  rejected {stats.rejected}  errors {stats.errors}"
              f"  in {stats.seconds:.1f}s\n  output: {args.output}", file=sys.stderr)
    return 1 if args.strict and stats.errors else 0


if __name__ == "__main__":
    sys.exit(main())
