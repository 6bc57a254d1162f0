"""The processes of a run: the tree under a child (read from Linux /proc), ended at a timeout.

A run's child starts in a session of its own, so one killpg reaches everything
it started in the foreground. Commands of the `execute` resource start in
sessions of their own too (so the engine can end them at their timeout); they
are still the child's descendants, found through their parent pids. Services
are started through a launcher that exits at once, so they are no one's
descendants and outlive the run, as they should.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Callable, Iterable
from typing import NamedTuple


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


def _signal(known: dict[int, int], group: int, signum: int) -> None:
    """Send `signum` to the run's group, and to every known process (by its group
    when that group is one of the run's own)."""
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


def _survey(known: dict[int, int], group: int) -> dict[int, int]:
    """`known` grown by what its live members started since, and by the group's members."""
    table = process_table()
    if table is None:
        return known
    alive = [pid for pid, start in known.items() if pid in table and table[pid].start == start]
    found = descendants([*alive, *live_group_members(group, table)], table)
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
    known = _survey({}, proc.pid)
    _signal(known, proc.pid, signal.SIGTERM)
    deadline = clock() + grace
    while clock() < deadline:
        if _all_gone(known):
            break
        time.sleep(0.02)
    known = _survey(known, proc.pid)
    _signal(known, proc.pid, signal.SIGKILL)
    proc.wait()
    return len(known)
