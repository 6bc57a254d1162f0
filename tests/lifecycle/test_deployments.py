"""Deployments end to end on moto in-process: strategies, health, rollback, migrations."""

from __future__ import annotations

import io
import json
import tarfile
import threading
import time
import urllib.request
from pathlib import Path

import boto3

from tests.lifecycle.conftest import moto_services

STACK = """\
stack:
  name: shop
  custom_json: {web: {port_base: PORT_BASE}}
layers:
  - shortname: app
    type: custom
    custom_recipes: {setup: [web::setup], configure: [web::configure], deploy: [web::deploy]}
apps:
  - shortname: web
    app_source: {type: archive, url: recipes/web/files/web-v1.tar.gz}
    layers: [app]
    health_check: {path: /health, port: PORT_BASE, retries: 3, interval: 0.2, timeout: 30}
instances:
  - {hostname: app1, layers: [app], instance_type: t3.micro}
  - {hostname: app2, layers: [app], instance_type: t3.micro}
  - {hostname: app3, layers: [app], instance_type: t3.micro}
"""


def tarball(path: Path, files: dict[str, str]) -> Path:
    with tarfile.open(path, "w:gz") as archive:
        for name, text in files.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return path


class Shop:
    """The stack online, and helpers to deploy and look at what each node serves."""

    def __init__(self, env, tmp: Path, stack: str = STACK) -> None:
        self.env = env
        self.tmp = tmp
        env.apply(stack, tmp)
        env.start(*env.instances())
        env.watch()
        env.dispatch()
        self.app_id = env.run("describe-apps", "--stack-id", env.stack_id)["Apps"][0]["AppId"]
        self.v2_broken = tarball(tmp / "v2-broken.tgz", {"index.html": "web v2"})
        self.v2 = tarball(tmp / "v2.tgz", {"index.html": "web v2", "health": "ok"})

    def pages(self) -> dict[str, str]:
        served = {}
        for host, inst in self.env.instances().items():
            url = f"http://127.0.0.1:{self.env.port_base + inst['PortOffset']}/"
            served[host] = urllib.request.urlopen(url, timeout=5).read().decode().strip()
        return served

    def source(self, archive: Path) -> None:
        self.env.run(
            "update-app",
            "--app-id",
            self.app_id,
            "--app-source",
            json.dumps({"Type": "archive", "Url": str(archive)}),
        )

    def create_args(self, *args: str, command: str = '{"Name": "deploy"}') -> tuple[str, ...]:
        """`stackops create-deployment` of the app, with `args` after it."""
        return (
            "create-deployment",
            "--stack-id",
            self.env.stack_id,
            "--app-id",
            self.app_id,
            "--command",
            command,
            *args,
        )

    def deploy(self, *args: str, command: str = '{"Name": "deploy"}') -> dict:
        made = self.env.run(*self.create_args(*args, command=command))
        self.env.dispatch()
        return self.describe(made["DeploymentId"])

    def describe(self, deployment_id: str) -> dict:
        found = self.env.run("describe-deployments", "--deployment-ids", deployment_id)
        return found["Deployments"][0]


V1 = "<h1>web v1</h1>"


