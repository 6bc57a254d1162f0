"""Health checks of a deployed app (DESIGN §8): an HTTP GET or a command, retried.

The I/O is injected (`get`, `run`, `sleep`), so tests need neither network nor
waiting. The defaults never raise for a failed attempt: a refused connection, a
timeout, an HTTP error or a command that cannot start is an attempt that failed.

    check = parse_health_check({"path": "/health", "port": 8080, "expect_text": "ok"})
    result = run_health_check(check, address="10.0.0.5", port_offset=0)
    result.ok, result.attempts, result.detail
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from stackops.errors import InvalidInput
from stackops.model.health import HealthCheckSpec, build_health_check

DEFAULT_HTTP_PORT = 80
MAX_BODY = 65536  # bytes of a response body (or command output) looked at
MAX_SECONDS = 600.0
MAX_RETRIES = 100


@dataclass(frozen=True)
class HealthCheck:
    """An HTTP check (`path` and/or `port`; port 80 and path "/" when left out) or a
    command check (`command`, an argv run without a shell; ok on exit 0).

    `retries` is how many attempts in all (at least 1), `interval` the seconds
    between them, `timeout` the seconds one attempt may take. `expect_text`, when
    set, must appear in the response body (or the command's output).
    """

    path: str | None = None
    port: int | None = None
    command: list[str] | None = None
    expect_status: int = 200
    expect_text: str | None = None
    retries: int = 5
    interval: float = 1.0
    timeout: float = 5.0

    def __post_init__(self) -> None:
        if self.command is not None and (self.path is not None or self.port is not None):
            raise InvalidInput(
                "health_check gives both command and path/port; "
                "give path and port for an HTTP check, or command for a command check"
            )
        if self.command is None and self.path is None and self.port is None:
            raise InvalidInput(
                'health_check needs path and port (like {"path": "/health", "port": 8080}) '
                'or command (like {"command": ["curl", "-f", "http://localhost/health"]})'
            )
        if self.path is not None and not self.path.startswith("/"):
            raise InvalidInput(
                f"health_check.path {self.path!r} must start with '/' (like '/health')"
            )
        if self.port is not None and not 1 <= self.port <= 65535:
            raise InvalidInput(f"health_check.port {self.port} must be from 1 to 65535")
        if self.command is not None and (not self.command or not all(self.command)):
            raise InvalidInput(
                "health_check.command must be a non-empty list of non-empty arguments "
                '(like ["curl", "-f", "http://localhost/health"])'
            )
        if not 100 <= self.expect_status <= 599:
            raise InvalidInput(
                f"health_check.expect_status {self.expect_status} must be an HTTP status "
                "from 100 to 599"
            )
        if self.expect_text == "":
            raise InvalidInput("health_check.expect_text must not be empty; leave it out")
        if not 1 <= self.retries <= MAX_RETRIES:
            raise InvalidInput(
                f"health_check.retries {self.retries} must be from 1 to {MAX_RETRIES} "
                "(the number of attempts in all)"
            )
        if not 0 <= self.interval <= MAX_SECONDS:
            raise InvalidInput(
                f"health_check.interval {self.interval} must be from 0 to {MAX_SECONDS:g} seconds"
            )
        if not 0 < self.timeout <= MAX_SECONDS:
            raise InvalidInput(
                f"health_check.timeout {self.timeout} must be more than 0 and at most "
                f"{MAX_SECONDS:g} seconds"
            )

    @property
    def kind(self) -> Literal["http", "command"]:
        """Which check this is."""
        return "command" if self.command is not None else "http"


def parse_health_check(config: HealthCheckSpec | Mapping[str, Any] | None) -> HealthCheck | None:
    """The check an app's `health_check` describes (the model's `HealthCheckSpec`, or a
    mapping validated by it: one set of rules at the door and here); None when it has none."""
    if config is None:
        return None
    if not isinstance(config, HealthCheckSpec):
        config = build_health_check(config)
    return HealthCheck(**config.runtime_fields())


@dataclass(frozen=True)
class HealthResult:
    """How a check went: `detail` is one line with the last status or error."""

    ok: bool
    attempts: int
    detail: str


@dataclass(frozen=True)
class HttpReply:
    """One GET: the status and body text, or `error` when no response came."""

    status: int | None
    text: str = ""
    error: str | None = None


@dataclass(frozen=True)
class CommandReply:
    """One run of a command: its exit code and output, or `error` when it did not finish."""

    exit_code: int | None
    output: str = ""
    error: str | None = None


Getter = Callable[[str, float], HttpReply]
"""GET `url` within `timeout` seconds; never raises."""
Runner = Callable[[Sequence[str], float, Mapping[str, str] | None, str | None], CommandReply]
"""Run `argv` within `timeout` seconds with `env` and `cwd`; never raises."""
Sleeper = Callable[[float], None]


def _one_line(text: object, limit: int = 200) -> str:
    line = " ".join(str(text).split())
    return line if len(line) <= limit else line[: limit - 3] + "..."


def urllib_get(url: str, timeout: float) -> HttpReply:
    """GET with urllib: no proxy (instances are reached directly), redirects not followed
    (a 3xx is the status seen), HTTP errors are replies, other failures `error`."""
    import http.client
    import urllib.error
    import urllib.request

    class NoRedirect(urllib.request.HTTPRedirectHandler):
        def redirect_request(self, *args: Any, **kwargs: Any) -> None:
            return None

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}), NoRedirect())
    try:
        with opener.open(url, timeout=timeout) as response:
            return HttpReply(response.status, _decode(response.read(MAX_BODY)))
    except urllib.error.HTTPError as exc:
        with contextlib.closing(exc):
            body = exc.read(MAX_BODY) if exc.fp is not None else b""
        return HttpReply(exc.code, _decode(body))
    except urllib.error.URLError as exc:
        return HttpReply(None, error=_one_line(exc.reason))
    except (OSError, http.client.HTTPException, ValueError) as exc:
        return HttpReply(None, error=_one_line(f"{type(exc).__name__}: {exc}"))


def _decode(body: bytes) -> str:
    return body.decode("utf-8", errors="replace")


def http_url(address: str, port: int, path: str) -> str:
    """`http://address:port/path`, with an IPv6 address in brackets."""
    host = f"[{address}]" if ":" in address and not address.startswith("[") else address
    return f"http://{host}:{port}{path}"


def check_http(
    check: HealthCheck,
    address: str,
    port: int,
    *,
    get: Getter = urllib_get,
    sleep: Sleeper = time.sleep,
) -> HealthResult:
    """GET http://address:port/path until it answers as expected or the attempts run out."""
    url = http_url(address, port, check.path or "/")

    def attempt() -> tuple[bool, str]:
        try:
            reply = get(url, check.timeout)
        except OSError as exc:  # an injected getter that raises still only fails an attempt
            reply = HttpReply(None, error=_one_line(exc))
        if reply.status is None:
            return False, f"no response from {url}: {reply.error or 'unknown error'}"
        if reply.status != check.expect_status:
            return False, f"HTTP {reply.status} from {url}, expected {check.expect_status}"
        if check.expect_text is not None and check.expect_text not in reply.text:
            return False, f"HTTP {reply.status} from {url} without {check.expect_text!r}"
        return True, f"HTTP {reply.status} from {url}"

    return _retry(check, attempt, sleep)


