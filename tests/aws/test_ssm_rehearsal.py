"""The dress rehearsal: `--executor ssm` in the sandbox leaves the nodes as the local one does.

One sandbox (its SSM agent on) runs the same story twice: boot a load balancer and
two app servers, deploy the app, stop one app server. First with the local
executor, then (state reset) with the ssm executor. The node folders, with the
ids each run made up replaced by names, are the same; so are the statuses and
the commands each instance ran.
"""

from __future__ import annotations

import json
import re
import shutil
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from stackops.config import state_home
from stackops.sandbox import find_free_port, reset_sandbox, start_sandbox, stop_sandbox
from tests.helpers import ok_json
from tests.lifecycle.conftest import ROOT, free_port_base, stop_services

# A whole story twice over a sandbox, its SSM agent and the nodes' services: slow.
pytestmark = [pytest.mark.server, pytest.mark.slow]

STACK = """\
stack:
  name: shop
  custom_json: {web: {port_base: PORT_BASE}, env: rehearsal}
layers:
  - shortname: lb
    type: lb
    custom_recipes: {setup: [lb::setup], configure: [lb::configure]}
  - shortname: app
    type: custom
    custom_recipes: {setup: [web::setup], configure: [web::configure], deploy: [web::deploy]}
    lifecycle_event_configuration: {shutdown: {execution_timeout: 30}}
apps:
  - shortname: web
    app_source: {type: archive, url: recipes/web/files/web-v1.tar.gz}
    environment: [{key: GREETING, value: hello}]
    layers: [app]
instances:
  - {hostname: lb1, layers: [lb], instance_type: t3.micro}
  - {hostname: app1, layers: [app], instance_type: t3.micro}
  - {hostname: app2, layers: [app], instance_type: t3.micro}
"""
# pids, service output, and the engine's render cache (keyed by a hash of each run's inputs)
SKIPPED = re.compile(
    r"^(var/run/stackops/.*\.pid|var/log/stackops/.*\.log|var/lib/stackops/rendered-templates\.json)$"
)


def story(
    invoke, tmp_path: Path, executor: str, port_base: int, stack: str = STACK
) -> dict[str, Any]:
    def run(*args: str) -> Any:
        return ok_json(invoke(*args))

    run("bootstrap")
    path = tmp_path / "stack.yaml"
    path.write_text(stack.replace("PORT_BASE", str(port_base)))
    stack_id = run("apply", "-f", str(path))["StackId"]

    def instances() -> dict[str, dict[str, Any]]:
        found = run("describe-instances", "--stack-id", stack_id)["Instances"]
        return {i["Hostname"]: i for i in found}

    def dispatch() -> None:
        outcome = run("dispatch", "--drain", "--executor", executor)
        assert outcome["Failed"] == 0, outcome

    for host in ("lb1", "app1", "app2"):
        run("start-instance", "--instance-id", instances()[host]["InstanceId"])
    run("watch", "--once")
    dispatch()
    assert {h: i["Status"] for h, i in instances().items()} == dict.fromkeys(
        ("lb1", "app1", "app2"), "online"
    )
    offset = instances()["app1"]["PortOffset"]
    page = urllib.request.urlopen(f"http://127.0.0.1:{port_base + offset}/", timeout=10)
    assert "web v1" in page.read().decode()

    (app,) = run("describe-apps", "--stack-id", stack_id)["Apps"]
    deployment = run(
        "create-deployment", "--stack-id", stack_id, "--app-id", app["AppId"],
        "--command", json.dumps({"Name": "deploy"}), "--strategy", "rolling",
    )["DeploymentId"]  # fmt: skip
    dispatch()
    (done,) = run("describe-deployments", "--deployment-ids", deployment)["Deployments"]
    assert done["Status"] == "successful", done

    run("stop-instance", "--instance-id", instances()["app2"]["InstanceId"])
    dispatch()
    final = instances()
    commands = {
        host: [
            (c["Type"], c["Status"])
            for c in run("describe-commands", "--instance-id", i["InstanceId"])["Commands"]
        ]
        for host, i in final.items()
    }
    names = _names(run, stack_id, final)
    nodes = state_home() / "nodes"
    snapshot = _snapshot(nodes, final, names)
    stop_services(nodes)
    return {
        "statuses": {h: i["Status"] for h, i in final.items()},
        "commands": commands,
        "nodes": snapshot,
    }


def _names(run, stack_id: str, instances: dict[str, dict[str, Any]]) -> dict[str, str]:
    """Every id this run made up -> a name that is the same in both runs."""
    names = {stack_id: "<stack>"}
    for layer in run("describe-layers", "--stack-id", stack_id)["Layers"]:
        names[layer["LayerId"]] = f"<layer {layer['Shortname']}>"
    for app in run("describe-apps", "--stack-id", stack_id)["Apps"]:
        names[app["AppId"]] = f"<app {app['Shortname']}>"
    for host, found in instances.items():
        for field in ("InstanceId", "Ec2InstanceId", "PrivateIp", "PrivateDns", "PublicIp"):
            if found.get(field):
                names[found[field]] = f"<{host} {field}>"
    return names


def _snapshot(
    nodes: Path, instances: dict[str, dict[str, Any]], names: dict[str, str]
) -> dict[str, dict[str, str]]:
    """Each node's files (pid files and service logs left out), ids replaced by names."""
    found: dict[str, dict[str, str]] = {}
    for host, instance in instances.items():
        root = nodes / instance["Ec2InstanceId"]
        releases = sorted(p.name for p in root.glob("srv/www/*/releases/*"))
        local = {**names, **{r: f"<release {n}>" for n, r in enumerate(releases)}}
        pattern = re.compile("|".join(re.escape(k) for k in sorted(local, key=len, reverse=True)))

        def name(match: re.Match[str], local: dict[str, str] = local) -> str:
            return local[match.group(0)]

        files = {}
        for path in sorted(p for p in root.rglob("*") if p.is_file() or p.is_symlink()):
            rel = str(path.relative_to(root))
            if SKIPPED.match(rel):
                continue
            body = f"-> {path.readlink()}" if path.is_symlink() else path.read_text()
            files[pattern.sub(name, rel)] = pattern.sub(name, body)
        found[host] = files
    return found


def test_ssm_in_the_sandbox_leaves_the_nodes_as_the_local_executor_does(
    tmp_path, invoke, monkeypatch
):
    monkeypatch.chdir(ROOT)  # the stack names its archive relative to the project
    home = tmp_path / "home"
    monkeypatch.setenv("STACKOPS_HOME", str(home))
    info = start_sandbox(home, find_free_port())
    port_base = free_port_base()
    try:
        local = story(invoke, tmp_path, "local", port_base)
        shutil.move(home / "nodes", home / "nodes-local")
        reset_sandbox(info.endpoint_url)
        ssm = story(invoke, tmp_path, "ssm", port_base)
    finally:
        stop_services(home / "nodes")
        stop_services(home / "nodes-local")
        stop_sandbox(home)
    assert local["statuses"] == {"lb1": "online", "app1": "online", "app2": "stopped"}
    assert ssm["statuses"] == local["statuses"]
    assert ssm["commands"] == local["commands"]
    assert ("shutdown", "successful") in ssm["commands"]["app2"]
    assert set(ssm["nodes"]) == {"lb1", "app1", "app2"}
    for host in ssm["nodes"]:
        assert ssm["nodes"][host] == local["nodes"][host], host
    lb = ssm["nodes"]["lb1"]["etc/lb/backends.conf"]
    assert "app1" in lb and "app2" not in lb  # configure after the stop reached the lb
    assert "srv/www/web/current" in ssm["nodes"]["app1"]
