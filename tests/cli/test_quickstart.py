"""The README's quickstart, run as written: real processes on a real background sandbox.

Lines ending in `&` run in the background as a shell would run them; `kill %1 %2`
stops those jobs. The quickstart must end with an instance online and serving.
"""

from __future__ import annotations

import json
import os
import re
import shlex
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from tests.helpers import sandbox_port

ROOT = Path(__file__).resolve().parents[2]


def quickstart_commands() -> list[str]:
    """The stackops and `kill` lines of the README's Quickstart block, continuations joined."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Quickstart", 1)[1]
    block = section.split("```", 2)[1]
    joined = re.sub(r"\\\n\s*", " ", block)
    lines = [line.split("#", 1)[0].strip() for line in joined.splitlines()]
    return [line for line in lines if line.startswith((".venv/bin/stackops", "kill %"))]


@pytest.mark.slow
@pytest.mark.server
def test_readme_quickstart_runs_as_written(tmp_path):
    commands = quickstart_commands()
    assert commands[0].endswith("sandbox up") and commands[-1].endswith("sandbox down")
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")}
    env.update(
        STACKOPS_HOME=str(tmp_path / ".stackops"),
        STACKOPS_SANDBOX_PORT=str(sandbox_port()),  # tests run in parallel: not 4566
        AWS_CONFIG_FILE="/dev/null",
        AWS_SHARED_CREDENTIALS_FILE="/dev/null",
    )
    ids: dict[str, str] = {}
    outputs: list[tuple[str, str]] = []
    jobs: list[subprocess.Popen[bytes]] = []
    try:
        for line in commands:
            if line.startswith("kill %"):
                for job in line.split()[1:]:
                    process = jobs[int(job.lstrip("%")) - 1]
                    process.terminate()
                    assert process.wait(timeout=60) is not None
                continue
            background = line.endswith("&")
            argv = shlex.split(line.rstrip("&"))
            argv = [
                ids.get(a, a)
                if i and (argv[i - 1].endswith("-id") or argv[i - 1] == "--layer-ids")
                else a
                for i, a in enumerate(argv)
            ]
            argv = [sys.executable, "-m", "stackops", *argv[1:]]
            if background:
                log = (tmp_path / f"job{len(jobs) + 1}.log").open("wb")
                jobs.append(
                    subprocess.Popen(argv, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
                )
                continue
            done = subprocess.run(
                argv, cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
            )
            assert done.returncode == 0, f"{line}\n{done.stderr}\n" + "\n".join(
                (tmp_path / f"job{n}.log").read_text() for n in (1, 2)
            )
            assert "Traceback" not in done.stderr
            if "sandbox" not in line:
                assert "target: sandbox http://127.0.0.1:" in done.stderr, line
            outputs.append((line, done.stdout))
            if done.stdout.startswith("{"):
                answer = json.loads(done.stdout)
                for key, placeholder in (("StackId", "S"), ("LayerId", "L"), ("InstanceId", "I")):
                    if key in answer and placeholder not in ids:
                        ids[placeholder] = answer[key]
            if line.split()[1:2] == ["start-instance"]:
                # Online and serving: its page comes from the sandbox bucket's bundle.
                look = ["describe-instances", "--instance-ids", ids["I"]]
                described = subprocess.run(
                    [sys.executable, "-m", "stackops", *look],
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                    text=True,
                    timeout=60,
                )
                (instance,) = json.loads(described.stdout)["Instances"]
                port = 8000 + instance["PortOffset"]
                page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=10).read()
                assert b"web v1" in page
    finally:
        for job in jobs:
            job.kill()
            job.wait()
        subprocess.run(
            [sys.executable, "-m", "stackops", "sandbox", "down"],
            cwd=ROOT,
            env=env,
            capture_output=True,
            timeout=60,
        )
    assert set(ids) == {"S", "L", "I"}
    upload = next(out for line, out in outputs if "upload-app-bundle" in line)
    url = json.loads(upload)["Url"]
    assert any(url in line for line in commands if "create-app" in line)  # as the README says
    started = next(out for line, out in outputs if "start-instance" in line)
    assert json.loads(started) == {"InstanceId": ids["I"], "Status": "online"}
    table = next(out for line, out in outputs if "describe-instances" in line)
    assert "app1" in table and "online" in table
    commands_table = next(out for line, out in outputs if "describe-commands" in line)
    assert "health check of web passed" in commands_table
    applies = [out for line, out in outputs if "apply -f" in line]
    assert len(applies) == 3
    assert json.loads(applies[0])["DryRun"] is True
    assert json.loads(applies[1])["Created"] == 10
    assert json.loads(applies[2])["Changes"] == []
    # sandbox down took the node's processes with it.
    with pytest.raises(OSError):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2)
