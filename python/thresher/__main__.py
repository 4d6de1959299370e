"""``python -m thresher``: the ``thresher`` command."""

from ._cli import main

main()
