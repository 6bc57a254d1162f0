"""Several dispatcher processes on one queue: one activity per instance at a time."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from datetime import datetime
from pathlib import Path

import pytest

from stackops.sandbox import start_sandbox, stop_sandbox
from tests.helpers import sandbox_port
from tests.lifecycle.conftest import ROOT, stop_services
from tests.reliability.figures import full_run, record

STACK = """\
stack: {name: busy}
layers:
  - shortname: app
    type: custom
    custom_recipes: {setup: [t::slow], configure: [t::slow]}
instances:
"""


@pytest.mark.slow
@pytest.mark.server
@pytest.mark.parametrize(
    "count",
    [
        4,
        pytest.param(
            20,
            marks=pytest.mark.skipif(not full_run(), reason="make reliability runs it"),
        ),
    ],
)
def test_two_dispatcher_processes_never_overlap_on_an_instance(tmp_path, count):
    home = tmp_path / "home"
    books = tmp_path / "cookbooks" / "t"
    books.mkdir(parents=True)
    (books / "slow.py").write_text(
        'def recipe(run):\n    run.execute(["sleep", "0.5"], name="take a moment")\n'
    )
    stack = tmp_path / "busy.yaml"
    hosts = [f"app{n}" for n in range(1, count + 1)]
    stack.write_text(
        STACK
        + "".join(f"  - {{hostname: {h}, layers: [app], instance_type: t3.micro}}\n" for h in hosts)
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env["STACKOPS_HOME"] = str(home)
    info = start_sandbox(home, sandbox_port())

    def stackops(*args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "stackops", *args],
            cwd=ROOT,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    def run(*args: str) -> object:
        out, err = stackops(*args).communicate(timeout=120)
        assert "Traceback" not in err, err
        return json.loads(out) if out.strip().startswith("{") else out

    try:
        run("bootstrap")
        stack_id = run("apply", "-f", str(stack))["StackId"]
        ids = {
            i["Hostname"]: i["InstanceId"]
            for i in run("describe-instances", "--stack-id", stack_id)["Instances"]
        }
        for host in hosts:
            run("start-instance", "--instance-id", ids[host])
        run("watch", "--once")
        run("watch", "--once")  # every instance's `running` twice, with two event ids
        drain = (
            "dispatch",
            "--drain",
            "--executor",
            "local",
            "--cookbooks",
            str(books.parent),
            "--workers",
            "4",
        )
        first, second = stackops(*drain), stackops(*drain)
        for worker in (first, second):
            _out, err = worker.communicate(timeout=180)
            assert worker.returncode == 0, err
        run(*drain)  # whatever one of them left to retry later

        overlaps, setups, runs = [], {}, 0
        for host in hosts:
            commands = run("describe-commands", "--instance-id", ids[host])["Commands"]
            setups[host] = [c["Type"] for c in commands].count("setup")
            spans = sorted(
                (
                    datetime.fromisoformat(c["AcknowledgedAt"]),
                    datetime.fromisoformat(c["CompletedAt"]),
                )
                for c in commands
                if c.get("CompletedAt")
            )
            runs += len(spans)
            overlaps += [host for (_, end), (start, _) in itertools.pairwise(spans) if end > start]
        statuses = {
            i["Status"] for i in run("describe-instances", "--stack-id", stack_id)["Instances"]
        }
        record(
            "two dispatcher processes, one queue, instances booting",
            f"{count} instances",
            {
                "instances": count,
                "runs": runs,
                "overlapping runs": len(overlaps),
                "setups not once": sum(n != 1 for n in setups.values()),
                "not online": int(statuses != {"online"}),
            },
            bad=["overlapping runs", "setups not once", "not online"],
            order=30,
        )
        assert overlaps == [], f"two runs overlapped on {overlaps}"
        assert all(n == 1 for n in setups.values()), setups
        assert statuses == {"online"}
    finally:
        stop_services(Path(home) / "nodes")
        stop_sandbox(home)
    assert info.endpoint_url.startswith("http://127.0.0.1:")
