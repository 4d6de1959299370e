"""The ``thresher`` command installed by the Python package: the Rust command itself, run from
the native module."""

import signal
import sys

from . import _thresher


def main() -> None:
    """Runs ``thresher`` with this process's arguments and exits with its code."""
    # Python ignores SIGPIPE; the command, like other Unix tools, ends quietly when its output
    # pipe closes (``thresher recipes | head -1``) instead of failing to print.
    if hasattr(signal, "SIGPIPE"):
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    sys.exit(_thresher.cli_main(["thresher", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
