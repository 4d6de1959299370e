"""Makes the thresher-langid-data package's contents: the language-ID table cargo builds,
re-encoded by ``thresher_langid::pack`` (lossless; through the installed ``thresher`` package's
native module) and xz-compressed (thresher_langid_data/langid.pk.xz), and the table's length and
SHA-256 (thresher_langid_data/table.json); with ``--wheel DIR``, then builds the wheel into DIR.

    python python/langid-data/build_data.py --wheel dist/
    python python/langid-data/build_data.py --table langid.bin   # a table already written

Without ``--table``, the table is written by
``cargo run --release -p thresher-langid --example langid_table`` (the table the `thresher`
command embeds). xz at preset 9 with the extreme flag: see docs/python.md for the sizes. Needs
the ``thresher`` package (``maturin develop``) in this Python.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
PACKAGE = HERE / "thresher_langid_data"

def compress(table: Path, package: Path = PACKAGE, preset: int = 9 | lzma.PRESET_EXTREME) -> dict:
    """Writes ``package/langid.pk.xz`` and ``package/table.json`` for ``table``; returns the
    JSON's contents (plus the compressed size). Checks that the result unpacks to the table."""
    from thresher import _thresher

    data = table.read_bytes()
    if data[:8] != b"THLID004":
        raise SystemExit(f"{table}: not a thresher language-ID table (format THLID004)")
    packed = _thresher.langid_pack(data)
    out = package / "langid.pk.xz"
    tmp = out.with_suffix(".tmp")
    # CRC32 is enough inside xz: the unpacker checks the SHA-256 of the whole table.
    tmp.write_bytes(lzma.compress(packed, preset=preset, check=lzma.CHECK_CRC32))
    with tempfile.TemporaryDirectory() as d:
        back = Path(d) / "back.bin"
        _thresher.langid_unpack(lzma.decompress(tmp.read_bytes()), str(back))
        if back.read_bytes() != data:
            raise SystemExit("the re-encoded table does not unpack to the table (a bug)")
    os.replace(tmp, out)
    meta = {
        "size": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
        "format": "THLID004",
        "encoding": "THLIDPK1, xz",
    }
    (package / "table.json").write_text(json.dumps(meta, indent=1) + "\n", encoding="utf-8")
    return {**meta, "compressed": out.stat().st_size}


def cargo_table(dest: Path) -> None:
    """Writes the table the release build of thresher-langid embeds to ``dest``."""
    subprocess.run(
        ["cargo", "run", "-q", "--release", "-p", "thresher-langid", "--example", "langid_table",
         "--", str(dest)],
        cwd=REPO,
        check=True,
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--table", type=Path, help="the table (default: written by cargo)")
    ap.add_argument("--preset", type=int, default=9, help="xz preset, 0-9 (default 9, extreme)")
    ap.add_argument("--wheel", type=Path, metavar="DIR", help="then build the wheel into DIR")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        table = args.table
        if table is None:
            table = Path(tmp) / "langid.bin"
            cargo_table(table)
        meta = compress(table, preset=args.preset | lzma.PRESET_EXTREME)
    print(
        f"table {meta['size']} bytes (sha256 {meta['sha256']}) -> "
        f"{PACKAGE / 'langid.pk.xz'} {meta['compressed']} bytes"
    )
    if args.wheel:
        subprocess.run(
            [sys.executable, "-m", "pip", "wheel", "--no-deps", "-w", str(args.wheel), str(HERE)],
            check=True,
        )


if __name__ == "__main__":
    main()
