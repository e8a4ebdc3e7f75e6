"""`make package`: one layer of dependencies and three small code folders, and each function runs from them alone.

Two builds of the same script (once per test session; the pip downloads are cached in build/.deps-*):

* the **target** build — python3.12 on Linux x86_64, what s.yaml deploys. This machine's Python may
  not be 3.12, and a compiled cp312 module (cffi's ``_cffi_backend``) does not import on another
  version, so this build is checked statically: every wheel in the layer is tagged for cp312 (or abi3, or
  pure Python) on manylinux x86_64, every extension module is an x86-64 ELF file named for cp312/abi3;
* the **native** build — the same layout for the running interpreter. Each function is loaded in a fresh
  interpreter (``python -I -S``: no site-packages, no PYTHON* variables) with only its code folder and
  the layer's ``python/`` folder on ``sys.path``, in Function Compute's order (``/code``, then
  ``/opt/python``), given a python3.12-shaped context (no ``credentials``) and the role's STS credentials
  as ``ALIBABA_CLOUD_*`` variables, as that runtime does; its handler is invoked against the emulator.

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
import zipfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest

from ecs_emulator import Emulator, FleetSpec
from scripts import package
from tests.deploy.conftest import FUNCTIONS, ROOT
from tests.deploy.serverless_yaml import render

pytestmark = pytest.mark.packaging

RUNNER = ROOT / "scripts" / "run_package.py"
TARGET_TAG = package.target_tag(package.TARGET_PYTHON)  # cp312
TARGET_MINOR = int(package.TARGET_PYTHON.split(".")[1])
WHEEL_TAG = re.compile(rf"^(py3|py2\.py3|{TARGET_TAG})-none-any$|^{TARGET_TAG}-{TARGET_TAG}-manylinux\w*_x86_64$"
                       r"|^cp3(\d+)-abi3-manylinux\w*_x86_64$")
EXTENSION = re.compile(rf"\.({'cpython-' + TARGET_TAG[2:]}-x86_64-linux-gnu|abi3)\.so$")
ELF_X86_64 = 62  # e_machine
NEVER_SHIPPED = ("tests", "ecs_emulator", "bin", "scripts", "functions")
MAX_LAYER_MB = 48  # today ~42 MB: cryptography 15, pycryptodome (oss2) 10, aiohttp 7; a jump means a mistake
MAX_CODE_MB = 1.0  # a function's own code (handler + core package) is ~0.2 MB: no dependency belongs there
CODE_TOP = {"index.py", "ecs_renewal"}
CONFIG = {"AccountID": "1234567890123456", "AccessKeyID": "placeholder", "AccessKeySecret": "placeholder"}


@pytest.fixture(scope="session")
def target_build(tmp_path_factory: pytest.TempPathFactory) -> package.Build:
    return package.build(out=tmp_path_factory.mktemp("target"), log=lambda _: None)


@pytest.fixture(scope="session")
def native_build(tmp_path_factory: pytest.TempPathFactory) -> package.Build:
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


def test_target_layer_holds_linux_wheels_for_the_runtime(target_build: package.Build) -> None:
    folder = target_build.layer.python_path
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


def test_layer_holds_the_dependencies_and_nothing_else(target_build: package.Build) -> None:
    layer = target_build.layer
    assert {path.name for path in layer.folder.iterdir()} == {package.LAYER_PYTHON}  # /opt/python, nothing beside
    folder = layer.python_path
    present = {path.name for path in folder.iterdir()}
    assert not present & {*NEVER_SHIPPED, *CODE_TOP}, f"in the layer: {sorted(present & {*NEVER_SHIPPED, *CODE_TOP})}"
    assert not list(folder.rglob("__pycache__")) and not list(folder.rglob("*.pyc"))
    # aliyun-fc2 is shipped for the fan-out coordinator, as the pure-Python wheel built from its source.
    assert [p for p in folder.glob("*.dist-info") if p.name.startswith("aliyun_fc2")]
    # The SDK was pruned to the request modules the code imports, and every one of them is still there.
    for sdk, actions in package.sdk_requests_used().items():
        for action in actions:
            assert list(folder.glob(f"{sdk}/request/*/{action}Request.py")), f"{sdk} {action}Request was pruned"
    for sdk, request_folder in package.PRUNABLE_REQUESTS.items():
        kept = {p.name for p in (folder / request_folder).glob("*.py")}
        assert kept == {"__init__.py"} | {f"{a}Request.py" for a in package.sdk_requests_used().get(sdk, ())}
    size_mb = package.folder_size(layer.folder) / 1e6
    assert size_mb <= MAX_LAYER_MB, f"the layer is {size_mb:.1f} MB unpacked"


def test_layer_zip_is_the_layer_folder_and_the_same_for_the_same_dependencies(
        target_build: package.Build, tmp_path: Path) -> None:
    layer = target_build.layer
    files = {p.relative_to(layer.folder).as_posix(): p for p in layer.folder.rglob("*") if p.is_file()}
    with zipfile.ZipFile(layer.zip) as zipped:
        assert zipped.testzip() is None
        names = zipped.namelist()
        assert sorted(names) == sorted(files) and all(name.startswith("python/") for name in names)
        for name in names:
            assert zipped.read(name) == files[name].read_bytes(), name
    # Byte for byte the same when built again from the same folder: its sha256 says whether to publish.
    again = package.write_zip(layer.folder, tmp_path / "again.zip")
    assert again.read_bytes() == layer.zip.read_bytes()


@pytest.mark.parametrize("function", FUNCTIONS)
def test_function_code_is_its_handler_and_the_core_package_only(target_build: package.Build, function: str) -> None:
    folder = target_build.functions[function]
    assert {path.name for path in folder.iterdir()} == CODE_TOP, "the dependencies belong in the layer, once"
    assert (folder / "index.py").read_bytes() == (ROOT / "functions" / function / "index.py").read_bytes()
    assert (folder / "ecs_renewal" / "runtime.py").is_file()
    assert not (folder / "ecs_renewal" / "cli").exists() and not (folder / "ecs_renewal" / "__main__.py").exists()
    assert not list(folder.rglob("__pycache__")) and not list(folder.rglob("*.pyc"))
    size_mb = package.folder_size(folder) / 1e6
    assert size_mb <= MAX_CODE_MB, f"{function}: {size_mb:.1f} MB of code"


def test_s_yaml_gives_every_function_the_layer_make_package_builds(s_yaml: dict[str, Any]) -> None:
    def layers(environ: dict[str, str]) -> dict[str, list[str]]:
        rendered = render(s_yaml, environ, CONFIG)
        return {f: rendered["resources"][f]["props"].get("layers") for f in FUNCTIONS}

    assert s_yaml["vars"]["layerName"] == package.LAYER_NAME
    for function in FUNCTIONS:  # one variable, set once, for the three
        assert s_yaml["resources"][function]["props"]["layers"] == ["${vars.layerArn}"]
    arn = f"acs:fc:cn-hangzhou:{CONFIG['AccountID']}:layers/{package.LAYER_NAME}/versions/"
    assert layers({}) == {f: [arn + "1"] for f in FUNCTIONS}  # an account's first publish is version 1
    assert layers({"ECS_RENEWAL_LAYER_VERSION": "7"}) == {f: [arn + "7"] for f in FUNCTIONS}
    # The layer lives in the functions' region (a layer is regional).
    moved = layers({"FC_DEPLOY_REGION": "cn-beijing"})
    assert all(value == [arn.replace("cn-hangzhou", "cn-beijing") + "1"] for value in moved.values())


# --- does the layout load and run, alone -----------------------------------------------------------------


def run_alone(build: package.Build, function: str, event: dict[str, Any], emulator: Emulator,
              python: str = sys.executable) -> dict[str, Any]:
    creds = emulator.function_credentials
    invocation = {"event": json.dumps(event), "request_id": f"package-test-{function}"}
    # Only what the function's environment would hold (no PYTHONPATH: -I ignores it anyway); on python3.12
    # Function Compute passes the role's credentials as these three variables.
    environment = {"PATH": os.environ.get("PATH", ""), "REGIONS": "cn-hangzhou,cn-shanghai",
                   "ECS_ENDPOINT": emulator.url, "STS_ENDPOINT": emulator.url,
                   "ALIBABA_CLOUD_ACCESS_KEY_ID": creds.access_key_id,
                   "ALIBABA_CLOUD_ACCESS_KEY_SECRET": creds.access_key_secret,
                   "ALIBABA_CLOUD_SECURITY_TOKEN": creds.security_token}
    answer = subprocess.run(
        [python, "-I", "-S", str(RUNNER), str(build.functions[function]), "--opt", str(build.layer.folder)],
        input=json.dumps(invocation), capture_output=True, text=True, env=environment, timeout=60, check=False)
    assert answer.returncode == 0, answer.stderr[-2000:]
    result = json.loads(answer.stdout)
    result["log"] = [json.loads(line) for line in answer.stderr.splitlines() if line.startswith("{")]
    return result


def run_each(build: package.Build, emulator: Emulator, python: str = sys.executable) -> dict[str, dict[str, Any]]:
    """Each function run once, the three at the same time (separate processes: the suite stays fast)."""
    with ThreadPoolExecutor(max_workers=len(FUNCTIONS)) as pool:
        answers = pool.map(lambda f: run_alone(build, f, {"window_days": 28}, emulator, python), FUNCTIONS)
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
def native_runs(native_build: package.Build, emulator: Emulator) -> dict[str, dict[str, Any]]:
    return run_each(native_build, emulator)


@pytest.fixture(scope="module")
def target_runs(target_build: package.Build, emulator: Emulator) -> dict[str, dict[str, Any]]:
    python = runtime_python()
    if python is None:
        pytest.skip(f"no Python {package.TARGET_PYTHON} on this machine: the target build is checked statically")
    return run_each(target_build, emulator, python)


def check_ran_alone(build: package.Build, answer: dict[str, Any], function: str) -> None:
    assert "error" not in answer, answer.get("error", {}).get("traceback")
    result = answer["result"]
    assert result["job"] == function and result["errors"] == [] and result["api_calls"]
    code, layer = build.functions[function].resolve(), build.layer.python_path.resolve()
    origins = {module: Path(origin).resolve() for module, origin in answer["loaded_from"].items()}
    assert all(origins[m].is_relative_to(code) for m in ("index", "ecs_renewal")), origins
    assert all(origins[m].is_relative_to(layer) for m in ("aliyunsdkcore", "cryptography")), origins
    outside = [m for m in answer["outside"] if not m.startswith("__main__ ")]
    assert outside == [], f"imported from outside the code, the layer and the standard library: {outside}"
    # The handlers never import the command line, aliyun-fc2 (until a run fans out) or the emulator.
    assert not {"fc2", "ecs_emulator", "tests"} & set(answer["modules"])
    # The python3.12 context has no credentials: the run signed with the ALIBABA_CLOUD_* variables.
    started = [line for line in answer["log"] if line.get("event") == "job_started"]
    assert [line["credentials"] for line in started] == ["environment"]


@pytest.mark.parametrize("function", FUNCTIONS)
def test_package_runs_alone_in_a_fresh_interpreter(native_build: package.Build,
                                                   native_runs: dict[str, dict[str, Any]], function: str) -> None:
    check_ran_alone(native_build, native_runs[function], function)


@pytest.mark.parametrize("function", FUNCTIONS)
def test_target_package_runs_on_the_runtimes_python(target_build: package.Build,
                                                    target_runs: dict[str, dict[str, Any]], function: str) -> None:
    """The deployable build itself, cp312 wheels and all, where this machine has a Python 3.12."""
    check_ran_alone(target_build, target_runs[function], function)
