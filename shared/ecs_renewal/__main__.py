"""``python -m ecs_renewal``: the operators' command line (see :mod:`ecs_renewal.cli`)."""

import sys

from .cli import main

sys.exit(main())
