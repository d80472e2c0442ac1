"""``python -m mlstat_core``: the ``mlstat`` command, for an environment without its script."""

from mlstat_core.cli import main

main()