def test_rolling_then_broken_rolled_back_then_pilot_then_rollback(stack_env, tmp_path):
    shop = Shop(stack_env, tmp_path)
    assert set(shop.pages().values()) == {V1}
    # The boot deploy was health-checked like any other.
    boot_deploy = stack_env.commands("app1")[1]
    assert boot_deploy["Type"] == "deploy" and boot_deploy["Status"] == "successful"
    assert "health check of web passed: HTTP 200 from http://127.0.0.1:" in boot_deploy["Summary"]

    rolled = shop.deploy("--strategy", "rolling", "--batch-size", "1", "--comment", "v1 again")
    assert rolled["Status"] == "successful" and len(rolled["Batches"]) == 3
    assert rolled["Command"] == {"Name": "deploy", "Args": {}}
    assert all(b["SwitchedInstanceIds"] == b["InstanceIds"] for b in rolled["Batches"])
    verified = stack_env.run("describe-commands", "--deployment-id", rolled["DeploymentId"])
    assert all("health check passed: HTTP 200" in c["Summary"] for c in verified["Commands"])

    shop.source(shop.v2_broken)
    broken = shop.deploy()
    assert broken["Status"] == "failed"
    assert broken["Message"].startswith("3 of 3 instance(s) failed: app")
    assert "health check failed: HTTP 404 from http://127.0.0.1:" in broken["Message"]
    assert broken["Message"].endswith("; rolled back 3 instance(s)")
    (batch,) = broken["Batches"]
    assert batch["Status"] == "failed"
    assert sorted(batch["SwitchedInstanceIds"]) == sorted(batch["InstanceIds"])
    assert sorted(batch["FailedInstanceIds"]) == sorted(batch["InstanceIds"])
    assert set(shop.pages().values()) == {V1}  # every instance still serves v1
    commands = stack_env.run("describe-commands", "--deployment-id", broken["DeploymentId"])
    kinds = sorted(c["Type"] for c in commands["Commands"])
    assert kinds == ["deploy"] * 3 + ["rollback"] * 3
    assert sorted(c["CommandId"] for c in commands["Commands"]) == sorted(broken["CommandIds"])
    for command in commands["Commands"]:
        if command["Type"] == "deploy":  # its run passed, its health check did not
            assert command["Status"] == "failed"
            assert "health check failed: HTTP 404" in command["Summary"]
        else:
            assert command["Status"] == "successful"

    shop.source(shop.v2)
    fixed = shop.deploy("--strategy", "pilot")
    assert fixed["Status"] == "successful"
    assert [len(b["InstanceIds"]) for b in fixed["Batches"]] == [1, 2]
    assert set(shop.pages().values()) == {"web v2"}

    back = shop.deploy(command='{"Name": "rollback"}')
    assert back["Status"] == "successful" and back["RollbackOf"] == rolled["DeploymentId"]
    assert set(shop.pages().values()) == {V1}


def test_rolling_stop_leaves_the_rest_untouched(stack_env, tmp_path):
    shop = Shop(stack_env, tmp_path)
    shop.source(shop.v2_broken)
    stopped = shop.deploy("--strategy", "rolling", "--batch-size", "1")
    assert stopped["Status"] == "failed"
    statuses = [b["Status"] for b in stopped["Batches"]]
    assert statuses == ["failed", "pending", "pending"]
    commands = stack_env.run("describe-commands", "--deployment-id", stopped["DeploymentId"])
    assert [c["Type"] for c in commands["Commands"]] == ["deploy"]  # stop: no rollback
    pages = shop.pages()
    assert sorted(pages.values()).count(V1) == 2  # the untouched two still serve v1


def test_one_deployment_per_app_at_a_time(stack_env, tmp_path):
    shop = Shop(stack_env, tmp_path)
    args = shop.create_args()
    first = stack_env.run(*args)["DeploymentId"]
    second = stack_env.invoke(*args)
    assert second.exit_code == 1
    assert f"deployment {first} is running for this app" in second.stderr
    stack_env.dispatch()
    assert shop.describe(first)["Status"] == "successful"
    stack_env.run(*args)  # free again once it ended


def test_migration_runs_once_first_and_a_failed_one_switches_nothing(stack_env, tmp_path):
    shop = Shop(stack_env, tmp_path)
    stack_env.run("update-app", "--app-id", shop.app_id, "--migrate-command", "false")
    shop.source(shop.v2)
    failed = shop.deploy(command='{"Name": "deploy", "Args": {"migrate": ["true"]}}')
    assert failed["Status"] == "failed" and "migration failed" in failed["Message"]
    assert set(shop.pages().values()) == {V1}
    commands = stack_env.run("describe-commands", "--deployment-id", failed["DeploymentId"])
    assert len(commands["Commands"]) == 1  # only the first instance tried

    stack_env.run(
        "update-app",
        "--app-id",
        shop.app_id,
        "--migrate-command",
        json.dumps(["sh", "-c", "echo migrated >> ../../shared/migrations.log"]),
    )
    done = shop.deploy(command='{"Name": "deploy", "Args": {"migrate": ["true"]}}')
    assert done["Status"] == "successful"
    assert set(shop.pages().values()) == {"web v2"}
    logs = list(Path(stack_env.node("app1")).parent.glob("*/srv/www/web/shared/migrations.log"))
    assert sum(len(p.read_text().splitlines()) for p in logs) == 1  # once per deployment


