"""``scan``, ``renew``, ``audit``: run a function's job on this machine, with the same code and checks.

The flags (or ``--event FILE``, flags winning) make the same event the function would receive; it goes
through :func:`ecs_renewal.runtime.run_job_result` (the typed result, shown without a round trip through
the dict) with no Function Compute context, so the credentials come
from ``ALIBABA_CLOUD_ACCESS_KEY_ID`` / ``_SECRET`` / ``_SECURITY_TOKEN`` (``python -m ecs_renewal emulator``
prints them for the emulator) and every other setting from the environment, as on Function Compute.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path
from typing import Any

from ..config.table import EVENT_SETTINGS, Setting
from .output import EXIT_BAD_INPUT, FORMATS, show_result

DESCRIPTION = (
    "Runs the function's job on this machine with the same code: the flags (or --event FILE, flags "
    "winning) make the event; credentials come from ALIBABA_CLOUD_ACCESS_KEY_ID/_SECRET/_SECURITY_TOKEN "
    "(STS) or an aliyun CLI profile (--profile), every other setting from the environment, as on Function "
    "Compute. Exit status: 0 clean, 1 something failed, 2 bad input."
)

COMMANDS = {
    "scan": ("scan-expiring", "list the prepaid instances that expire within the window"),
    "renew": ("renew-batch", "renew what policy selects (a dry run unless --no-dry-run or DRY_RUN=false)"),
    "audit": ("audit-autorenew", "compare auto-renew settings with the desired ones; --fix corrects drift"),
}


def flag_settings(job: str) -> tuple[Setting, ...]:
    """The event keys ``job``'s command has a flag for (the flag's attribute name is the key itself)."""
    return tuple(setting for setting in EVENT_SETTINGS if setting.flag and job in setting.jobs)


KEYS_OF = {command: tuple(s.name for s in flag_settings(job)) for command, (job, _) in COMMANDS.items()}
# The flag's name, for error messages that name the key.
FLAG_OF = {s.name: f"{s.flag.name}/--no-{s.flag.name[2:]}" if s.flag.style == "switch" else s.flag.name
           for s in EVENT_SETTINGS if s.flag}


def add_flag(parser: argparse.ArgumentParser, setting: Setting) -> None:
    """The setting's flag, its help ending with where the default comes from (derived from the table)."""
    flag = setting.flag
    assert flag is not None
    shown = setting.shown_default.strip("*`")
    source = f"default {setting.env}" + ("; required" if shown == "required" else f", else {shown}")
    helptext = f"{flag.help} ({source})" if setting.env else flag.help
    if flag.style == "switch":
        parser.add_argument(flag.name, dest=setting.name, action=argparse.BooleanOptionalAction, default=None,
                            help=helptext)
    else:
        parser.add_argument(flag.name, dest=setting.name, action="append" if flag.style == "append" else "store",
                            metavar=flag.metavar, type=flag.type, choices=flag.choices, help=helptext)


# The output formats each command accepts: the page (html) draws what is coming, so only the scan has it.
FORMATS_OF = {"scan": FORMATS, "renew": tuple(f for f in FORMATS if f != "html"),
              "audit": tuple(f for f in FORMATS if f != "html")}
FORMAT_HELP = {"table": "table (default)", "json": "json (the function's result)", "csv": "csv (the main list)",
               "html": "html (the expiry page: timeline and table)"}


def add_parsers(commands: Any) -> None:
    for command, (job, summary) in COMMANDS.items():
        parser = commands.add_parser(command, help=summary, description=f"{job}: {summary}. {DESCRIPTION}")
        parser.add_argument("--event", metavar="FILE", help="start from this event file ('-' = stdin); "
                            "a timer-trigger event is unwrapped; flags override its keys")
        for setting in flag_settings(job):
            add_flag(parser, setting)
        add_output_arguments(parser, FORMATS_OF[command])
        parser.set_defaults(run=run_command, job=job, keys=KEYS_OF[command])


def add_output_arguments(parser: argparse.ArgumentParser, formats: tuple[str, ...] = FORMATS) -> None:
    parser.add_argument("--format", choices=formats, default="table",
                        help=", ".join(FORMAT_HELP[f] for f in formats))
    parser.add_argument("--log-file", type=Path, metavar="FILE",
                        help="append the job's JSON log lines here (default: not kept)")
    parser.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    parser.add_argument("--no-alerts", action="store_true",
                        help="send no DingTalk message even when DINGTALK_WEBHOOK is set (as it is on FC)")


def read_event_file(name: str) -> bytes:
    if name == "-":
        return sys.stdin.buffer.read()
    return Path(name).read_bytes()


def event_from_args(args: argparse.Namespace) -> dict[str, Any]:
    """The event the function would get: the file's overrides (timer envelope unwrapped), then the flags."""
    from ..config.event import parse_event

    event = parse_event(read_event_file(args.event)) if args.event else {}
    for key in args.keys:
        value = getattr(args, key, None)
        if value is None:
            continue
        if key == "regions":
            value = [part.strip() for item in value for part in item.split(",") if part.strip()]
        event[key] = value
    return event


def run_command(args: argparse.Namespace) -> int:
    from ..errors import CredentialsError, InvalidSettingError
    from ..runtime import run_job_result
    from .progress import progress_logging

    try:
        event = event_from_args(args)
    except OSError as error:
        return bad_input(f"cannot read the event file: {error}")
    except InvalidSettingError as error:
        return bad_input(str(error))
    if args.log_file and not args.log_file.parent.is_dir():
        return bad_input(f"--log-file: the folder {args.log_file.parent} does not exist")
    try:
        with progress_logging(sys.stderr, log_file=args.log_file, quiet=args.quiet):
            result = run_job_result(args.job, json.dumps(event).encode("utf-8"), None, environ=job_environment(args))
    except InvalidSettingError as error:
        flag = FLAG_OF.get(error.key) if error.key in event else None
        return bad_input(f"{error}" + (f" (flag {flag})" if flag else ""))
    except CredentialsError as error:
        hint = "for the emulator, paste the export lines `python -m ecs_renewal emulator` prints"
        return bad_input(f"{str(error).rstrip('.')}; {hint}")
    return show_result(result, args.format, sys.stdout)  # typed from the run: no dict in between


def job_environment(args: argparse.Namespace) -> dict[str, str]:
    environment = dict(os.environ)
    if args.no_alerts:
        environment.pop("DINGTALK_WEBHOOK", None)
    return environment


def bad_input(message: str) -> int:
    print(f"error: {message}", file=sys.stderr)
    return EXIT_BAD_INPUT
