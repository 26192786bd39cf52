"""``python -m mlgates``: the same as the ``mlgates`` command."""

from mlgates.cli import console

console()