def test_half_pauses_until_continued_or_aborted(stack_env, tmp_path):
    shop = Shop(stack_env, tmp_path)
    shop.source(shop.v2)
    paused = shop.deploy("--strategy", "half", "--pause")
    assert paused["Status"] == "paused", paused
    assert [b["Status"] for b in paused["Batches"]] == ["successful", "pending"]
    assert sorted(shop.pages().values()) == ["<h1>web v1</h1>", "web v2", "web v2"]
    stack_env.run("continue-deployment", "--deployment-id", paused["DeploymentId"])
    stack_env.dispatch()
    assert shop.describe(paused["DeploymentId"])["Status"] == "successful"
    assert set(shop.pages().values()) == {"web v2"}

    shop.source(tarball(tmp_path / "v3.tgz", {"index.html": "web v3", "health": "ok"}))
    held = shop.deploy("--strategy", "half", "--pause")
    assert held["Status"] == "paused"
    stack_env.run("abort-deployment", "--deployment-id", held["DeploymentId"])
    stack_env.dispatch()
    aborted = shop.describe(held["DeploymentId"])
    assert aborted["Status"] == "failed" and aborted["Message"].startswith("aborted")
    assert set(shop.pages().values()) == {"web v2"}


def test_rollback_reaches_four_back_at_most(stack_env, tmp_path):
    shop = Shop(stack_env, tmp_path)
    ids = [shop.deploy()["DeploymentId"] for _ in range(6)]
    too_far = stack_env.invoke(
        *shop.create_args(command=json.dumps({"Name": "rollback", "Args": {"to": [ids[0]]}}))
    )
    assert too_far.exit_code == 2 and "is not one of the last 4" in too_far.stderr
    back = shop.deploy(command=json.dumps({"Name": "rollback", "Args": {"to": [ids[1]]}}))
    assert back["Status"] == "successful" and back["RollbackOf"] == ids[1]


def test_wait_follows_the_deployment_to_its_end(stack_env, tmp_path):
    shop = Shop(stack_env, tmp_path)
    from stackops.config import state_home
    from stackops.lifecycle.runtime import build_dispatcher

    services = moto_services()
    worker = build_dispatcher(services, nodes_root=state_home() / "nodes", with_autoscaling=False)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            worker.poll()
            time.sleep(0.2)

    thread = threading.Thread(target=serve)
    thread.start()
    try:
        result = stack_env.invoke(
            *shop.create_args(),
            "--strategy",
            "rolling",
            "--batch-size",
            "2",
            "--wait",
        )
    finally:
        stop.set()
        thread.join()
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["Status"] == "successful"
    assert "batch 1: 2 done, 0 failed" in result.stderr
    assert "batch 2: 1 done, 0 failed" in result.stderr


def test_undeploy_removes_the_app_and_execute_recipes_runs_what_is_named(stack_env, tmp_path):
    shop = Shop(stack_env, tmp_path)
    ran = stack_env.run(
        "create-deployment",
        "--stack-id",
        stack_env.stack_id,
        "--command",
        '{"Name": "execute_recipes", "Args": {"recipes": ["web::configure"]}}',
    )
    stack_env.dispatch()
    done = shop.describe(ran["DeploymentId"])
    assert done["Status"] == "successful"
    commands = stack_env.run("describe-commands", "--deployment-id", ran["DeploymentId"])
    assert {tuple(c["Recipes"]) for c in commands["Commands"]} == {("web::configure",)}

    gone = shop.deploy(command='{"Name": "undeploy"}')
    assert gone["Status"] == "successful"
    for host in ("app1", "app2", "app3"):
        assert not (stack_env.node(host) / "srv/www/web").exists()


def test_a_layer_target_group_gets_its_instances_back(stack_env, tmp_path):
    ec2 = boto3.client("ec2", region_name="us-east-1")
    elb = boto3.client("elbv2", region_name="us-east-1")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    group = elb.create_target_group(
        Name="web", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance"
    )["TargetGroups"][0]["TargetGroupArn"]
    stack = STACK.replace(
        "    type: custom\n", f"    type: custom\n    target_group_arn: {group}\n"
    )
    shop = Shop(stack_env, tmp_path, stack)
    assert shop.deploy()["Status"] == "successful"
    health = elb.describe_target_health(TargetGroupArn=group)["TargetHealthDescriptions"]
    registered = {d["Target"]["Id"] for d in health if d["TargetHealth"]["State"] == "healthy"}
    ec2_ids = {i["Ec2InstanceId"] for i in stack_env.instances().values()}
    assert registered == ec2_ids


def test_delete_app_undeploys_it_first(stack_env, tmp_path):
    shop = Shop(stack_env, tmp_path)
    out = stack_env.invoke("delete-app", "--app-id", shop.app_id)
    assert out.exit_code == 0 and "undeploying first" in out.stderr
    assert stack_env.run("describe-apps", "--stack-id", stack_env.stack_id)["Apps"]  # still there
    stack_env.dispatch()
    assert stack_env.run("describe-apps", "--stack-id", stack_env.stack_id)["Apps"] == []
    for host in ("app1", "app2", "app3"):
        assert not (stack_env.node(host) / "srv/www/web").exists()


