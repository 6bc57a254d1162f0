"""The scaler's starts and stops through the real lifecycle: setup, deploy, configure, shutdown."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

STACK = """\
stack:
  name: shop
  custom_json: {web: {port_base: PORT_BASE}}
layers:
  - shortname: lb
    type: lb
    custom_recipes: {setup: [lb::setup], configure: [lb::configure]}
  - shortname: app
    type: custom
    custom_recipes: {setup: [web::setup], configure: [web::configure], deploy: [web::deploy]}
apps:
  - shortname: web
    app_source: {type: archive, url: recipes/web/files/web-v1.tar.gz}
    layers: [app]
instances:
  - {hostname: lb1, layers: [lb], instance_type: t3.micro}
  - {hostname: app1, layers: [app], instance_type: t3.micro}
  - {hostname: app2, layers: [app], instance_type: t3.micro, auto_scaling_type: timer}
  - {hostname: app3, layers: [app], instance_type: t3.micro, auto_scaling_type: load}
"""
UP = '{"InstanceCount": 1, "ThresholdsWaitTime": 1, "IgnoreMetricsTime": 1, "CpuThreshold": 80}'
DOWN = '{"InstanceCount": 1, "ThresholdsWaitTime": 1, "IgnoreMetricsTime": 1, "CpuThreshold": 20}'
NINE = datetime(2026, 12, 7, 9, 5, tzinfo=UTC)  # a Monday


def backends(env) -> list[str]:
    conf = (env.node("lb1") / "etc/lb/backends.conf").read_text()
    return sorted(line.split()[1] for line in conf.splitlines() if line.startswith("server"))


def cpu(env, hostname: str, at: datetime, value: float) -> None:
    instance_id = env.instances()[hostname]["InstanceId"]
    env.run("agent", "metrics", "--instance-id", instance_id, "--cpu", str(value),
            "--memory", "10", "--load", "0.1", "--at", at.isoformat())  # fmt: skip


def boot(env) -> None:
    env.watch()
    outcome = env.dispatch()
    assert outcome["Failed"] == 0


def test_time_and_load_based_instances_come_and_go_through_the_lifecycle(stack_env, tmp_path):
    env = stack_env
    env.apply(STACK, tmp_path)
    ids = {h: i["InstanceId"] for h, i in env.instances().items()}
    assert env.invoke("start-stack", "--stack-id", env.stack_id).exit_code == 0
    boot(env)
    statuses = {h: i["Status"] for h, i in env.instances().items()}
    assert statuses == {"lb1": "online", "app1": "online", "app2": "stopped", "app3": "stopped"}
    assert backends(env) == ["app1"]
    env.run("set-time-based-auto-scaling", "--instance-id", ids["app2"],
            "--auto-scaling-schedule", '{"Monday": {"9": "on"}}')  # fmt: skip
    env.run("set-load-based-auto-scaling", "--layer-id", env.instances()["app3"]["LayerIds"][0],
            "--enable", "--up-scaling", UP, "--down-scaling", DOWN)  # fmt: skip

    # 9:05 Monday: the schedule says on. app2 runs setup and deploy, then everyone configures.
    started = env.run("autoscale", "--once", "--now", NINE.isoformat())["Actions"]
    assert [(a["Hostname"], a["Action"]) for a in started] == [("app2", "start")]
    boot(env)
    assert env.instances()["app2"]["Status"] == "online"
    assert [c["Type"] for c in env.commands("app2")][:2] == ["setup", "deploy"]
    assert backends(env) == ["app1", "app2"]

    # The layer's online instances run hot for a minute: app3 (load) is started.
    for host in ("app1", "app2"):
        cpu(env, host, NINE + timedelta(seconds=30), 95)
    up = env.run("autoscale", "--once", "--now", (NINE + timedelta(minutes=1)).isoformat())
    assert [(a["Hostname"], a["Action"], a["Cause"]) for a in up["Actions"]] == [
        ("app3", "start", "load")
    ]
    assert up["Actions"][0]["Metrics"][0]["Values"] == [95.0]
    boot(env)
    assert backends(env) == ["app1", "app2", "app3"]

    # 10:00: app2's hour is over, and the layer has cooled down: both go, shutdown first.
    ten = NINE.replace(hour=10, minute=0)
    for host in ("app1", "app2", "app3"):
        cpu(env, host, ten - timedelta(seconds=30), 5)
    down = env.run("autoscale", "--once", "--now", ten.isoformat())["Actions"]
    assert sorted((a["Hostname"], a["Action"], a["Cause"]) for a in down) == [
        ("app2", "stop", "schedule"),
        ("app3", "stop", "load"),
    ]
    env.dispatch()
    statuses = {h: i["Status"] for h, i in env.instances().items()}
    assert statuses == {"lb1": "online", "app1": "online", "app2": "stopped", "app3": "stopped"}
    assert env.commands("app2")[-1]["Type"] == "shutdown"
    assert env.commands("app3")[-1]["Type"] == "shutdown"
    assert backends(env) == ["app1"]
    history = env.run("autoscale", "--history")["ScalingActions"]
    assert [(h["Hostname"], h["Action"]) for h in history][-2:] == [
        ("app3", "start"),
        ("app2", "start"),
    ]
