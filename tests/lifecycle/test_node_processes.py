"""Sandbox nodes play machines: their processes end with their EC2 instance, ports never clash."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import boto3

from stackops.converge import run_recipes
from stackops.converge.supervise import listens, process_alive
from stackops.processes import port_holders, tree_of

SLEEPER = "import time\nwhile True: time.sleep(0.05)\n"

STACK = """\
stack:
  name: shop
  custom_json: {web: {port_base: PORT_BASE}}
layers:
  - shortname: app
    type: custom
    enable_auto_healing: true
    custom_recipes: {setup: [web::setup], configure: [web::configure], deploy: [web::deploy]}
apps:
  - shortname: web
    app_source: {type: archive, url: recipes/web/files/web-v1.tar.gz}
    layers: [app]
instances:
  - {hostname: app1, layers: [app], instance_type: t3.micro}
"""


def a_service_on(node: Path, tmp_path: Path) -> int:
    """Start a service on a node folder (as a recipe would); its pid."""
    books = tmp_path / "books" / "svc"
    books.mkdir(parents=True, exist_ok=True)
    command = [sys.executable, "-c", SLEEPER]
    (books / "default.py").write_text(
        f"def recipe(run):\n    run.service('idle', command={command!r})\n"
    )
    node.mkdir(parents=True, exist_ok=True)
    assert run_recipes(["svc"], {}, node, [books.parent]).ok
    return json.loads((node / "var/run/stackops/idle.pid").read_text())["pid"]


def test_instances_of_two_stacks_never_share_a_port_offset(aws, invoke):
    from tests.helpers import ok_json

    ok_json(invoke("bootstrap"))
    offsets = []
    for name in ("shop", "blog"):
        stack = ok_json(invoke("create-stack", "--name", name, "--region", "us-east-1"))
        layer = ok_json(
            invoke(
                "create-layer",
                "--stack-id",
                stack["StackId"],
                "--type",
                "custom",
                "--name",
                "App",
                "--shortname",
                "app",
            )
        )
        for _ in range(2):
            made = ok_json(
                invoke(
                    "create-instance",
                    "--stack-id",
                    stack["StackId"],
                    "--layer-ids",
                    layer["LayerId"],
                    "--instance-type",
                    "t3.micro",
                )
            )
            found = ok_json(invoke("describe-instances", "--instance-ids", made["InstanceId"]))
            offsets.append(found["Instances"][0]["PortOffset"])
    assert len(set(offsets)) == 4, offsets  # two stacks gave the same ports before


def test_the_watcher_ends_a_node_whose_instance_it_sees_stopped(stack_env, tmp_path):
    env = stack_env
    env.apply(STACK, tmp_path)
    env.start("app1")
    ec2_id = env.instances()["app1"]["Ec2InstanceId"]
    pid = a_service_on(env.node("app1"), tmp_path)
    boto3.client("ec2", region_name="us-east-1").stop_instances(InstanceIds=[ec2_id])
    watched = env.invoke("watch", "--once")
    assert watched.exit_code == 0, watched.stderr
    assert f"{ec2_id} stopped: its node's processes ended" in watched.stderr
    assert not process_alive(pid, None)


def test_a_forced_stop_ends_the_nodes_processes(stack_env, tmp_path):
    env = stack_env
    env.apply(STACK, tmp_path)
    env.start("app1")
    pid = a_service_on(env.node("app1"), tmp_path)
    env.stop("app1", "--force")
    assert not process_alive(pid, None)


def test_auto_healing_replaces_a_terminated_node_whose_old_process_is_gone(stack_env, tmp_path):
    """The bug: the terminated node's web process kept its port; the replacement's service
    failed to bind, yet the instance went online serving from the old process."""
    env = stack_env
    env.apply(STACK, tmp_path)
    env.start("app1")
    env.watch()
    env.dispatch()
    first = env.instances()["app1"]
    assert first["Status"] == "online"
    port = env.port_base + first["PortOffset"]
    old_node = env.node("app1")
    (old_holder,) = port_holders(port)

    boto3.client("ec2", region_name="us-east-1").terminate_instances(
        InstanceIds=[first["Ec2InstanceId"]]
    )
    # The event is published without `stackops watch` (which would end the node itself):
    # the dispatcher must end the node before it heals.
    from stackops.lifecycle.watcher import watcher_for
    from tests.lifecycle.conftest import moto_services

    watcher = watcher_for(moto_services().session, known={first["Ec2InstanceId"]: "running"})
    watcher.poll()
    env.dispatch()  # terminated: end its node, auto-heal: a new EC2 instance
    assert not process_alive(old_holder, None)
    watcher.poll()
    env.dispatch()  # the replacement boots
    healed = env.instances()["app1"]
    assert healed["Status"] == "online"
    assert healed["Ec2InstanceId"] != first["Ec2InstanceId"]
    new_node = env.node("app1")
    assert new_node != old_node
    (holder,) = port_holders(port)
    keeper = json.loads((new_node / "var/run/stackops/keeper/keeper.pid").read_text())["pid"]
    assert holder in tree_of(keeper)  # the replacement's own service serves the port
    page = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=5).read().decode()
    assert "web v1" in page


def test_a_stale_process_on_the_nodes_port_fails_the_deploy_instead_of_passing_it(
    stack_env, tmp_path
):
    """Before: the new service died on 'Address already in use' unseen, and the health
    check passed against the stale process; the deploy was recorded successful."""
    env = stack_env
    env.apply(
        STACK.replace(
            "    layers: [app]\n",
            "    layers: [app]\n    health_check: {path: /health, port: PORT_BASE, retries: 2,"
            " interval: 0.2, timeout: 30}\n",
        ),
        tmp_path,
    )
    env.start("app1")
    env.watch()
    env.dispatch()
    app1 = env.instances()["app1"]
    assert app1["Status"] == "online"
    port = env.port_base + app1["PortOffset"]
    run = env.node("app1") / "var/run/stackops"
    service = json.loads((run / "web.pid").read_text())["pid"]
    # The node's own service dies; a stale server (no node's) takes its port, and answers.
    os.kill(service, signal.SIGKILL)
    site = tmp_path / "stale"
    site.mkdir()
    (site / "health").write_text("ok")
    stale = subprocess.Popen(
        [sys.executable, "-m", "http.server", str(port), "--bind", "127.0.0.1"],
        cwd=site,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 10
        while not listens(stale.pid, port):
            assert time.monotonic() < deadline
            time.sleep(0.02)
        app_id = env.run("describe-apps", "--stack-id", env.stack_id)["Apps"][0]["AppId"]
        made = env.run(
            "create-deployment",
            "--stack-id",
            env.stack_id,
            "--app-id",
            app_id,
            "--command",
            '{"Name": "deploy"}',
        )
        env.dispatch()
        found = env.run("describe-deployments", "--deployment-ids", made["DeploymentId"])
        deployment = found["Deployments"][0]
        assert deployment["Status"] == "failed"
        commands = env.run("describe-commands", "--deployment-id", made["DeploymentId"])
        (deploy, *_) = commands["Commands"]
        assert deploy["Status"] == "failed"
        assert f"port {port} is held by pid {stale.pid}" in deploy["Summary"]
    finally:
        stale.kill()
        stale.wait()
