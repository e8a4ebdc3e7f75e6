"""Fixtures for the deployment checks: s.yaml, events, RAM policies, function packages.

The team's ``shared/`` folder (fc3's schema, the contract) sits beside the repository, as CI clones it;
when it is missing these tests fail and say so: they never skip.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

ROOT = Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
FUNCTIONS = ("scan-expiring", "renew-batch", "audit-autorenew")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "packaging: builds the function packages with pip (PyPI; cached in build/.deps-*)"
    )


def shared_file(relative: str) -> Path:
    path = SHARED / relative
    if not path.is_file():
        pytest.fail(f"{path} is missing: the team's shared/ folder must sit beside the repository "
                    f"({ROOT.name}/../shared), as CI clones it", pytrace=False)
    return path


@pytest.fixture(scope="session")
def s_yaml() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "s.yaml").read_text(encoding="utf-8"))
