"""`make package`: the dependencies once, as a Function Compute layer, and each function's own code.

    build/
      ecs-renewal-deps.zip   the layer: python/<dependencies>, what `s cli fc3 layer publish` uploads
      layer/python/          the same, unpacked: what Function Compute extracts to /opt/python
      scan-expiring/         index.py (handler "index.handler") + ecs_renewal/ (the core package)
      renew-batch/           ...
      audit-autorenew/       ...

Function Compute puts a layer's ``python/`` folder on the search path (``/opt/python``, after the code
folder ``/code``), so the three functions share one copy of the SDK and cryptography: each function's
code is ~0.2 MB and the layer is uploaded once, and again only when requirements.txt changes (the zip
is byte-for-byte the same while the dependencies are: `make package` prints its sha256). s.yaml names
the layer by ARN (``vars.layerArn``; README, "Deploy").

The target is the functions' runtime in s.yaml (python3.12 on Linux x86_64): dependencies are
installed with ``pip install --platform manylinux2014_x86_64 --only-binary=:all: --python-version 3.12
--implementation cp --target``, so compiled wheels (cryptography, cffi) are the Linux cp312 ones
whatever machine builds. They are installed once into a cache folder (``build/.deps-cp312``, reused
while requirements.txt is unchanged) and copied into the layer.

Left out, because no handler imports it: tests, the emulator, ``ecs_renewal/cli`` and ``__main__``,
console scripts, ``__pycache__`` (a .pyc compiled here would
not match the target's Python anyway), and the ~1,000 aliyunsdkecs request modules the code never imports.
``aliyun-fc2`` is shipped (only a fan-out coordinator imports it, lazily); it is published as source only,
so a pure-Python wheel is built from it first.

``--native`` builds for the running interpreter and platform instead: the packaging tests use it to
load and run a package in a fresh interpreter on this machine, whose Python may not be the target's.
"""

from __future__ import annotations

import argparse
import ast
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "shared" / "ecs_renewal"
REQUIREMENTS = ROOT / "requirements.txt"
FUNCTIONS = ("scan-expiring", "renew-batch", "audit-autorenew", "approve-renewal")

# Must match s.yaml's runtime (tests/deploy checks that they agree).
TARGET_PYTHON = "3.12"
TARGET_PLATFORM = "manylinux2014_x86_64"
# The layer of dependencies, as s.yaml names it (vars.layerName; tests/deploy checks that they agree).
LAYER_NAME = "ecs-renewal-deps"
LAYER_FOLDER = "layer"  # build/layer/python/...: what Function Compute extracts into /opt
LAYER_PYTHON = "python"  # the layer's folder Function Compute puts on the Python search path
# A fixed timestamp for every zip entry: the same dependencies give the same zip, byte for byte.
ZIP_DATE = (1980, 1, 1, 0, 0, 0)

# Requirements the functions never import: not vendored (name → why).
NOT_VENDORED: dict[str, str] = {}
# Pure-Python requirements published only as source: built into a wheel here first (no compiler
# involved), so the target install can stay --only-binary. aliyun-fc2: the fan-out coordinator's
# async invocations (imported only when a run fans out).
SOURCE_ONLY = ("aliyun-fc2", "oss2")
# Installed into the layer without their declared dependencies (name → why); what they import is pinned
# in requirements.txt beside them. oss2 declares crcmod (source only, a C extension) but never imports it.
NO_DEPS = {"oss2": "declares crcmod, which it never imports (oss2 carries its own CRC-64 code)"}
# Parts of the core package that exist for operators, not for Function Compute.
CORE_EXCLUDED = ("cli", "__main__.py")
ALWAYS_EXCLUDED = ("__pycache__", "*.pyc")
# In the layer only: a dependency's own test suite and type stubs (pycryptodome ships 1.8 MB of SelfTest).
LAYER_EXCLUDED = ("SelfTest", "*.pyi")
# At the top of the dependency folder only: pip's console scripts (bin/) and the cache's stamp.
DEPS_TOP_EXCLUDED = ("bin", ".stamp")

# SDK products whose request modules are pruned to the ones the code imports (a request module
# imports only aliyunsdkcore and its product's endpoint data, never another request module).
PRUNABLE_REQUESTS = {"aliyunsdkecs": "aliyunsdkecs/request/v20140526",
                     "aliyunsdkbssopenapi": "aliyunsdkbssopenapi/request/v20171214"}
