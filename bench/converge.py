"""Benchmark: `stackops solo` as a whole process against a naive pure-Python script.

Workload (121 resources) under a scratch root: 20 directories, 100 files from one
template with 2 variables, 1 symlink. Each figure is the median wall time of
whole processes (time.perf_counter around subprocess.run): the first converge
(each run on a fresh root) and the no-op converge (on a converged root).

    .venv/bin/python bench/converge.py [--runs 7] [--keep]

PYTHONDONTWRITEBYTECODE is removed from the children's environment: an installed
package has its bytecode compiled, and a warm-up run writes it for an editable one.
Figures print; nothing is asserted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

RECIPE = """\
def recipe(run):
    folders = [run.directory(f"/srv/bench/d{i:02d}", mode=0o755) for i in range(20)]
    for i in range(100):
        run.template(
            f"/srv/bench/d{i % 20:02d}/f{i:03d}.conf",
            source="item.conf.j2",
            variables={"name": f"item{i}", "port": 8000 + i},
            mode=0o644,
            requires=[folders[i % 20]],
        )
    run.link("/srv/bench/current", to="/srv/bench/d00")
"""
TEMPLATE = "# generated\nname = {{ name }}\nport = {{ port }}\n"

# The floor: the same workload, written by hand with no engine at all.
NAIVE = """\
import os, sys
root = sys.argv[1]
template = "# generated\\nname = {name}\\nport = {port}\\n"
for i in range(20):
    os.makedirs(f"{root}/srv/bench/d{i:02d}", mode=0o755, exist_ok=True)
for i in range(100):
    path = f"{root}/srv/bench/d{i % 20:02d}/f{i:03d}.conf"
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
if not os.path.islink(link) or os.readlink(link) != "d00":
    if os.path.lexists(link):
        os.unlink(link)
    os.symlink("d00", link)
"""

REFERENCE = "Ansible 42.7 s, pyinfra 3.05 s, Salt 0.70 s, pure Python 0.010 s (issue, no-op)"


def stackops_command() -> list[str]:
    script = Path(sys.executable).with_name("stackops")
    return [str(script)] if script.exists() else [sys.executable, "-m", "stackops.cli.main"]


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    done = subprocess.run(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    elapsed = time.perf_counter() - started
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(argv)} failed:\n{done.stderr.decode()}")
    return elapsed


def measure(make_argv, scratch: Path, label: str, runs: int, env: dict[str, str]):
    """(first, no-op) medians for a command taking a root folder."""
    firsts = []
    for n in range(runs):
        firsts.append(timed(make_argv(scratch / f"{label}-first-{n}"), env))
    steady = scratch / f"{label}-steady"
    timed(make_argv(steady), env)
    noops = [timed(make_argv(steady), env) for _ in range(runs)]
    return statistics.median(firsts), statistics.median(noops), steady


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="runs per figure (median)")
    parser.add_argument("--keep", action="store_true", help="keep the scratch folder")
    args = parser.parse_args()
    runs = max(5, args.runs)

    scratch = Path(tempfile.mkdtemp(prefix="stackops-bench-"))
    cookbooks = scratch / "cookbooks"
    (cookbooks / "bench" / "templates").mkdir(parents=True)
    (cookbooks / "bench" / "workload.py").write_text(RECIPE)
    (cookbooks / "bench" / "templates" / "item.conf.j2").write_text(TEMPLATE)
    naive = scratch / "naive.py"
    naive.write_text(NAIVE)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    solo = stackops_command()

    def solo_argv(root: Path) -> list[str]:
        return [
            *solo,
            "solo",
            "--root",
            str(root),
            "--cookbooks",
            str(cookbooks),
            "bench::workload",
        ]

    def naive_argv(root: Path) -> list[str]:
        return [sys.executable, str(naive), str(root)]

    try:
        timed(solo_argv(scratch / "warm-up"), env)  # writes bytecode of an editable install
        solo_first, solo_noop, steady = measure(solo_argv, scratch, "solo", runs, env)
        check = subprocess.run(
            solo_argv(steady), env=env, capture_output=True, text=True, check=True
        ).stdout.strip()
        naive_first, naive_noop, _ = measure(naive_argv, scratch, "naive", runs, env)
        python = statistics.median(timed([sys.executable, "-c", "pass"], env) for _ in range(runs))
    finally:
        if not args.keep:
            shutil.rmtree(scratch, ignore_errors=True)

    print("workload: 20 directories, 100 files from 1 template (2 variables), 1 symlink")
    print(f"whole processes, median of {runs} runs; python {sys.version.split()[0]}")
    print(f"{'':28}{'first run':>12}{'no-op run':>12}")
    print(f"{'stackops solo':28}{solo_first:>10.3f} s{solo_noop:>10.3f} s")
    print(f"{'naive pure-Python script':28}{naive_first:>10.3f} s{naive_noop:>10.3f} s")
    print(f"{'python -c pass (start-up)':28}{python:>10.3f} s")
    print(f"no-op report: {check.splitlines()[-1]}")
    print(f"reference: {REFERENCE}")
    print("target for stackops: no-op <= 0.12 s, first run <= 0.2 s")
    if args.keep:
        print(f"scratch kept in {scratch}")


if __name__ == "__main__":
    main()
