"""``python -m ecs_renewal``: the operators' command line, the same as ``ecs-renewal`` (see :mod:`ecs_renewal.cli`)."""

import sys

from .cli import main

sys.exit(main(prog="python -m ecs_renewal"))
