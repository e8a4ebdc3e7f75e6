"""``python -m ecs_renewal``: run the jobs here, invoke the deployed functions, start the emulator.

    scan | renew | audit   the same job code the functions run, on this machine (ALIBABA_CLOUD_* STS
                           credentials from the environment); a table, or --format json|csv
    invoke FUNCTION        call a deployed function through Function Compute (FC 3.0 API; --api fc2)
    emulator               the local ECS/STS/DingTalk/Function Compute emulator (source checkout only)

Exit status: 0 clean, 1 something failed (an instance, a region, the cap, the invocation), 2 bad input.

Standard library only, and only ``__main__`` imports it: the handlers never do, so their cold start does
not pay for it. Each command imports what it needs (the SDK, the FC client, the emulator) when it runs.
"""

from __future__ import annotations

import argparse
import sys

from . import emulator, invoke, jobs
from .output import EXIT_INTERRUPTED


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m ecs_renewal", description=__doc__.split("\n\n", 2)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Each command has --help. README, 'Command line', has examples.",
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    jobs.add_parsers(commands)
    invoke.add_parser(commands)
    emulator.add_parser(commands)
    return parser


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["emulator"]:  # every argument, --help included, belongs to the emulator's own parser
        return emulator.run(argv[1:])
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
