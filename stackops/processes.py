"""Processes of this host, read from Linux /proc: trees, groups, and the ports they listen on.

A run's child starts in a session of its own, so one killpg reaches everything
it started in the foreground. Commands of the `execute` resource start in
sessions of their own too (so the engine can end them at their timeout); they
are still the child's descendants, found through their parent pids. Services
are started by their node's keeper (`stackops.converge.keeper`), so they are
not the run's descendants and outlive it, as they should; a node's services
share the keeper's process group, which `end_processes` ends when the node stops.

A leaf module (standard library only): the executors, the recipe engine and the
sandbox's node host share it.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import NamedTuple

MAX_OUTPUT = 65536  # bytes of a bounded command's output kept


class ProcessInfo(NamedTuple):
    pid: int
    ppid: int
    pgid: int
    state: str
    start: int  # clock ticks after boot: tells a reused pid apart


def process_table() -> dict[int, ProcessInfo] | None:
    """Every process of this host by pid; None where there is no /proc."""
    try:
        names = os.listdir("/proc")
    except OSError:
        return None
    table: dict[int, ProcessInfo] = {}
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as handle:
                stat = handle.read()
        except OSError:
            continue  # it ended meanwhile
        fields = stat[stat.rfind(b")") + 2 :].split()
        if len(fields) > 19:
            table[int(name)] = ProcessInfo(
                int(name), int(fields[1]), int(fields[2]), fields[0].decode(), int(fields[19])
            )
    return table


def descendants(roots: Iterable[int], table: dict[int, ProcessInfo]) -> set[int]:
    """`roots` (those that exist) and every process below them."""
    children: dict[int, list[int]] = {}
    for info in table.values():
        children.setdefault(info.ppid, []).append(info.pid)
    found: set[int] = set()
    todo = [pid for pid in roots if pid in table]
    while todo:
        pid = todo.pop()
        if pid not in found:
            found.add(pid)
            todo.extend(children.get(pid, ()))
    return found


def live_group_members(pgid: int, table: dict[int, ProcessInfo] | None = None) -> list[int]:
    """The pids of process group `pgid` that still run (zombies do not count)."""
    table = process_table() if table is None else table
    if table is None:
        try:
            os.killpg(pgid, 0)
        except ProcessLookupError:
            return []
        return [pgid]
    return sorted(p.pid for p in table.values() if p.pgid == pgid and p.state not in "ZX")


def _signal(known: dict[int, int], group: int | None, signum: int) -> None:
    """Send `signum` to the group (if any), and to every known process (by its group
    when that group is one of the known processes' own)."""
    if group is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(group, signum)
    table = process_table() or {}
    groups = {group}
    for pid, start in known.items():
        info = table.get(pid)
        if info is None or info.start != start or info.state in "ZX":
            continue
        if info.pgid in known and info.pgid not in groups:
            groups.add(info.pgid)
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(info.pgid, signum)
        elif info.pgid not in known:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.kill(pid, signum)


def _survey(known: dict[int, int], group: int | None) -> dict[int, int]:
    """`known` grown by what its live members started since, and by the group's members."""
    table = process_table()
    if table is None:
        return known
    alive = [pid for pid, start in known.items() if pid in table and table[pid].start == start]
    members = live_group_members(group, table) if group is not None else []
    found = descendants([*alive, *members], table)
    return {**known, **{pid: table[pid].start for pid in found}}


def _all_gone(known: dict[int, int]) -> bool:
    table = process_table()
    if table is None:
        return False
    return not any(
        pid in table and table[pid].start == start and table[pid].state not in "ZX"
        for pid, start in known.items()
    )


def end_process_tree(
    proc: subprocess.Popen[bytes],
    *,
    grace: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
) -> int:
    """SIGTERM the child's group and its descendants, SIGKILL what is left after `grace`.

    The child must lead its own process group (`start_new_session=True`). Returns
    how many processes were found in the run. The child is reaped on return.
    """
    found = end_processes(proc.pid, grace=grace, clock=clock, wait_killed=0.0)
    proc.wait()
    return found


def end_processes(
    group: int | None,
    known: dict[int, int] | None = None,
    *,
    grace: float = 2.0,
    clock: Callable[[], float] = time.monotonic,
    wait_killed: float = 2.0,
) -> int:
    """SIGTERM process group `group` (None: no group), the processes of `known`
    (pid -> start time) and every descendant of them; SIGKILL what is left after
    `grace` seconds, then wait up to `wait_killed` seconds for it to be gone (so its
    ports are free on return).

    Returns how many processes were found.
    """
    known = _survey(dict(known or {}), group)
    _signal(known, group, signal.SIGTERM)
    deadline = clock() + grace
    while clock() < deadline:
        if _all_gone(known):
            break
        time.sleep(0.02)
    known = _survey(known, group)
    _signal(known, group, signal.SIGKILL)
    deadline = clock() + wait_killed
    while clock() < deadline and not _all_gone(known):
        time.sleep(0.01)
    return len(known)


def tree_of(pid: int, table: dict[int, ProcessInfo] | None = None) -> dict[int, int]:
    """`pid` and its live descendants, pid -> start time (empty when `pid` is gone)."""
    table = process_table() if table is None else table
    if table is None:
        return {pid: 0}
    return {p: table[p].start for p in descendants([pid], table) if table[p].state not in "ZX"}


def signal_processes(pids: Iterable[int], signum: int) -> None:
    """Send `signum` to each pid (gone ones are skipped)."""
    for pid in pids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.kill(pid, signum)


# -- listening sockets ------------------------------------------------------------------
LISTEN = "0A"  # the TCP state "listen" in /proc/net/tcp


def listening_inodes(port: int) -> set[int] | None:
    """Inodes of the TCP sockets (v4 and v6) listening on `port`; None without /proc/net."""
    found: set[int] = set()
    seen_table = False
    for name in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(name) as handle:
                lines = handle.read().splitlines()[1:]
        except OSError:
            continue
        seen_table = True
        for line in lines:
            fields = line.split()
            if len(fields) < 10 or fields[3] != LISTEN:
                continue
            if int(fields[1].rsplit(":", 1)[1], 16) == port:
                found.add(int(fields[9]))
    return found if seen_table else None


def socket_inodes(pid: int) -> set[int]:
    """Inodes of the sockets process `pid` holds open (those we may look at)."""
    found: set[int] = set()
    folder = f"/proc/{pid}/fd"
    try:
        names = os.listdir(folder)
    except OSError:
        return found
    for name in names:
        try:
            text = os.readlink(f"{folder}/{name}")
        except OSError:
            continue
        if text.startswith("socket:["):
            found.add(int(text[8:-1]))
    return found


def port_holders(port: int, pids: Iterable[int] | None = None) -> list[int] | None:
    """Which of `pids` (default: every process we may look at) listen on TCP `port`.

    None when this host has no /proc to tell (the caller falls back to connecting).
    """
    inodes = listening_inodes(port)
    if inodes is None:
        return None
    if not inodes:
        return []
    if pids is None:
        pids = [int(n) for n in os.listdir("/proc") if n.isdigit()]
    return sorted(pid for pid in pids if socket_inodes(pid) & inodes)


def command_line(pid: int, limit: int = 120) -> str:
    """The command line of `pid`, shortened; "" when it cannot be read."""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as handle:
            raw = handle.read()
    except OSError:
        return ""
    text = raw.replace(b"\0", b" ").decode("utf-8", "replace").strip()
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- one bounded command ---------------------------------------------------------------
class BoundedResult(NamedTuple):
    """How a bounded command went: its exit code and output, or `error` when it did not
    finish (it could not start, or it was killed at its timeout)."""

    exit_code: int | None
    output: str
    error: str | None = None


def run_bounded(
    argv: Sequence[str],
    timeout: float,
    env: Mapping[str, str] | None,
    cwd: str | None,
) -> BoundedResult:
    """Run `argv` (no shell) in a session of its own, output to a temporary file (so a
    lingering grandchild cannot hold a pipe open); its group is killed at the timeout.
    `env` is the whole environment (None inherits ours). Never raises for the command."""
    with tempfile.TemporaryFile() as out:
        try:
            proc = subprocess.Popen(
                list(argv),
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=dict(env) if env is not None else None,
                cwd=cwd,
                start_new_session=True,
            )
        except (OSError, ValueError) as exc:
            return BoundedResult(None, "", f"cannot run {argv[0]!r}: {exc}")
        try:
            code: int | None = proc.wait(timeout=timeout)
            error = None
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
            code, error = None, f"timed out after {timeout:g}s"
        out.seek(0)
        return BoundedResult(code, out.read(MAX_OUTPUT).decode("utf-8", "replace"), error)