def run_command(
    argv: Sequence[str], timeout: float, env: Mapping[str, str] | None, cwd: str | None
) -> CommandReply:
    """Run `argv` here (no shell), bounded by `timeout` (`stackops.processes.run_bounded`).

    The default runner of `check_command`; a deployment runs an app's command check on
    its node instead, through the executor of the run (`stackops.deploy.checks`)."""
    from stackops.processes import run_bounded

    done = run_bounded(argv, timeout, env, cwd)
    error = _one_line(done.error) if done.error else None
    return CommandReply(done.exit_code, done.output, error)


def check_command(
    check: HealthCheck,
    *,
    run: Runner = run_command,
    sleep: Sleeper = time.sleep,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> HealthResult:
    """Run the check's command until it exits 0 (with `expect_text` in its output, when
    set) or the attempts run out. `env` is the whole environment (None inherits ours)."""
    if check.command is None:
        raise ValueError("check_command needs a command check")
    argv = check.command
    name = argv[0]

    def attempt() -> tuple[bool, str]:
        reply = run(argv, check.timeout, env, cwd)
        if reply.exit_code is None:
            return False, f"{name}: {reply.error or 'did not finish'}"
        last = _last_line(reply.output)
        said = f": {last}" if last else ""
        if reply.exit_code != 0:
            return False, f"{name} exited {reply.exit_code}{said}"
        if check.expect_text is not None and check.expect_text not in reply.output:
            return False, f"{name} exited 0 without {check.expect_text!r} in its output"
        return True, f"{name} exited 0{said}"

    return _retry(check, attempt, sleep)


def _last_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    return _one_line(lines[-1]) if lines else ""


def _retry(
    check: HealthCheck, attempt: Callable[[], tuple[bool, str]], sleep: Sleeper
) -> HealthResult:
    detail = ""
    for number in range(1, check.retries + 1):
        if number > 1:
            sleep(check.interval)
        ok, detail = attempt()
        if ok:
            return HealthResult(True, number, detail)
    tries = "attempt" if check.retries == 1 else "attempts"
    return HealthResult(False, check.retries, f"{detail} (after {check.retries} {tries})")


def run_health_check(
    check: HealthCheck,
    *,
    address: str,
    port_offset: int = 0,
    get: Getter = urllib_get,
    run: Runner = run_command,
    sleep: Sleeper = time.sleep,
    env: Mapping[str, str] | None = None,
    cwd: str | None = None,
) -> HealthResult:
    """Run `check` against one instance: HTTP to `address` on the check's port plus
    `port_offset` (the sandbox's offset of the node), or the command (where the caller
    runs it: `env` and `cwd` are the node's)."""
    match check.kind:
        case "http":
            port = (check.port or DEFAULT_HTTP_PORT) + port_offset
            return check_http(check, address, port, get=get, sleep=sleep)
        case "command":
            return check_command(check, run=run, sleep=sleep, env=env, cwd=cwd)
