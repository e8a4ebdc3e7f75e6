"""Load and invoke the three handlers exactly as Function Compute would: event bytes + a context."""

from __future__ import annotations

import importlib.util
import io
import json
from collections.abc import Callable
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


def fc_context(credentials: Any = None, *, request_id: str = "test-request", timeout: int = 120) -> SimpleNamespace:
    """A stand-in for Function Compute's context object (python3.10 runtime shape)."""
    creds = SimpleNamespace(
        access_key_id=getattr(credentials, "access_key_id", ""),
        access_key_secret=getattr(credentials, "access_key_secret", ""),
        security_token=getattr(credentials, "security_token", ""),
    )
    return SimpleNamespace(
        request_id=request_id,
        credentials=creds,
        function=SimpleNamespace(name=None, handler="index.handler", memory=256, timeout=timeout),
        region="cn-hangzhou",
        account_id="1234567890123456",
    )


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
