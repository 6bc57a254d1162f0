"""The local executor: converge on this host, in a child process that is killed at the timeout.

The child is `python -m stackops agent apply --payload - --output json`. It gets
the payload (with secrets resolved) on stdin, never on disk; it prints the
report JSON on stdout and the text report on stderr, which becomes the log.
"""

from __future__ import annotations

import json
import os
import selectors
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from stackops.errors import InvalidInput, StackopsError
from stackops.executors.base import (
    EXIT_NO_REPORT,
    EXIT_NOT_STARTED,
    EXIT_OK,
    EXIT_TIMED_OUT,
    CheckReply,
    CheckRequest,
    Resolver,
    RunRequest,
    RunResult,
    executor,
)
from stackops.executors.checks import node_environment, run_check_here
from stackops.executors.payload import payload_bytes
from stackops.processes import end_process_tree
from stackops.secrets import redact, redact_data

LOG_TAIL = 200_000  # characters of the child's stderr kept in the log
DRAIN = 1.0  # seconds to read what is left once the child is gone
PACKAGE_PARENT = str(Path(__file__).resolve().parents[2])


class ChildOutput(NamedTuple):
    stdout: bytes
    stderr: bytes
    timed_out: bool


@executor("local")
class LocalExecutor:
    """Converges under a node root on this host, in a child process killed at the timeout."""

    name: ClassVar[str]

    def __init__(
        self,
        *,
        resolve: Resolver | None = None,
        python: str = sys.executable,
        env: Mapping[str, str] | None = None,
        aws_env: Mapping[str, str] | None = None,
        grace: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """`resolve` turns secret refs into values here (without it, the child resolves
        them itself); `grace` is the time between SIGTERM and SIGKILL at a timeout.

        A node's processes (the agent, the services and commands it starts, health
        checks) get `env` (default: ours) without its AWS settings, plus `aws_env`,
        the node's own AWS access (the sandbox's endpoint): never our credentials."""
        self._resolve = resolve
        self._python = python
        self._env = node_environment(os.environ if env is None else env, aws_env)
        self._grace = grace
        self._clock = clock

    def command(self) -> list[str]:
        """The child's argv."""
        agent = ["-m", "stackops", "agent", "apply"]
        return [self._python, *agent, "--payload", "-", "--output", "json"]

    def run(self, request: RunRequest) -> RunResult:
        """Run the request; any failure of the child is a result, never an exception."""
        started = self._clock()

        def result(
            code: int, report: dict[str, Any] | None, log: str, timed_out: bool = False
        ) -> RunResult:
            ok = code == EXIT_OK and report is not None and report.get("ok") is True
            return RunResult(ok, code, report, log, timed_out, self._clock() - started)

        try:
            node, secrets = self._resolve(request.node) if self._resolve else (request.node, ())
        except StackopsError as exc:
            code = exc.exit_code if isinstance(exc, InvalidInput) else EXIT_NOT_STARTED
            return result(code, None, f"stackops: cannot resolve the node's secrets: {exc}")
        except Exception as exc:  # a resolver's bug must not take the dispatcher down
            return result(EXIT_NOT_STARTED, None, f"stackops: secret resolver failed: {exc!r}")
        payload = payload_bytes(request, node)
        try:
            proc = subprocess.Popen(
                self.command(),
                stdin=subprocess.PIPE,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=self._child_env(),
                start_new_session=True,
                close_fds=True,
            )
        except OSError as exc:
            return result(EXIT_NOT_STARTED, None, f"stackops: cannot start the agent: {exc}")
        with proc:
            output = exchange(proc, payload, started + request.timeout, self._clock)
            found = 0
            if output.timed_out:
                found = end_process_tree(proc, grace=self._grace, clock=self._clock)
                more_out, more_err = _drain(proc)
                output = ChildOutput(output.stdout + more_out, output.stderr + more_err, True)
            proc.wait()
        log = redact(output.stderr.decode("utf-8", "replace"), secrets)[-LOG_TAIL:]
        report = _parse_report(output.stdout)
        report = redact_data(report, secrets) if report is not None else None
        if output.timed_out:
            note = (
                f"stackops: timed out after {request.timeout:g} s: "
                f"stopped the run ({found} processes, SIGTERM then SIGKILL)"
            )
            return result(EXIT_TIMED_OUT, report, _join(log, note), timed_out=True)
        code = proc.returncode
        if code < 0:  # killed by a signal: 128 + its number, as a shell reports it
            log = _join(log, f"stackops: the agent was killed by signal {-code}")
            code = 128 - code
        if report is None:
            stray = redact(output.stdout.decode("utf-8", "replace"), secrets).strip()
            if stray:
                log = _join(log, "stdout (not a report):\n" + stray[-4000:])
            if code == EXIT_OK:
                code = EXIT_NO_REPORT
                log = _join(log, "stackops: the agent exited 0 but printed no report")
        return result(code, report, log, timed_out=code == EXIT_TIMED_OUT)

    def run_check(self, request: CheckRequest) -> CheckReply:
        """Run a health check's command on the node (this host, under the node's root),
        in the node's environment with the app's over it; never raises."""
        try:
            env, secrets = self._resolve(request.env) if self._resolve else (request.env, ())
        except StackopsError as exc:
            return CheckReply(None, error=f"cannot resolve the app's secrets: {exc}")
        except Exception as exc:  # a resolver's bug must not take the dispatcher down
            return CheckReply(None, error=f"secret resolver failed: {exc!r}")
        return run_check_here(request, env, secrets, self._env)

    def _child_env(self) -> dict[str, str]:
        """Our environment, with this stackops importable whatever the child's cwd."""
        env = dict(self._env)
        parts = [PACKAGE_PARENT, *filter(None, env.get("PYTHONPATH", "").split(os.pathsep))]
        env["PYTHONPATH"] = os.pathsep.join(dict.fromkeys(parts))
        return env


def exchange(
    proc: subprocess.Popen[bytes],
    data: bytes,
    deadline: float,
    clock: Callable[[], float] = time.monotonic,
) -> ChildOutput:
    """Write `data` to the child's stdin and read its stdout and stderr until it exits.

    Unlike `communicate`, this stops `DRAIN` seconds after the child exits even when
    something it started still holds its pipes, and stops at `deadline` (timed_out).
    """
    assert proc.stdin and proc.stdout and proc.stderr
    out, err = bytearray(), bytearray()
    sinks = {proc.stdout.fileno(): out, proc.stderr.fileno(): err}
    pending = memoryview(data)
    with selectors.DefaultSelector() as selector:
        for stream in (proc.stdout, proc.stderr):
            os.set_blocking(stream.fileno(), False)
            selector.register(stream, selectors.EVENT_READ)
        if pending:
            os.set_blocking(proc.stdin.fileno(), False)
            selector.register(proc.stdin, selectors.EVENT_WRITE)
        else:
            proc.stdin.close()
        exited_at: float | None = None
        while selector.get_map():
            now = clock()
            if exited_at is None and proc.poll() is not None:
                exited_at = now
            if exited_at is not None and now >= exited_at + DRAIN:
                break  # a process the run left behind holds our pipes
            if exited_at is None and now >= deadline:
                return ChildOutput(bytes(out), bytes(err), True)
            wait = min(0.05, max(0.0, deadline - now))
            for key, _ in selector.select(wait):
                stream = key.fileobj
                if stream is proc.stdin:
                    try:
                        written = os.write(proc.stdin.fileno(), pending[:65536])
                    except BlockingIOError:
                        continue
                    except BrokenPipeError:
                        written = len(pending)  # the child stopped reading: it will say why
                    pending = pending[written:]
                    if not pending:
                        selector.unregister(proc.stdin)
                        proc.stdin.close()
                    continue
                chunk = _read(key.fd)
                if chunk:
                    sinks[key.fd] += chunk
                elif chunk is not None:
                    selector.unregister(stream)
    return ChildOutput(bytes(out), bytes(err), False)


def _read(fd: int) -> bytes | None:
    """Up to 64 KiB; b"" at end of file, None when nothing is there yet."""
    try:
        return os.read(fd, 65536)
    except BlockingIOError:
        return None


def _drain(proc: subprocess.Popen[bytes]) -> tuple[bytes, bytes]:
    """What is left in the pipes of a child that is gone, without waiting for more."""
    assert proc.stdout and proc.stderr
    parts = []
    for stream in (proc.stdout, proc.stderr):
        buffer = bytearray()
        while chunk := _read(stream.fileno()):
            buffer += chunk
        parts.append(bytes(buffer))
    return parts[0], parts[1]


def _parse_report(stdout: bytes) -> dict[str, Any] | None:
    """The report the agent printed (one JSON object), None when there is none."""
    text = stdout.decode("utf-8", "replace").strip()
    if not text:
        return None
    try:
        data = json.loads(text)
    except ValueError:
        return None
    return data if isinstance(data, dict) and "resources" in data else None


def _join(log: str, line: str) -> str:
    return f"{log.rstrip()}\n{line}" if log.strip() else line
