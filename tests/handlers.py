"""Load and invoke the three handlers exactly as Function Compute would: event bytes + a context."""

from __future__ import annotations

import importlib.util
import io
import json
import os
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

from ecs_renewal.settings import ENVIRONMENT_VARIABLES

ROOT = Path(__file__).resolve().parents[1]
FUNCTIONS = ("scan-expiring", "renew-batch", "audit-autorenew")
_loaded: dict[str, ModuleType] = {}

# Watchers of every invocation (tests/reliability: the secret guard and the reliability ledger). Each is
# called with (function, payload) before the handler runs and returns a callback for (result, error).
INVOKE_HOOKS: list[Callable[[str, Any], Callable[[Any, BaseException | None], None]]] = []

# Every environment variable the project reads, cleared before each test so the host cannot leak in
# (tests/conftest.py points the notification ledger at a fresh folder per test through a public hook).
PROJECT_ENV = ENVIRONMENT_VARIABLES


def load_handler(function: str) -> ModuleType:
    if function not in _loaded:
        path = ROOT / "functions" / function / "index.py"
        spec = importlib.util.spec_from_file_location(f"fc_handler_{function.replace('-', '_')}", path)
        assert spec and spec.loader
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        _loaded[function] = module
    return _loaded[function]


ROLE_VARIABLES = ("ALIBABA_CLOUD_ACCESS_KEY_ID", "ALIBABA_CLOUD_ACCESS_KEY_SECRET", "ALIBABA_CLOUD_SECURITY_TOKEN")


def _key_triple(credentials: Any) -> tuple[str, str, str]:
    return (getattr(credentials, "access_key_id", "") or "", getattr(credentials, "access_key_secret", "") or "",
            getattr(credentials, "security_token", "") or "")


def fc_context(credentials: Any = None, *, request_id: str = "test-request", timeout: int = 120) -> SimpleNamespace:
    """A stand-in for Function Compute's context on python3.12, the functions' runtime: no ``credentials``
    and no ``service``. The role's ``credentials`` reach the handler as FC 3.12 gives them, in the
    environment (``ALIBABA_CLOUD_*``), which :func:`invoke` sets for the call."""
    context = SimpleNamespace(
        request_id=request_id,
        function=SimpleNamespace(name=None, handler="index.handler", memory=256, timeout=timeout,
                                 version_id="", qualifier="LATEST"),
        region="cn-hangzhou",
        account_id="1234567890123456",
        logger=None,
        log_project="",
        log_store="",
    )
    if credentials is not None:
        # Not a context attribute on python3.12: what the platform puts in the environment (see invoke).
        context._role_environment = dict(zip(ROLE_VARIABLES, _key_triple(credentials), strict=True))
    return context


def fc_context_py310(credentials: Any = None, *, request_id: str = "test-request",
                     timeout: int = 120) -> SimpleNamespace:
    """The python3.9/3.10 runtimes' context: the role's keys on ``context.credentials`` (the fallback)."""
    key_id, secret, token = _key_triple(credentials)
    return SimpleNamespace(
        request_id=request_id,
        credentials=SimpleNamespace(access_key_id=key_id, access_key_secret=secret, security_token=token),
        function=SimpleNamespace(name=None, handler="index.handler", memory=256, timeout=timeout),
        region="cn-hangzhou",
        account_id="1234567890123456",
    )


_role_lock = threading.Lock()
_role_users = 0
_role_saved: dict[str, str | None] = {}


@contextmanager
def _role_environment(context: Any) -> Iterator[None]:
    """Set the role's variables for one call, as FC 3.12 does before an invocation, and restore them after
    the last concurrent call ends (tests invoke from several threads; os.environ is process-wide)."""
    global _role_users
    values = getattr(context, "_role_environment", None)
    if not values:
        yield
        return
    with _role_lock:
        if _role_users == 0:
            _role_saved.clear()
            _role_saved.update({name: os.environ.get(name) for name in ROLE_VARIABLES})
        _role_users += 1
        for name, value in values.items():
            if value:
                os.environ[name] = value
            else:
                os.environ.pop(name, None)
    try:
        yield
    finally:
        with _role_lock:
            _role_users -= 1
            if _role_users == 0:
                for name, value in _role_saved.items():
                    if value is None:
                        os.environ.pop(name, None)
                    else:
                        os.environ[name] = value


def invoke(function: str, event: Any = None, context: Any = None, *, raw: bool = False) -> dict[str, Any]:
    """Call the handler with the event as bytes (what FC passes), unless it is already bytes/str.

    ``raw=True`` passes the event exactly as given (a dict, a list, None ...): the fuzz tests use it to
    check that the handler copes with any object, not only with the bytes Function Compute sends.
    """
    function_info = getattr(context, "function", None)
    if function_info is not None and getattr(function_info, "name", "") is None:
        function_info.name = function  # as in Function Compute: the context names the function invoked
    if raw:
        payload = event
    else:
        payload = event if isinstance(event, (bytes, str)) or event is None else json.dumps(event).encode()
        payload = payload if payload is not None else b""
    after = [hook(function, payload) for hook in INVOKE_HOOKS]
    try:
        with _role_environment(context):
            result = load_handler(function).handler(payload, context)
    except BaseException as error:
        for done in after:
            done(None, error)
        raise
    for done in after:
        done(result, None)
    return result


class LiveEnv(dict):
    """The function's environment for one test: every change goes to ``os.environ`` through monkeypatch
    (so it is undone after the test), and the dict shows what the test set."""

    def __init__(self, monkeypatch: Any) -> None:
        super().__init__()
        self._monkeypatch = monkeypatch

    def __setitem__(self, key: str, value: str) -> None:
        super().__setitem__(key, value)
        self._monkeypatch.setenv(key, value)

    def __delitem__(self, key: str) -> None:
        super().__delitem__(key)
        self._monkeypatch.delenv(key)

    def update(self, *args: Any, **kwargs: Any) -> None:
        for key, value in dict(*args, **kwargs).items():
            self[key] = value


def live_env(monkeypatch: Any, **values: str) -> LiveEnv:
    """A clean function environment: none of the host's project settings, then ``values``."""
    for name in PROJECT_ENV:
        monkeypatch.delenv(name, raising=False)
    env = LiveEnv(monkeypatch)
    env.update(values)
    return env


def capture_logs(monkeypatch: Any) -> io.StringIO:
    """The project's JSON log lines go to this buffer for the test."""
    from ecs_renewal import logs

    stream = io.StringIO()
    monkeypatch.setattr(logs, "_default_stream", stream)
    return stream
