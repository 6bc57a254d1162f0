"""Supervised background processes: start, record a pid file, verify, signal, stop.

A service is started by its node's keeper (`stackops.converge.keeper`), so it
belongs to no run (nor to a long-lived dispatcher) and lives in the node's one
process group. Its pid file records the pid, the process start time (so a reused
pid is not mistaken for it) and a hash of what it was started with (so a changed
command restarts it). A start is verified: the process still runs after a short
settle and, when it declares a port, listens there; otherwise the start fails
with its exit status and the last lines of its log.
"""

import contextlib
import json
import os
import signal
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import NamedTuple

from stackops import processes
from stackops.converge import keeper as keepers
from stackops.converge.filesystem import make_parents, write_atomically
from stackops.errors import StackopsError

TAIL_LINES = 20


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
    keeper: Path,
) -> PidRecord:
    """Start `argv` through the node's keeper (folder `keeper`) and write its pid file."""
    make_parents(log)
    make_parents(pid_file)
    try:
        pid = keepers.spawn(keeper, argv, cwd=cwd, env=env, log=log)
    except keepers.KeeperFailed as exc:
        raise ServiceFailed(str(exc)) from None
    record = PidRecord(pid, process_start_time(pid), spec)
    body = json.dumps({"pid": pid, "start": record.start, "spec": spec}).encode() + b"\n"
    write_atomically(pid_file, body, 0o600)
    return record


def verify_started(
    name: str,
    record: PidRecord,
    *,
    log: Path,
    pid_file: Path,
    keeper: Path,
    settle: float,
    port: int | None,
    port_wait: float,
    clock: Callable[[], float] = time.monotonic,
    sleep: Callable[[float], None] = time.sleep,
) -> str:
    """Check a service just started: it still runs after `settle` seconds or, with a
    `port`, it listens on that port within `port_wait` seconds. Returns what was seen;
    ServiceFailed (the process stopped, its pid file removed) when it is not so."""
    started = clock()
    deadline = started + (settle if port is None else port_wait)
    while True:
        if not process_alive(record.pid, record.start):
            pid_file.unlink(missing_ok=True)
            how = keepers.exit_status(keeper, record.pid) or "exited"
            held = _held_by_other(port, record.pid) if port is not None else ""
            raise ServiceFailed(
                f"service {name} {how} {clock() - started:.1f} s after it started{held}; "
                f"last lines of {log}:\n{log_tail(log)}"
            )
        if port is not None and listens(record.pid, port):
            return f"listening on port {port}"
        if clock() >= deadline:
            if port is None:
                return f"running {settle:g} s after its start"
            held = _held_by_other(port, record.pid)
            stop(record, pid_file, signum=signal.SIGTERM, timeout=5)
            raise ServiceFailed(
                f"service {name} does not listen on port {port} {port_wait:g} s after it "
                f"started{held}; stopped it; last lines of {log}:\n{log_tail(log)}"
            )
        sleep(0.02)


def listens(pid: int, port: int) -> bool:
    """True when process `pid` (or one it started) listens on TCP `port`.

    Where /proc cannot tell who holds a port, a connection to 127.0.0.1:port that
    succeeds counts.
    """
    holders = processes.port_holders(port, processes.tree_of(pid))
    if holders is not None:
        return bool(holders)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.5)
        return sock.connect_ex(("127.0.0.1", port)) == 0


def _held_by_other(port: int, pid: int) -> str:
    """ "; port N is held by pid M (its command)" when another process listens there."""
    holders = [h for h in processes.port_holders(port) or () if h != pid]
    if not holders:
        return ""
    other = holders[0]
    what = processes.command_line(other)
    return f"; port {port} is held by pid {other}" + (f" ({what})" if what else "")


def log_tail(log: Path, size: int = 4000, lines: int = TAIL_LINES) -> str:
    """The last `lines` lines of a log (at most `size` bytes of it)."""
    try:
        with open(log, "rb") as handle:
            handle.seek(max(0, log.stat().st_size - size))
            text = handle.read().decode("utf-8", "replace").rstrip()
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:]) or "(the log is empty)"


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
    """Signal the service and the processes it started, wait up to `timeout` s, then
    kill what is left; remove the pid file. The node's other services are left alone."""
    if process_alive(record.pid, record.start):
        tree = processes.tree_of(record.pid)
        _signal(record.pid, tree, signum)
        deadline = time.monotonic() + timeout
        while process_alive(record.pid, record.start):
            if time.monotonic() >= deadline:
                _signal(record.pid, {**tree, **processes.tree_of(record.pid)}, signal.SIGKILL)
                kill_deadline = time.monotonic() + 5
                while process_alive(record.pid, record.start):
                    if time.monotonic() >= kill_deadline:
                        raise ServiceFailed(f"process {record.pid} survived SIGKILL")
                    time.sleep(0.02)
                break
            time.sleep(0.02)
        table = processes.process_table() or {}
        stray = [
            pid
            for pid, start in tree.items()
            if pid in table and table[pid].start == start and table[pid].state not in "ZX"
        ]
        processes.signal_processes(stray, signal.SIGKILL)  # what it started and left behind
    pid_file.unlink(missing_ok=True)


def _signal(pid: int, tree: Mapping[int, int], signum: int) -> None:
    """`signum` to the service's processes; to its group too when it leads one of its own
    (a service started before keepers existed, or one that made itself a session)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if os.getpgid(pid) == pid:
            os.killpg(pid, signum)
    processes.signal_processes(tree or [pid], signum)
