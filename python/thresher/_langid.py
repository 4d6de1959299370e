"""The language-ID table of the ``language_id`` step, for the wheel's native module, which reads
it from a file at run time (the table is 180.6 MB: over the package index's 100 MB file limit,
so it ships apart in the ``thresher-langid-data`` package, ``pip install thresher[langid]``,
re-encoded (``thresher_langid::pack``, lossless) and xz-compressed: see docs/python.md).

The native module calls :func:`table_path` when a recipe with ``language_id`` is loaded and
``THRESHER_LANGID_TABLE`` is not set. The first call unpacks the table into the cache directory
(``THRESHER_CACHE_DIR``, else the platform's user cache directory + ``thresher``): into a
temporary file, checked against the package's SHA-256 and length, then renamed, so a reader never
sees a partial table and concurrent unpackers do no harm. Later calls check the unpacked file's
checksum again (a quarter of a second) and unpack anew if it does not match.
"""

from __future__ import annotations

import hashlib
import lzma
import os
import sys
import tempfile
from pathlib import Path
from typing import Optional

#: What a recipe with ``language_id`` is refused with when the table is not installed.
INSTALL = "pip install thresher[langid]"

_CHUNK = 1 << 20


class TableError(RuntimeError):
    """The language-ID table is not installed, or its package cannot be unpacked."""


def cache_dir() -> Path:
    """Where unpacked tables are kept: ``THRESHER_CACHE_DIR``, else the user cache directory
    (``XDG_CACHE_HOME`` or ``~/.cache`` on Linux, ``~/Library/Caches`` on macOS,
    ``%LOCALAPPDATA%`` on Windows) + ``thresher``."""
    env = os.environ.get("THRESHER_CACHE_DIR")
    if env:
        return Path(env)
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or str(Path.home() / "AppData" / "Local")
        return Path(base) / "thresher" / "Cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "thresher"
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "thresher"


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def unpack(compressed: Path, sha256: str, size: int, cache: Optional[Path] = None) -> Path:
    """The table of ``compressed`` (the re-encoded table, xz-compressed), unpacked into ``cache`` (default:
    :func:`cache_dir`) as ``langid-<sha256[:16]>.bin``, checked: its length is ``size`` and
    its SHA-256 ``sha256``. Unpacks only when no good copy is there."""
    cache = cache_dir() if cache is None else cache
    out = cache / f"langid-{sha256[:16]}.bin"
    try:
        if out.stat().st_size == size and _sha256(out) == sha256:
            return out
    except (FileNotFoundError, NotADirectoryError):
        pass
    try:
        cache.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=out.name + ".", suffix=".tmp", dir=cache)
    except OSError as e:
        raise TableError(
            f"cannot unpack the language-ID table into {cache}: {e} (set THRESHER_CACHE_DIR "
            "to a writable directory)"
        ) from e
    os.close(fd)
    tmp = Path(tmp_name)
    from . import _thresher

    try:
        with lzma.open(compressed, "rb") as src:
            packed = src.read()
        # Decoded and written (then synced) by the native module, the GIL released.
        _thresher.langid_unpack(packed, os.fspath(tmp))
        del packed
        written = tmp.stat().st_size
        got = _sha256(tmp)
        if written != size or got != sha256:
            raise TableError(
                f"the language-ID table in {compressed} is damaged: {written} bytes with "
                f"SHA-256 {got}, expected {size} bytes with {sha256} (reinstall: "
                f"pip install --force-reinstall thresher-langid-data)"
            )
        os.replace(tmp, out)
    except (lzma.LZMAError, ValueError) as e:
        raise TableError(
            f"the language-ID table in {compressed} is damaged: {e} (reinstall: "
            "pip install --force-reinstall thresher-langid-data)"
        ) from e
    except OSError as e:
        raise TableError(f"cannot unpack the language-ID table into {cache}: {e}") from e
    finally:
        tmp.unlink(missing_ok=True)
    return out


def table_path() -> str:
    """The unpacked table of the installed ``thresher-langid-data`` package (unpacking it on
    first use); raises :class:`TableError` saying what to install when it is missing or is not
    the version of this package."""
    from . import _thresher

    try:
        import thresher_langid_data as data
    except ModuleNotFoundError as e:
        if e.name != "thresher_langid_data":
            raise
        raise TableError(
            "the `language_id` step needs the language-ID table, which is not installed: "
            f"{INSTALL} (or set THRESHER_LANGID_TABLE to the table's file)"
        ) from None
    except ImportError as e:
        raise TableError(str(e)) from None
    if data.__version__ != _thresher.VERSION:
        raise TableError(
            f"thresher-langid-data {data.__version__} does not go with thresher "
            f"{_thresher.VERSION}: pip install thresher-langid-data=={_thresher.VERSION}"
        )
    return os.fspath(unpack(data.COMPRESSED, data.SHA256, data.SIZE))
