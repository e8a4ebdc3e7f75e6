"""Fixtures for the performance tests: the integration tests' emulator and ``run``, without client pacing.

No test here measures time: they count calls (exactly) and compare results across interleavings. The
client-side pacing (``ECS_MAX_QPS``) is set high so that hundreds of calls take a fraction of a second;
the rate limiter itself is tested with a fake clock (``test_rate_limiter.py``).
"""

from __future__ import annotations

import pytest

from tests.integration.conftest import emulator, env, log_lines, run  # noqa: F401 - fixtures, re-exported


@pytest.fixture(autouse=True)
def fast_pacing(request) -> None:
    if "env" in request.fixturenames:
        # TagResources (the renewal ledger, two a renewal) under the emulator's 100/s for it.
        request.getfixturevalue("env")["ECS_MAX_QPS"] = "5000,TagResources=90"
