"""Where idempotency records are kept: :class:`KeyStore` (the interface) and :class:`FileStore`.

``FileStore`` is loaded on first use: renew-batch's ledger keeps its records in instance tags
(``tags.py``) and never needs the file store (nor ``pathlib``) at a cold start.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .base import KeyStore

if TYPE_CHECKING:
    from .file import FileStore

__all__ = ["FileStore", "KeyStore"]


def __getattr__(name: str) -> Any:
    if name == "FileStore":
        from .file import FileStore

        return FileStore
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
