"""Entry point of the function `approve-renewal` (handler `index.handler`); thin: see ecs_renewal.approval.http."""

try:
    from ecs_renewal.approval.http import handle
except ModuleNotFoundError:  # run from a checkout, where the core package lives in <repo>/shared
    import sys
    from pathlib import Path

    _checkout = Path(__file__).resolve().parent.parent.parent / "shared"
    if not (_checkout / "ecs_renewal").is_dir():
        raise  # a deployed package without its core package: show that error, not a path problem
    sys.path.insert(0, str(_checkout))
    from ecs_renewal.approval.http import handle


def handler(event, context):
    return handle(event, context)
