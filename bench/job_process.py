"""One handler invocation in a fresh process, as Function Compute runs it: what the benchmark measures.

``python bench/job_process.py FUNCTION EVENT_JSON LOG_FILE`` with the function's environment set
(``REGIONS``, ``ECS_ENDPOINT``, ...) and the emulator's STS credentials in ``BENCH_ACCESS_KEY_ID``,
``BENCH_ACCESS_KEY_SECRET``, ``BENCH_SECURITY_TOKEN`` (they reach the handler in the context, as FC's
role credentials do). The handler module is loaded first (FC's cold start, measured separately); the
wall time is the invocation alone. Prints one JSON line: wall time, ``api_calls``, result counts and the
process's peak RSS. The handler's JSON logs go to LOG_FILE.
"""

from __future__ import annotations

import json
import os
import resource
import sys
import time
from pathlib import Path
from types import SimpleNamespace

ROOT = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(ROOT / "shared"), str(ROOT)]

from tests.handlers import fc_context, invoke, load_handler  # noqa: E402

COUNTED = ("expiring", "renewed", "skipped", "failed", "drift", "fixed", "errors")


def peak_rss_mb() -> float:
    """VmHWM: the most resident memory this process ever had (Linux), in MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource  # not Linux: ru_maxrss is KiB on Linux, bytes on macOS

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def main() -> int:
    function, event, log_file = sys.argv[1], sys.argv[2], sys.argv[3]
    from ecs_renewal import logs

    credentials = SimpleNamespace(
        access_key_id=os.environ.pop("BENCH_ACCESS_KEY_ID"),
        access_key_secret=os.environ.pop("BENCH_ACCESS_KEY_SECRET"),
        security_token=os.environ.pop("BENCH_SECURITY_TOKEN"),
    )
    load_handler(function)  # the cold start happens before the invocation, as in Function Compute
    with open(log_file, "w", encoding="utf-8") as stream:
        logs.set_stream(stream)
        started, cpu_started = time.perf_counter(), cpu_seconds()
        result = invoke(function, json.loads(event), fc_context(credentials, request_id=f"bench-{function}",
                                                                 timeout=900))
        wall, cpu = time.perf_counter() - started, cpu_seconds() - cpu_started
    print(json.dumps({
        "wall_s": round(wall, 3),
        "cpu_s": round(cpu, 3),
        "api_calls": result["api_calls"],
        "counts": {key: len(result[key]) for key in COUNTED if key in result},
        "cap_exceeded": result.get("cap_exceeded"),
        "peak_rss_mb": round(peak_rss_mb(), 1),
    }))
    return 0


if __name__ == "__main__":
    sys.exit(main())
