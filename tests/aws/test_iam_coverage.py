"""Policies and code held to each other: every AWS call the scenarios make is recorded with
the adapter method that makes it and the role of the code path that got there.

The test fails when a call is made outside a declared method, when a method makes a
call it does not declare, when the role making it is not one the method declares or
its policy does not grant the action, and when a policy grants an action (a declared
method and role) that no scenario makes. The scenarios walk every path of the four
roles: bootstrap (creation, drift, a new agent), the operator's verbs (Classic ELBs,
Elastic IPs, tags, registered instances, load-based scaling included), the dispatcher
(lifecycle, deployments, auto-healing, target groups, load balancers and Elastic IPs at
boot and shutdown, Auto Scaling, the ssm executor, watch, the scaler), and the agent on
an instance (its payloads and reports, `agent metrics`).
"""

from __future__ import annotations

import contextlib
import itertools
import json
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import botocore.client
import pytest
from botocore.stub import Stubber

from stackops.aws.iam_policy import Declaration, declarations, iam_action, role_actions
from stackops.aws.roles import BOOTSTRAP, DISPATCHER, INSTANCE, OPERATOR, ROLES
from tests.aws.wheels import agent_wheels, make_wheel
from tests.helpers import ok_json, put_5xx_alarm
from tests.lifecycle.conftest import moto_services

ACCOUNT = "123456789012"
BUCKET = f"stackops-artifacts-{ACCOUNT}-us-east-1"

# Where a code path starts, and the role it acts as: entry points first (outermost wins),
# then the packages whose code runs for a role.
ENTRY_POINTS = (
    ("stackops.cli.bootstrap_cmd", None, BOOTSTRAP),
    ("stackops.cli.agent_cmd", None, INSTANCE),
    ("stackops.cli.dispatch_cmd", "dispatch", DISPATCHER),
    ("stackops.cli.watch_cmd", None, DISPATCHER),
    ("stackops.cli.autoscale_cmd", "autoscale", DISPATCHER),  # the scaler (DESIGN §11)
    ("stackops.lifecycle.lambda_entry", None, DISPATCHER),
)
PACKAGES = (
    ("stackops.cli", OPERATOR),
    ("stackops.lifecycle", DISPATCHER),
    ("stackops.deploy", DISPATCHER),
    ("stackops.autoscale", DISPATCHER),
    ("stackops.executors", DISPATCHER),
    ("stackops.api", OPERATOR),
)


@dataclass(frozen=True)
class Call:
    operation: str
    action: str | None
    role: str | None
    declaration: Declaration | None
    where: str


