"""The ``thresher`` command installed by the Python package: the Rust command itself, run from
the native module."""

import sys

from . import _thresher


def main() -> None:
    """Runs ``thresher`` with this process's arguments and exits with its code."""
    sys.exit(_thresher.cli_main(["thresher", *sys.argv[1:]]))


if __name__ == "__main__":
    main()
