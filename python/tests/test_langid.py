"""The `language_id` step in the wheel (issue 19): its table comes from the data package
`thresher-langid-data` (python/langid-data), unpacked once into a cache directory and checked;
without it, a recipe with the step is refused saying what to install.

CI covers the unpack, checksum and refusal logic with small fake tables, and the real table
end to end: a data package built from source (xz at a fast preset: the real package's preset 9
takes minutes) from the table in THRESHER_TEST_LANGID_TABLE, unpacked, then the API's decisions
against the Rust command's (THRESHER_CLI, else the cargo-built target/debug/thresher).
"""

import importlib.util
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

import thresher
from conftest import REPO, read_jsonl, SHARED_DOCS, need_shared
from thresher import _langid

DATA = REPO / "python" / "langid-data"


def load_build_data():
    spec = importlib.util.spec_from_file_location("build_data", DATA / "build_data.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def fake_table(path: Path, entries: int = 3000, valid: bool = True) -> bytes:
    """A small table of the real layout (THLID004, 75 languages, five slot arrays, rows,
    postings) with random contents: unpacks and packs like the real one, but detects nothing
    sensible. `valid=False` breaks its section lengths."""
    slots = [16, 64, 512, 2048, entries]
    rows, postings = 9, 700
    header_len = 12 + 5 * 12 + 32
    head = bytearray(b"THLID004" + (75).to_bytes(4, "little") + bytes(header_len - 12))
    body = bytearray()
    offset = header_len
    for n, count in enumerate(slots):
        head[12 + n * 12 : 16 + n * 12] = count.to_bytes(4, "little")
        head[16 + n * 12 : 24 + n * 12] = offset.to_bytes(8, "little")
        for s in range(count):
            r = int.from_bytes(os.urandom(8), "little")
            if r % 10 < 3:
                body += bytes(8)
                continue
            payload = (1 << 31 | r % rows) if r % 10 == 3 else r % postings
            body += ((r >> 32 | 1) << 32 | payload).to_bytes(8, "little")
        offset += count * 8
    rows_at = offset
    body += os.urandom(rows * 80 * 2)
    postings_at = rows_at + rows * 160
    body += os.urandom(postings * 3 - (0 if valid else 1))
    for i, v in enumerate((rows_at, rows, postings_at, postings)):
        head[72 + i * 8 : 80 + i * 8] = v.to_bytes(8, "little")
    data = bytes(head + body)
    path.write_bytes(data)
    return data


def data_package(tmp: Path, table: Path, preset: int) -> Path:
    """A copy of python/langid-data's package built from `table`; returns the directory to put
    on sys.path."""
    root = tmp / "src"
    shutil.copytree(DATA / "thresher_langid_data", root / "thresher_langid_data",
                    ignore=shutil.ignore_patterns("langid.pk.xz", "table.json", "__pycache__"))
    load_build_data().compress(table, root / "thresher_langid_data", preset=preset)
    return root


def test_versions_are_locked():
    """thresher, the data package and the extra's pin have the Cargo workspace's version."""
    cargo = re.search(r'^version = "([^"]+)"', (REPO / "Cargo.toml").read_text(), re.M).group(1)
    pyproject = (REPO / "pyproject.toml").read_text()
    assert re.search(r'^version = "([^"]+)"', pyproject, re.M).group(1) == cargo
    assert f'langid = ["thresher-langid-data=={cargo}"]' in pyproject
    init = (DATA / "thresher_langid_data" / "__init__.py").read_text()
    assert re.search(r'^__version__ = "([^"]+)"', init, re.M).group(1) == cargo
    assert thresher.__version__ == cargo
    assert 'name = "thresher-langid-data"' in (DATA / "pyproject.toml").read_text()


def test_unpacks_once_atomically_and_checks_the_sum(tmp_path):
    table = tmp_path / "langid.bin"
    data = fake_table(table)
    pkg = tmp_path / "pkg"
    pkg.mkdir()
    meta = load_build_data().compress(table, pkg, preset=1)
    assert meta["size"] == len(data) and meta["compressed"] == (pkg / "langid.pk.xz").stat().st_size
    cache = tmp_path / "cache"
    out = _langid.unpack(pkg / "langid.pk.xz", meta["sha256"], meta["size"], cache)
    assert out.read_bytes() == data
    assert out.name == f"langid-{meta['sha256'][:16]}.bin"
    # A good copy is not unpacked again.
    inode = out.stat().st_ino
    assert _langid.unpack(pkg / "langid.pk.xz", meta["sha256"], meta["size"], cache) == out
    assert out.stat().st_ino == inode
    # A damaged copy (same length) is replaced by a good one, by a rename: a reader that has the
    # old file open keeps its bytes. (The old file is held open so that its inode number cannot
    # be handed to the new file, which filesystems do once an inode is freed.)
    with open(out, "r+b") as f:
        f.seek(1000)
        f.write(b"\0" * 16)
        f.flush()
        out2 = _langid.unpack(pkg / "langid.pk.xz", meta["sha256"], meta["size"], cache)
        assert out2.read_bytes() == data and out2.stat().st_ino != inode
        f.seek(1000)
        assert f.read(16) == b"\0" * 16
    # A wrong checksum or a corrupt archive is an error; no temporary file is left behind.
    with pytest.raises(_langid.TableError, match="damaged"):
        _langid.unpack(pkg / "langid.pk.xz", "0" * 64, meta["size"], tmp_path / "c2")
    bad = tmp_path / "bad.xz"
    raw = (pkg / "langid.pk.xz").read_bytes()
    bad.write_bytes(raw[: len(raw) // 2] + bytes(len(raw) // 2))
    with pytest.raises(_langid.TableError, match="damaged"):
        _langid.unpack(bad, meta["sha256"], meta["size"], tmp_path / "c3")
    for c in (cache, tmp_path / "c2", tmp_path / "c3"):
        assert not [p for p in c.iterdir() if p.suffix == ".tmp"]
    # An unwritable cache says which variable chooses another.
    blocker = tmp_path / "file"
    blocker.write_text("")
    with pytest.raises(_langid.TableError, match="THRESHER_CACHE_DIR"):
        _langid.unpack(pkg / "langid.pk.xz", meta["sha256"], meta["size"], blocker / "sub")


def test_the_cache_directory_follows_the_environment(monkeypatch, tmp_path):
    monkeypatch.setenv("THRESHER_CACHE_DIR", str(tmp_path / "x"))
    assert _langid.cache_dir() == tmp_path / "x"
    monkeypatch.delenv("THRESHER_CACHE_DIR")
    if sys.platform.startswith("linux"):
        monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
        assert _langid.cache_dir() == tmp_path / "xdg" / "thresher"


def run_python(code: str, env: dict) -> subprocess.CompletedProcess:
    """`code` in a fresh interpreter (the native module finds the table once a process), where
    `thresher_langid_data` cannot be imported, whether or not it is installed here."""
    full = "import sys; sys.modules['thresher_langid_data'] = None\n" + code
    return subprocess.run([sys.executable, "-c", full], env=env, capture_output=True, text=True)


def clean_env(**extra) -> dict:
    env = {k: v for k, v in os.environ.items() if k != "THRESHER_LANGID_TABLE"}
    env.update(extra)
    return env


def test_without_the_table_a_recipe_says_what_to_install(tmp_path):
    docs = tmp_path / "d.jsonl"
    docs.write_text(json.dumps({"id": "a", "text": "Hello there, this is English."}) + "\n")
    code = f"""
import thresher
for make in (lambda: thresher.Pipeline("fineweb-en"),
             lambda: thresher.Pipeline({{"step": [{{"type": "language_id"}}]}}),
             lambda: thresher.run("fineweb-en", {str(docs)!r}, {str(tmp_path / 'o')!r}, progress=False)):
    try:
        make()
    except thresher.RecipeError as e:
        print("REFUSED", e)
    else:
        print("ACCEPTED")
# Recipes without the step are unaffected.
print("KEPT", len(thresher.Pipeline("fineweb").process([{{"id": "x", "text": "hi"}}]).rejected))
"""
    r = run_python(code, clean_env())
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert len(lines) == 4 and lines[3] == "KEPT 1", r.stdout
    for line in lines[:3]:
        assert line.startswith("REFUSED "), r.stdout
        assert "pip install thresher[langid]" in line and "language_id" in line
    # The `thresher` command of the package: exit code 2 (a bad recipe) and the same advice.
    cli = run_python(
        "from thresher._cli import main; import sys\n"
        f"sys.argv = ['thresher', 'run', 'fineweb-en', '-i', {str(docs)!r}, '-o', {str(tmp_path / 'c')!r}]\n"
        "main()",
        clean_env(),
    )
    assert cli.returncode == 2, cli.stderr
    assert "pip install thresher[langid]" in cli.stderr and "Traceback" not in cli.stderr
    assert "panicked" not in cli.stderr


def test_a_missing_or_bad_table_file_is_refused_not_a_panic(tmp_path):
    bad = tmp_path / "bad.bin"
    fake_table(bad, valid=False)
    code = """
import thresher
try:
    thresher.Pipeline("fineweb-en")
except thresher.RecipeError as e:
    print("REFUSED", e)
"""
    for path, want in (
        (tmp_path / "nope.bin", "nope.bin"),
        (bad, "sections out of range"),
        (Path(__file__), "not a thresher language-ID table"),
    ):
        r = run_python(code, clean_env(THRESHER_LANGID_TABLE=str(path)))
        assert r.returncode == 0 and "panicked" not in r.stderr, r.stderr
        assert r.stdout.startswith("REFUSED") and want in r.stdout, r.stdout


def reference_cli() -> list:
    """The cargo-built `thresher` command (with its own table), to compare with."""
    env = os.environ.get("THRESHER_CLI")
    candidates = [Path(env)] if env else []
    target = os.environ.get("CARGO_TARGET_DIR")
    candidates += [Path(target) / "debug" / "thresher"] if target else []
    candidates += [REPO / "target" / "debug" / "thresher", REPO / "target" / "release" / "thresher"]
    for c in candidates:
        if c.is_file():
            return [str(c)]
    return []


def need(what: str, ok: bool) -> None:
    if ok:
        return
    msg = f"{what} (see this file's docstring)"
    if os.environ.get("THRESHER_REQUIRE_SHARED") == "1":
        pytest.fail(msg)
    pytest.skip(msg)


def multilingual_docs() -> list:
    """Shared documents: the first 600 reference documents (mostly English web pages), three
    lingua test sentences a language (75 languages, one document each and one a sentence), and
    the repository's mixed-language fixture."""
    docs = read_jsonl(need_shared(SHARED_DOCS))[:600]
    lingua = need_shared(REPO.parent / "shared" / "corpus" / "lingua-langid" / "sentences.tsv.gz")
    import gzip

    per_lang: dict = {}
    with gzip.open(lingua, "rt", encoding="utf-8") as f:
        for line in f:
            lang, _, text = line.rstrip("\n").partition("\t")
            if len(per_lang.setdefault(lang, [])) < 3:
                per_lang[lang].append(text)
    for lang, texts in sorted(per_lang.items()):
        docs.append({"id": f"lingua-{lang}", "text": " ".join(texts)})
        docs += [{"id": f"lingua-{lang}-{i}", "text": t} for i, t in enumerate(texts)]
    docs += read_jsonl(REPO / "fixtures" / "langid" / "mixed.jsonl")
    return docs


RECIPE = """
[[step]]
type = "language_id"
languages = ["en", "de", "fr", "es", "ru", "zh"]
min_score = 0.5
shares = true
script = true
"""


def test_the_data_package_gives_the_cli_decisions(tmp_path, monkeypatch):
    table = os.environ.get("THRESHER_TEST_LANGID_TABLE")
    need("THRESHER_TEST_LANGID_TABLE (a table written by the langid_table example) is unset",
         bool(table) and Path(table).is_file())
    cli = reference_cli()
    need("no cargo-built `thresher` command (THRESHER_CLI)", bool(cli))
    docs = multilingual_docs()
    inputs = tmp_path / "docs.jsonl"
    with open(inputs, "w", encoding="utf-8") as f:
        for d in docs:
            f.write(json.dumps(d, ensure_ascii=False) + "\n")
    (tmp_path / "r.toml").write_text(RECIPE)

    # The data package from source, its table unpacked into a fresh cache by this process's
    # first recipe with the step.
    src = data_package(tmp_path, Path(table), preset=0)
    monkeypatch.syspath_prepend(str(src))
    monkeypatch.delitem(sys.modules, "thresher_langid_data", raising=False)
    monkeypatch.delenv("THRESHER_LANGID_TABLE", raising=False)
    monkeypatch.setenv("THRESHER_CACHE_DIR", str(tmp_path / "cache"))

    for recipe in ("fineweb-en", str(tmp_path / "r.toml")):
        out = tmp_path / ("cli-" + Path(recipe).stem)
        subprocess.run([*cli, "run", recipe, "-i", str(inputs), "-o", str(out), "-q"], check=True)
        want = {}
        for kind in ("kept", "rejected"):
            for f in sorted((out / kind).glob("*.jsonl")):
                for line in read_jsonl(f):
                    want[line["id"]] = (kind, line.get("reason"), line["metadata"], line["text"])
        assert len(want) == len(docs)
        got = {}
        r = thresher.Pipeline(recipe).process(docs)
        assert not r.errors
        for d in r.kept:
            got[d["id"]] = ("kept", None, d["metadata"], d["text"])
        for d in r.rejected:
            got[d["id"]] = ("rejected", d["reason"], d["metadata"], d["text"])
        assert got == want
        kinds = [v[0] for v in got.values()]
        assert 0 < kinds.count("kept") < len(kinds)
        languages = {v[2]["language"] for v in got.values() if "language" in v[2]}
        assert len(languages) > 50, languages
    # Unpacked once, checked, under its checksum's name.
    meta = json.loads((src / "thresher_langid_data" / "table.json").read_text())
    unpacked = list((tmp_path / "cache").iterdir())
    assert [p.name for p in unpacked] == [f"langid-{meta['sha256'][:16]}.bin"]
    assert unpacked[0].stat().st_size == Path(table).stat().st_size
