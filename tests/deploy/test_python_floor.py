"""The Python floor is stated once and holds: every pin admits it, and the Makefile says what to use when not.

Two questions, two answers: the machine that develops, tests and demos (CI included) needs Python 3.11+
(pyproject's requires-python, the Makefile's PYTHON_FLOOR, the README); the functions run on Function
Compute's runtime (s.yaml: python3.12). Every pin must install on both.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.version import Version

from tests.deploy.conftest import ROOT


def function_runtime() -> str:
    """The Python the functions run on: s.yaml's runtime, the same for all three (e.g. python3.12 -> 3.12)."""
    resources = yaml.safe_load((ROOT / "s.yaml").read_text(encoding="utf-8"))["resources"]
    runtimes = {resource["props"]["runtime"] for resource in resources.values()}
    assert len(runtimes) == 1 and re.fullmatch(r"python3\.\d+", next(iter(runtimes))), runtimes
    return next(iter(runtimes)).removeprefix("python")


FUNCTION_RUNTIME = function_runtime()
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
DEV_TOOLS = ("pytest", "pytest-mock", "hypothesis", "ruff", "jsonschema", "pyyaml")


def floor() -> str:
    spec = PYPROJECT["project"]["requires-python"]
    match = re.fullmatch(r">=\s*(3\.\d+)", spec)
    assert match, f"requires-python should be a plain floor (>=3.N), not {spec!r}"
    return match.group(1)


def pins(path: Path) -> list[Requirement]:
    """The pinned requirements of a requirements file, following -r."""
    found: list[Requirement] = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if line.startswith("-r"):
            found += pins(path.parent / line[2:].strip())
        elif line:
            found.append(Requirement(line))
    return found


ALL_PINS = pins(ROOT / "requirements-dev.txt")
BUILD_PINS = [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]


def test_the_floor_is_stated_alike_everywhere() -> None:
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    assert re.search(rf"^PYTHON_FLOOR\s*:=\s*{re.escape(floor())}$", makefile, re.M)
    assert PYPROJECT["tool"]["ruff"]["target-version"] == "py" + floor().replace(".", "")
    readme_top = (ROOT / "README.md").read_text(encoding="utf-8")[:4000]
    assert f"Python {floor()}+" in readme_top and f"python{FUNCTION_RUNTIME}" in readme_top
    assert Version(f"{sys.version_info.major}.{sys.version_info.minor}") >= Version(floor())


def test_every_requirement_is_pinned_exactly() -> None:
    for requirement in [*ALL_PINS, *BUILD_PINS]:
        specifiers = list(requirement.specifier)
        assert len(specifiers) == 1 and specifiers[0].operator == "==", f"{requirement} is not pinned with =="


@pytest.mark.parametrize("requirement", ALL_PINS, ids=str)
def test_each_pin_admits_the_floor_and_the_function_runtime(requirement: Requirement) -> None:
    """From the installed distribution's own metadata (it is the pinned version: checked here too)."""
    installed = metadata.metadata(requirement.name)
    assert requirement.specifier.contains(installed["Version"]), f"{requirement.name} {installed['Version']} installed"
    requires_python = SpecifierSet(installed.get("Requires-Python") or "")
    for python in (floor(), FUNCTION_RUNTIME):
        assert requires_python.contains(f"{python}.0"), (
            f"{requirement} needs Python {requires_python}: not {python} (the floor is {floor()}, "
            f"the functions run on {FUNCTION_RUNTIME})")


def test_the_floor_check_bites() -> None:
    """hypothesis 6.170.17 needs 3.11: with a 3.10 floor, the check above would have failed."""
    hypothesis = SpecifierSet(metadata.metadata("hypothesis").get("Requires-Python") or "")
    assert not hypothesis.contains("3.10.0")


def test_demo_installs_no_test_tools() -> None:
    runtime = {r.name.lower() for r in pins(ROOT / "requirements.txt")}
    assert not runtime & set(DEV_TOOLS), "requirements.txt is the runtime set: test tools go to requirements-dev.txt"
    makefile = (ROOT / "Makefile").read_text(encoding="utf-8")
    for target in ("demo", "demo-scale", "package", "emulator"):
        assert re.search(rf"^{target}: \$\(RUNTIME_STAMP\)$", makefile, re.M), target
    for target in ("test", "lint", "check-fresh"):
        assert re.search(rf"^{target}: \$\(DEV_STAMP\)$", makefile, re.M)


