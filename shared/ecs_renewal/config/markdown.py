"""The README's configuration tables, rendered from the declarations (``python -m ecs_renewal.settings``).

The README keeps them between ``<!-- settings:begin -->`` and ``<!-- settings:end -->``; a test fails
when that block and :func:`render` differ, and ``--write README.md`` regenerates it.
"""

from __future__ import annotations

from .table import ENVIRONMENT_SETTINGS, EVENT_SETTINGS, JOBS, Setting

BEGIN = "<!-- settings:begin -->"
END = "<!-- settings:end -->"


def _jobs(setting: Setting) -> str:
    return "all" if len(setting.jobs) == len(JOBS) else ", ".join(job for job in JOBS if job in setting.jobs)


def _code(text: str | None) -> str:
    return f"`{text}`" if text else "—"


def _flag(setting: Setting) -> str:
    flag = setting.flag
    if flag is None:
        return "—"
    return f"`{flag.name}`/`--no-{flag.name[2:]}`" if flag.style == "switch" else f"`{flag.name}`"


def _row(*cells: str) -> str:
    return "| " + " | ".join(cell.replace("|", "\\|") for cell in cells) + " |"


def render() -> str:
    """Both tables: the event keys (each with its environment default and flag), then the environment."""
    lines = [_row("event key", "type", "environment variable", "default", "jobs", "CLI flag", "meaning"),
             _row(*["---"] * 7)]
    lines += [_row(f"`{s.name}`", s.kind, _code(s.env), s.shown_default, _jobs(s), _flag(s), s.help)
              for s in EVENT_SETTINGS]
    lines += ["", _row("environment variable", "type", "default", "jobs", "meaning"), _row(*["---"] * 5)]
    lines += [_row(f"`{s.env}`", s.kind, s.shown_default, _jobs(s), s.help) for s in ENVIRONMENT_SETTINGS]
    return "\n".join(lines)


def block_in(text: str) -> str | None:
    """What a document holds between the markers (None when it has no block)."""
    start, end = text.find(BEGIN), text.find(END)
    if start < 0 or end < start:
        return None
    return text[start + len(BEGIN) : end].strip("\n")


def with_block(text: str) -> str:
    """The document with its block replaced by the rendered tables."""
    start, end = text.index(BEGIN) + len(BEGIN), text.index(END)
    return text[:start] + "\n" + render() + "\n" + text[end:]
