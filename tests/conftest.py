"""Suite-wide: the secret guard and the reliability ledger watch every test (see tests/reliability/ledger.py).

``pytest --reliability-report`` prints what the run proved as a markdown table and writes
``build/reliability.json``.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests import handlers
from tests.reliability import ledger


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--reliability-report", action="store_true", default=False,
        help="print the reliability table (faults, replays, double renewals, lost instances, leaks) "
             "and write build/reliability.json",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "promise(n): the issue-4 promise (1-7) this test proves")
    config.addinivalue_line(
        "markers", "renewals_allowed(n): this test renews an instance up to n times on purpose (default 1)"
    )
    config.addinivalue_line("markers", "real_backoff: tests/reliability: keep the retry policy's real sleeps")
    ledger.install()


@pytest.fixture(autouse=True)
def _fresh_notification_ledger(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Each test starts with no reminders "already sent today" (the ledger lives under /tmp otherwise):
    set through the core package's public hook, so that it holds inside emulated functions too."""
    from ecs_renewal.idempotency import reminders

    reminders.use_default_directory(str(tmp_path_factory.mktemp("notified")))
    try:
        yield
    finally:
        reminders.use_default_directory(None)


@pytest.fixture(autouse=True)
def _reliability_watch(request: pytest.FixtureRequest) -> Iterator[ledger.Watch]:
    """Sees every log line, DingTalk message and exception message as it leaves, through the core
    package's public hook (``redaction.observe_output``): nothing of the package is patched."""
    from ecs_renewal import redaction

    allowed = request.node.get_closest_marker("renewals_allowed")
    watch = ledger.Watch(
        request.node.nodeid,
        in_reliability="tests/reliability/" in request.node.nodeid,
        renewals_allowed=allowed.args[0] if allowed else 1,
    )
    stop_watching = redaction.observe_output(watch.text)
    handlers.INVOKE_HOOKS.append(watch.before_invoke)
    try:
        yield watch
    finally:
        handlers.INVOKE_HOOKS.remove(watch.before_invoke)
        stop_watching()
    problems = watch.finish()
    if problems:
        pytest.fail("reliability guard:\n" + "\n".join(problems[:10]), pytrace=False)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo) -> Iterator[None]:
    outcome = yield
    report = outcome.get_result()
    if report.when != "call":
        return
    leaks = ledger.scan_captured(report.sections)
    if leaks and report.passed:
        report.outcome = "failed"
        report.longrepr = "secret guard: " + "\n".join(leaks[:10])
    if report.passed:
        marker = item.get_closest_marker("promise")
        for number in marker.args if marker else ():
            ledger.LEDGER.tests_by_promise[number] += 1


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    if not config.getoption("--reliability-report"):
        return
    data = ledger.LEDGER.as_dict()
    ledger.write_report(data)
    terminalreporter.write_sep("=", "reliability report")
    terminalreporter.write_line(ledger.render_markdown(data))
    terminalreporter.write_line(f"(written to {ledger.REPORT_JSON.relative_to(ledger.ROOT)})")
