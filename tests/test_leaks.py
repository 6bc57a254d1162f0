"""The leak check (tests/leaks.py) fails a test and a run that leave processes behind,
and leaves alone those that do not, with and without xdist workers."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]

LEAKY = """
import os, subprocess, sys, pytest
from tests.leaks import owned_by_session

SLEEP = [sys.executable, "-c", "import time; time.sleep(600)", "leaked-on-purpose"]

def record(pid):
    with open(os.environ["LEAK_PIDS"], "a") as out:
        out.write(f"{pid}\\n")

def test_leaks_a_child_in_its_own_session():
    record(subprocess.Popen(SLEEP, start_new_session=True).pid)

def test_leaks_a_child_with_a_cleared_environment(tmp_path):
    # no marks inherited (as the node keeper does): found by its folder
    record(subprocess.Popen(SLEEP, cwd=tmp_path, env={"PATH": "/usr/bin:/bin"},
                            start_new_session=True).pid)

def test_ends_what_it_starts():
    proc = subprocess.Popen(SLEEP, start_new_session=True)
    proc.kill()
    proc.wait()

@pytest.fixture(scope="session")
def forgotten_server():
    # a session-wide process whose fixture forgets to end it: only the session check sees it
    proc = subprocess.Popen(SLEEP, start_new_session=True)
    owned_by_session(proc.pid)
    record(proc.pid)
    yield proc

@pytest.mark.parametrize("n", range(4))
def test_uses_the_forgotten_server(forgotten_server, n):
    assert forgotten_server.poll() is None
"""

CLEAN = """
import subprocess, sys

def test_ends_what_it_starts():
    proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"])
    proc.terminate()
    proc.wait()

def test_nothing_started():
    assert True
"""


HANGS = """
import os, subprocess, sys, time

def test_hangs_with_a_child_running(tmp_path):
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"],
                             cwd=tmp_path, start_new_session=True)
    with open(os.environ["LEAK_PIDS"], "a") as out:
        out.write(f"{child.pid}\\n")
    time.sleep(600)
"""


# Each sub-run is a whole pytest session starting and leaking processes, so slow (the
# xdist ones start a controller and two workers besides).
WORKERS = [
    pytest.param([], id="one-process", marks=pytest.mark.slow),
    pytest.param(["-n", "2"], id="xdist", marks=pytest.mark.slow),
]


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.fixture
def sub_run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    """Run pytest in a child process on a test file, with the leak check loaded."""
    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pids = tmp_path / "pids"
    monkeypatch.setenv("LEAK_PIDS", str(pids))

    def run(source: str, *args: str) -> tuple[pytest.RunResult, list[int]]:
        pytester.makepyfile(test_sub=source)
        result = pytester.runpytest_subprocess("-p", "tests.leaks", "-p", "no:cacheprovider", *args)
        found = [int(line) for line in pids.read_text().split()] if pids.exists() else []
        return result, found

    return run


@pytest.mark.parametrize("workers", WORKERS)
def test_a_run_that_leaks_fails_naming_what_it_left_and_ends_it(sub_run, workers):
    result, pids = sub_run(LEAKY, *workers)
    out = result.stdout.str()
    assert result.ret == pytest.ExitCode.TESTS_FAILED, out
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed") == 7 and outcomes.get("errors") == 2, out
    for name in ("in_its_own_session", "with_a_cleared_environment"):
        assert f"ERROR at teardown of test_leaks_a_child_{name}" in out, out
    assert "the test left processes running (killed)" in out
    # The session check names the one process the forgotten fixture left: never a
    # worker or the controller.
    # Only the leak-check section counts: under CI (the CI variable set) pytest's short
    # summary repeats each error's whole message, per-test pid lines included.
    tail = out.split("leak check: the session left processes running (killed):", 1)[1]
    section = tail.split("\n=", 1)[0]
    named = [line for line in section.splitlines() if line.startswith("  pid ")]
    assert len(named) == 1 and named[0].endswith("leaked-on-purpose"), out
    assert len(pids) == 3
    deadline = time.monotonic() + 30
    while any(alive(pid) for pid in pids) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not [pid for pid in pids if alive(pid)]


@pytest.mark.parametrize("workers", WORKERS)
def test_a_run_that_ends_its_processes_passes(sub_run, workers):
    result, _ = sub_run(CLEAN, *workers)
    assert result.ret == pytest.ExitCode.OK, result.stdout.str()
    assert "leak check" not in result.stdout.str()


@pytest.mark.slow
def test_a_run_ended_by_sigterm_still_ends_what_its_tests_started(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """`timeout 600 make test` or CI ending a hung run: SIGTERM stops it as Ctrl-C does."""
    import signal
    import subprocess
    import sys

    monkeypatch.setenv("PYTHONPATH", str(ROOT))
    pids = tmp_path / "pids"
    monkeypatch.setenv("LEAK_PIDS", str(pids))
    pytester.makepyfile(test_sub=HANGS)
    run = subprocess.Popen(
        [sys.executable, "-m", "pytest", "-p", "tests.leaks", "-p", "no:cacheprovider"],
        cwd=pytester.path,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 120
        while not pids.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        child = int(pids.read_text())
        assert alive(child)
        run.send_signal(signal.SIGTERM)
        out = run.communicate(timeout=120)[0].decode()
    finally:
        run.kill()
        run.wait()
    assert run.returncode != 0 and "KeyboardInterrupt" in out, out
    # The interrupted test is torn down, then the session check ends what is left.
    assert "leak check: the session left processes running (killed)" in out, out
    assert not alive(child)


def test_this_session_marks_the_processes_its_tests_start() -> None:
    assert os.environ.get("PYTEST_LEAKCHECK_SESSION")
    assert os.environ.get("PYTEST_LEAKCHECK_TEST", "").startswith(
        os.environ["PYTEST_LEAKCHECK_SESSION"]
    )
