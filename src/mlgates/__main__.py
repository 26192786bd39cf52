"""``python -m mlgates``: the same as the ``mlgates`` command."""

import sys

from mlgates.cli import main

sys.exit(main())
