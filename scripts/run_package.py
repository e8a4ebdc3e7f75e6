"""Run one built function package the way Function Compute's loader does, and report what happened.

    python -I -S scripts/run_package.py build/scan-expiring < invocation.json

``-I`` ignores PYTHON* variables and the user's site folder, ``-S`` leaves site-packages out: only the
standard library and the package folder can be imported, so a dependency missing from the package
fails here exactly as it would in /code. Standard library only, on purpose.

stdin, one JSON object: ``{"event": "<the event as text>", "credentials": {"access_key_id", ...},
"request_id": "...", "timeout": 900}``; the function's environment variables come from this process's
environment, as on Function Compute.

stdout, one JSON object: ``result`` (or ``error``), ``duration_s``, ``peak_rss_mb``, ``loaded_from``
(where index, ecs_renewal and the SDK were imported from) and ``outside`` (modules imported from
anywhere but the package and the standard library: must be empty). The handler's own log lines go to
stderr.
"""

from __future__ import annotations

import contextlib
import json
import os
import resource
import sys
import sysconfig
import time
import traceback
from pathlib import Path
from types import SimpleNamespace


def _only_package_on_path(package: Path) -> None:
    here = str(Path(__file__).resolve().parent)
    sys.path[:] = [str(package)] + [p for p in sys.path if p and p != here and Path(p).resolve() != Path(here)]


def _context(request: dict, function: str) -> SimpleNamespace:
    """The python3.10 runtime's context: request id, the role's STS credentials, function metadata."""
    credentials = request.get("credentials") or {}
    return SimpleNamespace(
        request_id=request.get("request_id", "local-request"),
        credentials=SimpleNamespace(
            access_key_id=credentials.get("access_key_id", ""),
            access_key_secret=credentials.get("access_key_secret", ""),
            security_token=credentials.get("security_token", ""),
        ),
        function=SimpleNamespace(name=function, handler="index.handler", memory=request.get("memory", 256),
                                 timeout=request.get("timeout", 900)),
        region=os.environ.get("FC_REGION", "cn-hangzhou"),
        account_id=os.environ.get("FC_ACCOUNT_ID", ""),
    )


def _outside(package: Path) -> list[str]:
    allowed = [str(package.resolve())] + [
        str(Path(p).resolve()) for key in ("stdlib", "platstdlib") if (p := sysconfig.get_paths().get(key))
    ]
    outside = []
    for name, module in list(sys.modules.items()):
        origin = getattr(module, "__file__", None)
        if origin and not any(str(Path(origin).resolve()).startswith(root) for root in allowed):
            outside.append(f"{name} ({origin})")
    return sorted(outside)


def main() -> int:
    package = Path(sys.argv[1]).resolve()
    request = json.loads(sys.stdin.read() or "{}")
    _only_package_on_path(package)

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
        name: getattr(sys.modules.get(name), "__file__", None) for name in ("index", "ecs_renewal", "aliyunsdkcore")
    }
    answer["modules"] = sorted(name for name in sys.modules if "." not in name)
    answer["outside"] = _outside(package)
    print(json.dumps(answer, default=str))
    return 0


if __name__ == "__main__":
    sys.exit(main())
