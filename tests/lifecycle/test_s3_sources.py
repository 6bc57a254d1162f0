"""An s3:// app source in the sandbox is fetched from the sandbox, never the internet."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from stackops.config import Target, state_home
from stackops.executors.checks import node_environment
from stackops.nodes import node_aws_environment
from stackops.sandbox import find_free_port
from tests.lifecycle.conftest import ROOT, free_port_base, stop_services

STACK = """\
stack:
  name: s3shop
  custom_json: {web: {port_base: PORT_BASE}}
layers:
  - shortname: app
    type: custom
    custom_recipes: {setup: [web::setup], deploy: [web::deploy]}
apps:
  - shortname: web
    app_source: {type: s3, url: "s3://shop-sources/web-v1.tar.gz"}
    layers: [app]
instances:
  - {hostname: app1, layers: [app], instance_type: t3.micro}
"""


def run_environment(target: Target, environ: dict[str, str]) -> dict[str, str]:
    """What the local executor gives a run on this host (see make_executor)."""
    return node_environment(environ, node_aws_environment(target))


def test_runs_on_this_host_get_the_dispatchers_endpoint_region_and_sandbox_credentials():
    sandbox = Target("sandbox", "eu-west-1", endpoint_url="http://127.0.0.1:4566")
    env = run_environment(sandbox, {"PATH": "/bin", "AWS_ENDPOINT_URL": "http://elsewhere"})
    assert env["AWS_ENDPOINT_URL"] == "http://127.0.0.1:4566"
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "eu-west-1"
    assert env["AWS_ACCESS_KEY_ID"] == "test" and env["PATH"] == "/bin"
    account = run_environment(Target("account", "us-east-1"), {"AWS_ENDPOINT_URL": "http://x"})
    assert "AWS_ENDPOINT_URL" not in account and "AWS_ACCESS_KEY_ID" not in account


@pytest.fixture
def endpoint() -> Iterator[str]:
    """A moto server on loopback: the sandbox the commands below act on."""
    from moto.server import ThreadedMotoServer

    # Port block 0: the nodes' port offsets stay small, so PORT_BASE + offset is a port
    # (another block adds up to 23,000 and overflowed 65535 when the base came out high).
    port = find_free_port(port_block=0)
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.stop()


@pytest.mark.server
def test_an_s3_source_is_fetched_from_the_sandbox(endpoint, invoke, tmp_path, monkeypatch):
    monkeypatch.chdir(ROOT)
    monkeypatch.delenv("AWS_ACCESS_KEY_ID")  # a sandbox needs none; the run gets fake ones
    monkeypatch.delenv("AWS_SECRET_ACCESS_KEY")

    def run(*args: str) -> dict:
        result = invoke("--endpoint-url", endpoint, *args)
        assert result.exit_code == 0, result.stderr
        return json.loads(result.stdout) if result.stdout.strip() else {}

    run("bootstrap")
    s3 = boto3.client(
        "s3",
        endpoint_url=endpoint,
        region_name="us-east-1",
        aws_access_key_id="test",
        aws_secret_access_key="test",
    )
    s3.create_bucket(Bucket="shop-sources")
    archive = ROOT / "recipes/web/files/web-v1.tar.gz"
    s3.put_object(Bucket="shop-sources", Key="web-v1.tar.gz", Body=archive.read_bytes())
    base = free_port_base()
    stack_file = tmp_path / "stack.yaml"
    stack_file.write_text(STACK.replace("PORT_BASE", str(base)))
    stack_id = run("apply", "-f", str(stack_file))["StackId"]
    (app1,) = run("describe-instances", "--stack-id", stack_id)["Instances"]
    try:
        run("start-instance", "--instance-id", app1["InstanceId"])
        run("watch", "--once")
        run("dispatch", "--drain", "--executor", "local")
        (app1,) = run("describe-instances", "--stack-id", stack_id)["Instances"]
        commands = run("describe-commands", "--instance-id", app1["InstanceId"])["Commands"]
        assert [(c["Type"], c["Status"]) for c in commands][:2] == [
            ("setup", "successful"),
            ("deploy", "successful"),
        ], commands
        assert app1["Status"] == "online"
        url = f"http://127.0.0.1:{base + app1['PortOffset']}/"
        assert "web v1" in urllib.request.urlopen(url, timeout=10).read().decode()
    finally:
        stop_services(Path(state_home()) / "nodes")
