"""Where plans, run records, the expiry page and the ledgers live: a small object-store interface.

Two implementations behind :class:`ObjectStore`:

- :class:`OssStore` — an OSS bucket through oss2 (Alibaba's OSS SDK), signed with the function's STS
  credentials (``x-oss-security-token``; never a static key). ``put_if_absent`` is PutObject with
  ``x-oss-forbid-overwrite: true`` (OSS answers 409 FileAlreadyExists), so two instances racing for the
  same record cannot both win. ``signed_url`` is oss2's V1 query signature (``Expires``, ``Signature``,
  ``security-token``). The bucket is named by ``APPROVAL_BUCKET`` (``s.yaml`` vars), created by the user.
- :class:`FolderStore` — a folder, for the command line and tests. Its ``signed_url`` is a ``file://``
  URL: a folder cannot share, and says so (``shareable`` is False).

``make demo`` uses :class:`OssStore` against the emulator's OSS subset, which checks oss2's signatures:
the code path the cloud runs is the one the demo runs.
"""

from __future__ import annotations

import os
import re
from abc import ABC, abstractmethod
from collections.abc import Mapping
from pathlib import Path
from typing import Any

_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._\-/]{0,500}$")


def check_key(key: str) -> str:
    if not _KEY_RE.match(key) or ".." in key or "//" in key:
        raise ValueError(f"not a store key: {key!r}")
    return key


class ObjectStore(ABC):
    shareable = True  # signed_url gives a link a person can open from a DingTalk message

    @abstractmethod
    def get(self, key: str) -> bytes | None:
        """The object's bytes, or None when there is none."""

    @abstractmethod
    def put(self, key: str, data: bytes, content_type: str = "application/json") -> None:
        """Store (or replace) the object."""

    @abstractmethod
    def put_if_absent(self, key: str, data: bytes, content_type: str = "application/json") -> bool:
        """Store the object unless one exists; True when this call stored it (the first writer wins)."""

    @abstractmethod
    def signed_url(self, key: str, expires_seconds: int) -> str:
        """A URL that reads the object until it expires."""


class FolderStore(ObjectStore):
    shareable = False

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / check_key(key)

    def get(self, key: str) -> bytes | None:
        try:
            return self._path(key).read_bytes()
        except OSError:
            return None

    def put(self, key: str, data: bytes, content_type: str = "application/json") -> None:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
        tmp.write_bytes(data)
        tmp.replace(path)  # atomic: a crash never leaves half an object

    def put_if_absent(self, key: str, data: bytes, content_type: str = "application/json") -> bool:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("xb") as handle:  # O_EXCL: one creator wins, also across processes
                handle.write(data)
        except FileExistsError:
            return False
        return True

    def signed_url(self, key: str, expires_seconds: int) -> str:
        return self._path(key).resolve().as_uri()


class OssStore(ObjectStore):
    """oss2, imported on first use (the functions that never store pay nothing at cold start)."""

    def __init__(self, bucket: str, endpoint: str, credentials: Any) -> None:
        import oss2

        self._oss2 = oss2
        auth = oss2.StsAuth(credentials.access_key_id, credentials.access_key_secret, credentials.security_token)
        self.bucket = oss2.Bucket(auth, endpoint, bucket, connect_timeout=10)
        self.name = bucket

    def get(self, key: str) -> bytes | None:
        try:
            return self.bucket.get_object(check_key(key)).read()
        except self._oss2.exceptions.NoSuchKey:
            return None

    def put(self, key: str, data: bytes, content_type: str = "application/json") -> None:
        self.bucket.put_object(check_key(key), data, headers={"Content-Type": content_type})

    def put_if_absent(self, key: str, data: bytes, content_type: str = "application/json") -> bool:
        try:
            self.bucket.put_object(check_key(key), data, headers={"Content-Type": content_type,
                                                                  "x-oss-forbid-overwrite": "true"})
        except self._oss2.exceptions.ServerError as error:
            if error.status == 409 and error.code == "FileAlreadyExists":
                return False
            raise
        return True

    def signed_url(self, key: str, expires_seconds: int) -> str:
        return self.bucket.sign_url("GET", check_key(key), expires_seconds, slash_safe=True)


def oss_endpoint(environ: Mapping[str, str]) -> str:
    """``OSS_ENDPOINT`` when set (the emulator, a proxy), else the region's public endpoint: the signed URLs
    in DingTalk messages are opened from people's phones, which cannot reach an internal endpoint."""
    explicit = environ.get("OSS_ENDPOINT", "").strip()
    if explicit:
        return explicit
    region = environ.get("FC_REGION") or environ.get("ALIBABA_CLOUD_REGION_ID") or "cn-hangzhou"
    return f"https://oss-{region}.aliyuncs.com"


def open_store(environ: Mapping[str, str], credentials: Any = None) -> ObjectStore | None:
    """The configured store: ``APPROVAL_BUCKET`` (OSS), else ``APPROVAL_STORE_DIR`` (a folder), else None."""
    bucket = environ.get("APPROVAL_BUCKET", "").strip()
    if bucket:
        if credentials is None:
            from ..credentials import from_environment

            credentials = from_environment(environ)
        if credentials is None or not credentials.security_token:
            raise ValueError("APPROVAL_BUCKET is set but there are no STS credentials to reach OSS with")
        return OssStore(bucket, oss_endpoint(environ), credentials)
    folder = environ.get("APPROVAL_STORE_DIR", "").strip()
    return FolderStore(folder) if folder else None
