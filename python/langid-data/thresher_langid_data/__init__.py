"""The language-ID table of thresher's ``language_id`` step: re-encoded (losslessly, by
``thresher_langid::pack``) and xz-compressed, to fit the package index's 100 MB file limit.

``thresher`` unpacks it (``thresher._langid``); nothing here is meant to be called directly.
``COMPRESSED`` is the compressed file, ``SIZE`` and ``SHA256`` the unpacked table's length and
checksum.
"""

import json
from pathlib import Path

__version__ = "0.1.0"

#: The compressed table (re-encoded, then xz).
COMPRESSED: Path = Path(__file__).with_name("langid.pk.xz")

try:
    _meta = json.loads(COMPRESSED.with_name("table.json").read_text(encoding="utf-8"))
except FileNotFoundError:
    raise ImportError(
        "thresher-langid-data holds no table: it was built without running "
        "python/langid-data/build_data.py first"
    ) from None

#: The unpacked table's length in bytes.
SIZE: int = _meta["size"]
#: The unpacked table's SHA-256 (hex).
SHA256: str = _meta["sha256"]
