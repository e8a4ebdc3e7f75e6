"""Run the test suite with the reliability ledger on and print (or put into the README) its table.

    .venv/bin/python scripts/reliability_report.py                  # whole suite, print the table
    .venv/bin/python scripts/reliability_report.py --update-readme  # ... and refresh README's table
    .venv/bin/python scripts/reliability_report.py tests/reliability   # only these tests

The numbers come from the run itself (``tests/reliability/ledger.py``): faults the emulator injected,
replayed invocations, retried calls, renewals counted in the emulator's state, double renewals, lost
instances, bad inputs, secret leaks. The exit code is pytest's.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.reliability.ledger import REPORT_JSON, render_markdown  # noqa: E402

README = ROOT / "README.md"
START, END = "<!-- reliability-table:start -->", "<!-- reliability-table:end -->"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--update-readme", action="store_true", help="replace the table in README.md")
    parser.add_argument("paths", nargs="*", help="test paths (default: the whole suite)")
    args = parser.parse_args()

    REPORT_JSON.unlink(missing_ok=True)
    command = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "--reliability-report", *args.paths]
    status = subprocess.call(command, cwd=ROOT)
    if not REPORT_JSON.exists():
        print("no report was written (the run did not finish)", file=sys.stderr)
        return status or 1
    data = json.loads(REPORT_JSON.read_text())
    table = render_markdown(data)
    scope = " ".join(args.paths) or "the whole suite"
    block = (f"{START}\nProduced by `scripts/reliability_report.py` ({scope}; pytest exit status {status}):\n\n"
             f"{table}\n{END}")
    print()
    print(block)
    if args.update_readme:
        text = README.read_text()
        if START not in text or END not in text:
            print(f"README.md has no {START} ... {END} block", file=sys.stderr)
            return 1
        README.write_text(re.sub(re.escape(START) + r".*?" + re.escape(END), lambda _: block, text, flags=re.S))
        print("README.md updated")
    return status


if __name__ == "__main__":
    sys.exit(main())