def test_a_dead_dispatchers_deployment_is_resumed_and_its_lease_taken_over(stack_env, tmp_path):
    from stackops.model.deployments import BatchProgress

    shop = Shop(stack_env, tmp_path)
    shop.source(shop.v2)
    made = stack_env.run(*shop.create_args("--strategy", "rolling"))
    services = moto_services()
    record = services.deployments.get(made["DeploymentId"])
    # As a dispatcher that died in its first batch left it: batches recorded, one running.
    batches = [
        BatchProgress(index=i, instance_ids=[iid], status="running" if i == 0 else "pending")
        for i, iid in enumerate(record.instance_ids)
    ]
    services.deployments.put(record.model_copy(update={"batches": batches}))
    stack_env.dispatch()
    resumed = shop.describe(made["DeploymentId"])
    assert resumed["Status"] == "successful"
    assert set(shop.pages().values()) == {"web v2"}

    # A lease left by a dead dispatcher's deployment expires and is taken over.
    lease = f"deployment#{stack_env.stack_id}#{shop.app_id}"
    assert services.leases.acquire(lease, "dead-deployment", 0.5)
    time.sleep(0.6)
    again = shop.deploy()
    assert again["Status"] == "successful"


def test_rolling_back_twice_steps_two_back(stack_env, tmp_path):
    shop = Shop(stack_env, tmp_path)
    assert shop.deploy()["Status"] == "successful"  # v1
    shop.source(shop.v2)
    assert shop.deploy()["Status"] == "successful"  # v2
    shop.source(tarball(tmp_path / "v3.tgz", {"index.html": "web v3", "health": "ok"}))
    assert shop.deploy()["Status"] == "successful"  # v3
    assert set(shop.pages().values()) == {"web v3"}
    assert shop.deploy(command='{"Name": "rollback"}')["Status"] == "successful"
    assert set(shop.pages().values()) == {"web v2"}
    assert shop.deploy(command='{"Name": "rollback"}')["Status"] == "successful"
    assert set(shop.pages().values()) == {V1}


def test_an_error_inside_a_deployment_fails_it_instead_of_leaving_it_running(
    stack_env, tmp_path, monkeypatch
):
    from stackops.deploy.instance_run import InstanceRun

    shop = Shop(stack_env, tmp_path)
    shop.source(shop.v2)

    def broken_health(self, app, instance, command_id):
        raise RuntimeError("health checker exploded")

    monkeypatch.setattr(InstanceRun, "health", broken_health)
    done = shop.deploy()
    assert done["Status"] == "failed"
    # The error came after the first switch: the failure policy still applies, and says so.
    assert done["Message"].startswith("error: health checker exploded; rolled back ")
    switched = [i for b in done["Batches"] for i in b["SwitchedInstanceIds"]]
    assert switched and done["Message"].endswith(f"rolled back {len(switched)} instance(s)")
    assert [b["Status"] for b in done["Batches"]] == ["failed"]  # not left "running"
    assert len(done["CommandIds"]) == 3 + len(switched)  # its deploys and the switches back
    assert set(shop.pages().values()) == {V1}


def test_bad_deployment_options_are_named(stack_env, tmp_path):
    env = stack_env
    env.apply(STACK, tmp_path)  # nothing started: no online instance yet
    app_id = env.run("describe-apps", "--stack-id", env.stack_id)["Apps"][0]["AppId"]
    base = ("create-deployment", "--stack-id", env.stack_id, "--app-id", app_id)
    cases = [
        (("--command", '{"Name": "dploy"}'), "--command.Name"),
        (("--command", '{"Name": "deploy"}', "--strategy", "sideways"), "sideways"),
        (
            ("--command", '{"Name": "deploy"}', "--strategy", "rolling", "--batch-size", "0"),
            "--batch-size",
        ),
        (("--command", '{"Name": "deploy"}'), "no online instance to deploy to"),
    ]
    for args, expected in cases:
        result = env.invoke(*base, *args)
        assert result.exit_code == 2, (args, result.output)
        assert expected in result.stderr, (args, result.stderr)
        assert "Traceback" not in result.output


ONE = STACK.replace(
    "  - {hostname: app2, layers: [app], instance_type: t3.micro}\n"
    "  - {hostname: app3, layers: [app], instance_type: t3.micro}\n",
    "",
)


