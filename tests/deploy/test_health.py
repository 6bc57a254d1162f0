"""Health checks: parsing an app's setting, HTTP and command checks with injected I/O,
and a quick real check against a loopback HTTP server."""

from __future__ import annotations

import socket
import sys
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from stackops.deploy.health import (
    CommandReply,
    HealthCheck,
    HttpReply,
    check_command,
    check_http,
    parse_health_check,
    run_health_check,
    urllib_get,
)
from stackops.errors import InvalidInput

PY = sys.executable


class Sleeps:
    """A `sleep` that records instead of waiting."""

    def __init__(self) -> None:
        self.calls: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.calls.append(seconds)


class Gets:
    """A `get` that answers from a script and records the URLs and timeouts asked."""

    def __init__(self, *replies: HttpReply) -> None:
        self.replies = list(replies)
        self.calls: list[tuple[str, float]] = []

    def __call__(self, url: str, timeout: float) -> HttpReply:
        self.calls.append((url, timeout))
        return self.replies.pop(0)


REFUSED = HttpReply(None, error="[Errno 111] Connection refused")
OK = HttpReply(200, "ok")


# -- parse_health_check -------------------------------------------------------------


def test_parse_http_check() -> None:
    check = parse_health_check(
        {
            "path": "/health",
            "port": 8080,
            "retries": 3,
            "interval": 0.5,
            "timeout": 2,
            "expect_status": 200,
            "expect_text": "ok",
        }
    )
    assert check == HealthCheck(
        path="/health",
        port=8080,
        retries=3,
        interval=0.5,
        timeout=2.0,
        expect_status=200,
        expect_text="ok",
    )
    assert check is not None and check.kind == "http"
    assert isinstance(check.timeout, float)


def test_parse_command_check() -> None:
    check = parse_health_check({"command": ["curl", "-f", "http://localhost/health"]})
    assert check == HealthCheck(command=["curl", "-f", "http://localhost/health"])
    assert check is not None and check.kind == "command"


def test_no_setting_no_check() -> None:
    assert parse_health_check(None) is None


