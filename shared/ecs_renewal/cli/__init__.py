"""``ecs-renewal`` (or ``python -m ecs_renewal``): run the jobs here, invoke the deployed functions, start the emulator.

    scan | renew | audit   the same job code the functions run, on this machine (STS credentials from the
                           environment or an aliyun CLI profile); a table, or --format json|csv (scan: html)
    plan --out FILE        what renew would buy, priced per instance and signed (APPROVAL_SECRET); renews nothing
    apply FILE|PLAN_ID     apply a signed plan exactly: re-read, renew what still matches, refuse the rest
    invoke FUNCTION        call a deployed function through Function Compute (FC 3.0 API; --api fc2)
    emulator               the local ECS/STS/DingTalk/Function Compute emulator (source checkout only)

Exit status: 0 clean, 1 something failed (an instance, a region, the cap, the invocation), 2 bad input
(flags, event, settings, credentials: nothing was called), 130 interrupted, 141 the reader of the output
went away (``ecs-renewal scan | head -1``: the job ran to its end; what was not read is dropped).

Standard library only, and only ``__main__`` and the ``ecs-renewal`` script import it: the handlers never
do, so their cold start does not pay for it. Each command imports what it needs (the SDK, the FC client,
the emulator) when it runs.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import sys
from collections.abc import Iterator, Mapping

from .. import __version__
from ..errors import CredentialsError
from . import approval, emulator, invoke, jobs, profile
from .output import EXIT_INTERRUPTED

PROG = "ecs-renewal"
# 128 + SIGPIPE, what a shell reports for `yes | head -1`: the output was cut, not a failure of the job.
EXIT_BROKEN_PIPE = 141
# Commands that call Alibaba Cloud, and so take --profile.
CLOUD_COMMANDS = ("scan", "renew", "audit", "plan", "apply", "invoke")


def build_parser(prog: str = PROG) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog, description=__doc__.split("\n\n", 2)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="Each command has --help. README, 'Command line', has examples.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    jobs.add_parsers(commands)
    approval.add_parsers(commands)
    invoke.add_parser(commands)
    emulator.add_parser(commands)
    for name in CLOUD_COMMANDS:
        commands.choices[name].add_argument(
            "--profile", metavar="NAME",
            help="credentials from this aliyun CLI profile (~/.aliyun/config.json; modes StsToken, RamRoleArn); "
                 "default ALIBABA_CLOUD_PROFILE, else the ALIBABA_CLOUD_* variables, else the config's current")
    return parser


def main(argv: list[str] | None = None, *, prog: str = PROG) -> int:
    argv = sys.argv[1:] if argv is None else argv
    try:
        if argv[:1] == ["emulator"]:  # every argument, --help included, belongs to the emulator's own parser
            return emulator.run(argv[1:])
        args = build_parser(prog).parse_args(argv)
        try:
            credentials = _profile_credentials(args)
        except CredentialsError as error:
            return jobs.bad_input(str(error))
        with _environment(credentials):
            code = args.run(args)
        sys.stdout.flush()  # here, so that a closed pipe is caught below and not at interpreter exit
        return code
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader left (`| head`). Python's own advice: point stdout at /dev/null so the interpreter's
        # final flush does not fail again, and exit quietly. Not SIGPIPE's default action: that would kill
        # the process wherever it is, a renewal in flight included.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _profile_credentials(args: argparse.Namespace) -> Mapping[str, str] | None:
    """The ALIBABA_CLOUD_* variables an aliyun CLI profile gives (cli/profile.py), or None: the environment's."""
    if args.command not in CLOUD_COMMANDS:
        return None
    found = profile.resolve(getattr(args, "profile", None), os.environ)
    if found is None:
        return None
    if not getattr(args, "quiet", False):
        print(f"credentials: {found.description}", file=sys.stderr)
    return found.environment


@contextlib.contextmanager
def _environment(credentials: Mapping[str, str] | None) -> Iterator[None]:
    """The profile's credentials replace the environment's for this command only (restored after)."""
    if credentials is None:
        yield
        return
    names = (*profile.CREDENTIAL_VARIABLES, *credentials)
    saved = {name: os.environ.get(name) for name in names}
    for name in profile.CREDENTIAL_VARIABLES:
        os.environ.pop(name, None)
    os.environ.update(credentials)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
