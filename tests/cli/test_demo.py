"""`make demo` runs its story to the end (on its own sandbox, on a free port)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from stackops.sandbox import find_free_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.server
def test_demo_story_runs_to_the_end(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(STACKOPS_HOME=str(tmp_path), STACKOPS_SANDBOX_PORT=str(find_free_port()))
    done = subprocess.run(
        [sys.executable, "-m", "stackops.demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "Traceback" not in out
    assert "not-for-your-eyes" not in out and "*****FILTERED*****" in out
    assert "No changes: stack demo matches stacks/demo.yaml." in out
    assert "broken.yaml:24:11: layers[0].type" in out
    assert out.rstrip().endswith("The README's quickstart shows the same steps by hand.")
