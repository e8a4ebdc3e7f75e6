"""The OSS subset the approval store uses — PutObject, GetObject, signed URLs — checking oss2's signatures.

Path-style requests (``/<bucket>/<key>``: what oss2 sends to an IP endpoint). What is checked, as OSS does
(help.aliyun.com "在Header中包含签名" and "在URL中包含签名", signature version 1):

- header signature: ``Authorization: OSS <AccessKeyId>:<Signature>``, Signature = Base64(HMAC-SHA1(secret,
  VERB\\nContent-MD5\\nContent-Type\\nDate\\nCanonicalizedOSSHeaders + CanonicalizedResource)); ``Date`` within
  15 minutes of the server's clock (else 403 RequestTimeTooSkewed);
- URL signature: ``OSSAccessKeyId``, ``Expires`` (epoch seconds: the Date field of the string to sign; past it
  403 AccessDenied "Request has expired"), ``Signature``; ``security-token`` is a sub-resource of the
  canonical resource;
- STS keys must send their token (``x-oss-security-token`` or ``security-token``) and it must be theirs and
  unexpired (403 InvalidAccessKeyId / SecurityTokenExpired / InvalidSecurityToken);
- ``x-oss-forbid-overwrite: true`` on an existing object: 409 FileAlreadyExists; ``Content-MD5`` checked;
- a bucket must be created first (:meth:`ObjectStorage.create_bucket`, as the user does): else 404 NoSuchBucket.

Not emulated: RAM authorisation of ``oss:*`` actions (the key's account must own the bucket), V4 signatures,
listing, multipart, ACLs.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from email.utils import formatdate, parsedate_to_datetime
from urllib.parse import parse_qsl, unquote

from .keys import KeyRegistry

MAX_SKEW_SECONDS = 15 * 60
# The sub-resources oss2 (auth.py) puts in the canonical resource that this subset can meet.
SUBRESOURCES = frozenset({"security-token", "acl", "uploads", "location", "response-content-type",
                          "response-content-disposition", "response-cache-control", "response-expires"})


class OssError(Exception):
    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message)
        self.status, self.code, self.message = status, code, message


@dataclass
class OssAnswer:
    status: int
    body: bytes
    headers: dict[str, str]


@dataclass
class StoredObject:
    data: bytes
    content_type: str
    etag: str


class ObjectStorage:
    def __init__(self, keys: KeyRegistry, account_id: str) -> None:
        self._keys = keys
        self._account_id = account_id
        self._lock = threading.Lock()
        self.buckets: dict[str, dict[str, StoredObject]] = {}
        self.requests: list[tuple[str, str, str, int]] = []  # (method, bucket, key, status)

    def create_bucket(self, name: str) -> None:
        with self._lock:
            self.buckets.setdefault(name, {})

    def object(self, bucket: str, key: str) -> StoredObject | None:
        with self._lock:
            return self.buckets.get(bucket, {}).get(key)

    @staticmethod
    def is_oss_request(headers: Mapping[str, str], query: str) -> bool:
        return (headers.get("Authorization") or "").startswith("OSS ") or "OSSAccessKeyId=" in query

    def handle(self, method: str, raw_path: str, query: str, headers: Mapping[str, str], body: bytes) -> OssAnswer:
        request_id = uuid.uuid4().hex[:24].upper()
        bucket, _, key = unquote(raw_path).lstrip("/").partition("/")
        try:
            params = dict(parse_qsl(query, keep_blank_values=True))
            lowered = {name.lower(): value for name, value in headers.items()}
            self._authenticate(method, bucket, key, params, lowered)
            answer = self._serve(method, bucket, key, lowered, body)
        except OssError as error:
            answer = OssAnswer(error.status, _error_xml(error, request_id), {"Content-Type": "application/xml"})
        answer.headers["x-oss-request-id"] = request_id
        with self._lock:
            self.requests.append((method, bucket, key, answer.status))
        return answer

    # --- authentication --------------------------------------------------------------------------------

    def _authenticate(self, method: str, bucket: str, key: str, params: dict[str, str],
                      headers: dict[str, str]) -> None:
        if "ossaccesskeyid" in {name.lower() for name in params}:
            key_id, signature = params.get("OSSAccessKeyId", ""), params.get("Signature", "")
            date = params.get("Expires", "")
            if not date.isdigit():
                raise OssError(403, "AccessDenied", "Expires must be epoch seconds.")
            if time.time() > int(date):
                raise OssError(403, "AccessDenied", "Request has expired.")
            token = params.get("security-token")
        else:
            _, _, credential = headers.get("authorization", "").partition(" ")
            key_id, _, signature = credential.partition(":")
            date = headers.get("x-oss-date") or headers.get("date", "")
            self._check_date(date)
            token = headers.get("x-oss-security-token")
        record = self._keys.get(key_id)
        if record is None:
            raise OssError(403, "InvalidAccessKeyId", "The OSS Access Key Id you provided does not exist in our "
                           "records.")
        expected = sign_v1(record.access_key_secret, method, bucket, key, params, headers, date)
        if not hmac.compare_digest(expected, signature):
            raise OssError(403, "SignatureDoesNotMatch", "The request signature we calculated does not match the "
                           "signature you provided. Check your key and signing method.")
        if record.is_sts:
            if not token or not hmac.compare_digest(token, record.security_token or ""):
                raise OssError(403, "InvalidSecurityToken", "The security token you provided is invalid.")
            if record.expired():
                raise OssError(403, "SecurityTokenExpired", "The security token you provided has expired.")
        elif token:
            raise OssError(403, "InvalidSecurityToken", "A security token was sent with a static AccessKey.")
        if record.account_id != self._account_id:
            raise OssError(403, "AccessDenied", "You have no right to access this object.")

    @staticmethod
    def _check_date(date: str) -> None:
        try:
            sent = parsedate_to_datetime(date).timestamp()
        except (TypeError, ValueError):
            raise OssError(403, "AccessDenied", "Date header is missing or malformed.") from None
        if abs(time.time() - sent) > MAX_SKEW_SECONDS:
            raise OssError(403, "RequestTimeTooSkewed", "The difference between the request time and the "
                           "current time is too large.")

    # --- the objects -----------------------------------------------------------------------------------

    def _serve(self, method: str, bucket: str, key: str, headers: dict[str, str], body: bytes) -> OssAnswer:
        with self._lock:
            objects = self.buckets.get(bucket)
            if objects is None:
                raise OssError(404, "NoSuchBucket", "The specified bucket does not exist.")
            if not key:
                raise OssError(400, "InvalidObjectName", "This subset serves objects only.")
            if method == "PUT":
                return self._put(objects, key, headers, body)
            if method in ("GET", "HEAD"):
                found = objects.get(key)
                if found is None:
                    raise OssError(404, "NoSuchKey", "The specified key does not exist.")
                return OssAnswer(200, found.data if method == "GET" else b"",
                                 {"Content-Type": found.content_type, "ETag": f'"{found.etag}"'})
        raise OssError(405, "MethodNotAllowed", f"{method} is not served by this OSS subset.")

    @staticmethod
    def _put(objects: dict[str, StoredObject], key: str, headers: dict[str, str], body: bytes) -> OssAnswer:
        digest = hashlib.md5(body).digest()
        sent_md5 = headers.get("content-md5")
        if sent_md5 and sent_md5 != base64.b64encode(digest).decode():
            raise OssError(400, "InvalidDigest", "The Content-MD5 you specified did not match what we received.")
        if headers.get("x-oss-forbid-overwrite", "").lower() == "true" and key in objects:
            raise OssError(409, "FileAlreadyExists", "The object you specified already exists and can not be "
                           "overwritten.")
        etag = digest.hex().upper()
        objects[key] = StoredObject(body, headers.get("content-type", "application/octet-stream"), etag)
        return OssAnswer(200, b"", {"ETag": f'"{etag}"'})


def sign_v1(secret: str, method: str, bucket: str, key: str, params: Mapping[str, str],
            headers: Mapping[str, str], date: str) -> str:
    """OSS signature version 1, computed independently of oss2 from the documented string to sign."""
    oss_headers = sorted((name, value) for name, value in headers.items() if name.startswith("x-oss-"))
    canonical_headers = "".join(f"{name}:{value}\n" for name, value in oss_headers)
    sub = sorted((name, value) for name, value in params.items() if name in SUBRESOURCES)
    resource = f"/{bucket}/{key}" + ("?" + "&".join(f"{n}={v}" if v else n for n, v in sub) if sub else "")
    to_sign = "\n".join([method, headers.get("content-md5", ""), headers.get("content-type", ""), date,
                         canonical_headers + resource])
    return base64.b64encode(hmac.new(secret.encode(), to_sign.encode(), hashlib.sha1).digest()).decode()


def _error_xml(error: OssError, request_id: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>{error.code}</Code><Message>{error.message}'
            f"</Message><RequestId>{request_id}</RequestId><HostId>127.0.0.1</HostId></Error>").encode()


def http_date() -> str:
    return formatdate(usegmt=True)
