"""``emulator``: start the local ECS/STS/DingTalk/Function Compute emulator (the one ``make demo`` uses).

It lives in ``shared/ecs_emulator`` of a source checkout, beside this package, and is never shipped to
Function Compute; every argument is passed on to ``python -m ecs_emulator`` (``emulator --help``).
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .output import EXIT_BAD_INPUT

DESCRIPTION = """Start the local ECS/STS/DingTalk/Function Compute emulator (the one `make demo` uses) and print the
export lines that point this command line (and the functions) at it. Every argument goes to the
emulator itself: `python -m ecs_renewal emulator --help` shows them (--port, --regions, --seed ...)."""

MISSING = (
    "the emulator is not part of this installation: it lives in shared/ecs_emulator of the ecs-renewal "
    "source checkout and is never packaged for Function Compute. From the checkout run:\n"
    "  PYTHONPATH=shared .venv/bin/python -m ecs_renewal emulator"
)


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "emulator", help="start the local emulator (prints the export lines to point the CLI at it)",
        description=DESCRIPTION, add_help=False,
    )
    parser.add_argument("arguments", nargs=argparse.REMAINDER, help="passed to python -m ecs_emulator")
    parser.set_defaults(run=lambda args: run(args.arguments))


def run(arguments: list[str]) -> int:
    try:
        from ecs_emulator.__main__ import main as emulator_main
    except ModuleNotFoundError as error:
        if error.name not in ("ecs_emulator", "ecs_emulator.__main__"):
            raise
        print(f"error: {MISSING}", file=sys.stderr)
        return EXIT_BAD_INPUT
    return emulator_main(arguments)
