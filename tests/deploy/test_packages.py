"""`make package`: each function's folder imports and runs alone, and holds the target's wheels.

Two builds of the same script (once per test session; the pip downloads are cached in build/.deps-*):

* the **target** build — python3.10 on Linux x86_64, what s.yaml deploys. This machine's Python may
  not be 3.10, and a compiled cp310 module (cffi's ``_cffi_backend``) does not import on another
  version, so this build is checked statically: every vendored wheel is tagged for cp310 (or abi3, or
  pure Python) on manylinux x86_64, every extension module is an x86-64 ELF file named for cp310/abi3;
* the **native** build — the same layout for the running interpreter. Each package is loaded in a fresh
  interpreter (``python -I -S``: no site-packages, no PYTHON* variables) with only its own folder on
  ``sys.path``, as Function Compute's loader would, and its handler is invoked against the emulator.

Where this machine has a CPython of the runtime's version (pyenv often has one), the target build itself
is run the same way with it; elsewhere that one test skips and the static checks stand.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from ecs_emulator import Emulator, FleetSpec
from scripts import package
from tests.deploy.conftest import FUNCTIONS, ROOT

pytestmark = pytest.mark.packaging

RUNNER = ROOT / "scripts" / "run_package.py"
TARGET_TAG = package.target_tag(package.TARGET_PYTHON)  # cp310
TARGET_MINOR = int(package.TARGET_PYTHON.split(".")[1])
WHEEL_TAG = re.compile(rf"^(py3|py2\.py3|{TARGET_TAG})-none-any$|^{TARGET_TAG}-{TARGET_TAG}-manylinux\w*_x86_64$"
                       r"|^cp3(\d+)-abi3-manylinux\w*_x86_64$")
EXTENSION = re.compile(rf"\.({'cpython-' + TARGET_TAG[2:]}-x86_64-linux-gnu|abi3)\.so$")
ELF_X86_64 = 62  # e_machine
NEVER_SHIPPED = ("tests", "ecs_emulator", "bin", "scripts", "functions")
MAX_UNPACKED_MB = 40  # today ~18 MB, cryptography most of it: a jump means something was vendored by mistake


@pytest.fixture(scope="session")
def target_build(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return package.build(out=tmp_path_factory.mktemp("target"), log=lambda _: None)


@pytest.fixture(scope="session")
def native_build(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return package.build(out=tmp_path_factory.mktemp("native"), python_version=None, platform=None,
                         log=lambda _: None)


@pytest.fixture(scope="module")
def emulator() -> Iterator[Emulator]:
    fleet = FleetSpec(seed=3, regions=("cn-hangzhou", "cn-shanghai"), instances_per_region=60)
    with Emulator(fleet=fleet, renew_visibility_delay=1.0) as emu:
        yield emu


def wheel_tags(folder: Path) -> dict[str, list[str]]:
    return {
        wheel.parent.name: [line.split(":", 1)[1].strip() for line in wheel.read_text().splitlines()
                            if line.startswith("Tag:")]
        for wheel in folder.glob("*.dist-info/WHEEL")
    }


# --- the target build: what s.yaml deploys ---------------------------------------------------------------


@pytest.mark.parametrize("function", FUNCTIONS)
def test_target_package_holds_linux_wheels_for_the_runtime(target_build: dict[str, Path], function: str) -> None:
    folder = target_build[function]
    tags = wheel_tags(folder)
    assert {"cryptography", "aliyun_python_sdk_core"} <= {name.split("-")[0] for name in tags}
    for dist, dist_tags in tags.items():
        assert any(WHEEL_TAG.match(tag) for tag in dist_tags), f"{dist}: {dist_tags} will not load on {TARGET_TAG}"
        abi3_minors = [int(m.group(2)) for tag in dist_tags if (m := WHEEL_TAG.match(tag)) and m.group(2)]
        assert all(minor <= TARGET_MINOR for minor in abi3_minors), f"{dist}: abi3 wheel for a newer Python"
    extensions = list(folder.rglob("*.so"))
    assert extensions, "the SDK needs cryptography's compiled modules"
    for extension in extensions:
        assert EXTENSION.search(extension.name), f"{extension.relative_to(folder)} is not built for {TARGET_TAG}"
        header = extension.read_bytes()[:20]
        assert header[:4] == b"\x7fELF" and int.from_bytes(header[18:20], "little") == ELF_X86_64, extension.name


@pytest.mark.parametrize("function", FUNCTIONS)
def test_package_holds_what_function_compute_runs_and_nothing_else(target_build: dict[str, Path],
                                                                   function: str) -> None:
    folder = target_build[function]
    assert (folder / "index.py").read_bytes() == (ROOT / "functions" / function / "index.py").read_bytes()
    assert (folder / "ecs_renewal" / "runtime.py").is_file()
    present = {path.name for path in folder.iterdir()}
    assert not present & set(NEVER_SHIPPED), f"shipped: {sorted(present & set(NEVER_SHIPPED))}"
    assert not (folder / "ecs_renewal" / "cli").exists() and not (folder / "ecs_renewal" / "__main__.py").exists()
    assert not list(folder.rglob("__pycache__")) and not list(folder.rglob("*.pyc"))
    # aliyun-fc2 is shipped for the fan-out coordinator, as the pure-Python wheel built from its source.
    assert [p for p in folder.glob("*.dist-info") if p.name.startswith("aliyun_fc2")]
    # The SDK was pruned to the request modules the code imports: every one of them must still be there.
    for sdk, actions in package.sdk_requests_used().items():
        for action in actions:
            assert list(folder.glob(f"{sdk}/request/*/{action}Request.py")), f"{sdk} {action}Request was pruned"
    size_mb = package.folder_size(folder) / 1e6
    assert size_mb <= MAX_UNPACKED_MB, f"{function}: {size_mb:.1f} MB unpacked"


# --- the native build: does the layout load and run, alone ------------------------------------------------


def run_alone(folder: Path, event: dict[str, Any], emulator: Emulator, python: str = sys.executable) -> dict[str, Any]:
    creds = emulator.function_credentials
    invocation = {
        "event": json.dumps(event),
        "credentials": {"access_key_id": creds.access_key_id, "access_key_secret": creds.access_key_secret,
                        "security_token": creds.security_token},
        "request_id": f"package-test-{folder.name}",
    }
    # Only what the function's environment would hold (no PYTHONPATH: -I ignores it anyway).
    environment = {"PATH": os.environ.get("PATH", ""), "REGIONS": "cn-hangzhou,cn-shanghai",
                   "ECS_ENDPOINT": emulator.url, "STS_ENDPOINT": emulator.url}
    answer = subprocess.run([python, "-I", "-S", str(RUNNER), str(folder)], input=json.dumps(invocation),
                            capture_output=True, text=True, env=environment, timeout=60, check=False)
    assert answer.returncode == 0, answer.stderr[-2000:]
    return json.loads(answer.stdout)


def run_each(build: dict[str, Path], emulator: Emulator, python: str = sys.executable) -> dict[str, dict[str, Any]]:
    """Each package run once, the three at the same time (separate processes: the suite stays fast)."""
    with ThreadPoolExecutor(max_workers=len(FUNCTIONS)) as pool:
        answers = pool.map(lambda f: run_alone(build[f], {"window_days": 28}, emulator, python), FUNCTIONS)
        return dict(zip(FUNCTIONS, answers, strict=True))


def runtime_python() -> str | None:
    """A CPython of the runtime's version on this machine, if it has one (pyenv often does); else None."""
    name = f"python{package.TARGET_PYTHON}"
    pyenv = sorted(Path.home().glob(f".pyenv/versions/{package.TARGET_PYTHON}.*/bin/{name}"))
    for candidate in [shutil.which(name), *map(str, pyenv)]:
        if candidate and subprocess.run([candidate, "-I", "-c", "import sys; assert sys.version_info[:2] == "
                                         f"{tuple(map(int, package.TARGET_PYTHON.split('.')))}"],
                                        capture_output=True, timeout=30, check=False).returncode == 0:
            return candidate
    return None


