"""Run one built function package the way Function Compute's python3.12 runtime does, and report what happened.

    python -I -S scripts/run_package.py build/scan-expiring --opt build/layer < invocation.json

``-I`` ignores PYTHON* variables and the user's site folder, ``-S`` leaves site-packages out: only the
standard library, the code folder and the layers' ``python/`` folder can be imported, in that order
(Function Compute: ``/code``, then ``/opt/python`` through PYTHONPATH), so a dependency missing from the
layer fails here exactly as it would in the cloud. ``--opt`` is the folder the layers were extracted
into (FC's ``/opt``). Standard library only, on purpose.

stdin, one JSON object: ``{"event": "<the event as text>", "request_id": "...", "timeout": 900}``. The
function's environment variables come from this process's environment, as on Function Compute — the
role's STS credentials too (``ALIBABA_CLOUD_ACCESS_KEY_ID`` / ``_SECRET`` / ``_SECURITY_TOKEN``): the
python3.12 context has no ``credentials``.

stdout, one JSON object: ``result`` (or ``error``), ``duration_s``, ``peak_rss_mb``, ``loaded_from``
(where index, ecs_renewal, the SDK and cryptography were imported from) and ``outside`` (modules imported
from anywhere but the package, the layers and the standard library: must be empty). The handler's own
log lines go to stderr.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import resource
import sys
import sysconfig
import time
import traceback
from pathlib import Path


def _only_package_on_path(package: Path, opt: Path | None) -> list[Path]:
    """sys.path = the code folder, the layers' python/ folder, the standard library; returns the first two."""
    here = str(Path(__file__).resolve().parent)
    roots = [package] + ([opt / "python"] if opt else [])
    sys.path[:] = [str(root) for root in roots] + [
        p for p in sys.path if p and p != here and Path(p).resolve() != Path(here)
    ]
    return roots


class FunctionMeta:
    """``context.function`` on python3.12 (FC docs, "Context": six fields; the service struct is gone)."""

    __slots__ = ("handler", "memory", "name", "qualifier", "timeout", "version_id")

    def __init__(self, name: str, handler: str, memory: int, timeout: int, version_id: str, qualifier: str):
        self.name, self.handler, self.memory, self.timeout = name, handler, memory, timeout
        self.version_id, self.qualifier = version_id, qualifier


class FCContext:
    """The python3.12 runtime's context, with the documented constructor: no ``credentials`` (the role's
    keys are environment variables there), no ``service``. ``__slots__``: any other attribute raises
    AttributeError, so code that still reads ``context.credentials`` gets nothing, as in the cloud."""

    __slots__ = ("account_id", "function", "log_project", "log_store", "logger", "region", "request_id")

    def __init__(self, account_id: str, request_id: str, function_meta: FunctionMeta, logger: object,
                 log_project: str, log_store: str, region: str):
        self.account_id, self.request_id, self.function = account_id, request_id, function_meta
        self.logger, self.log_project, self.log_store, self.region = logger, log_project, log_store, region


def _context(request: dict, function: str) -> FCContext:
    meta = FunctionMeta(function, "index.handler", request.get("memory", 256), request.get("timeout", 900),
                        "", "LATEST")
    return FCContext(os.environ.get("FC_ACCOUNT_ID", ""), request.get("request_id", "local-request"), meta,
                     None, "", "", os.environ.get("FC_REGION", "cn-hangzhou"))


def _outside(roots: list[Path]) -> list[str]:
    allowed = [str(root.resolve()) for root in roots] + [
        str(Path(p).resolve()) for key in ("stdlib", "platstdlib") if (p := sysconfig.get_paths().get(key))
    ]
    outside = []
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        if origin and not any(str(Path(origin).resolve()).startswith(root) for root in allowed):
            outside.append(f"{name} ({origin})")
    return sorted(outside)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("package", type=Path, help="the function's code folder (FC's /code)")
    parser.add_argument("--opt", type=Path, help="the folder the layers were extracted into (FC's /opt)")
    args = parser.parse_args()
    package = args.package.resolve()
    request = json.loads(sys.stdin.read() or "{}")
    roots = _only_package_on_path(package, args.opt.resolve() if args.opt else None)

    started = time.monotonic()
    answer: dict = {}
    # The handler logs to stdout (as on FC); keep stdout for this script's one JSON answer.
    with contextlib.redirect_stdout(sys.stderr):
        try:
            import index  # imported only now, from the package folder

            result = index.handler(request.get("event", "").encode("utf-8"), _context(request, package.name))
            answer["result"] = result
        except BaseException as error:  # noqa: BLE001 - reported to the caller, like FC's UnhandledInvocationError
            answer["error"] = {"type": type(error).__name__, "message": str(error),
                               "traceback": traceback.format_exc()}
    answer["duration_s"] = round(time.monotonic() - started, 3)
    answer["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)  # KB on Linux
    answer["loaded_from"] = {
        name: getattr(sys.modules.get(name), "__file__", None)
        for name in ("index", "ecs_renewal", "aliyunsdkcore", "cryptography")
    }
    answer["modules"] = sorted(name for name in sys.modules if "." not in name)
    answer["outside"] = _outside(roots)
    print(json.dumps(answer, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
