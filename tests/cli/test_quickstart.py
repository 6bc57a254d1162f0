"""The README's quickstart, run as written: real processes on a real background sandbox."""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from stackops.sandbox import find_free_port

ROOT = Path(__file__).resolve().parents[2]


def quickstart_commands() -> list[str]:
    """The stackops lines of the README's Quickstart block, continuations joined."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quickstart", 1)[1]
    block = section.split("```", 2)[1]
    joined = re.sub(r"\\\n\s*", " ", block)
    lines = [line.split("#", 1)[0].strip() for line in joined.splitlines()]
    return [line for line in lines if line.startswith(".venv/bin/stackops")]


@pytest.mark.server
def test_readme_quickstart_runs_as_written(tmp_path):
    commands = quickstart_commands()
    assert commands[0].endswith("sandbox up") and commands[-1].endswith("sandbox down")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        STACKOPS_HOME=str(tmp_path / ".stackops"),
        STACKOPS_SANDBOX_PORT=str(find_free_port()),  # tests run in parallel: not 4566
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
    )
    ids: dict[str, str] = {}
    outputs: list[str] = []
    try:
        for line in commands:
            argv = shlex.split(line)
            argv = [
                ids.get(a, a)
                if i and (argv[i - 1].endswith("-id") or argv[i - 1] == "--layer-ids")
                else a
                for i, a in enumerate(argv)
            ]
            argv = [sys.executable, "-m", "stackops", *argv[1:]]
            done = subprocess.run(
                argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120
            )
            assert done.returncode == 0, f"{line}\n{done.stderr}"
            assert "Traceback" not in done.stderr
            if "sandbox" not in line:
                assert "target: sandbox http://127.0.0.1:" in done.stderr, line
            outputs.append(done.stdout)
            if done.stdout.startswith("{"):
                answer = json.loads(done.stdout)
                for key, placeholder in (("StackId", "S"), ("LayerId", "L"), ("InstanceId", "I")):
                    if key in answer and placeholder not in ids:
                        ids[placeholder] = answer[key]
    finally:
        subprocess.run(
            [sys.executable, "-m", "stackops", "sandbox", "down"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=60,
        )
    assert set(ids) == {"S", "L", "I"}
    table = next(o for line, o in zip(commands, outputs, strict=True) if "--output table" in line)
    assert "app1" in table and "pending" in table
    applies = [o for line, o in zip(commands, outputs, strict=True) if "apply -f" in line]
    assert len(applies) == 3
    assert json.loads(applies[0])["DryRun"] is True
    assert json.loads(applies[1])["Created"] == 10
    assert json.loads(applies[2])["Changes"] == []
