"""What the whole-process benchmarks share: the command to run, and timing a process.

Each figure is the wall time of a whole process (time.perf_counter around
subprocess.run), so start-up, imports and exit are counted as a user feels them;
beside it, the process's CPU time (user + system, from resource.getrusage), which
other work on a busy machine disturbs far less than wall time.
"""

from __future__ import annotations

import os
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple


def stackops_command() -> list[str]:
    """The installed `stackops` console script beside this Python, else `python -m stackops`."""
    script = Path(sys.executable).with_name("stackops")
    return [str(script)] if script.exists() else [sys.executable, "-m", "stackops"]


def child_environment() -> dict[str, str]:
    """Our environment without PYTHONDONTWRITEBYTECODE: an installed package has its
    bytecode compiled, and a warm-up run writes it for an editable one."""
    return {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}


def timed(argv: Sequence[str], env: dict[str, str]) -> float:
    """Seconds `argv` took as a whole process; exits naming it when it failed."""
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr.decode()}")
    return elapsed


def median_time(argv: Sequence[str], env: dict[str, str], runs: int) -> float:
    """The median of `runs` whole-process timings of `argv`."""
    return statistics.median(timed(argv, env) for _ in range(runs))


class Figures(NamedTuple):
    """Median wall time and median CPU time (user + system) of a command's runs."""

    wall: float
    cpu: float


def interleaved_medians(
    commands: dict[str, Sequence[str]], env: dict[str, str], runs: int
) -> dict[str, Figures]:
    """Median figures of each command, its runs taken in turn with the others' so that a
    busy machine weighs on every figure alike (the ratios stay fair). CPU time, from
    the children's resource usage, is what a busy machine disturbs least."""
    walls: dict[str, list[float]] = {label: [] for label in commands}
    cpus: dict[str, list[float]] = {label: [] for label in commands}
    for _ in range(runs):
        for label, argv in commands.items():
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            walls[label].append(timed(argv, env))
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpus[label].append(after.ru_utime - before.ru_utime + after.ru_stime - before.ru_stime)
    return {
        label: Figures(statistics.median(walls[label]), statistics.median(cpus[label]))
        for label in commands
    }
