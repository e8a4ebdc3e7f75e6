"""Settings: environment defaults, overridden by the event, validated in full before any API call.

The event keys and their environment variables are the public contract (``docs/contract.md``),
declared once in :mod:`ecs_renewal.config.table`. This module is the stable import path; the parts
live in the ``config`` package (table, parsers, event, window, build).

``python -m ecs_renewal.settings --markdown`` prints the README's configuration tables;
``--write README.md`` puts them between the README's ``<!-- settings:begin/end -->`` markers.
"""

from __future__ import annotations

import sys

from .config.build import (
    DEFAULT_REGION_CONCURRENCY,
    DEFAULT_RENEW_CONCURRENCY,
    DEFAULT_TAG_NAMES,
    MAX_CONCURRENCY,
    Settings,
    TagNames,
    Throughput,
    build_settings,
    throughput_settings,
)
from .config.event import MAX_EVENT_BYTES, TIMER_KEYS, parse_event
from .config.parse import TagMatcher
from .config.resolve import environment_value, resolve
from .config.table import ENVIRONMENT_VARIABLES, EVENT_KEYS, JOB_KEYS, JOBS, SETTINGS, Setting
from .config.values import (
    AUTO_RENEW_DURATIONS,
    DEFAULT_MAX_QPS,
    INSTANCE_ID_RE,
    MAX_INSTANCE_IDS,
    MAX_REGIONS,
    REGION_RE,
    RENEW_PERIODS,
)
from .config.window import Window

__all__ = [
    "AUTO_RENEW_DURATIONS", "DEFAULT_MAX_QPS", "DEFAULT_REGION_CONCURRENCY", "DEFAULT_RENEW_CONCURRENCY",
    "DEFAULT_TAG_NAMES", "ENVIRONMENT_VARIABLES", "EVENT_KEYS", "INSTANCE_ID_RE", "JOBS", "JOB_KEYS",
    "MAX_CONCURRENCY", "MAX_EVENT_BYTES", "MAX_INSTANCE_IDS", "MAX_REGIONS", "REGION_RE", "RENEW_PERIODS",
    "SETTINGS", "TIMER_KEYS", "Setting", "Settings", "TagMatcher", "TagNames", "Throughput", "Window",
    "build_settings", "environment_value", "parse_event", "resolve", "throughput_settings",
]


def main(argv: list[str]) -> int:
    from pathlib import Path

    from .config import markdown

    if argv[:1] == ["--markdown"]:
        print(markdown.render())
        return 0
    if len(argv) == 2 and argv[0] == "--write":
        path = Path(argv[1])
        path.write_text(markdown.with_block(path.read_text(encoding="utf-8")), encoding="utf-8")
        return 0
    print("usage: python -m ecs_renewal.settings --markdown | --write README.md", file=sys.stderr)
    return 2


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
