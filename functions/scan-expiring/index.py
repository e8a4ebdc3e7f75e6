"""Entry point of the function `scan-expiring` (handler `index.handler`); thin on purpose: see ecs_renewal.runtime."""

try:
    from ecs_renewal.runtime import run_job
except ModuleNotFoundError:  # run from a checkout: the core package lives in <repo>/shared
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "shared"))
    from ecs_renewal.runtime import run_job


def handler(event, context):
    return run_job("scan-expiring", event, context)