_REQUEST_IMPORT = re.compile(r"\b(aliyunsdk[a-z]+)\.request\.(v\d+)\.(\w+)Request\b")


# --- what the code calls --------------------------------------------------------------------------------


def sdk_requests_used(source_dir: Path = CORE) -> dict[str, set[str]]:
    """SDK package → the API actions whose request classes the code imports (anywhere, lazily too).

    Read from the source text (``aliyunsdkecs.request.v20140526.RenewInstanceRequest`` → ``RenewInstance``),
    so an import inside a function or a module path in a string counts as well. The RAM policy test
    derives its action list from here, which keeps the policy exact as the code changes.
    """
    used: dict[str, set[str]] = {}
    for path in sorted(source_dir.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        for package, _version, action in _REQUEST_IMPORT.findall(text):
            used.setdefault(package, set()).add(action)
        for package, modules in _from_package_imports(text):
            used.setdefault(package, set()).update(modules)
    return used


def _from_package_imports(text: str) -> Iterable[tuple[str, set[str]]]:
    """``from aliyunsdkecs.request.v20140526 import RenewInstanceRequest`` (module imported by name)."""
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.ImportFrom) and node.module and re.fullmatch(r"aliyunsdk[a-z]+\.request\.v\d+",
                                                                               node.module):
            names = {alias.name[: -len("Request")] for alias in node.names if alias.name.endswith("Request")}
            yield node.module.split(".")[0], names


# Function Compute client methods (aliyun-fc2; alibabacloud_fc20230330) → the RAM action each one needs.
FC2_ACTIONS = {"invoke_function": "fc:InvokeFunction", "invoke_function_with_options": "fc:InvokeFunction"}


# Where the RAM action is not <product>:<API>: BSS authorises QueryAccountBalance as bss:DescribeAcccount (sic;
# help.aliyun.com/document_detail/472991, "授权信息"; an older page said bssapi:QueryAccountBalance).
RAM_ACTION_NAMES = {"bssopenapi:QueryAccountBalance": "bss:DescribeAcccount"}


def api_actions(source_dir: Path = CORE) -> set[str]:
    """RAM action names (``ecs:RenewInstance``, ``sts:AssumeRole``, ``fc:InvokeFunction``) of every API call
    the code can make: the SDK request classes it imports, and the aliyun-fc2 client methods it calls."""
    actions = {
        RAM_ACTION_NAMES.get(name, name)
        for package, actions in sdk_requests_used(source_dir).items()
        for name in (f"{package.removeprefix('aliyunsdk')}:{action}" for action in actions)
    }
    for path in sorted(source_dir.rglob("*.py")):
        text = path.read_text(encoding="utf-8")
        actions.update(action for method, action in FC2_ACTIONS.items() if f".{method}(" in text)
    return actions


# --- dependencies ---------------------------------------------------------------------------------------


def runtime_requirements(path: Path = REQUIREMENTS) -> list[str]:
    """The requirement lines to vendor: requirements.txt without what the functions never import."""
    wanted = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-"):
            continue
        name = re.split(r"[<>=!~;\[ ]", line, maxsplit=1)[0]
        if _normalise(name) not in {_normalise(n) for n in NOT_VENDORED}:
            wanted.append(line)
    return wanted


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def target_tag(python_version: str | None) -> str:
    version = python_version or f"{sys.version_info.major}.{sys.version_info.minor}"
    return "cp" + version.replace(".", "")


