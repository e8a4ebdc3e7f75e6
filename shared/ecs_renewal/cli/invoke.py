"""``invoke FUNCTION``: call a deployed function through Function Compute and show what it returned.

By default through the FC 3.0 API, the one that addresses what ``s.yaml`` deploys:
``POST /2023-03-30/functions/<function>/invocations[?qualifier=...]`` with Alibaba's client
``alibabacloud_fc20230330`` (ACS3-HMAC-SHA256), signed with STS credentials. ``--api fc2`` (``FC_API=fc2``)
uses aliyun-fc2 and the FC 2.0 API instead, for functions deployed as FC 2.0 services only. Endpoint,
account, region, service and qualifier come from the environment (``DESCRIPTION``, the command's ``--help``).
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from typing import Any

from ..gateway.fc import APIS, DEFAULT_SERVICE, fc_endpoint, invoke_client
from .jobs import COMMANDS, bad_input, read_event_file
from .output import EXIT_FAILED, EXIT_OK, FORMATS, show

__all__ = ["add_parser", "check_event", "fc_endpoint", "run_command"]

FUNCTIONS = tuple(job for job, _ in COMMANDS.values())
DEFAULT_TIMEOUT = 960  # renew-batch's 900 s timeout, plus the time to get there and back
DESCRIPTION = """Call a deployed function through Function Compute and show its result.
Exit status: 0 the function answered cleanly, 1 it reported failures or the call failed, 2 bad input.

environment:
  FC_API             fc3 (default: the FC 3.0 API, what s.yaml deploys) or fc2 (the FC 2.0 API, only for
                     functions deployed as FC 2.0 services; README, "Command line")
  FC_ENDPOINT        base URL, scheme included (the emulator's, e.g. http://127.0.0.1:18080);
                     default https://<FC_ACCOUNT_ID>.<region>.fc.aliyuncs.com
  FC_ACCOUNT_ID      the account that owns the functions (or ALIBABA_CLOUD_ACCOUNT_ID)
  FC_DEPLOY_REGION   their region, s.yaml's vars.region (or ALIBABA_CLOUD_REGION_ID; default cn-hangzhou)
  FC_QUALIFIER       a version or alias (default: none, LATEST)
  FC_SERVICE_NAME    fc2 only: the 2.0 API's service segment (default "default")
  ALIBABA_CLOUD_ACCESS_KEY_ID, ALIBABA_CLOUD_ACCESS_KEY_SECRET, ALIBABA_CLOUD_SECURITY_TOKEN (STS only)"""


def add_parser(commands: Any) -> None:
    parser = commands.add_parser(
        "invoke", help="call a deployed function through Function Compute (FC 3.0 API)",
        description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("function", choices=FUNCTIONS, metavar="FUNCTION", help=" | ".join(FUNCTIONS))
    parser.add_argument("--event", metavar="FILE", help="the event to send ('-' = stdin; default {}), "
                        "e.g. events/renew-batch.json; checked here before it is sent")
    parser.add_argument("--async", dest="asynchronous", action="store_true",
                        help="queue the invocation and return at once (as a timer trigger does)")
    parser.add_argument("--api", choices=APIS, help="fc3 (default FC_API, else fc3) or fc2 (FC 2.0 services only)")
    parser.add_argument("--service", help=f"fc2 only: service segment of the 2.0 API (default FC_SERVICE_NAME, "
                        f"else {DEFAULT_SERVICE!r})")
    parser.add_argument("--qualifier", help="version or alias (default FC_QUALIFIER, else LATEST)")
    parser.add_argument("--fc-region", help="region of the functions (default FC_DEPLOY_REGION)")
    parser.add_argument("--timeout", type=int, default=DEFAULT_TIMEOUT, help="seconds to wait for a sync answer")
    parser.add_argument("--format", choices=FORMATS, default="table", help="how to show the function's result")
    parser.set_defaults(run=run_command)


def run_command(args: argparse.Namespace) -> int:
    from ..credentials import resolve_base_credentials
    from ..errors import CredentialsError, InvalidSettingError
    from ..gateway.fc import FcInvokeError, fc_api, service_and_qualifier

    environ = os.environ
    try:
        payload = read_event_file(args.event) if args.event else b"{}"
        check_event(args.function, payload)
        api = fc_api(environ, args.api)
        endpoint = fc_endpoint(environ, args.fc_region)
        credentials = resolve_base_credentials(None, environ)
    except OSError as error:
        return bad_input(f"cannot read the event file: {error}")
    except (InvalidSettingError, CredentialsError) as error:
        return bad_input(str(error))
    if not credentials.is_sts:
        return bad_input("invoke signs with STS credentials only: set ALIBABA_CLOUD_SECURITY_TOKEN with the key "
                         "(e.g. from `aliyun sts AssumeRole`), never a long-lived AccessKey alone")

    service, default_qualifier = service_and_qualifier(environ)
    service = args.service or service
    qualifier = args.qualifier or default_qualifier
    client = invoke_client(credentials, environ, timeout=args.timeout, api=api, region=args.fc_region,
                           service=service)
    try:
        answer = client.invoke(args.function, payload, qualifier=qualifier,
                               invocation_type="Async" if args.asynchronous else "Sync")
    except FcInvokeError as error:
        if error.status is None:
            print(f"error: cannot reach Function Compute at {endpoint}: {error.message}", file=sys.stderr)
            return EXIT_FAILED
        return _failed(error, api, service)
    if answer.error_type:
        return _raised(answer)
    if args.asynchronous:
        return _accepted(args, answer.request_id)
    return _show_result(answer.body, args.format, answer.request_id)


def check_event(function: str, payload: bytes) -> None:
    """Refuse here what the function would refuse there (unknown key, bad value, bad JSON).

    The function's own environment supplies every default; only the event's keys are checked, so the
    ``REGIONS`` given here is a placeholder used when the event names no regions.
    """
    from ..settings import build_settings

    build_settings(function, payload, {"REGIONS": "cn-hangzhou"})


def _raised(answer: Any) -> int:
    try:
        body = json.loads(answer.body)
    except ValueError:
        body = {}
    print(f"error: the function raised {body.get('errorType', answer.error_type)}: {body.get('errorMessage', '')} "
          f"(request id {answer.request_id})", file=sys.stderr)
    return EXIT_FAILED


def _failed(error: Any, api: str, service: str) -> int:
    print(f"error: Function Compute answered {error.status} {error.code}: {error.message} "
          f"(request id {error.request_id})", file=sys.stderr)
    if api == "fc2" and error.code in ("ServiceNotFound", "FunctionNotFound"):
        print(f"hint: the 2.0 API was asked for service {service!r}; functions deployed by s.yaml (fc3) have "
              "no service: use the default API (FC_API=fc3), or set FC_SERVICE_NAME (README, 'Command line').",
              file=sys.stderr)
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
    return show(result, fmt, sys.stdout)  # typed again; JSON prints the answer as it came
