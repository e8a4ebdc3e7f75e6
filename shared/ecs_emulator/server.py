"""HTTP layer: a ThreadingHTTPServer speaking HTTP/1.1 keep-alive, one socket write per answer.

Routes: ``/`` (GET or POST) = RPC (ECS and STS), ``POST /robot/send`` = DingTalk robot,
``/2016-08-15/...`` = Function Compute's invoke endpoint (``fc.py``),
``GET /_emulator/state`` = read-only JSON summary for humans.
"""

from __future__ import annotations

import contextlib
import json
import logging
import socket
import threading
import time
import urllib.parse
from email.utils import formatdate
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING

from .errors import ApiError, error_body, new_request_id

if TYPE_CHECKING:
    from .emulator import Emulator

log = logging.getLogger("ecs_emulator")
MAX_BODY_BYTES = 1 << 20


class EmulatorHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], emulator: Emulator) -> None:
        self.emulator = emulator
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        super().__init__(address, RequestHandler)

    def track(self, connection: socket.socket, opened: bool) -> None:
        with self._connections_lock:
            if opened:
                self._connections.add(connection)
            else:
                self._connections.discard(connection)

    def close_all_connections(self) -> None:
        """Idle keep-alive connections would otherwise keep their handler threads alive after stop()."""
        with self._connections_lock:
            connections = list(self._connections)
        for connection in connections:
            with contextlib.suppress(OSError):
                connection.shutdown(socket.SHUT_RDWR)


class RequestHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "ecs-emulator/1"
    sys_version = ""
    disable_nagle_algorithm = True  # no Nagle + one write per answer: no delayed-ACK stalls on loopback
    timeout = 300  # idle keep-alive connections are closed after this
    server: EmulatorHTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.track(self.connection, opened=True)

    def finish(self) -> None:
        self.server.track(self.connection, opened=False)
        super().finish()

    def log_message(self, format: str, *args: object) -> None:
        log.debug("%s - %s", self.address_string(), format % args)

    def do_GET(self) -> None:
        self._dispatch()

    def do_POST(self) -> None:
        self._dispatch()

    def do_PUT(self) -> None:
        self._dispatch()

    def do_HEAD(self) -> None:
        self._dispatch()

    # ---- dispatch ---------------------------------------------------------------------------

    def _dispatch(self) -> None:
        try:
            body = self._read_body()
            if body is None:
                return
            url = urllib.parse.urlsplit(self.path)
            emulator = self.server.emulator
            if emulator.oss.is_oss_request(self.headers, url.query):  # path style: /<bucket>/<key>
                answer = emulator.oss.handle(self.command, url.path, url.query, self.headers, body)
                self._write_bytes(answer.status, answer.body if self.command != "HEAD" else b"", answer.headers)
            elif url.path.startswith("/http/"):  # an FC HTTP trigger: /http/<function>/<path>
                function, _, rest = url.path[len("/http/"):].partition("/")
                answer = emulator.fc.http_trigger(function, self.command, "/" + rest, url.query, self.headers, body,
                                                  self.client_address[0])
                self._write_bytes(answer.status, answer.body, answer.headers)
            elif url.path == "/":
                self._rpc(url.query, body)
            elif url.path == "/robot/send" and self.command == "POST":
                query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
                answer = emulator.dingtalk.handle(query, self.headers.get("Content-Type", ""), body)
                if emulator.dingtalk.delay > 0:
                    time.sleep(emulator.dingtalk.delay)
                self._write(200, answer)
            elif url.path.startswith(("/2016-08-15/", "/2023-03-30/")):
                answer = emulator.fc.handle(self.command, url.path, url.query, self.headers, body)
                self._write_bytes(answer.status, answer.body, answer.headers)
            elif url.path == "/_emulator/state" and self.command == "GET":
                self._write(200, emulator.state_summary())
            else:
                error = ApiError(404, "InvalidPath.NotFound", f"No such path: {self.command} {url.path}")
                self._write(404, error_body(error, new_request_id(), "ecs.aliyuncs.com"))
        except (ConnectionError, TimeoutError):
            self.close_connection = True
        except Exception:  # a bug in the emulator must still produce an answer
            log.exception("emulator failure on %s %s", self.command, self.path)
            error = ApiError(500, "InternalError", "The ECS emulator failed; see its log.")
            self._write(500, error_body(error, new_request_id(), "ecs.aliyuncs.com"))

    def _read_body(self) -> bytes | None:
        if self.headers.get("Transfer-Encoding", "").lower() == "chunked":
            self._write(411, {"Code": "MissingContentLength", "Message": "Chunked bodies are not supported."})
            self.close_connection = True
            return None
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._write(413, {"Code": "RequestEntityTooLarge", "Message": "Body too large."})
            self.close_connection = True
            return None
        return self.rfile.read(length) if length else b""

    def _rpc(self, query: str, body: bytes) -> None:
        emulator = self.server.emulator
        pairs: list[tuple[str, str]] = []
        parse_error: ApiError | None = None
        try:
            pairs = urllib.parse.parse_qsl(query, keep_blank_values=True, errors="strict")
            content_type = self.headers.get("Content-Type", "")
            if body and content_type.lower().startswith("application/x-www-form-urlencoded"):
                pairs += urllib.parse.parse_qsl(body.decode("utf-8"), keep_blank_values=True, errors="strict")
        except UnicodeDecodeError:
            parse_error = ApiError(400, "InvalidParameter.Encoding", "Parameters must be UTF-8.")
        outcome = emulator.gateway.handle(self.command, pairs, parse_error)  # logged even when unreadable
        if outcome.drop:
            self._drop()
            return
        if outcome.delay_before_answer > 0:
            time.sleep(outcome.delay_before_answer)
        assert outcome.body is not None
        self._write(outcome.status, outcome.body, request_id=outcome.request_id)

    # ---- output -----------------------------------------------------------------------------

    def _write(self, status: int, payload: dict, request_id: str | None = None) -> None:
        body = json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        headers = {"Content-Type": "application/json;charset=utf-8"}
        if request_id:
            headers["x-acs-request-id"] = request_id
        self._write_bytes(status, body, headers)

    def _write_bytes(self, status: int, body: bytes, extra_headers: dict[str, str]) -> None:
        """One answer in one write (no delayed-ACK stall): status line, headers, body."""
        try:
            reason = HTTPStatus(status).phrase
        except ValueError:
            reason = ""
        headers = [
            f"HTTP/1.1 {status} {reason}",
            f"Server: {self.server_version}",
            f"Date: {formatdate(usegmt=True)}",
            f"Content-Length: {len(body)}",
            f"Connection: {'close' if self.close_connection else 'keep-alive'}",
            *(f"{name}: {value}" for name, value in extra_headers.items()),
        ]
        self.wfile.write(("\r\n".join(headers) + "\r\n\r\n").encode("latin-1") + body)
        self.log_request(status, len(body))

    def _drop(self) -> None:
        """Close the socket with no answer at all: the client sees a connection error."""
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)