def vendor(
    requirements: list[str], cache: Path, *, python_version: str | None, platform: str | None,
    log: Callable[[str], None] = print,
) -> Path:
    """Install the requirements into ``cache`` once; reinstall only when they or the target change.

    ``python_version``/``platform`` None = the running interpreter (a native build).
    """
    key = json.dumps({"requirements": requirements, "python": python_version, "platform": platform})
    stamp = cache / ".stamp"
    if stamp.is_file() and stamp.read_text() == key:
        return cache
    staging = cache.with_name(f"{cache.name}.partial-{os.getpid()}")  # two builds at once never share one
    shutil.rmtree(staging, ignore_errors=True)
    wheelhouse = cache.with_name(".wheels")
    source_only = [r for r in requirements if _normalise(re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0])
                   in {_normalise(n) for n in SOURCE_ONLY}]
    if source_only:
        subprocess.run([sys.executable, "-m", "pip", "wheel", "--quiet", "--disable-pip-version-check", "--no-deps",
                        "--wheel-dir", str(wheelhouse), *source_only], check=True)
    no_deps = [r for r in requirements if _normalise(re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0])
               in {_normalise(n) for n in NO_DEPS}]
    log(f"vendoring {', '.join(requirements)} for {target_tag(python_version)} {platform or 'native'} ...")
    for group, extra in (([r for r in requirements if r not in no_deps], []), (no_deps, ["--no-deps"])):
        if not group:
            continue
        command = [
            sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check", "--no-compile",
            "--only-binary=:all:", "--target", str(staging), *extra, *group,
        ]
        if source_only:
            command += ["--find-links", str(wheelhouse)]
        if python_version or platform:
            command += ["--implementation", "cp", "--python-version", python_version or TARGET_PYTHON,
                        "--platform", platform or TARGET_PLATFORM]
        subprocess.run(command, check=True)
    (staging / ".stamp").write_text(key)
    # Replace the cache only once the install succeeded: an interrupted build never leaves half a cache.
    shutil.rmtree(cache, ignore_errors=True)
    staging.rename(cache)
    return cache


# --- assembling a function ------------------------------------------------------------------------------


def _ignore(
    patterns: Iterable[str], *, top: Path | None = None, top_excluded: Iterable[str] = (),
    keep_requests: dict[str, set[str]] | None = None,
) -> Callable[[str, list[str]], set[str]]:
    """A ``copytree`` filter: ``patterns`` everywhere, ``top_excluded`` names in ``top`` only, and the
    request modules of :data:`PRUNABLE_REQUESTS` not in ``keep_requests``."""
    base = shutil.ignore_patterns(*patterns)

    def ignore(directory: str, names: list[str]) -> set[str]:
        skipped = set(base(directory, names))
        if top is not None and Path(directory) == top:
            skipped |= set(top_excluded) & set(names)
        for package, folder in PRUNABLE_REQUESTS.items():
            if keep_requests is not None and Path(directory).as_posix().endswith(folder):
                kept = {f"{action}Request.py" for action in keep_requests.get(package, set())} | {"__init__.py"}
                skipped |= {name for name in names if name.endswith(".py") and name not in kept}
        return skipped

    return ignore


@dataclass(frozen=True)
class Layer:
    folder: Path  # what Function Compute extracts into /opt: holds python/
    zip: Path  # the same, zipped, for `s cli fc3 layer publish --code`

    @property
    def python_path(self) -> Path:
        """The folder on the functions' search path (/opt/python in Function Compute)."""
        return self.folder / LAYER_PYTHON

    def sha256(self) -> str:
        return hashlib.sha256(self.zip.read_bytes()).hexdigest()


@dataclass(frozen=True)
class Build:
    functions: dict[str, Path]  # function → its code folder (s.yaml's `code`)
    layer: Layer


def build_layer(out: Path, deps: Path, *, requests_used: dict[str, set[str]]) -> Layer:
    """The dependencies under python/, unpacked and zipped: shipped once for the three functions."""
    folder = out / LAYER_FOLDER
    shutil.rmtree(folder, ignore_errors=True)
    shutil.copytree(deps, folder / LAYER_PYTHON, ignore=_ignore((*ALWAYS_EXCLUDED, *LAYER_EXCLUDED), top=deps,
                                                                 top_excluded=DEPS_TOP_EXCLUDED,
                                                                 keep_requests=requests_used))
    return Layer(folder, write_zip(folder, out / f"{LAYER_NAME}.zip"))


def write_zip(folder: Path, archive: Path) -> Path:
    """``folder``'s files, paths relative to it, in a stable order with a fixed timestamp (deflate)."""
    partial = archive.with_name(f"{archive.name}.partial-{os.getpid()}")
    with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zipped:
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            entry = zipfile.ZipInfo(path.relative_to(folder).as_posix(), date_time=ZIP_DATE)
            entry.external_attr = (0o755 if os.access(path, os.X_OK) else 0o644) << 16
            entry.compress_type = zipfile.ZIP_DEFLATED
            zipped.writestr(entry, path.read_bytes())
    partial.replace(archive)
    return archive


