"""`make demo` runs its story to the end (on its own sandbox, on a free port)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import sandbox_port

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.slow
@pytest.mark.server
def test_demo_story_runs_to_the_end(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(STACKOPS_HOME=str(tmp_path), STACKOPS_SANDBOX_PORT=str(sandbox_port()))
    done = subprocess.run(
        [sys.executable, "-m", "stackops.demo"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,  # the whole story, auto scaling chapter included, on a busy 2-core machine
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    out = done.stdout
    assert "Traceback" not in out
    assert "not-for-your-eyes" not in out and "*****FILTERED*****" in out
    assert "No changes: stack demo matches stacks/demo.yaml." in out
    assert "broken.yaml:24:11: layers[0].type" in out
    # The lifecycle chapter: three app backends behind the lb, then two after a stop.
    assert "server app1 127.0.0.1:" in out and "server app3 127.0.0.1:" in out
    after_stop = out.split("Stop app2:", 1)[1]
    conf_after = after_stop.split("app2's commands", 1)[0]
    assert "server app2" not in conf_after and "server app3" in conf_after
    assert "shutdown   successful" in after_stop
    assert "web v1" in out
    # Deployments: the broken v2 is rolled back (every app server still serves v1),
    # the fixed v2 goes out by pilot, and a rollback brings v1 back.
    deploys = out.split("Now a broken v2", 1)[1]
    after_broken = deploys.split("The fixed v2", 1)[0]
    assert "rolled back 3 instance(s)" in after_broken
    assert "Serving now: app1: <h1>web v1</h1>, app2: <h1>web v1</h1>, app3: <h1>web v1</h1>" in (
        after_broken
    )
    assert "app3: <h1>web v2</h1>" in deploys.split("And back to v1", 1)[0]
    assert deploys.split("And back to v1", 1)[1].count("<h1>web v1</h1>") >= 3
    # Time- and load-based instances: started and stopped by the scaler as --now and load move.
    scaling = out.split("Three kinds of instances", 1)[1]
    assert "start timer1: Monday 9:00 UTC is on in its schedule" in scaling
    assert "start burst1: layer app scales up: CPUUtilization > 80 for 1 min" in scaling
    assert "stop timer1: Monday 10:00 UTC is off" in scaling
    assert "stop burst1: layer app scales down: CPUUtilization < 20 for 1 min" in scaling
    assert "Both came online and went away again in" in scaling
    assert out.rstrip().endswith("The README's quickstart shows the same steps by hand.")