@pytest.mark.parametrize(
    ("config", "expected"),
    [
        ({}, "health_check needs path and port"),
        ({"path": "/h", "command": ["true"]}, "both command and path/port"),
        ({"pth": "/h"}, "unknown field(s) 'pth'; valid fields: path, port, command"),
        ({"path": "health"}, "health_check.path 'health' must start with '/'"),
        ({"path": 5}, "health_check.path must be a string"),
        ({"port": 0}, "health_check.port 0 must be from 1 to 65535"),
        ({"port": "80"}, "health_check.port must be a whole number, not '80'"),
        ({"port": True}, "health_check.port must be a whole number, not True"),
        ({"port": 80.0}, "health_check.port must be a whole number"),
        ({"command": "curl -f http://x"}, "health_check.command must be a list of strings"),
        ({"command": []}, "health_check.command must be a non-empty list"),
        ({"command": ["curl", ""]}, "health_check.command must be a non-empty list"),
        ({"command": ["true"], "expect_status": 200}, "expect_status applies to HTTP checks"),
        ({"port": 80, "expect_status": 42}, "health_check.expect_status 42 must be an HTTP"),
        ({"port": 80, "expect_text": ""}, "health_check.expect_text must not be empty"),
        ({"port": 80, "retries": 0}, "health_check.retries 0 must be from 1 to 100"),
        ({"port": 80, "interval": -1}, "health_check.interval -1.0 must be from 0 to 600"),
        ({"port": 80, "timeout": 0}, "health_check.timeout 0.0 must be more than 0"),
        ({"port": 80, "timeout": "5s"}, "health_check.timeout must be a number of seconds"),
        (["/health"], "health_check must be a mapping"),
    ],
)
def test_parse_refuses_invalid_settings(config: Any, expected: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_health_check(config)
    assert expected in err.value.message


# -- check_http with an injected get --------------------------------------------------


def test_http_retries_until_ok() -> None:
    gets, sleeps = Gets(REFUSED, HttpReply(503, "starting"), OK), Sleeps()
    check = HealthCheck(path="/health", port=8080, retries=5, interval=0.5, timeout=2.0)
    result = check_http(check, "10.0.0.5", 8080, get=gets, sleep=sleeps)
    assert result.ok and result.attempts == 3
    assert result.detail == "HTTP 200 from http://10.0.0.5:8080/health"
    assert gets.calls == [("http://10.0.0.5:8080/health", 2.0)] * 3
    assert sleeps.calls == [0.5, 0.5]  # between attempts, not before the first


def test_http_gives_up_after_the_last_attempt() -> None:
    gets, sleeps = Gets(REFUSED, REFUSED, REFUSED), Sleeps()
    result = check_http(HealthCheck(port=8080, retries=3), "10.0.0.5", 8080, get=gets, sleep=sleeps)
    assert not result.ok and result.attempts == 3
    assert result.detail == (
        "no response from http://10.0.0.5:8080/: [Errno 111] Connection refused (after 3 attempts)"
    )
    assert len(sleeps.calls) == 2 and not gets.replies


def test_http_wrong_status() -> None:
    check = HealthCheck(path="/h", port=80, retries=1)
    result = check_http(check, "h", 80, get=Gets(HttpReply(500, "boom")), sleep=Sleeps())
    assert not result.ok and result.attempts == 1
    assert result.detail == "HTTP 500 from http://h:80/h, expected 200 (after 1 attempt)"


def test_http_expected_text_missing() -> None:
    check = HealthCheck(path="/h", port=80, retries=2, expect_text="ok")
    gets = Gets(HttpReply(200, "degraded"), HttpReply(200, "all\nok\n"))
    assert check_http(check, "h", 80, get=gets, sleep=Sleeps()).attempts == 2
    gets = Gets(HttpReply(200, "degraded"), HttpReply(200, "degraded"))
    result = check_http(check, "h", 80, get=gets, sleep=Sleeps())
    assert not result.ok
    assert result.detail == "HTTP 200 from http://h:80/h without 'ok' (after 2 attempts)"


def test_http_other_expected_status() -> None:
    check = HealthCheck(path="/old", port=80, expect_status=301, retries=1)
    assert check_http(check, "h", 80, get=Gets(HttpReply(301)), sleep=Sleeps()).ok


def test_http_an_injected_get_that_raises_fails_an_attempt() -> None:
    def broken(url: str, timeout: float) -> HttpReply:
        raise ConnectionResetError("reset by peer")

    result = check_http(HealthCheck(port=80, retries=2), "h", 80, get=broken, sleep=Sleeps())
    assert not result.ok and "reset by peer" in result.detail


def test_http_ipv6_address() -> None:
    gets = Gets(OK)
    check_http(HealthCheck(path="/h", port=80), "fd00::5", 8081, get=gets, sleep=Sleeps())
    assert gets.calls[0][0] == "http://[fd00::5]:8081/h"


def test_run_health_check_adds_the_port_offset() -> None:
    gets = Gets(OK)
    check = HealthCheck(path="/health", port=8080)
    result = run_health_check(check, address="127.0.0.1", port_offset=200, get=gets)
    assert result.ok and gets.calls[0][0] == "http://127.0.0.1:8280/health"
    gets = Gets(OK)
    run_health_check(HealthCheck(path="/"), address="127.0.0.1", port_offset=3, get=gets)
    assert gets.calls[0][0] == "http://127.0.0.1:83/"  # port 80 when left out


# -- the default get, against a real server on loopback ------------------------------


class Handler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        routes = {"/health": (200, b"ok"), "/old": (302, b""), "/sick": (503, b"not yet")}
        status, body = routes.get(self.path, (404, b"no such page"))
        self.send_response(status)
        if status == 302:
            self.send_header("Location", "/health")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def server() -> Iterator[int]:
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield httpd.server_address[1]
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_real_http_check(server: int, monkeypatch: pytest.MonkeyPatch) -> None:
    # A proxy in the environment is not used: instances are reached directly.
    monkeypatch.setenv("http_proxy", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("HTTP_PROXY", f"http://127.0.0.1:{free_port()}")
    check = parse_health_check({"path": "/health", "port": server, "expect_text": "ok"})
    assert check is not None
    result = run_health_check(check, address="127.0.0.1", sleep=Sleeps())
    assert result.ok and result.attempts == 1
    assert result.detail == f"HTTP 200 from http://127.0.0.1:{server}/health"


def test_real_http_errors_are_replies(server: int) -> None:
    assert urllib_get(f"http://127.0.0.1:{server}/sick", 2.0) == HttpReply(503, "not yet")
    assert urllib_get(f"http://127.0.0.1:{server}/nope", 2.0).status == 404
    assert urllib_get(f"http://127.0.0.1:{server}/old", 2.0).status == 302  # not followed


def test_real_connection_refused_is_a_failed_attempt() -> None:
    port = free_port()
    sleeps = Sleeps()
    result = check_http(HealthCheck(port=port, retries=2), "127.0.0.1", port, sleep=sleeps)
    assert not result.ok and result.attempts == 2 and sleeps.calls == [1.0]
    assert result.detail.startswith(f"no response from http://127.0.0.1:{port}/: ")
    assert "\n" not in result.detail


def test_real_timeout_is_a_failed_attempt() -> None:
    with socket.socket() as silent:  # accepts connections (backlog), never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(1)
        port = silent.getsockname()[1]
        reply = urllib_get(f"http://127.0.0.1:{port}/", 0.2)
    assert reply.status is None and "timed out" in (reply.error or "")


def test_a_malformed_url_is_a_failed_attempt() -> None:
    assert urllib_get("http://127.0.0.1:99999/", 0.5).status is None


# -- check_command ----------------------------------------------------------------------


def py(code: str) -> list[str]:
    return [PY, "-c", code]


def test_command_exit_zero_is_healthy() -> None:
    check = HealthCheck(command=py("print('fine')"))
    result = check_command(check, sleep=Sleeps())
    assert result.ok and result.attempts == 1
    assert result.detail == f"{PY} exited 0: fine"


def test_command_failing_exhausts_the_attempts() -> None:
    sleeps = Sleeps()
    check = HealthCheck(command=py("import sys; print('db down'); sys.exit(3)"), retries=2)
    result = check_command(check, sleep=sleeps)
    assert not result.ok and result.attempts == 2 and sleeps.calls == [1.0]
    assert result.detail == f"{PY} exited 3: db down (after 2 attempts)"


def test_command_expect_text() -> None:
    check = HealthCheck(command=py("print('status: green')"), expect_text="green")
    assert check_command(check, sleep=Sleeps()).ok
    check = HealthCheck(command=py("print('status: red')"), expect_text="green", retries=1)
    result = check_command(check, sleep=Sleeps())
    assert not result.ok and "without 'green' in its output" in result.detail


def test_command_timeout_is_a_failed_attempt() -> None:
    check = HealthCheck(command=py("import time; time.sleep(30)"), timeout=0.3, retries=1)
    result = check_command(check, sleep=Sleeps())
    assert not result.ok and result.detail == f"{PY}: timed out after 0.3s (after 1 attempt)"


def test_command_that_cannot_start_is_a_failed_attempt(tmp_path: Path) -> None:
    check = HealthCheck(command=[str(tmp_path / "no-such-program")], retries=1)
    result = check_command(check, sleep=Sleeps())
    assert not result.ok and "cannot run" in result.detail


def test_command_env_and_cwd(tmp_path: Path) -> None:
    code = "import os, sys; sys.exit(os.getcwd() != sys.argv[1] or os.environ['APP'] != 'x')"
    check = HealthCheck(command=[*py(code), str(tmp_path)], retries=1)
    assert check_command(check, env={"APP": "x"}, cwd=str(tmp_path), sleep=Sleeps()).ok
    assert not check_command(check, env={"APP": "y"}, cwd=str(tmp_path), sleep=Sleeps()).ok


def test_command_with_an_injected_runner() -> None:
    replies = [CommandReply(None, error="timed out after 5s"), CommandReply(1), CommandReply(0)]
    calls: list[tuple[list[str], float]] = []

    def run(
        argv: Sequence[str], timeout: float, env: Mapping[str, str] | None, cwd: str | None
    ) -> CommandReply:
        calls.append((list(argv), timeout))
        return replies.pop(0)

    check = HealthCheck(command=["check-app"], timeout=5.0, interval=2.0)
    sleeps = Sleeps()
    result = run_health_check(check, address="ignored", run=run, sleep=sleeps)
    assert result.ok and result.attempts == 3 and result.detail == "check-app exited 0"
    assert calls == [(["check-app"], 5.0)] * 3 and sleeps.calls == [2.0, 2.0]


def test_check_command_needs_a_command_check() -> None:
    with pytest.raises(ValueError, match="needs a command check"):
        check_command(HealthCheck(port=80))


def test_command_timeout_ends_what_the_command_started(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    code = (
        "import subprocess, sys, time; "
        f"child = subprocess.Popen([sys.executable, '-c', 'import time; time.sleep(30)']); "
        f"open({str(pid_file)!r}, 'w').write(str(child.pid)); time.sleep(30)"
    )
    # time.sleep(600): only the timeout ends it; 5 s leaves the command time to start its
    # child on a busy machine.
    code = code.replace("time.sleep(30)", "time.sleep(600)")
    result = check_command(HealthCheck(command=py(code), timeout=5.0, retries=1), sleep=Sleeps())
    assert not result.ok and "timed out" in result.detail
    pid = int(pid_file.read_text())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _alive(pid):
        time.sleep(0.02)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        with open(f"/proc/{pid}/stat") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] not in ("Z", "X")
    except FileNotFoundError:
        return False