def build_function(function: str, out: Path) -> Path:
    """The function's own code: its handler and the core package; the dependencies are in the layer."""
    target = out / function
    shutil.rmtree(target, ignore_errors=True)
    target.mkdir(parents=True)
    shutil.copy2(ROOT / "functions" / function / "index.py", target / "index.py")
    shutil.copytree(CORE, target / "ecs_renewal", ignore=_ignore((*ALWAYS_EXCLUDED, *CORE_EXCLUDED)))
    return target


def folder_size(folder: Path) -> int:
    return sum(path.stat().st_size for path in folder.rglob("*") if path.is_file())


def zipped_size(folder: Path) -> int:
    """The size of the zip `s deploy` uploads for a code folder (deflate), measured by writing one."""
    archive = write_zip(folder, folder.with_name(folder.name + ".zip"))
    size = archive.stat().st_size
    archive.unlink()
    return size


def build(
    *, out: Path, cache: Path | None = None, python_version: str | None = TARGET_PYTHON,
    platform: str | None = TARGET_PLATFORM, functions: Iterable[str] = FUNCTIONS,
    log: Callable[[str], None] = print,
) -> Build:
    cache = cache or ROOT / "build" / f".deps-{target_tag(python_version)}{'' if platform else '-native'}"
    deps = vendor(runtime_requirements(), cache, python_version=python_version, platform=platform, log=log)
    layer = build_layer(out, deps, requests_used=sdk_requests_used())
    return Build({function: build_function(function, out) for function in functions}, layer)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, default=ROOT / "build", help="output folder (default build/)")
    parser.add_argument("--cache", type=Path, help="dependency cache (default build/.deps-<tag>)")
    parser.add_argument("--python-version", default=TARGET_PYTHON, help=f"target Python (default {TARGET_PYTHON})")
    parser.add_argument("--platform", default=TARGET_PLATFORM, help=f"target platform (default {TARGET_PLATFORM})")
    parser.add_argument("--native", action="store_true", help="build for this interpreter and platform instead")
    parser.add_argument("--function", action="append", choices=FUNCTIONS, help="only this function (repeatable)")
    parser.add_argument("--no-sizes", action="store_true", help="skip measuring the zipped sizes")
    args = parser.parse_args(argv)

    python_version, platform = (None, None) if args.native else (args.python_version, args.platform)
    built = build(out=args.out, cache=args.cache, python_version=python_version, platform=platform,
                  functions=args.function or FUNCTIONS)
    layer = built.layer
    rows = [(f"{_shown(layer.zip)} (layer)", folder_size(layer.folder), layer.zip.stat().st_size)]
    rows += [(_shown(folder) + "/", folder_size(folder), None if args.no_sizes else zipped_size(folder))
             for folder in built.functions.values()]
    print(f"{'package':<36}{'unpacked':>12}{'zipped':>12}")
    for name, unpacked, zipped in rows:
        print(f"{name:<36}{unpacked / 1e6:>9.1f} MB{'-' if zipped is None else f'{zipped / 1e6:.1f} MB':>12}")
    if not args.no_sizes:
        print(f"{'uploaded, all together':<36}{'':>12}{sum(row[2] for row in rows) / 1e6:>9.1f} MB")
    if args.native:
        print("\na native build, for this machine's tests: deploy a target build (without --native)")
        return 0
    runtime = f"python{python_version}"
    print(f"\nlayer sha256 {layer.sha256()}: publish it when this changes (a new requirements.txt), then\n"
          f"deploy with the version it prints (README, \"Deploy\"):\n"
          f"  s cli fc3 layer publish --region ${{FC_DEPLOY_REGION:-cn-hangzhou}} --layer-name {LAYER_NAME} "
          f"--code ./{_shown(layer.zip)} --compatible-runtime {runtime} -a default\n"
          f"  ECS_RENEWAL_LAYER_VERSION=<version> s deploy -y")
    return 0


def _shown(path: Path) -> str:
    """A path as the user typed it: relative to the repository when it is inside it."""
    try:
        return path.resolve().relative_to(ROOT).as_posix()
    except ValueError:
        return str(path)


if __name__ == "__main__":
    sys.exit(main())