def test_the_first_rollback_returns_to_the_release_the_instances_booted_on(stack_env, tmp_path):
    shop = Shop(stack_env, tmp_path, ONE)
    shop.source(shop.v2)
    assert shop.deploy()["Status"] == "successful"
    assert set(shop.pages().values()) == {"web v2"}
    back = shop.deploy(command='{"Name": "rollback"}')  # refused before: no earlier deployment
    assert back["Status"] == "successful", back["Message"]
    assert back.get("RollbackOf") is None
    assert set(shop.pages().values()) == {V1}
    again = stack_env.invoke(*shop.create_args(command='{"Name": "rollback"}'))
    assert again.exit_code == 2 and "no earlier successful deployment" in again.stderr


def test_a_boot_whose_app_fails_its_health_check_is_not_online(stack_env, tmp_path):
    env = stack_env
    env.apply(ONE.replace("path: /health", "path: /missing"), tmp_path)
    env.start("app1")
    env.watch()
    env.dispatch()
    app1 = env.instances()["app1"]
    assert app1["Status"] == "setup_failed"
    assert app1["StatusReason"].startswith("health check of web failed: HTTP 404 from http://")
    setup, deploy = env.commands("app1")[:2]
    assert setup["Status"] == "successful"
    assert deploy["Type"] == "deploy" and deploy["Status"] == "failed"
    assert "health check of web failed: HTTP 404" in deploy["Summary"]


COMMAND_CHECK = (
    '{command: [sh, -c, \'test -f health && test "$GREETING" = hello'
    ' && test -z "$AWS_SECRET_ACCESS_KEY"\'], retries: 2, interval: 0.2, timeout: 30}'
)


def test_a_command_health_check_runs_on_the_node_in_the_release_with_the_apps_env(
    stack_env, tmp_path
):
    """Before, it ran on the dispatcher's host, in its folder, with its environment and
    AWS credentials: `health` was not found, $GREETING unset, the credentials there."""
    stack = ONE.replace(
        "    health_check: {path: /health, port: PORT_BASE, retries: 3, interval: 0.2,"
        " timeout: 30}",
        f"    environment: [{{key: GREETING, value: hello}}]\n    health_check: {COMMAND_CHECK}",
    )
    shop = Shop(stack_env, tmp_path, stack)
    shop.source(shop.v2)  # has a `health` file in its release
    done = shop.deploy()
    assert done["Status"] == "successful", done["Message"]
    shop.source(shop.v2_broken)  # has none
    broken = shop.deploy()
    assert broken["Status"] == "failed"
    assert "health check failed: sh exited 1 (after 2 attempts)" in broken["Message"]
    assert set(shop.pages().values()) == {"web v2"}


TWO_APPS = ONE.replace(
    "instances:\n",
    "  - shortname: api\n"
    "    app_source: {type: archive, url: API_V1}\n"
    "    layers: [app]\n"
    "instances:\n",
)


def test_a_layer_with_two_apps_deploys_each_on_its_own(stack_env, tmp_path):
    api_v1 = tarball(tmp_path / "api-v1.tgz", {"VERSION": "api v1"})
    shop = Shop(stack_env, tmp_path, TWO_APPS.replace("API_V1", str(api_v1)))
    apps = {a["Shortname"]: a["AppId"] for a in stack_env.run(
        "describe-apps", "--stack-id", stack_env.stack_id)["Apps"]}  # fmt: skip
    shop.app_id = apps["web"]
    node = stack_env.node("app1")

    def current(app: str) -> str:
        return (node / f"srv/www/{app}/current").resolve().name

    web_before, api_before = current("web"), current("api")
    api_v2 = tarball(tmp_path / "api-v2.tgz", {"VERSION": "api v2"})
    stack_env.run(
        "update-app",
        "--app-id",
        apps["api"],
        "--app-source",
        json.dumps({"Type": "archive", "Url": str(api_v2)}),
    )
    made = stack_env.run(
        "create-deployment",
        "--stack-id",
        stack_env.stack_id,
        "--app-id",
        apps["api"],
        "--command",
        '{"Name": "deploy"}',
    )
    stack_env.dispatch()
    done = shop.describe(made["DeploymentId"])
    assert done["Status"] == "successful", done["Message"]  # failed before: "deploy.web.release"
    assert (node / "srv/www/api/current/VERSION").read_text() == "api v2"
    assert current("web") == web_before  # web left as it was
    assert current("api") != api_before
    shop.source(shop.v2)
    assert shop.deploy()["Status"] == "successful"
    assert set(shop.pages().values()) == {"web v2"}
    assert (node / "srv/www/api/current/VERSION").read_text() == "api v2"
