"""``invoke FUNCTION``: call a deployed function through Function Compute and show what it returned.

aliyun-fc2 (``fc2.Client``) speaks the FC 2.0 API, ``POST /2016-08-15/services/<service>[.<qualifier>]/
functions/<function>/invocations``, signed with STS credentials; the endpoint, account, region, service
and qualifier come from the environment (``DESCRIPTION``, the command's ``--help``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from ..gateway.fc import DEFAULT_SERVICE, fc2_client, fc_endpoint
from ..gateway.fc import fc2_logging_silenced as _fc2_logging_silenced
from .jobs import COMMANDS, bad_input, read_event_file
from .output import EXIT_FAILED, EXIT_OK, FORMATS, exit_status, render

FUNCTIONS = tuple(job for job, _ in COMMANDS.values())
DEFAULT_TIMEOUT = 960  # renew-batch's 900 s timeout, plus the time to get there and back
DESCRIPTION = """Call a deployed function through Function Compute (aliyun-fc2, FC 2.0 API) and show its result.
Exit status: 0 the function answered cleanly, 1 it reported failures or the call failed, 2 bad input.

environment:
  FC_ENDPOINT        base URL, scheme included (the emulator's, e.g. http://127.0.0.1:18080);
                     default https://<FC_ACCOUNT_ID>.<region>.fc.aliyuncs.com
  FC_ACCOUNT_ID      the account that owns the functions (or ALIBABA_CLOUD_ACCOUNT_ID)
  FC_DEPLOY_REGION   their region, s.yaml's vars.region (or ALIBABA_CLOUD_REGION_ID; default cn-hangzhou)
  FC_SERVICE_NAME    the 2.0 API's service segment (default "default"; fc3 functions have no service:
                     see README, "Command line")
  FC_QUALIFIER       a version or alias (default: none, LATEST)
  ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_SECURITY_TOKEN (STS only)"""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "invoke", help="call a deployed function through Function Compute (aliyun-fc2)",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("function", choices=FUNCTIONS, metavar="FUNCTION", help=" | ".join(FUNCTIONS))
    parser.add_argument("--event", metavar="FILE", help="the event to send ('-' = stdin; default {}), "
                        "e.g. events/renew-batch.json; checked here before it is sent")
    parser.add_argument("--async", dest="asynchronous", action="store_true",
                        help="queue the invocation and return at once (as a timer trigger does)")
    parser.add_argument("--service", help=f"service segment of the 2.0 API (default FC_SERVICE_NAME, else "
                        f"{DEFAULT_SERVICE!r})")
    parser.add_argument("--qualifier", help="version or alias (default FC_QUALIFIER, else LATEST)")
    parser.add_argument("--fc-region", help="region of the functions (default FC_DEPLOY_REGION)")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds to wait for a sync answer")
    parser.add_argument("--format", choices=FORMATS, default="table", help="how to show the function's result")
    parser.set_defaults(run=run_command)


def run_command(args: argparse.Namespace) -> int:
    from ..credentials import resolve_base_credentials
    from ..errors import CredentialsError, InvalidSettingError

    environ = os.environ
    try:
        payload = read_event_file(args.event) if args.event else b"{}"
        check_event(args.function, payload)
        endpoint = fc_endpoint(environ, args.fc_region)
        credentials = resolve_base_credentials(None, environ)
    except OSError as error:
        return bad_input(f"cannot read the event file: {error}")
    except (InvalidSettingError, CredentialsError) as error:
        return bad_input(str(error))
    if not credentials.is_sts:
        return bad_input("invoke signs with STS credentials only: set ALIBABA_CLOUD_SECURITY_TOKEN with the key "
                         "(e.g. from `aliyun sts AssumeRole`), never a long-lived AccessKey alone")

    import fc2  # only now: it pulls in requests and websocket-client

    client = fc2_client(credentials, endpoint, args.timeout)
    service = args.service or environ.get("FC_SERVICE_NAME", "").strip() or DEFAULT_SERVICE
    qualifier = args.qualifier or environ.get("FC_QUALIFIER", "").strip() or None
    headers = {"x-fc-invocation-type": "Async" if args.asynchronous else "Sync"}
    try:
        with _fc2_logging_silenced():
            answer = client.invoke_function(service, args.function, payload=payload, headers=headers,
                                            qualifier=qualifier)
    except fc2.FcError as error:
        return _failed(error, service)
    except OSError as error:  # requests' connection errors, timeouts
        print(f"error: cannot reach Function Compute at {endpoint}: {type(error).__name__}", file=sys.stderr)
        return EXIT_FAILED
    request_id = answer.headers.get("X-Fc-Request-Id", "")
    if args.asynchronous:
        return _accepted(args, request_id)
    return _show_result(answer.data, args.format, request_id)


def check_event(function: str, payload: bytes) -> None:
    """Refuse here what the function would refuse there (unknown key, bad value, bad JSON).

    The function's own environment supplies every default; only the event's keys are checked, so the
    ``REGIONS`` given here is a placeholder used when the event names no regions.
    """
    from ..settings import build_settings

    build_settings(function, payload, {"REGIONS": "cn-hangzhou"})


def _failed(error: Any, service: str) -> int:
    try:
        body = json.loads(error.message)
    except (TypeError, ValueError):
        body = {}
    request_id = body.get("RequestId") or getattr(error, "request_id", "")
    if "errorType" in body:  # the function ran and raised (UnhandledInvocationError)
        print(f"error: the function raised {body['errorType']}: {body.get('errorMessage', '')} "
              f"(request id {request_id})", file=sys.stderr)
        return EXIT_FAILED
    code = body.get("ErrorCode") or getattr(error, "err_code", "") or "Error"
    print(f"error: Function Compute answered {error.status_code} {code}: {body.get('ErrorMessage', '')} "
          f"(request id {request_id})", file=sys.stderr)
    if code in ("ServiceNotFound", "FunctionNotFound"):
        print(f"hint: functions deployed with fc3 have no service; the 2.0 API was asked for service "
              f"{service!r}. Set FC_SERVICE_NAME (README, 'Command line'), or use `s invoke`.", file=sys.stderr)
    return EXIT_FAILED


def _accepted(args: argparse.Namespace, request_id: str) -> int:
    if args.format == "json":
        print(json.dumps({"accepted": True, "function": args.function, "request_id": request_id}))
    elif args.format == "csv":
        print(f"function,request_id\n{args.function},{request_id}")
    else:
        print(f"{args.function}: accepted, runs asynchronously (request id {request_id}). "
              "Its result goes to the function's log and the DingTalk group.")
    return EXIT_OK


def _show_result(data: bytes, fmt: str, request_id: str) -> int:
    try:
        result = json.loads(data or b"null")
    except ValueError:
        result = None
    if not isinstance(result, dict) or "job" not in result:
        sys.stdout.write(data.decode("utf-8", "replace") + "\n")
        return EXIT_OK
    if fmt == "table":
        print(f"request id {request_id}")
    render(result, fmt, sys.stdout)
    return exit_status(result)