@pytest.fixture(scope="module")
def native_runs(native_build: dict[str, Path], emulator: Emulator) -> dict[str, dict[str, Any]]:
    return run_each(native_build, emulator)


@pytest.fixture(scope="module")
def target_runs(target_build: dict[str, Path], emulator: Emulator) -> dict[str, dict[str, Any]]:
    python = runtime_python()
    if python is None:
        pytest.skip(f"no Python {package.TARGET_PYTHON} on this machine: the target build is checked statically")
    return run_each(target_build, emulator, python)


def check_ran_alone(folder: Path, answer: dict[str, Any], function: str) -> None:
    assert "error" not in answer, answer.get("error", {}).get("traceback")
    result = answer["result"]
    assert result["job"] == function and result["errors"] == [] and result["api_calls"]
    for module, origin in answer["loaded_from"].items():
        assert origin and Path(origin).resolve().is_relative_to(folder.resolve()), f"{module} from {origin}"
    outside = [m for m in answer["outside"] if not m.startswith("__main__ ")]
    assert outside == [], f"imported from outside the package and the standard library: {outside}"
    # The handlers never import the command line, aliyun-fc2 (until a run fans out) or the emulator.
    assert not {"fc2", "ecs_emulator", "tests"} & set(answer["modules"])


@pytest.mark.parametrize("function", FUNCTIONS)
def test_package_runs_alone_in_a_fresh_interpreter(native_build: dict[str, Path],
                                                   native_runs: dict[str, dict[str, Any]], function: str) -> None:
    check_ran_alone(native_build[function], native_runs[function], function)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_target_package_runs_on_the_runtimes_python(target_build: dict[str, Path],
                                                    target_runs: dict[str, dict[str, Any]], function: str) -> None:
    """The deployable build itself, cp310 wheels and all, where this machine has a Python 3.10."""
    check_ran_alone(target_build[function], target_runs[function], function)