class CallLog:
    """Every botocore call made while installed, with its role and adapter method."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._by_code = {d.function.__code__: d for d in declarations()}
        self._lock = threading.Lock()
        self._acting = threading.local()

    @contextlib.contextmanager
    def acting_as(self, role: str) -> Iterator[None]:
        """For a scenario that drives a part directly: the role whose code that is."""
        self._acting.role = role
        try:
            yield
        finally:
            self._acting.role = None

    def record(self, client: Any, operation: str) -> None:
        service = client.meta.service_model.service_name
        frames = []
        frame = sys._getframe(2)
        while frame is not None:
            frames.append(frame)
            frame = frame.f_back
        if not any(f.f_globals.get("__name__", "").startswith("stackops.") for f in frames):
            return  # the test looking at moto, not stackops calling AWS
        declaration = next(
            (self._by_code[f.f_code] for f in frames if f.f_code in self._by_code), None
        )
        inner = next(f for f in frames if f.f_globals.get("__name__", "").startswith("stackops."))
        where = f"{inner.f_code.co_filename}:{inner.f_lineno} ({inner.f_code.co_name})"
        call = Call(
            f"{service}:{operation}",
            iam_action(service, operation),
            getattr(self._acting, "role", None)
            or role_of(frames)
            or getattr(threading.current_thread(), "stackops_role", None),
            declaration,
            where,
        )
        with self._lock:
            self.calls.append(call)


def role_of(frames: list[Any]) -> str | None:
    """The role of a code path: its outermost entry point, else the package it runs in."""
    modules = [(f.f_globals.get("__name__", ""), f.f_code.co_name) for f in reversed(frames)]
    for module, function in modules:
        for entry, name, role in ENTRY_POINTS:
            if module == entry and name in (None, function):
                return role
    for package, role in PACKAGES:
        if any(m == package or m.startswith(package + ".") for m, _ in modules):
            return role
    return None


@pytest.fixture
def calls(monkeypatch: pytest.MonkeyPatch) -> CallLog:
    log = CallLog()
    original = botocore.client.BaseClient._make_api_call

    def recording(self: Any, operation: str, params: Any) -> Any:
        log.record(self, operation)
        return original(self, operation, params)

    monkeypatch.setattr(botocore.client.BaseClient, "_make_api_call", recording)
    start = threading.Thread.start

    def starting(self: threading.Thread) -> None:
        # A thread (a lease's renewer, a heartbeat) acts for the code path that started it.
        frames = []
        frame: Any = sys._getframe(1)
        while frame is not None:
            frames.append(frame)
            frame = frame.f_back
        self.stackops_role = (  # type: ignore[attr-defined]
            getattr(log._acting, "role", None)
            or role_of(frames)
            or getattr(threading.current_thread(), "stackops_role", None)
        )
        start(self)

    monkeypatch.setattr(threading.Thread, "start", starting)
    return log


STACK = """\
stack:
  name: shop
  custom_json: {web: {port_base: PORT_BASE}}
layers:
  - shortname: app
    type: custom
    custom_recipes: {setup: [web::setup], configure: [web::configure], deploy: [web::deploy]}
    TARGET_GROUP
apps:
  - shortname: web
    app_source: {type: archive, url: recipes/web/files/web-v1.tar.gz}
    environment: [{key: TOKEN, value: sekret, secure: true}]
    layers: [app]
instances:
  - {hostname: app1, layers: [app], instance_type: t3.micro}
  - {hostname: app2, layers: [app], instance_type: t3.micro, root_device_type: instance-store}
  - {hostname: app3, layers: [app], instance_type: t3.micro}
  - {hostname: plain1, layers: [app], instance_type: t3.micro}
