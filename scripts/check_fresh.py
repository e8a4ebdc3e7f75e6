"""``make check-fresh``: the project stands on its own, as a fresh clone in an empty folder.

1. ``git clone`` this repository into a new temporary folder (nothing beside the clone) and check out HEAD.
2. There, with this checkout's interpreter (``.venv``): ``pytest --collect-only`` of the whole suite, then
   the tests that read the repository's own files (deploy checks, unit tests). An audit hook records every
   file those processes open beside the clone or in this checkout (the venv excepted): a test that reads
   the team's shelf beside the repository fails here even though it passes on the team's machines,
   where that folder exists.
3. Every tracked text file is scanned for a path into the team's reference shelf (the parent folder's
   ``shared``, ``/work/shared``, ``ROOT.parent``): docs and code name the project's own copies instead.

Exit 0 when all three hold, else 1 with what was read or referred to. Only committed work is checked
(the clone is of HEAD): commit first. Needs git, which CI has (it clones the repository itself).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The tests that read files of the repository (schemas, the contract, s.yaml, events, RAM policies) and are
# fast; the packaging tests need PyPI and minutes, and run in `make test`.
READING_TESTS = ("tests/deploy", "tests/unit")
READING_MARKERS = "not packaging"
# Paths into the team's shelf, or out of the repository, as code and docs would write them.
OUTSIDE_PATTERNS = (
    re.compile(r"\.\./shared\b"),
    re.compile(r"/work/shared\b"),
    re.compile(r"\bROOT\.parent\b"),
)
# They name the patterns; the test also runs this check itself (on scratch repositories), not needed twice.
SCAN_EXEMPT = ("scripts/check_fresh.py", "tests/deploy/test_fresh_clone.py")
SKIPPED_IN_CLONE = tuple(f"--ignore={name}" for name in SCAN_EXEMPT if name.startswith("tests/"))

# Runs pytest in the clone with an audit hook that writes every watched path opened to a JSON-lines file.
_AUDITED_PYTEST = r"""
import json, os, sys
report, allowed, watched = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
seen = set()

def _inside(path, root):
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)

def _hook(event, args):
    if event != "open" or not args or not isinstance(args[0], (str, bytes, os.PathLike)):
        return
    path = os.path.abspath(os.fsdecode(args[0]))
    if path in seen or not any(_inside(path, root) for root in watched):
        return
    if any(_inside(path, root) for root in allowed):
        return
    if ".egg-info" + os.sep in path or ".dist-info" + os.sep in path:
        return  # an installed distribution's metadata (the venv's editable install), read by entry-point scans
    seen.add(path)
    with open(report, "a", encoding="utf-8") as out:  # the report itself is in `allowed`
        out.write(json.dumps(path) + "\n")

sys.addaudithook(_hook)
import pytest
sys.exit(pytest.main(sys.argv[4:]))
"""


def clone_head(source: Path, into: Path) -> str:
    commit = _git(source, "rev-parse", "HEAD").strip()
    subprocess.run(["git", "clone", "--quiet", "--no-checkout", str(source), str(into)], check=True)
    _git(into, "-c", "advice.detachedHead=false", "checkout", "--quiet", commit)
    return commit


def references_outside(repo: Path) -> list[str]:
    """``path:line: text`` for every tracked text file line that points outside the repository."""
    found = []
    for name in _git(repo, "ls-files").splitlines():
        if name in SCAN_EXEMPT:
            continue
        try:
            text = (repo / name).read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue  # binary (screenshots) or a file git lists but the tree lacks
        for number, line in enumerate(text.splitlines(), 1):
            if any(pattern.search(line) for pattern in OUTSIDE_PATTERNS):
                found.append(f"{name}:{number}: {line.strip()[:120]}")
    return found


def audited_pytest(clone: Path, report: Path, watched: list[Path], allowed: list[Path], *args: str) -> int:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    environment.pop("PYTHONPATH", None)  # only what the clone's pyproject puts on the path
    command = [sys.executable, "-c", _AUDITED_PYTEST, str(report),
               json.dumps([str(p) for p in allowed]), json.dumps([str(p) for p in watched]),
               "-q", "-p", "no:cacheprovider", *args]  # --collect-only -q -q: one line per file
    return subprocess.run(command, cwd=clone, env=environment, check=False).returncode


def check(source: Path = ROOT, *, reading_tests: tuple[str, ...] = READING_TESTS) -> list[str]:
    """What is wrong with a fresh clone of ``source``'s HEAD (empty list: nothing)."""
    problems: list[str] = []
    with tempfile.TemporaryDirectory(prefix="ecs-renewal-fresh-") as temporary:
        folder = Path(temporary).resolve()
        clone = folder / source.name
        commit = clone_head(source, clone)
        print(f"check-fresh: {commit[:12]} cloned alone into {clone}", flush=True)
        report = folder / "opened-outside.jsonl"
        # Beside the clone, and the checkout it came from (and its parent: the team's shelf lives there);
        # the interpreter's own environment (this checkout's .venv) is not the project's files.
        watched = [folder] + ([source.resolve().parent] if source.resolve().parent != Path("/") else [])
        allowed = [clone, report, Path(sys.prefix).resolve(), Path(sys.base_prefix).resolve()]
        if audited_pytest(clone, report, watched, allowed, "--collect-only", "-q") != 0:
            problems.append("pytest --collect-only fails in the fresh clone (output above)")
        elif reading_tests and audited_pytest(clone, report, watched, allowed, "-m", READING_MARKERS,
                                              *SKIPPED_IN_CLONE, *reading_tests) != 0:
            problems.append(f"{' '.join(reading_tests)} fail in the fresh clone (output above)")
        if report.exists():
            opened = sorted({json.loads(line) for line in report.read_text(encoding="utf-8").splitlines()})
            problems += [f"the suite opened a file outside the clone: {path}" for path in opened]
        problems += [f"refers outside the repository: {where}" for where in references_outside(clone)]
    return problems


def _git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], capture_output=True, text=True, check=True).stdout


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--collect-only", action="store_true", help="skip running the file-reading tests")
    args = parser.parse_args(argv)
    dirty = _git(ROOT, "status", "--porcelain", "--untracked-files=no").strip()
    if dirty:
        print("check-fresh: note: uncommitted changes are not checked (the clone is of HEAD)", flush=True)
    problems = check(ROOT, reading_tests=() if args.collect_only else READING_TESTS)
    for problem in problems:
        print(f"check-fresh: {problem}", file=sys.stderr)
    print("check-fresh: " + ("FAILED" if problems else "ok: a fresh clone stands on its own"), flush=True)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
