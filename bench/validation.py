"""Benchmark: what validation at the door costs, and how fast hostile input is refused.

Figures (best of --runs, each a loop of --loops, time.perf_counter):
- Stack.from_record with 20 KB of custom JSON and App.from_record with 40
  environment variables, a health check, a source and a migrate command: every
  record the store reads is validated again, so this is paid per read;
- the refusal of a YAML "billion laughs" (9 levels of 9 aliases: 387 million
  values once expanded), of a 30,000-deep `--custom-json` and of a 100,000-deep
  node JSON: each must be a few milliseconds, never a hang.

    .venv/bin/python bench/validation.py [--runs 5] [--loops 2000]

Figures print; nothing is asserted.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

from stackops.errors import InvalidInput
from stackops.model.apps import App
from stackops.model.jsontext import load_json
from stackops.model.stackfile import parse_stack_file
from stackops.model.stacks import Stack
from stackops.model.validation import parse_custom_json

WHEN = "2026-11-28T17:00:00+00:00"


def best(runs: int, loops: int, work: Callable[[], object]) -> float:
    """Best time of one call, in microseconds."""
    times = []
    for _ in range(runs):
        started = time.perf_counter()
        for _ in range(loops):
            work()
        times.append((time.perf_counter() - started) / loops)
    return min(times) * 1e6


def refused(work: Callable[[], object]) -> Callable[[], None]:
    def run() -> None:
        try:
            work()
        except InvalidInput:
            return
        raise AssertionError("accepted")

    return run


def laughs() -> str:
    lines = ["x-a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    for up, down in zip("bcdefghi", "abcdefgh", strict=True):
        lines.append(f"x-{up}: &{up} [{', '.join([f'*{down}'] * 9)}]")
    return "\n".join(lines) + "\nstack: {name: lol, custom_json: {lol: *i}}\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--loops", type=int, default=2000)
    args = parser.parse_args()

    custom = {
        f"layer{i}": {
            "hosts": [f"10.0.0.{j}" for j in range(20)],
            "opts": {"a": i, "b": [1, 2, {"c": "x" * 20}]},
        }
        for i in range(60)
    }
    stack = Stack(name="shop", stack_id="s", created_at=WHEN, custom_json=custom).to_record()
    app = App(
        name="web",
        app_id="a",
        stack_id="s",
        created_at=WHEN,
        environment=[{"key": f"K{i}", "value": "v" * 50} for i in range(40)],
        app_source={"type": "s3", "url": "s3://bucket/web.tgz"},
        health_check={"path": "/health", "port": 8080},
        migrate_command=["./manage.py", "migrate"],
    ).to_record()
    deep = '{"a": ' * 30000 + "1" + "}" * 30000
    deep_node = "[" * 100_000
    text = laughs()

    runs, loops = args.runs, args.loops
    cases: list[tuple[str, int, Callable[[], object]]] = [
        ("Stack.from_record, 20 KB custom JSON", loops, lambda: Stack.from_record(stack)),
        ("App.from_record, 40 env vars, health check", loops, lambda: App.from_record(app)),
        ("refuse a billion laughs (apply)", 20, refused(lambda: parse_stack_file(text, "f"))),
        ("refuse a 30,000-deep --custom-json", 20, refused(lambda: parse_custom_json(deep))),
        ("refuse a 100,000-deep node JSON", 20, refused(lambda: load_json(deep_node, "n"))),
    ]
    rows = [(name, best(runs, count, work)) for name, count, work in cases]
    width = max(len(name) for name, _ in rows)
    for name, micros in rows:
        print(f"{name:<{width}}  {micros:10.0f} us")


if __name__ == "__main__":
    main()
