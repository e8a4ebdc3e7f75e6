"""Fixtures for the deployment checks: s.yaml, events, RAM policies, function packages.

What they compare against is vendored: fc3's schema in ``tests/deploy/schemas/`` (MIT, with its licence)
and the contract in ``docs/contract.md``. Nothing here reads outside the repository (``make check-fresh``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SCHEMAS = Path(__file__).resolve().parent / "schemas"
CONTRACT = ROOT / "docs" / "contract.md"
FUNCTIONS = ("scan-expiring", "renew-batch", "audit-autorenew")  # the nightly jobs (a timer each)
APPROVE_FUNCTION = "approve-renewal"  # the fourth: an HTTP trigger, no timer
ALL_FUNCTIONS = (*FUNCTIONS, APPROVE_FUNCTION)


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "packaging: builds the function packages with pip (PyPI; cached in build/.deps-*)"
    )


def vendored_file(path: Path) -> Path:
    if not path.is_file():
        pytest.fail(f"{path.relative_to(ROOT)} is missing from the repository", pytrace=False)
    return path


@pytest.fixture(scope="session")
def s_yaml() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "s.yaml").read_text(encoding="utf-8"))
