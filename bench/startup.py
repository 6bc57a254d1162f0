"""Benchmark: how fast the CLI answers, against the floor of importing click.

`stackops --help` and `stackops --version` list and name commands from the table in
stackops/cli/commands.py without loading any command (no boto3, pydantic or Jinja2).
Each figure is the median wall time of whole processes (time.perf_counter around
subprocess.run), the commands' runs taken in turn; the target is `--help` at most
2x `python -c "import click"`.

    .venv/bin/python bench/startup.py [--runs 21]

Figures print; nothing is asserted.
"""

from __future__ import annotations

import argparse
import sys

from wholeprocess import child_environment, interleaved_medians, stackops_command, timed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=21, help="runs per figure (median)")
    args = parser.parse_args()
    runs = max(5, args.runs)
    env = child_environment()
    stackops = stackops_command()
    commands = {
        'python -c "pass"': [sys.executable, "-c", "pass"],
        'python -c "import click"': [sys.executable, "-c", "import click"],
        "stackops --help": [*stackops, "--help"],
        "stackops --version": [*stackops, "--version"],
        "stackops describe-stacks --help": [*stackops, "describe-stacks", "--help"],
    }
    for argv in commands.values():
        timed(argv, env)  # a warm-up run writes the bytecode of an editable install
    medians = interleaved_medians(commands, env, runs)

    floor = medians['python -c "import click"']
    print(f"whole processes, median of {runs} runs, taken in turn; python {sys.version.split()[0]}")
    print(f"{'':34}{'wall':>9}{'/ click':>9}{'cpu':>10}{'/ click':>9}")
    for label, got in medians.items():
        wall, cpu = got.wall / floor.wall, got.cpu / floor.cpu
        print(f"{label:34}{got.wall:>7.3f} s{wall:>8.2f}x{got.cpu:>8.3f} s{cpu:>8.2f}x")
    ratio = medians["stackops --help"].wall / floor.wall
    print(f"stackops --help / import click = {ratio:.2f}x wall (target: at most 2x)")
    print("(describe-stacks --help loads its command, boto3 and pydantic: for comparison)")


if __name__ == "__main__":
    main()
