"""Benchmark: `stackops solo` as a whole process against a naive pure-Python script.

Workload of N resources under a scratch root: N // 6 directories, one symlink, and
the rest files from one template with 2 variables (N = 121: 20 directories, 100
files, 1 symlink). Each figure is the median wall time of whole processes
(time.perf_counter around subprocess.run).

1. N = 121: the first converge (each run on a fresh root) and the no-op converge
   (on a converged root), stackops against the naive script; the target is a no-op
   at most 3x the naive script's.
2. The no-op curve from 100 to 10,000 resources: wall time, and the cost per
   resource above the start-up (wall less the no-op of an empty recipe, over N),
   which should stay flat.

    .venv/bin/python bench/converge.py [--runs 7] [--sizes 100,1000,10000] [--keep]

Figures print; nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from wholeprocess import (
    child_environment,
    interleaved_medians,
    stackops_command,
    timed,
)

RECIPE = """\
def recipe(run):
    size = run.node["bench"]["resources"]
    dirs = max(1, size // 6)
    files = size - dirs - 1
    folders = [run.directory(f"/srv/bench/d{i:04d}", mode=0o755) for i in range(dirs)]
    for i in range(files):
        run.template(
            f"/srv/bench/d{i % dirs:04d}/f{i:05d}.conf",
            source="item.conf.j2",
            variables={"name": f"item{i}", "port": 8000 + i},
            mode=0o644,
            requires=[folders[i % dirs]],
        )
    run.link("/srv/bench/current", to="/srv/bench/d0000")
"""
EMPTY_RECIPE = "def recipe(run):\n    pass\n"
TEMPLATE = "# generated\nname = {{ name }}\nport = {{ port }}\n"

# The floor: the same workload, written by hand with no engine at all.
NAIVE = """\
import os, sys
root, size = sys.argv[1], int(sys.argv[2])
dirs = max(1, size // 6)
files = size - dirs - 1
template = "# generated\\nname = {name}\\nport = {port}\\n"
for i in range(dirs):
    os.makedirs(f"{root}/srv/bench/d{i:04d}", mode=0o755, exist_ok=True)
for i in range(files):
    path = f"{root}/srv/bench/d{i % dirs:04d}/f{i:05d}.conf"
    data = template.format(name=f"item{i}", port=8000 + i).encode()
    try:
        with open(path, "rb") as f:
            same = f.read() == data
    except FileNotFoundError:
        same = False
    if not same:
        tmp = path + ".tmp"
        with open(tmp, "wb") as f:
            f.write(data)
        os.chmod(tmp, 0o644)
        os.replace(tmp, path)
link = f"{root}/srv/bench/current"
if not os.path.islink(link) or os.readlink(link) != "d0000":
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink("d0000", link)
"""

REFERENCE = "Ansible 42.7 s, pyinfra 3.05 s, Salt 0.70 s (same no-op, 2-core machine)"

Argv = Callable[[Path], list[str]]


class Workload:
    """The scratch folder: the bench cookbook, node files per size, the naive script."""

    def __init__(self, scratch: Path) -> None:
        self.scratch = scratch
        self.cookbooks = scratch / "cookbooks"
        (self.cookbooks / "bench" / "templates").mkdir(parents=True)
        (self.cookbooks / "bench" / "workload.py").write_text(RECIPE)
        (self.cookbooks / "bench" / "empty.py").write_text(EMPTY_RECIPE)
        (self.cookbooks / "bench" / "templates" / "item.conf.j2").write_text(TEMPLATE)
        self.naive = scratch / "naive.py"
        self.naive.write_text(NAIVE)
        self.solo = stackops_command()

    def solo_argv(self, size: int, recipe: str = "bench::workload") -> Argv:
        node = self.scratch / f"node-{size}.json"
        node.write_text(json.dumps({"bench": {"resources": size}}))
        options = ["-j", str(node), "--cookbooks", str(self.cookbooks)]
        return lambda root: [*self.solo, "solo", *options, "--root", str(root), recipe]

    def naive_argv(self, size: int) -> Argv:
        return lambda root: [sys.executable, str(self.naive), str(root), str(size)]

    def converged(self, argv: Argv, label: str, env: dict[str, str]) -> Path:
        """A root `argv` has converged once, for no-op runs."""
        root = self.scratch / label
        timed(argv(root), env)
        return root


def first_runs(
    workload: Workload, argvs: dict[str, Argv], runs: int, env: dict[str, str]
) -> dict[str, float]:
    """Median first-run time of each command, each run on a fresh root, taken in turn."""
    times: dict[str, list[float]] = {label: [] for label in argvs}
    for n in range(runs):
        for label, argv in argvs.items():
            times[label].append(timed(argv(workload.scratch / f"{label}-first-{n}"), env))
    return {label: statistics.median(values) for label, values in times.items()}


def steady_commands(
    workload: Workload, argvs: dict[str, Argv], env: dict[str, str]
) -> dict[str, list[str]]:
    """Each command on a root it converged once: what its no-op runs run."""
    return {
        label: argv(workload.converged(argv, f"{label}-steady", env))
        for label, argv in argvs.items()
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per figure (median)")
    parser.add_argument(
        "--sizes", default="100,300,1000,3000,10000", help="resource counts of the no-op curve"
    )
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()
    runs = max(5, args.runs)
    sizes = sorted({max(2, int(s)) for s in args.sizes.split(",")})
    curve_runs = runs

    scratch = Path(tempfile.mkdtemp(prefix="stackops-bench-"))
    env = child_environment()
    try:
        workload = Workload(scratch)
        solo, naive = workload.solo_argv(121), workload.naive_argv(121)
        timed(solo(scratch / "warm-up"), env)  # writes bytecode of an editable install
        first = first_runs(workload, {"solo": solo, "naive": naive}, runs, env)
        empty = workload.solo_argv(0, "bench::empty")
        steady = steady_commands(workload, {"solo": solo, "naive": naive, "empty": empty}, env)
        steady["python"] = [sys.executable, "-c", "pass"]
        noop = interleaved_medians(steady, env, runs)
        check = timed_report(solo(scratch / "solo-steady"), env)
        curve = []
        for size in sizes:
            both = {"solo": workload.solo_argv(size), "naive": workload.naive_argv(size)}
            labelled = {f"{label}-{size}": argv for label, argv in both.items()}
            figures = interleaved_medians(steady_commands(workload, labelled, env), env, curve_runs)
            curve.append((size, figures[f"solo-{size}"], figures[f"naive-{size}"]))
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)

    print("workload: N // 6 directories, 1 symlink, the rest files from 1 template (2 variables)")
    print(f"whole processes, median of {runs} runs; python {sys.version.split()[0]}")
    print()
    print("121 resources (20 directories, 100 files, 1 symlink):")
    print(f"{'':30}{'first run':>12}{'no-op run':>12}{'no-op cpu':>12}")
    for label, name in [
        ("solo", "stackops solo"),
        ("naive", "naive pure-Python script"),
        ("empty", "stackops solo, empty recipe"),
        ("python", "python -c pass (start-up)"),
    ]:
        started = f"{first[label]:>10.3f} s" if label in first else f"{'':>12}"
        print(f"{name:30}{started}{noop[label].wall:>10.3f} s{noop[label].cpu:>10.3f} s")
    wall = noop["solo"].wall / noop["naive"].wall
    cpu = noop["solo"].cpu / noop["naive"].cpu
    print(f"no-op: stackops / naive = {wall:.2f}x wall, {cpu:.2f}x cpu (target: at most 3x)")
    print(f"no-op report: {check}")
    print(f"reference: {REFERENCE}")
    print()
    print(f"no-op curve, median of {curve_runs} runs; per resource = (figure - empty recipe's) / N")
    print(f"{'':10}{'stackops':>33}{'naive script':>33}")
    print(f"{'resources':>10}" + f"{'wall':>9}{'cpu':>9}{'us/res w/cpu':>15}" * 2)
    for size, solo_got, naive_got in curve:
        cells = []
        for got, base in ((solo_got, noop["empty"]), (naive_got, noop["python"])):
            per_wall = (got.wall - base.wall) / size * 1e6
            per_cpu = (got.cpu - base.cpu) / size * 1e6
            cells.append(f"{got.wall:>7.3f} s{got.cpu:>7.3f} s{per_wall:>7.1f}/{per_cpu:<7.1f}")
        print(f"{size:>10}" + "".join(cells))
    if args.keep:
        print(f"scratch kept in {scratch}")


def timed_report(argv: list[str], env: dict[str, str]) -> str:
    """The summary line a run prints (the no-op run's, here)."""
    done = subprocess.run(argv, env=env, capture_output=True, text=True, check=True)
    return done.stdout.strip().splitlines()[-1]


if __name__ == "__main__":
    main()
