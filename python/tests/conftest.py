"""Shared fixtures: the repository's paths and the shared reference documents.

Tests that need ../shared skip with a message on a fresh clone without it, and fail instead
when THRESHER_REQUIRE_SHARED=1 (as CI sets), like the Rust tests.
"""

import gzip
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SHARED_DOCS = REPO.parent / "shared" / "reference" / "datatrove-filters" / "docs.jsonl.gz"
FIXTURES = REPO / "fixtures" / "sample"


def need_shared(path: Path) -> Path:
    if path.exists():
        return path
    msg = f"{path} is missing (the shared reference data beside the repository)"
    if os.environ.get("THRESHER_REQUIRE_SHARED") == "1":
        pytest.fail(msg)
    pytest.skip(msg)


def read_jsonl(path: Path) -> list:
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def thresher_command() -> list:
    """The `thresher` console script this environment installed (the Rust command, run from
    the native module)."""
    exe = Path(sys.executable).parent / "thresher"
    if exe.exists():
        return [str(exe)]
    found = shutil.which("thresher")
    assert found, "the `thresher` command is not installed"
    return [found]


def cli_run(recipe: str, inputs: Path, out: Path) -> dict:
    """Runs the `thresher` command; returns {id: line} of kept, rejected and error lines."""
    subprocess.run(
        [*thresher_command(), "run", recipe, "-i", str(inputs), "-o", str(out), "-q"],
        check=True,
    )
    result = {}
    for kind in ("kept", "rejected", "errors"):
        for f in sorted((out / kind).glob("*.jsonl")):
            for line in read_jsonl(f):
                result[line["id"]] = (kind, line)
    return result


@pytest.fixture(scope="session")
def reference_docs() -> list:
    return read_jsonl(need_shared(SHARED_DOCS))


@pytest.fixture(scope="session")
def cli_fineweb(tmp_path_factory) -> dict:
    docs = need_shared(SHARED_DOCS)
    return cli_run("fineweb", docs, tmp_path_factory.mktemp("cli") / "out")