def test_the_demo_imports_nothing_from_the_dev_set() -> None:
    """The demo's modules load with pytest, hypothesis, yaml and jsonschema made unimportable."""
    blocked = ("pytest", "_pytest", "hypothesis", "yaml", "jsonschema", "mock", "pytest_mock")
    probe = ("import sys\n"
             f"for name in {blocked!r}: sys.modules[name] = None\n"
             "sys.argv = ['demo']\n"
             "import importlib.util\n"
             "spec = importlib.util.spec_from_file_location('demo', 'scripts/demo.py')\n"
             "module = importlib.util.module_from_spec(spec)\n"
             "spec.loader.exec_module(module)\n")
    environment = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "shared"), str(ROOT)])}
    done = subprocess.run([sys.executable, "-c", probe], cwd=ROOT, env=environment, capture_output=True,
                          text=True, timeout=60, check=False)
    assert done.returncode == 0, done.stderr[-2000:]


# --- the Makefile's guard, with stand-in interpreters --------------------------------------------------------


def stand_in(tmp_path: Path, version: str) -> Path:
    """An "interpreter" that answers the Makefile's version probe with ``version`` (and does nothing else)."""
    path = tmp_path / f"python{version}"
    path.write_text(f"#!/bin/sh\necho {version}\n")
    path.chmod(0o755)
    return path


def make(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["make", "--no-print-directory", "-C", str(ROOT), *args], capture_output=True,
                          text=True, timeout=60, check=False)


@pytest.mark.parametrize("version", ["3.10", "3.9", "2.7"])
def test_make_names_the_interpreter_it_needs_when_python3_is_too_old(tmp_path: Path, version: str) -> None:
    old = stand_in(tmp_path, version)
    done = make("demo", f"PYTHON={old}", f"VENV={tmp_path / 'venv'}")
    assert done.returncode != 0
    assert f"needs Python {floor()} or newer" in done.stderr and f"is Python {version}" in done.stderr
    assert "make PYTHON=python3.12 demo" in done.stderr
    assert not (tmp_path / "venv").exists(), "no venv is made with an interpreter below the floor"


def test_make_says_so_when_the_interpreter_is_missing(tmp_path: Path) -> None:
    done = make("check-python", f"PYTHON={tmp_path / 'no-such-python'}")
    assert done.returncode != 0 and "cannot be run here" in done.stderr


def test_make_accepts_the_floor_and_newer(tmp_path: Path) -> None:
    for version in (floor(), FUNCTION_RUNTIME, "3.13", "3.100"):
        done = make("check-python", f"PYTHON={stand_in(tmp_path, version)}")
        assert done.returncode == 0, done.stderr
    assert make("check-python", f"PYTHON={sys.executable}").returncode == 0


@pytest.mark.packaging
@pytest.mark.parametrize("python", ["floor", FUNCTION_RUNTIME])
def test_the_index_has_every_pin_for_the_floor_and_the_runtime(tmp_path: Path, python: str) -> None:
    """What a fresh machine would download (PyPI): a Linux x86_64 or pure-Python wheel, else the sdist;
    pip drops every file whose Requires-Python excludes ``--python-version``."""
    version = floor() if python == "floor" else python
    done = subprocess.run(
        [sys.executable, "-m", "pip", "download", "--quiet", "--disable-pip-version-check", "--no-deps",
         "--dest", str(tmp_path), "--python-version", version, "--platform", "manylinux2014_x86_64",
         "--platform", "any", "--prefer-binary", *map(str, [*ALL_PINS, *BUILD_PINS])],
        capture_output=True, text=True, timeout=600, check=False)
    errors = [line[:300] for line in done.stderr.splitlines() if line.startswith("ERROR")]
    assert done.returncode == 0, f"not every pin installs on Python {version}: {errors}"
