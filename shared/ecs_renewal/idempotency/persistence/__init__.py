"""Where idempotency records are kept: :class:`KeyStore` (the interface) and :class:`FileStore`."""

from .base import KeyStore
from .file import FileStore

__all__ = ["FileStore", "KeyStore"]