"""


def bootstrap_paths(invoke: Any, aws: Any, tmp_path: Path) -> None:
    """Creation, every kind of drift, and a new agent (namespace lam, with Lambda)."""

    def bootstrap(*args: str) -> Any:
        return ok_json(invoke("--namespace", "lam", "bootstrap", *args))

    wheels = agent_wheels(tmp_path / "wheels")
    bootstrap("--dispatcher", "lambda", "--agent-wheels", str(wheels))
    iam, lam, sqs = aws.client("iam"), aws.client("lambda"), aws.client("sqs")
    other = {
        "Effect": "Allow",
        "Principal": {"Service": "ecs.amazonaws.com"},
        "Action": "sts:AssumeRole",
    }
    iam.update_assume_role_policy(
        RoleName="lam-instance",
        PolicyDocument=json.dumps({"Version": "2012-10-17", "Statement": [other]}),
    )
    iam.remove_role_from_instance_profile(
        InstanceProfileName="lam-instance", RoleName="lam-instance"
    )
    url = sqs.get_queue_url(QueueName="lam-lifecycle")["QueueUrl"]
    sqs.set_queue_attributes(QueueUrl=url, Attributes={"VisibilityTimeout": "30"})
    lam.update_function_configuration(FunctionName="lam-dispatcher", Timeout=3)
    (mapping,) = lam.list_event_source_mappings(FunctionName="lam-dispatcher")[
        "EventSourceMappings"
    ]
    lam.update_event_source_mapping(UUID=mapping["UUID"], FunctionResponseTypes=[])
    events = aws.client("events")
    events.put_rule(Name="lam-instance-events", EventPattern='{"source":["x"]}')
    make_wheel(wheels, "click", "1.0", files={"click_pkg/__init__.py": "VERSION = 2\n"})
    repaired = bootstrap("--agent-wheels", str(wheels))
    assert {s["Step"] for s in repaired["Steps"]} >= {
        "SetRoleTrust",
        "AddRoleToProfile",
        "SetQueueAttributes",
        "PutRule",
        "UpdateFunctionConfiguration",
        "UpdateQueueMapping",
        "UpdateFunctionCode",
        "UploadAgent",
    }
    assert bootstrap()["Steps"] == []
    # moto cannot run Lambda: its schedule rule would take every event, its mapping the
    # queue; the rest of the scenarios run in namespace stackops without these.
    for rule, target in (("lam-autoscale-round", "autoscale-round"), ("lam-instance-events", None)):
        ids = [target] if target else ["lifecycle-queue"]
        events.remove_targets(Rule=rule, Ids=ids)
        events.delete_rule(Name=rule)
    lam.delete_event_source_mapping(UUID=mapping["UUID"])
    for function in ("lam-dispatcher", "lam-autoscale"):
        lam.delete_function(FunctionName=function)


def run_paths(env: Any, aws: Any, calls: CallLog, tmp_path: Path) -> None:
    """The operator's verbs and the dispatcher's work, on one stack."""
    ec2, elb = aws.client("ec2"), aws.client("elbv2")
    vpc = ec2.describe_vpcs()["Vpcs"][0]["VpcId"]
    group = elb.create_target_group(
        Name="web", Protocol="HTTP", Port=80, VpcId=vpc, TargetType="instance"
    )["TargetGroups"][0]["TargetGroupArn"]
    text = STACK.replace("TARGET_GROUP", f"target_group_arn: {group}")
    env.apply(text, tmp_path)
    ids = {h: i["InstanceId"] for h, i in env.instances().items()}
    stack_id = env.stack_id
    (app,) = env.run("describe-apps", "--stack-id", stack_id)["Apps"]
    env.run("clone-stack", "--source-stack-id", stack_id, "--clone-app-ids", app["AppId"])
    env.start("app1", "app2", "app3", "plain1")
    env.watch()
    env.dispatch()
    assert {h: i["Status"] for h, i in env.instances().items()} == dict.fromkeys(ids, "online")
    layer_id = env.run("describe-layers", "--stack-id", stack_id)["Layers"][0]["LayerId"]
    address = attach_paths(env, aws, layer_id, ids)
    env.run("update-instance", "--instance-id", ids["app1"], "--layer-ids", *[
        la["LayerId"] for la in env.run("describe-layers", "--stack-id", stack_id)["Layers"]
    ])  # fmt: skip
    env.run("reboot-instance", "--instance-id", ids["app1"])
    env.run("describe-commands", "--instance-id", ids["app1"])
    first = env.commands("app1")[0]["CommandId"]
    env.invoke("logs", first)
    deployment = env.run(
        "create-deployment", "--stack-id", stack_id, "--app-id", app["AppId"],
        "--command", json.dumps({"Name": "deploy"}),
    )  # fmt: skip
    # A short visibility timeout: the dispatcher's heartbeat extends it while runs last.
    env.run("dispatch", "--drain", "--executor", "local", "--visibility-timeout", "1")
    env.run("describe-deployments", "--deployment-ids", deployment["DeploymentId"])

    # Auto-healing: one stopped outside stackops is started, one terminated is launched anew.
    ec2_ids = {h: i["Ec2InstanceId"] for h, i in env.instances().items()}
    ec2.stop_instances(InstanceIds=[ec2_ids["app3"]])
    ec2.terminate_instances(InstanceIds=[ec2_ids["plain1"]])
    env.watch()
    env.dispatch()
    env.watch()
    env.dispatch()

    # Stops: the dispatcher terminates an instance-store one; --force stops one at once.
    env.stop("app2")
    env.dispatch()
    env.stop("app3", "--force")
    env.dispatch()
    env.run("delete-instance", "--instance-id", ids["app2"])
    env.run("delete-instance", "--instance-id", ids["app3"])  # stopped: terminated now
    bad = env.invoke(
        "register-instance", "--stack-id", stack_id, "--ec2-instance-id", "i-0123456789abcdef0"
    )
    assert bad.exit_code == 2
    registered_paths(env, aws, layer_id)
    detach_paths(env, aws, layer_id, address)

    # The operator's secrets: an app's secure value dropped, a cookbook key stored and gone.
    env.run("update-app", "--app-id", app["AppId"], "--environment", "[]")
    key = {"Type": "git", "Url": "git@example.com:o/c.git", "SshKey": "k"}
    other = env.run("create-stack", "--name", "keys", "--custom-cookbooks-source", json.dumps(key))
    env.run("delete-stack", "--stack-id", other["StackId"])

    # A message that keeps failing: shown and redriven from the dead-letter queue.
    sqs = aws.client("sqs")
    dlq = sqs.get_queue_url(QueueName="stackops-lifecycle-dlq")["QueueUrl"]
    sqs.send_message(QueueUrl=dlq, MessageBody=json.dumps({"stackops": "stuck"}))
    env.run("events", "dlq", "--wait-seconds", "0")
    env.run("events", "dlq", "--redrive", "--wait-seconds", "0")
    env.dispatch()

    # Auto Scaling's launch action, completed by the dispatcher (moto lacks the call).
    auto_scaling_action(env, calls)
    ssm_executor_paths(env, calls)

    # An EBS-backed one stopped the OpsWorks way, then started again by the operator.
    env.stop("app1")
    env.dispatch()
    env.run("start-instance", "--instance-id", ids["app1"])
    scaling_paths(env, aws, layer_id)


def attach_paths(env: Any, aws: Any, layer_id: str, ids: dict[str, str]) -> str:
    """The operator attaches a Classic ELB (draining on), asks a drained shutdown and an
    Elastic IP per boot of the layer, registers and names an address and associates it,
    and tags the stack. Returns the address, which instance plain1 remembers."""
    elb = aws.client("elb")
    elb.create_load_balancer(
        LoadBalancerName="web-elb",
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}],
        AvailabilityZones=["us-east-1a"],
    )
    elb.modify_load_balancer_attributes(
        LoadBalancerName="web-elb",
        LoadBalancerAttributes={"ConnectionDraining": {"Enabled": True, "Timeout": 30}},
    )
    env.run("attach-elastic-load-balancer", "--elastic-load-balancer-name", "web-elb",
            "--layer-id", layer_id)  # fmt: skip
    (lb,) = elb.describe_load_balancers(LoadBalancerNames=["web-elb"])["LoadBalancerDescriptions"]
    assert len(lb["Instances"]) == 4  # the layer's online instances
    env.run("describe-elastic-load-balancers", "--stack-id", env.stack_id)
    env.run("update-layer", "--layer-id", layer_id, "--auto-assign-elastic-ips",
            "--lifecycle-event-configuration",
            "Shutdown={ExecutionTimeout=60,DelayUntilElbConnectionsDrained=true}")  # fmt: skip

    ip = aws.client("ec2").allocate_address(Domain="vpc")["PublicIp"]
    env.run("register-elastic-ip", "--elastic-ip", ip, "--stack-id", env.stack_id)
    env.run("update-elastic-ip", "--elastic-ip", ip, "--name", "front")
    env.run("update-elastic-ip", "--elastic-ip", ip)  # the name removed
    env.run("associate-elastic-ip", "--elastic-ip", ip, "--instance-id", ids["plain1"])
    env.run("describe-elastic-ips", "--stack-id", env.stack_id)

    (stack,) = env.run("describe-stacks", "--stack-ids", env.stack_id)["Stacks"]
    env.run("tag-resource", "--resource-arn", stack["Arn"], "--tags", "Team=web,Env=dev")
    env.run("untag-resource", "--resource-arn", stack["Arn"], "--tag-keys", "Env")
    return ip


def registered_paths(env: Any, aws: Any, layer_id: str) -> None:
    """An EC2 instance found by its private IP, registered, assigned to the layer (set up by
    the dispatcher, behind the load balancer and the target group), then deregistered."""
    raw = aws.client("ec2").run_instances(
        ImageId="ami-12345678", MinCount=1, MaxCount=1, InstanceType="t3.micro"
    )["Instances"][0]
    private_ip = raw["PrivateIpAddress"]
    registered = env.run(
        "register-instance", "--stack-id", env.stack_id, "--private-ip", private_ip
    )["InstanceId"]
    env.run("assign-instance", "--instance-id", registered, "--layer-ids", layer_id)
    env.dispatch()
    (legacy,) = env.run("describe-instances", "--instance-ids", registered)["Instances"]
    assert legacy["Status"] == "online", legacy
    env.run("deregister-instance", "--instance-id", registered)


def detach_paths(env: Any, aws: Any, layer_id: str, ip: str) -> None:
    """The address detached and forgotten; the load balancer detached from the layer."""
    env.run("describe-elastic-ips", "--ips", ip)
    env.run("disassociate-elastic-ip", "--elastic-ip", ip)
    env.run("deregister-elastic-ip", "--elastic-ip", ip)
    env.run("detach-elastic-load-balancer", "--elastic-load-balancer-name", "web-elb",
            "--layer-id", layer_id)  # fmt: skip
    (lb,) = aws.client("elb").describe_load_balancers(LoadBalancerNames=["web-elb"])[
        "LoadBalancerDescriptions"
    ]
    online = {i["Ec2InstanceId"] for i in env.instances().values() if i["Status"] == "online"}
    assert online and not online & {i["InstanceId"] for i in lb["Instances"]}


def scaling_paths(env: Any, aws: Any, layer_id: str) -> None:
    """Load-based scaling: the operator names an alarm (checked), the scaler's round reads
    the series and the alarm and starts a load-based instance, an instance publishes its
    figures with `agent metrics`."""
    cloudwatch = aws.client("cloudwatch")
    put_5xx_alarm(cloudwatch)
    burst = env.run("create-instance", "--stack-id", env.stack_id, "--layer-ids", layer_id,
                    "--instance-type", "t3.micro", "--hostname", "burst1",
                    "--auto-scaling-type", "load")["InstanceId"]  # fmt: skip
    up = '{"InstanceCount": 1, "ThresholdsWaitTime": 1, "CpuThreshold": 80, "Alarms": ["web-5xx"]}'
    env.run("set-load-based-auto-scaling", "--layer-id", layer_id, "--enable", "--up-scaling", up)
    cloudwatch.set_alarm_state(AlarmName="web-5xx", StateValue="ALARM", StateReason="test")
    since = cloudwatch.describe_alarms(AlarmNames=["web-5xx"])["MetricAlarms"][0][
        "StateUpdatedTimestamp"
    ]
    now = (since + timedelta(minutes=2)).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    report = env.run("autoscale", "--once", "--now", now)
    assert [(a["InstanceId"], a["Action"]) for a in report["Actions"]] == [(burst, "start")]
    node = env.instances()["plain1"]
    figures = env.run("agent", "metrics", "--instance-id", node["InstanceId"],
                      "--stack-id", env.stack_id, "--layer-id", layer_id,
                      "--cpu", "50", "--memory", "40", "--load", "0.5", "--at", now)  # fmt: skip
    assert figures["Published"] == 3

    # A time-based instance whose schedule is off now: the round marks it; start-stack
    # forgets the marks (the next round brings it to its schedule again).
    moment = datetime.fromisoformat(now.replace("Z", "+00:00"))
    later = moment + timedelta(hours=12)
    schedule = json.dumps({later.strftime("%A"): {str(later.hour): "on"}})
    nightly = env.run("create-instance", "--stack-id", env.stack_id, "--layer-ids", layer_id,
                      "--instance-type", "t3.micro", "--hostname", "nightly1",
                      "--auto-scaling-type", "timer")["InstanceId"]  # fmt: skip
    env.run("set-time-based-auto-scaling", "--instance-id", nightly,
            "--auto-scaling-schedule", schedule)  # fmt: skip
    env.run("autoscale", "--once", "--now", now)
    from stackops.autoscale.round import scaling_records

    records = scaling_records(moto_services())
    assert nightly in records.stack(env.stack_id).marks
    env.run("start-stack", "--stack-id", env.stack_id)
    assert nightly not in records.stack(env.stack_id).marks


def auto_scaling_action(env: Any, calls: CallLog) -> None:
    from stackops.aws.autoscaling import AutoScaling
    from stackops.lifecycle.runtime import build_dispatcher

    ec2_id = env.instances()["app1"]["Ec2InstanceId"]
    body = {
        "version": "0",
        "id": "asg-1",
        "source": "aws.autoscaling",
        "detail-type": "EC2 Instance-launch Lifecycle Action",
        "time": "2026-11-28T17:00:00Z",
        "region": "us-east-1",
        "resources": [],
        "detail": {
            "LifecycleActionToken": "11111111-2222-3333-4444-555555555555",
            "AutoScalingGroupName": "web-asg",
            "LifecycleHookName": "setup-hook",
            "EC2InstanceId": ec2_id,
            "LifecycleTransition": "autoscaling:EC2_INSTANCE_LAUNCHING",
        },
    }
    services = moto_services()
    sqs = boto3.client("sqs", region_name="us-east-1")  # the event arrives (AWS's doing)
    url = sqs.get_queue_url(QueueName="stackops-lifecycle")["QueueUrl"]
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps(body))
    worker = build_dispatcher(services, nodes_root=Path(env.node("app1")).parent)
    autoscaling = AutoScaling(services.session)
    with Stubber(autoscaling.client) as stub:
        stub.add_response("complete_lifecycle_action", {})
        worker.autoscaling = autoscaling
        worker.drain()


def ssm_executor_paths(env: Any, calls: CallLog) -> None:
    """Run Command as the dispatcher drives it; a hung run is cancelled (moto lacks it)."""
    from stackops.executors import RunRequest, SsmExecutor

    env.run("dispatch", "--drain", "--executor", "ssm")  # nothing queued: no run
    services = moto_services()
    ec2_id = env.instances()["app1"]["Ec2InstanceId"]
    request = RunRequest("c-ssm", ec2_id, ("stackops::configure",), {}, (), 5.0)
    with calls.acting_as(DISPATCHER):
        ran = SsmExecutor(services.session, services.artifacts.name).run(request)
        assert ran.exit_code != 0  # moto runs nothing: no report comes back
        ticks = itertools.count(0, 10)  # each look at the clock: 10 s later
        executor = SsmExecutor(
            services.session,
            services.artifacts.name,
            wait_grace=0,
            sleep=lambda s: None,
            clock=lambda: float(next(ticks)),
        )
        client = services.session.client("ssm")
        ssm_id = "11111111-2222-3333-4444-555555555555"
        with Stubber(client) as stub:
            stub.add_response("send_command", {"Command": {"CommandId": ssm_id}})
            stub.add_response("get_command_invocation", {"Status": "InProgress"})
            stub.add_response("cancel_command", {})
            hung = executor.run(RunRequest("c-hung", ec2_id, ("x::y",), {}, (), 1.0))
            stub.assert_no_pending_responses()
        assert hung.timed_out


def instance_paths(invoke: Any, aws: Any, tmp_path: Path) -> None:
    """The agent on an instance: payload and app from S3, a secret, its report uploaded."""
    s3 = aws.client("s3")
    s3.put_object(
        Bucket=BUCKET,
        Key="apps/web.tar.gz",
        Body=(Path(__file__).resolve().parents[2] / "recipes/web/files/web-v1.tar.gz").read_bytes(),
    )
    aws.client("ssm").put_parameter(
        Name="/stackops/secrets/t", Value="agent-secret", Type="SecureString"
    )
    node = {
        "stackops": {"activity": "deploy", "stack": {"region": "us-east-1"}},
        "deploy": {
            "web": {
                "deploy_to": "/srv/www/web",
                "release": "r1",
                "scm": {"scm_type": "s3", "repository": f"s3://{BUCKET}/apps/web.tar.gz"},
                "environment": {"TOKEN": {"ssm": "/stackops/secrets/t"}},
            }
        },
    }
    payload = {
        "command_id": "c-agent",
        "recipes": ["stackops::deploy"],
        "node": node,
        "timeout": 60,
        "root": str(tmp_path / "node"),
    }
    s3.put_object(Bucket=BUCKET, Key="payloads/c-agent.json", Body=json.dumps(payload).encode())
    result = invoke("agent", "apply", "--payload", f"s3://{BUCKET}/payloads/c-agent.json")
    assert result.exit_code == 0, result.output
    assert "agent-secret" not in result.output
    s3.head_object(Bucket=BUCKET, Key="logs/c-agent.json")


def check(calls: list[Call]) -> list[str]:
    """What is wrong between the calls made and the declarations (empty: nothing)."""
    problems: list[str] = []
    seen: dict[tuple[str, str], set[str]] = {}  # (method, role) -> actions made
    for call in calls:
        if call.action is None:
            continue  # sts:GetCallerIdentity needs no permission
        if call.declaration is None:
            problems.append(f"{call.where}: {call.operation} outside any @calls method")
            continue
        name = f"{call.declaration.module}.{call.declaration.qualname}"
        if call.action not in call.declaration.calls.actions:
            problems.append(f"{name} makes {call.action}, which it does not declare")
        if call.role is None:
            problems.append(f"{call.where}: {call.operation} on a code path of no role")
            continue
        if call.role not in call.declaration.calls.roles:
            problems.append(f"{name}: role {call.role} makes {call.action}; declared for "
                            f"{call.declaration.calls.roles}")  # fmt: skip
        if call.action not in role_actions(call.role):
            problems.append(f"{call.role}'s policy lacks {call.action} ({name})")
        seen.setdefault((name, call.role), set()).add(call.action)
    for declaration in declarations():
        name = f"{declaration.module}.{declaration.qualname}"
        made = set().union(*(seen.get((name, r), set()) for r in ROLES))
        for role in declaration.calls.roles:
            if (name, role) not in seen:
                problems.append(f"{role} is granted {declaration.calls.actions} for {name}, "
                                "which no scenario of that role calls")  # fmt: skip
        for action in declaration.calls.actions:
            if action not in made:
                problems.append(f"{name} declares {action} and never makes it")
    return sorted(set(problems))


def test_every_call_is_granted_to_its_role_and_every_grant_is_called(stack_env, calls, tmp_path):
    env = stack_env
    bootstrap_paths(env.invoke, env.aws, tmp_path)
    run_paths(env, env.aws, calls, tmp_path)
    instance_paths(env.invoke, env.aws, tmp_path)

    problems = check(calls.calls)
    assert not problems, "\n".join(sorted(set(problems)))


def test_the_check_catches_a_call_its_role_may_not_make(calls, aws, invoke):
    """The check itself: a method called on a path of a role it does not declare is
    reported, and so is every grant nothing called."""
    ok_json(invoke("bootstrap"))
    from stackops.aws.sqs import Queue

    services = moto_services()
    with calls.acting_as(OPERATOR), contextlib.suppress(Exception):
        Queue(services.session, "stackops-lifecycle").change_visibility("bad-handle", 0)
    problems = check(calls.calls)
    assert (
        "stackops.aws.sqs.Queue.change_visibility: role operator makes "
        "sqs:ChangeMessageVisibility; declared for ('dispatcher',)"
    ) in problems
    assert any(p.startswith("instance is granted ('ssm:GetParameters',)") for p in problems)
