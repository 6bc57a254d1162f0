"""The leak check: every process a test starts is gone when the test ends.

A pytest plugin (loaded by tests/conftest.py). Each test session gets a token; the
processes that run tests (the xdist workers, or pytest itself without xdist) put
`PYTEST_LEAKCHECK_SESSION=<token>` in their environment, and around each test
`PYTEST_LEAKCHECK_TEST=<token>/<worker>/<n>`, so every process a test starts carries
both (environments are inherited). A process whose environment was cleared (a node
keeper keeps only PATH) is found by its command line or working folder lying under
the session's temporary folder, where every test's files are.

- After each test (pass, fail, error or a pytest-timeout), what carries that test's
  mark or lies under this worker's temporary folder and still runs is killed, by
  process group, and the test errors naming the command lines.
- At the end of the session (in the xdist controller, after the workers have gone)
  the same scan over the whole session fails the run on anything left: what a
  crashed or killed worker could not end.
- SIGTERM (`timeout`, CI ending a run) stops the run as Ctrl-C does, so teardowns and
  both checks still run. Only SIGKILL leaves processes behind.

The pytest processes themselves never match: the controller hands the token to its
workers under another name, and a process's /proc environ is the one it was started
with. The scan also skips the scanning process and its ancestors. A fixture wider than
one test that starts a process on purpose (the shared moto server) says so with
`owned_by_session(pid)`; the session-end check still ends it if its fixture did not.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import signal
import time
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

import pytest

SESSION_VAR = "PYTEST_LEAKCHECK_SESSION"
TEST_VAR = "PYTEST_LEAKCHECK_TEST"
HANDOFF_VAR = "PYTEST_LEAKCHECK_TOKEN"  # controller -> workers; never a child's mark
EXIT_GRACE = 3.0  # seconds a process already told to end gets before it counts as left

_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class Leftover:
    """A process a test or session left running."""

    pid: int
    pgid: int
    start: int  # clock ticks after boot: tells a reused pid apart
    command: str

    def __str__(self) -> str:
        return f"pid {self.pid} (group {self.pgid}): {self.command}"


@dataclass
class _State:
    token: str = ""
    worker: str = "main"
    since: int = 0  # ticks after boot when this session started
    tests: int = 0
    test_since: int = 0  # ticks after boot when the running test started
    basetemp: str = ""
    kept: dict[int, int] | None = None  # session-owned pid -> start ticks


_state = _State()


def now_ticks() -> int:
    """Clock ticks since boot now (the unit of /proc/PID/stat's start time)."""
    with open("/proc/uptime") as handle:
        return int(float(handle.read().split()[0]) * _TICKS)


def _stat(pid: int) -> tuple[int, int, str, int] | None:
    """(ppid, pgid, state, start ticks) of `pid`, None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as handle:
            data = handle.read()
    except OSError:
        return None
    fields = data[data.rfind(b")") + 2 :].split()
    return int(fields[1]), int(fields[2]), fields[0].decode(), int(fields[19])


def _ancestors(pid: int) -> set[int]:
    found: set[int] = set()
    while pid > 1 and pid not in found:
        found.add(pid)
        stat = _stat(pid)
        if stat is None:
            break
        pid = stat[0]
    return found


def _read(path: str) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read()
    except OSError:
        return b""


def _under(text: str, folders: Iterable[str]) -> bool:
    return any(text == f or text.startswith(f + "/") or f"{f}/" in text for f in folders)


def scan(
    marks: Iterable[str],
    folders: Iterable[str] = (),
    *,
    since: int = 0,
    skip: Iterable[int] = (),
) -> list[Leftover]:
    """Live processes started at or after `since` (ticks after boot) whose environment
    holds one of `marks` ("NAME=value") or whose command line or working folder lies
    under one of `folders`; never this process, its ancestors, nor `skip` and what
    they started."""
    wanted = {m.encode() for m in marks}
    folders = [str(f).rstrip("/") for f in folders if f]
    table: dict[int, tuple[int, int, str, int]] = {}
    for name in os.listdir("/proc"):
        if name.isdigit():
            stat = _stat(int(name))
            if stat is not None:
                table[int(name)] = stat
    excluded = _ancestors(os.getpid())
    children: dict[int, list[int]] = {}
    for pid, (ppid, *_) in table.items():
        children.setdefault(ppid, []).append(pid)
    todo = [pid for pid in skip if pid in table]
    while todo:
        pid = todo.pop()
        if pid not in excluded:
            excluded.add(pid)
            todo.extend(children.get(pid, ()))
    found = []
    for pid, (_ppid, pgid, state, start) in sorted(table.items()):
        if start < since or state in ("Z", "X") or pid in excluded:
            continue
        environ = set(_read(f"/proc/{pid}/environ").split(b"\0"))
        command = _read(f"/proc/{pid}/cmdline").replace(b"\0", b" ").decode(errors="replace")
        try:
            cwd = os.readlink(f"/proc/{pid}/cwd")
        except OSError:
            cwd = ""
        if wanted & environ or _under(command, folders) or _under(cwd, folders):
            found.append(Leftover(pid, pgid, start, command.strip() or f"[{pid}]"))
    return found


def _same(process: Leftover) -> bool:
    stat = _stat(process.pid)
    return stat is not None and stat[3] == process.start and stat[2] not in ("Z", "X")


def end(processes: list[Leftover], *, grace: float = EXIT_GRACE) -> list[Leftover]:
    """Give `processes` `grace` seconds to end by themselves, then SIGKILL their process
    groups (never ours or an ancestor's) and wait for them; those that had to be killed."""
    deadline = time.monotonic() + grace
    left = [p for p in processes if _same(p)]
    while left and time.monotonic() < deadline:
        time.sleep(0.05)
        _reap()
        left = [p for p in left if _same(p)]
    ours = {_stat(pid)[1] for pid in _ancestors(os.getpid()) if _stat(pid)}
    for process in left:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if process.pgid in ours or process.pgid <= 1:
                os.kill(process.pid, signal.SIGKILL)
            else:
                os.killpg(process.pgid, signal.SIGKILL)
    deadline = time.monotonic() + 10.0
    while any(_same(p) for p in left) and time.monotonic() < deadline:
        time.sleep(0.02)
        _reap()
    return left


def _reap() -> None:
    """Collect our own children that ended (a killed child stays a zombie until then)."""
    with contextlib.suppress(ChildProcessError):
        while os.waitpid(-1, os.WNOHANG)[0] > 0:
            pass


def owned_by_session(pid: int) -> None:
    """`pid` (and what it starts) outlives the test that started it on purpose: a
    session- or module-scoped fixture's process, ended by that fixture."""
    stat = _stat(pid)
    if _state.kept is not None and stat is not None:
        _state.kept[pid] = stat[3]


def _kept() -> list[int]:
    kept = _state.kept or {}
    return [pid for pid, start in kept.items() if (s := _stat(pid)) and s[3] == start]


def describe(found: list[Leftover]) -> str:
    return "\n".join(f"  {p}" for p in found)


# -- the hooks -------------------------------------------------------------------
def _is_controller(config: pytest.Config) -> bool:
    """The xdist controller: it runs no test, its workers do."""
    if hasattr(config, "workerinput"):
        return False
    return config.pluginmanager.hasplugin("xdist") and config.getoption("dist", "no") != "no"


def _basetemp(config: pytest.Config) -> str:
    factory = getattr(config, "_tmp_path_factory", None)
    if factory is None:
        return ""
    return str(Path(factory.getbasetemp()).resolve())


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt(f"signal {signum}")


@pytest.hookimpl(trylast=True)
def pytest_configure(config: pytest.Config) -> None:
    if not Path("/proc/self/environ").exists():
        return  # no /proc: no leak check (not Linux)
    if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
        # `timeout`, CI or a user ending the run: stop as on Ctrl-C, so the fixtures'
        # teardowns and the checks below still end what the tests started.
        signal.signal(signal.SIGTERM, _interrupt)
    handed = os.environ.pop(HANDOFF_VAR, "")
    _state.token = handed if hasattr(config, "workerinput") and handed else secrets.token_hex(8)
    _state.worker = os.environ.get("PYTEST_XDIST_WORKER", "main")
    _state.since = now_ticks() - _TICKS
    _state.kept = {}
    if _is_controller(config):
        os.environ[HANDOFF_VAR] = _state.token  # the workers take it up as their mark
    else:
        os.environ[SESSION_VAR] = _state.token


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_setup(item: pytest.Item) -> object:
    if _state.token:
        _state.tests += 1
        os.environ[TEST_VAR] = f"{_state.token}/{_state.worker}/{_state.tests}"
        # /proc/uptime and a process's start time are read from clocks that may differ by
        # a few ticks: a second's margin (a process of the test before is gone by now).
        _state.test_since = now_ticks() - _TICKS
        _state.basetemp = _state.basetemp or _basetemp(item.config)
    return (yield)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_teardown(item: pytest.Item, nextitem: pytest.Item | None) -> object:
    try:
        return (yield)
    finally:
        mark = os.environ.pop(TEST_VAR, "")
        if _state.token and mark:
            since = _state.test_since
            found = scan([f"{TEST_VAR}={mark}"], [_state.basetemp], since=since, skip=_kept())
            killed = end(found)
            if killed:
                pytest.fail(f"the test left processes running (killed):\n{describe(killed)}")


@pytest.hookimpl(trylast=True)
def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    """Fail the run when any process of this session is left (runs after xdist has
    ended its workers)."""
    if not _state.token or hasattr(session.config, "workerinput"):
        return
    found = scan(
        [f"{SESSION_VAR}={_state.token}"],
        [_basetemp(session.config)],
        since=_state.since,
    )
    killed = end(found, grace=5.0)
    if killed:
        reporter = session.config.pluginmanager.get_plugin("terminalreporter")
        text = f"leak check: the session left processes running (killed):\n{describe(killed)}"
        if reporter is not None:
            reporter.write_sep("=", "leak check", red=True)
            reporter.write_line(text)
        else:
            print(text)
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
