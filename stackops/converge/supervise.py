"""Supervised background processes: start detached, record a pid file, check, signal, stop.

A service is started through a tiny launcher process that starts it in a new
session and exits, so the service belongs to no run (nor to a long-lived
dispatcher) and leaves no zombie behind. Its pid file records the pid, the
process start time (so a reused pid is not mistaken for it) and a hash of what
it was started with (so a changed command restarts it).
"""

import contextlib
import json
import os
import signal
import sys
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from stackops.converge.filesystem import make_parents, write_atomically
from stackops.errors import StackopsError

LAUNCHER = """
import json, os, subprocess, sys
spec = json.loads(sys.stdin.read())
try:
    log = open(spec["log"], "ab")
    proc = subprocess.Popen(spec["argv"], cwd=spec["cwd"], env=spec["env"],
                            stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True, close_fds=True)
except OSError as exc:
    sys.stdout.write(json.dumps({"error": str(exc)}))
    sys.stdout.flush()
    os._exit(1)
sys.stdout.write(json.dumps({"pid": proc.pid}))
sys.stdout.flush()
os._exit(0)
"""


class ServiceFailed(StackopsError):
    """A service could not be started, signalled or stopped."""


class PidRecord(NamedTuple):
    """What a pid file says about the process it names."""

    pid: int
    start: int | None
    spec: str | None


def process_start_time(pid: int) -> int | None:
    """The kernel's start time of `pid` (Linux /proc), None where unknown."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except OSError:
        return None
    fields = stat[stat.rfind(b")") + 2 :].split()
    return int(fields[19]) if len(fields) > 19 else None


def process_alive(pid: int, start: int | None) -> bool:
    """True when `pid` runs (not a zombie) and, where known, started at `start`."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        pass  # it exists, owned by someone else
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            stat = handle.read()
    except FileNotFoundError:
        return False
    except OSError:
        return True  # no /proc here: kill(0) is all we know
    fields = stat[stat.rfind(b")") + 2 :].split()
    if fields and fields[0] in (b"Z", b"X"):
        return False
    return start is None or len(fields) <= 19 or int(fields[19]) == start


def read_pid_file(path: Path) -> PidRecord | None:
    """The record of a pid file, None when absent or unreadable."""
    try:
        data = json.loads(path.read_bytes())
    except (FileNotFoundError, NotADirectoryError, ValueError):
        return None
    if isinstance(data, int):
        return PidRecord(data, None, None)  # a plain pid file written by someone else
    if not isinstance(data, dict) or not isinstance(data.get("pid"), int):
        return None
    return PidRecord(data["pid"], data.get("start"), data.get("spec"))


def running(path: Path) -> PidRecord | None:
    """The record of the live process a pid file names, None when it does not run."""
    record = read_pid_file(path)
    if record is None or not process_alive(record.pid, record.start):
        return None
    return record


def launch(
    argv: Sequence[str],
    *,
    cwd: Path | None,
    env: Mapping[str, str],
    log: Path,
    pid_file: Path,
    spec: str,
    grace: float,
) -> PidRecord:
    """Start `argv` detached, write its pid file, and check it survives `grace` seconds."""
    import subprocess

    make_parents(log)
    make_parents(pid_file)
    request = {"argv": list(argv), "cwd": str(cwd) if cwd else None, "env": dict(env)}
    request["log"] = str(log)
    done = subprocess.run(
        [sys.executable, "-I", "-S", "-c", LAUNCHER],
        input=json.dumps(request).encode(),
        capture_output=True,
        timeout=30,
    )
    try:
        answer = json.loads(done.stdout or b"{}")
    except ValueError:
        answer = {}
    if "pid" not in answer:
        reason = answer.get("error") or done.stderr.decode("utf-8", "replace").strip()
        raise ServiceFailed(f"cannot start {argv[0]}: {reason or 'the launcher failed'}")
    pid = int(answer["pid"])
    record = PidRecord(pid, process_start_time(pid), spec)
    body = json.dumps({"pid": pid, "start": record.start, "spec": spec}).encode() + b"\n"
    write_atomically(pid_file, body, 0o644)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline:
        if not process_alive(pid, record.start):
            pid_file.unlink(missing_ok=True)
            raise ServiceFailed(f"{' '.join(argv)} exited at once; end of {log}:\n{log_tail(log)}")
        time.sleep(0.02)
    return record


def log_tail(log: Path, size: int = 2000) -> str:
    try:
        with open(log, "rb") as handle:
            handle.seek(max(0, log.stat().st_size - size))
            return handle.read().decode("utf-8", "replace").rstrip()
    except OSError:
        return "(no log)"


def signal_number(name: str | int) -> int:
    """A signal by name ('HUP', 'SIGHUP') or number."""
    if isinstance(name, int):
        return name
    upper = name.upper()
    value = getattr(signal, upper if upper.startswith("SIG") else f"SIG{upper}", None)
    if not isinstance(value, int):
        raise ServiceFailed(f"no signal {name!r}")
    return int(value)


def send_signal(record: PidRecord, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.kill(record.pid, signum)


def stop(record: PidRecord, pid_file: Path, *, signum: int, timeout: float) -> None:
    """Signal the process group, wait up to `timeout` s, then kill it; remove the pid file."""
    _signal_group(record.pid, signum)
    deadline = time.monotonic() + timeout
    while process_alive(record.pid, record.start):
        if time.monotonic() >= deadline:
            _signal_group(record.pid, signal.SIGKILL)
            kill_deadline = time.monotonic() + 5
            while process_alive(record.pid, record.start):
                if time.monotonic() >= kill_deadline:
                    raise ServiceFailed(f"process {record.pid} survived SIGKILL")
                time.sleep(0.02)
            break
        time.sleep(0.02)
    pid_file.unlink(missing_ok=True)


def _signal_group(pid: int, signum: int) -> None:
    try:
        os.killpg(pid, signum)
    except (ProcessLookupError, PermissionError):
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signum)
