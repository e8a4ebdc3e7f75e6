"""``ecs-renewal`` as a command: installed by make, --version, --help's formats, quiet on a closed pipe."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from datetime import datetime, timedelta, timezone
from importlib import metadata
from pathlib import Path

import pytest

import ecs_renewal
from ecs_emulator import Emulator
from ecs_renewal.cli import EXIT_BROKEN_PIPE, build_parser, jobs
from ecs_renewal.cli.output import FORMATS, render
from ecs_renewal.contract import from_contract

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(sys.executable).parent / "ecs-renewal"  # where `make` installs it: the venv's bin/
SOON = datetime.now(timezone.utc) + timedelta(days=3)


def run_command(*args: str, stdout: int = subprocess.PIPE) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(SCRIPT), *args], stdout=stdout, stderr=subprocess.PIPE, text=True, timeout=60,
                          check=False, cwd=ROOT)


def test_the_command_is_installed_and_says_its_version() -> None:
    assert SCRIPT.is_file(), f"{SCRIPT} is missing: `make install` (or make test) installs the project"
    done = run_command("--version")
    assert done.returncode == 0 and done.stderr == ""
    assert done.stdout.strip() == f"ecs-renewal {ecs_renewal.__version__}"
    assert metadata.version("ecs-renewal") == ecs_renewal.__version__  # one version: the package's


def test_python_dash_m_is_the_same_command() -> None:
    environment = {**os.environ, "PYTHONPATH": str(ROOT / "shared")}
    done = subprocess.run([sys.executable, "-m", "ecs_renewal", "--version"], capture_output=True, text=True,
                          env=environment, timeout=60, check=True)
    assert done.stdout.strip() == f"python -m ecs_renewal {ecs_renewal.__version__}"


def formats_in_help(command: str, capsys: pytest.CaptureFixture[str]) -> set[str]:
    with pytest.raises(SystemExit):
        build_parser().parse_args([command, "--help"])
    match = re.search(r"--format \{([a-z,]+)\}", capsys.readouterr().out)
    assert match, f"{command} --help shows no --format choices"
    return set(match.group(1).split(","))


def formats_rendered(job: str) -> set[str]:
    """The formats the output layer really produces for this job's result (html: the scan only)."""
    import io

    accepted = set()
    for fmt in FORMATS:
        try:
            render(from_contract({"job": job, "regions": ["cn-hangzhou"], "dry_run": True}), fmt, io.StringIO())
        except SystemExit:
            continue
        accepted.add(fmt)
    return accepted


@pytest.mark.parametrize("command", ["scan", "renew", "audit"])
def test_help_lists_exactly_the_formats_the_job_accepts(command: str, capsys: pytest.CaptureFixture[str]) -> None:
    shown = formats_in_help(command, capsys)
    assert shown == formats_rendered(jobs.COMMANDS[command][0])
    assert ("html" in shown) == (command == "scan")


def test_html_for_another_job_is_refused_before_it_runs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as stopped:
        build_parser().parse_args(["renew", "--format", "html"])
    assert stopped.value.code == 2 and "invalid choice: 'html'" in capsys.readouterr().err


def expiring(emulator: Emulator, count: int) -> list[str]:
    return [emulator.add_instance("cn-hangzhou", expired_time=SOON + timedelta(hours=i)) for i in range(count)]


def test_a_closed_pipe_ends_quietly(operator_env: None, emulator: Emulator) -> None:
    """`ecs-renewal scan | head -1` with the reader already gone: no traceback, exit 141 (128 + SIGPIPE)."""
    expiring(emulator, 3)
    reader, writer = os.pipe()
    os.close(reader)
    try:
        done = run_command("scan", "--region", "cn-hangzhou", "--quiet", stdout=writer)
    finally:
        os.close(writer)
    assert done.returncode == EXIT_BROKEN_PIPE
    assert "Traceback" not in done.stderr and "BrokenPipeError" not in done.stderr, done.stderr


def test_head_dash_1_reads_one_line_and_nothing_complains(operator_env: None, emulator: Emulator) -> None:
    expiring(emulator, 40)
    done = subprocess.run(f"set -o pipefail; '{SCRIPT}' scan --region cn-hangzhou --format csv | head -1",
                          shell=True, executable="/bin/bash", capture_output=True, text=True, timeout=60,
                          check=False)
    assert done.stdout.startswith("instance_id,") and done.stdout.count("\n") == 1
    assert done.returncode in (0, EXIT_BROKEN_PIPE)  # 0 when the pipe took all of it before head left
    assert "Traceback" not in done.stderr and "Error" not in done.stderr, done.stderr


def test_errors_go_to_stderr_with_the_documented_codes(operator_env: None, emulator: Emulator) -> None:
    bad_flag = run_command("scan", "--days", "many")
    assert bad_flag.returncode == 2 and bad_flag.stdout == "" and "--days" in bad_flag.stderr
    bad_region = run_command("scan", "--region", "nowhere-1")
    assert bad_region.returncode == 2 and bad_region.stdout == "" and "--region" in bad_region.stderr
    assert emulator.calls == []
