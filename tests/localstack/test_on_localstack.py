"""The integration flow against a running LocalStack (`make localstack-test`).

Skipped unless STACKOPS_LOCALSTACK_URL names one. The ready hook's bootstrap, then a
stack booted, deployed and stopped through the real queue and dispatcher, with the
local executor and `stackops watch` (LocalStack emits no EC2 events).
"""

from __future__ import annotations

import os
import subprocess
import sys
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from tests.aws.test_ssm_rehearsal import STACK, story
from tests.lifecycle.conftest import ROOT, free_port_base, stop_services

URL = os.environ.get("STACKOPS_LOCALSTACK_URL", "")
HOOK = ROOT / "localstack/init/ready.d/10-stackops-bootstrap.sh"

pytestmark = [
    pytest.mark.localstack,
    pytest.mark.skipif(not URL, reason="no STACKOPS_LOCALSTACK_URL: run make localstack-test"),
]


def answers(url: str) -> bool:
    try:
        urllib.request.urlopen(f"{url}/_localstack/health", timeout=3)
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False
    return True


@pytest.fixture
def localstack(monkeypatch, tmp_path):
    if not answers(URL):
        pytest.fail(f"nothing answers at {URL}")
    monkeypatch.setenv("AWS_ENDPOINT_URL", URL)
    monkeypatch.setenv("STACKOPS_NAMESPACE", f"t{os.getpid()}")
    monkeypatch.chdir(ROOT)
    return URL


def test_the_hook_then_a_stack_through_the_dispatcher(localstack, invoke, tmp_path):
    shim = tmp_path / "stackops"
    shim.write_text(f'#!/bin/sh\nexec {sys.executable} -m stackops "$@"\n')
    shim.chmod(0o755)
    env = {**os.environ, "STACKOPS": str(shim), "STACKOPS_ENDPOINT": localstack}
    hook = subprocess.run(["sh", str(HOOK)], env=env, capture_output=True, text=True)
    assert hook.returncode == 0, hook.stderr
    stack = STACK.replace("stack:\n", "stack:\n  default_ami_id: ami-12345678\n", 1)
    try:
        done = story(invoke, tmp_path, "local", free_port_base(), stack=stack)
    finally:
        stop_services(Path(os.environ["STACKOPS_HOME"]) / "nodes")
    assert done["statuses"] == {"lb1": "online", "app1": "online", "app2": "stopped"}
    assert "srv/www/web/current" in done["nodes"]["app1"]
