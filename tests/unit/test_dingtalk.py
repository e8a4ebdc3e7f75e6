"""DingTalkNotifier against a fake robot on 127.0.0.1 (no network beyond loopback)."""

from __future__ import annotations

import io
import json
import threading
import time
import urllib.parse
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from ecs_renewal import logs
from ecs_renewal.notify import dingtalk
from ecs_renewal.notify.dingtalk import MAX_MESSAGE_BYTES, SENDS_PER_MINUTE, Delivery, DingTalkNotifier, sign
from ecs_renewal.notify.messages import Message

ACCESS_TOKEN = "tok0123456789abcdefSECRETTOKEN"
SIGNING_SECRET = "SEC0123456789abcdef"
OK = {"errcode": 0, "errmsg": "ok"}


class FakeRobot(BaseHTTPRequestHandler):
    """Answers each POST with the next queued (status, body, delay); records what it received."""

    server: RobotServer

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.received.append((self.path, json.loads(body)))
        status, reply, delay = self.server.replies.pop(0) if self.server.replies else (200, OK, 0.0)
        if delay:
            time.sleep(delay)
        data = reply if isinstance(reply, bytes) else json.dumps(reply).encode()
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)
        except OSError:  # the client gave up (timeout test)
            pass

    def log_message(self, *args: object) -> None:  # keep pytest output clean
        pass


class RobotServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # do not wait for the timeout test's slow handler

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), FakeRobot)
        self.received: list[tuple[str, dict]] = []
        self.replies: list[tuple[int, dict | bytes, float]] = []

    def reply(self, status: int = 200, body: dict | bytes = OK, delay: float = 0.0) -> None:
        self.replies.append((status, body, delay))

    @property
    def webhook(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/robot/send?access_token={ACCESS_TOKEN}"

    def query(self, index: int) -> dict[str, str]:
        path = self.received[index][0]
        return {key: values[0] for key, values in urllib.parse.parse_qs(urllib.parse.urlsplit(path).query).items()}


@pytest.fixture
def robot() -> Iterator[RobotServer]:
    server = RobotServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def log_stream() -> io.StringIO:
    return io.StringIO()


@pytest.fixture
def sleeps() -> list[float]:
    return []


def make_notifier(robot, log_stream, sleeps, *, secret=SIGNING_SECRET, **knobs) -> DingTalkNotifier:
    return DingTalkNotifier(robot.webhook, secret, logger=logs.JsonLogger(log_stream),
                            delivery=Delivery(sleep=sleeps.append, timeout=knobs.pop("timeout", 2.0), **knobs))


def log_records(stream: io.StringIO) -> list[dict]:
    return [json.loads(line) for line in stream.getvalue().splitlines()]


def test_sign_matches_the_reference_vector():
    assert sign("SEC0123456789abcdef", 1700000000000) == "TSZbRFUuvaSQaRKUpF970OPCb2%2FLcQAP3wOvwZIzBZk%3D"


def test_send_posts_markdown_with_timestamp_and_sign(robot, log_stream, sleeps):
    notifier = make_notifier(robot, log_stream, sleeps, clock=lambda: 1700000000.0)

    assert notifier.send_markdown("ECS renewal · t", "ECS renewal body") is True

    query = robot.query(0)
    assert query["access_token"] == ACCESS_TOKEN
    assert query["timestamp"] == "1700000000000"
    assert query["sign"] == urllib.parse.unquote_plus(sign(SIGNING_SECRET, 1700000000000))
    assert robot.received[0][1] == {
        "msgtype": "markdown",
        "markdown": {"title": "ECS renewal · t", "text": "ECS renewal body"},
        "at": {"atMobiles": [], "atUserIds": [], "isAtAll": False},
    }


def test_each_attempt_gets_a_fresh_timestamp(robot, log_stream, sleeps):
    ticks = iter(range(1700000000, 1700000100))
    notifier = make_notifier(robot, log_stream, sleeps, clock=lambda: float(next(ticks)))
    robot.reply(503)

    assert notifier.send_markdown("ECS renewal", "ECS renewal") is True
    assert robot.query(0)["timestamp"] != robot.query(1)["timestamp"]


def test_without_secret_the_url_is_the_webhook(robot, log_stream, sleeps):
    notifier = make_notifier(robot, log_stream, sleeps, secret=None)

    assert notifier.send_markdown("ECS renewal", "ECS renewal") is True
    assert set(robot.query(0)) == {"access_token"}


def test_mentions_are_added_to_the_text(robot, log_stream, sleeps):
    notifier = make_notifier(robot, log_stream, sleeps)

    notifier.send_markdown("ECS renewal", "ECS renewal alert", at_mobiles=["13800000000"], at_user_ids=["ops1"])

    body = robot.received[0][1]
    assert body["at"] == {"atMobiles": ["13800000000"], "atUserIds": ["ops1"], "isAtAll": False}
    assert "@13800000000" in body["markdown"]["text"]
    assert "@ops1" in body["markdown"]["text"]


def test_oversized_text_is_truncated(robot, log_stream, sleeps):
    notifier = make_notifier(robot, log_stream, sleeps)

    assert notifier.send_markdown("ECS renewal", "ECS renewal " + "续费" * 10000) is True
    text = robot.received[0][1]["markdown"]["text"]
    assert len(text.encode()) <= MAX_MESSAGE_BYTES
    assert text.endswith("…")


@pytest.mark.parametrize(
    ("errcode", "errmsg"),
    [(310000, "keywords not in content"), (310000, "sign not match"), (300001, "token is not exist")],
)
def test_rejections_are_not_retried(robot, log_stream, sleeps, errcode, errmsg):
    notifier = make_notifier(robot, log_stream, sleeps)
    robot.reply(body={"errcode": errcode, "errmsg": errmsg})

    assert notifier.send_markdown("ECS renewal", "ECS renewal") is False

    assert len(robot.received) == 1
    assert sleeps == []
    failure = log_records(log_stream)[-1]
    assert failure["level"] == "ERROR"
    assert (failure["errcode"], failure["errmsg"]) == (errcode, errmsg)


def test_rate_limited_robot_is_not_retried_nor_called_again_in_this_run(robot, log_stream, sleeps):
    notifier = make_notifier(robot, log_stream, sleeps)
    robot.reply(body={"errcode": 130101, "errmsg": "send too fast, exceed 20 times per minute"})

    assert notifier.send_markdown("ECS renewal", "ECS renewal") is False
    assert notifier.send_markdown("ECS renewal", "ECS renewal") is False

    assert len(robot.received) == 1
    assert sleeps == []
    assert any(record.get("errcode") == 130101 for record in log_records(log_stream))


def test_server_errors_are_retried_then_given_up(robot, log_stream, sleeps):
    notifier = make_notifier(robot, log_stream, sleeps, max_attempts=3)
    for _ in range(3):
        robot.reply(502, b"<html>bad gateway</html>")

    assert notifier.send_markdown("ECS renewal", "ECS renewal") is False

    assert len(robot.received) == 3
    assert len(sleeps) == 2
    assert all(0 < delay <= 6 for delay in sleeps)
    assert log_records(log_stream)[-1]["http_status"] == 502


def test_server_error_then_success(robot, log_stream, sleeps):
    notifier = make_notifier(robot, log_stream, sleeps)
    robot.reply(500)

    assert notifier.send_markdown("ECS renewal", "ECS renewal") is True
    assert len(robot.received) == 2


def test_client_errors_and_non_json_are_not_retried(robot, log_stream, sleeps):
    notifier = make_notifier(robot, log_stream, sleeps)
    robot.reply(404, b"not found")
    robot.reply(200, b"<html>captive portal</html>")

    assert notifier.send_markdown("ECS renewal", "ECS renewal") is False
    assert notifier.send_markdown("ECS renewal", "ECS renewal") is False
    assert len(robot.received) == 2
    assert sleeps == []


def test_timeout_returns_false(robot, log_stream, sleeps):
    notifier = DingTalkNotifier(
        robot.webhook, logger=logs.JsonLogger(log_stream), delivery=Delivery(sleep=sleeps.append, timeout=0.2,
                                                                             max_attempts=1)
    )
    robot.reply(delay=0.5)

    assert notifier.send_markdown("ECS renewal", "ECS renewal") is False
    assert log_records(log_stream)[-1]["level"] == "ERROR"


def test_network_errors_are_retried(mocker, log_stream, sleeps):
    urlopen = mocker.patch.object(dingtalk.urllib.request, "urlopen", side_effect=TimeoutError("timed out"))
    notifier = DingTalkNotifier(
        f"https://oapi.dingtalk.com/robot/send?access_token={ACCESS_TOKEN}",
        logger=logs.JsonLogger(log_stream),
        delivery=Delivery(sleep=sleeps.append, max_attempts=3),
    )

    assert notifier.send_markdown("ECS renewal", "ECS renewal") is False
    assert urlopen.call_count == 3
    assert len(sleeps) == 2


def test_unreachable_robot_returns_false(log_stream, sleeps):
    server = RobotServer()
    webhook = server.webhook
    server.server_close()  # nothing listens on that port any more: connection refused
    notifier = DingTalkNotifier(webhook, logger=logs.JsonLogger(log_stream), delivery=Delivery(sleep=sleeps.append))

    assert notifier.send_markdown("ECS renewal", "ECS renewal") is False


def test_send_never_raises(mocker, log_stream, sleeps):
    mocker.patch.object(dingtalk.urllib.request, "urlopen", side_effect=RuntimeError("boom"))
    notifier = DingTalkNotifier(
        f"https://oapi.dingtalk.com/robot/send?access_token={ACCESS_TOKEN}",
        logger=logs.JsonLogger(log_stream),
        delivery=Delivery(sleep=sleeps.append),
    )

    assert notifier.send_markdown("ECS renewal", "ECS renewal") is False
    assert notifier.send_all([Message("ECS renewal", "ECS renewal")]) == 0
    assert log_records(log_stream)[-1]["level"] == "ERROR"


def test_no_webhook_means_notifications_off(log_stream):
    notifier = DingTalkNotifier("", logger=logs.JsonLogger(log_stream))

    assert notifier.enabled is False
    assert notifier.send_markdown("ECS renewal", "ECS renewal") is False
    assert notifier.send_all([Message("ECS renewal", "ECS renewal")]) == 0
    records = log_records(log_stream)
    assert [record["event"] for record in records] == ["notifications off"]
    assert records[0]["level"] == "INFO"


def test_send_all_stays_under_the_rate_limit_and_lists_what_it_dropped(robot, log_stream, sleeps):
    now = [1700000000.0]
    notifier = make_notifier(robot, log_stream, sleeps, clock=lambda: now[0])
    messages = [Message(f"ECS renewal #{i}", f"ECS renewal {i}") for i in range(25)]

    assert notifier.send_all(messages) == SENDS_PER_MINUTE

    assert len(robot.received) == SENDS_PER_MINUTE
    sent_texts = [body["markdown"]["text"] for _, body in robot.received]
    assert sent_texts == [m.text for m in messages[:SENDS_PER_MINUTE]]
    warnings = [r for r in log_records(log_stream) if r["level"] == "WARNING"]
    assert len(warnings) == 1
    assert warnings[0]["dropped"] == [m.title for m in messages[SENDS_PER_MINUTE:]]
    assert sleeps == []  # never waits out the minute

    now[0] += 61
    assert notifier.send_all(messages[:2]) == 2


def test_send_all_counts_successes(robot, log_stream, sleeps):
    notifier = make_notifier(robot, log_stream, sleeps)
    robot.reply()
    robot.reply(body={"errcode": 310000, "errmsg": "keywords not in content"})
    robot.reply()

    assert notifier.send_all([Message("ECS renewal", f"ECS renewal {i}") for i in range(3)]) == 2


def test_secrets_never_reach_the_logs(robot, sleeps, mocker):
    stream = io.StringIO()
    logs.set_stream(stream)  # also catch anything that would go through the root logger
    try:
        delivery = Delivery(sleep=sleeps.append, max_attempts=2)
        notifier = DingTalkNotifier(robot.webhook, SIGNING_SECRET, delivery=delivery)
        robot.reply(body={"errcode": 310000, "errmsg": "sign not match"})
        robot.reply(500)
        robot.reply(500)
        notifier.send_markdown("ECS renewal", "ECS renewal")  # rejected
        notifier.send_markdown("ECS renewal", "ECS renewal")  # retried, then given up
        notifier.send_markdown("ECS renewal", "ECS renewal")  # delivered
        mocker.patch.object(dingtalk.urllib.request, "urlopen", side_effect=OSError(f"bad {robot.webhook}"))
        notifier.send_markdown("ECS renewal", "ECS renewal")  # an error that quotes the URL
    finally:
        logs.set_stream(None)

    output = stream.getvalue()
    assert "127.0.0.1" in output  # the host is logged ...
    assert ACCESS_TOKEN not in output  # ... the token and the secret never
    assert SIGNING_SECRET not in output
    assert "sign not match" in output
