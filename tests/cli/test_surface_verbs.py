"""Load balancers, Elastic IPs, tags and registered instances, driven through the CLI on moto."""

from __future__ import annotations

import json

import pytest

from tests.cli.test_verbs import make_instance, make_layer, make_stack
from tests.helpers import ok_json

# End to end: most of these boot instances through the watcher and the dispatcher.
pytestmark = pytest.mark.slow


@pytest.fixture
def boot(aws, invoke):
    ok_json(invoke("bootstrap"))
    return aws


def ec2_tags(aws, ec2_id: str) -> dict[str, str]:
    raw = aws.client("ec2").describe_instances(InstanceIds=[ec2_id])["Reservations"][0]
    return {t["Key"]: t["Value"] for t in raw["Instances"][0].get("Tags", [])}


def online_instance(invoke, stack_id: str, layer_id: str) -> dict:
    instance_id = make_instance(invoke, stack_id, layer_id)
    ok_json(invoke("start-instance", "--instance-id", instance_id))
    ok_json(invoke("watch", "--once"))  # moto emits no EC2 events: the watcher does
    ok_json(invoke("dispatch", "--drain", "--executor", "local"))
    (inst,) = ok_json(invoke("describe-instances", "--instance-ids", instance_id))["Instances"]
    assert inst["Status"] == "online"
    return inst


def classic_elb(aws, name: str = "web-elb") -> None:
    aws.client("elb").create_load_balancer(
        LoadBalancerName=name,
        Listeners=[{"Protocol": "HTTP", "LoadBalancerPort": 80, "InstancePort": 80}],
        AvailabilityZones=["us-east-1a"],
    )


def elb_members(aws, name: str = "web-elb") -> list[str]:
    (lb,) = aws.client("elb").describe_load_balancers(LoadBalancerNames=[name])[
        "LoadBalancerDescriptions"
    ]
    return [i["InstanceId"] for i in lb["Instances"]]


# -- load balancers ---------------------------------------------------------------------
def test_elb_attach_registers_online_instances_and_shutdown_deregisters_first(
    boot, invoke, monkeypatch
):
    classic_elb(boot)
    stack_id = make_stack(invoke)
    layer_id = make_layer(invoke, stack_id, "app")
    other_layer = make_layer(invoke, stack_id, "db")
    first = online_instance(invoke, stack_id, layer_id)

    ok_json(
        invoke(
            "attach-elastic-load-balancer",
            "--elastic-load-balancer-name",
            "web-elb",
            "--layer-id",
            layer_id,
        )
    )
    assert elb_members(boot) == [first["Ec2InstanceId"]]
    (described,) = ok_json(invoke("describe-elastic-load-balancers", "--stack-id", stack_id))[
        "ElasticLoadBalancers"
    ]
    assert described["ElasticLoadBalancerName"] == "web-elb"
    assert described["LayerId"] == layer_id and described["StackId"] == stack_id
    assert described["DnsName"].startswith("web-elb") and described["Region"] == "us-east-1"
    assert described["Ec2InstanceIds"] == [first["Ec2InstanceId"]]

    # One load balancer per layer, one layer per load balancer; unknown names refused.
    again = invoke(
        "attach-elastic-load-balancer",
        "--elastic-load-balancer-name",
        "web-elb",
        "--layer-id",
        other_layer,
    )
    assert again.exit_code == 1 and "is attached to layer app" in again.stderr
    missing = invoke(
        "attach-elastic-load-balancer",
        "--elastic-load-balancer-name",
        "nope",
        "--layer-id",
        other_layer,
    )
    assert missing.exit_code == 2 and "no Classic Load Balancer named 'nope'" in missing.stderr

    # An instance coming online joins; describe-layers keeps OpsWorks's shape (no ELB key).
    second = online_instance(invoke, stack_id, layer_id)
    assert sorted(elb_members(boot)) == sorted([first["Ec2InstanceId"], second["Ec2InstanceId"]])
    (layer,) = ok_json(invoke("describe-layers", "--layer-ids", layer_id))["Layers"]
    assert "ElasticLoadBalancer" not in layer

    # Shutdown recipes run only after the instance left the load balancer.
    from stackops.lifecycle.activities import Activities

    seen: dict[str, list[str]] = {}
    original = Activities.run

    def spy(self, command, activity, **kwargs):
        if activity == "shutdown":
            seen[command.instance_id] = elb_members(boot)
        return original(self, command, activity, **kwargs)

    monkeypatch.setattr(Activities, "run", spy)
    ok_json(invoke("stop-instance", "--instance-id", first["InstanceId"]))
    ok_json(invoke("dispatch", "--drain", "--executor", "local"))
    assert seen[first["InstanceId"]] == [second["Ec2InstanceId"]]
    assert elb_members(boot) == [second["Ec2InstanceId"]]

    ok_json(
        invoke(
            "detach-elastic-load-balancer",
            "--elastic-load-balancer-name",
            "web-elb",
            "--layer-id",
            layer_id,
        )
    )
    assert elb_members(boot) == []
    assert ok_json(invoke("describe-elastic-load-balancers", "--layer-ids", layer_id)) == {
        "ElasticLoadBalancers": []
    }


def test_drain_wait_follows_the_layers_setting():
    from stackops.layer_attachments import leave_load_balancers
    from stackops.model.instances import Instance
    from stackops.model.layers import Layer

    class FakeElb:
        def __init__(self) -> None:
            self.health = [True, True, False]
            self.calls: list[str] = []

        def describe(self, names):
            return dict.fromkeys(names, object())

        def deregister(self, name, ids):
            self.calls.append(f"deregister {name} {ids}")
            return list(ids)

        def draining(self, name):
            from stackops.aws.elb import Draining

            return Draining(True, 30)

        def in_service(self, name, ec2_id):
            self.calls.append("health")
            return self.health.pop(0)

    class FakeServices:
        load_balancers = FakeElb()

    def layer(drain: bool) -> Layer:
        return Layer.model_validate(
            {
                "type": "custom",
                "shortname": "app",
                "layer_id": "L",
                "stack_id": "S",
                "created_at": "2026-01-01T00:00:00+00:00",
                "elastic_load_balancer": "web-elb",
                "lifecycle_event_configuration": {
                    "shutdown": {"delay_until_elb_connections_drained": drain}
                },
            }
        )

    instance = Instance(
        instance_id="I",
        stack_id="S",
        layer_ids=["L"],
        hostname="app1",
        instance_type="t3.micro",
        ec2_instance_id="i-1",
        created_at="2026-01-01T00:00:00+00:00",
    )
    now = [0.0]
    sleeps: list[float] = []

    def sleep(seconds: float) -> None:
        sleeps.append(seconds)
        now[0] += seconds

    services = FakeServices()
    leave_load_balancers(services, [layer(True)], instance, sleep=sleep, clock=lambda: now[0])
    assert services.load_balancers.calls == [
        "deregister web-elb ['i-1']",
        "health",
        "health",
        "health",
    ]
    assert sleeps == [2.0, 2.0]

    services.load_balancers.calls.clear()
    sleeps.clear()
    leave_load_balancers(services, [layer(False)], instance, sleep=sleep, clock=lambda: now[0])
    assert services.load_balancers.calls == ["deregister web-elb ['i-1']"] and sleeps == []


def test_drain_wait_is_bounded_by_the_draining_timeout():
    from stackops.layer_attachments import wait_until

    now = [0.0]

    def sleep(seconds: float) -> None:
        now[0] += seconds

    assert wait_until(lambda: False, timeout=5, sleep=sleep, clock=lambda: now[0]) is False
    assert now[0] == 5.0


# -- Elastic IPs --------------------------------------------------------------------------
def test_elastic_ip_register_associate_describe_deregister(boot, invoke):
    ec2 = boot.client("ec2")
    ip = ec2.allocate_address(Domain="vpc")["PublicIp"]
    stack_id = make_stack(invoke)
    layer_id = make_layer(invoke, stack_id)
    inst = online_instance(invoke, stack_id, layer_id)

    assert ok_json(invoke("register-elastic-ip", "--elastic-ip", ip, "--stack-id", stack_id)) == {
        "ElasticIp": ip
    }
    ok_json(invoke("update-elastic-ip", "--elastic-ip", ip, "--name", "front"))
    ok_json(invoke("associate-elastic-ip", "--elastic-ip", ip, "--instance-id", inst["InstanceId"]))
    (address,) = ec2.describe_addresses(PublicIps=[ip])["Addresses"]
    assert address["InstanceId"] == inst["Ec2InstanceId"]
    expected = {
        "Ip": ip,
        "Name": "front",
        "Domain": "vpc",
        "Region": "us-east-1",
        "InstanceId": inst["InstanceId"],
    }
    assert ok_json(invoke("describe-elastic-ips", "--stack-id", stack_id)) == {
        "ElasticIps": [expected]
    }
    assert ok_json(invoke("describe-elastic-ips", "--instance-id", inst["InstanceId"])) == {
        "ElasticIps": [expected]
    }
    assert ok_json(invoke("describe-elastic-ips", "--ips", ip))["ElasticIps"] == [expected]
    (described,) = ok_json(invoke("describe-instances", "--instance-ids", inst["InstanceId"]))[
        "Instances"
    ]
    assert described["ElasticIp"] == ip and described["PublicIp"] == ip

    other = make_stack(invoke, "other")
    taken = invoke("register-elastic-ip", "--elastic-ip", ip, "--stack-id", other)
    assert taken.exit_code == 1 and f"registered with stack {stack_id}" in taken.stderr
    unknown = invoke("register-elastic-ip", "--elastic-ip", "192.0.2.1", "--stack-id", other)
    assert unknown.exit_code == 2 and "no Elastic IP 192.0.2.1" in unknown.stderr
    both = invoke("describe-elastic-ips", "--stack-id", stack_id, "--ips", ip)
    assert both.exit_code == 2 and "exactly one of" in both.stderr

    ok_json(invoke("disassociate-elastic-ip", "--elastic-ip", ip))
    assert (
        "InstanceId" not in ec2.describe_addresses(PublicIps=[ip])["Addresses"][0]
        or not (ec2.describe_addresses(PublicIps=[ip])["Addresses"][0]["InstanceId"])
    )
    (described,) = ok_json(invoke("describe-instances", "--instance-ids", inst["InstanceId"]))[
        "Instances"
    ]
    assert "ElasticIp" not in described
    ok_json(invoke("deregister-elastic-ip", "--elastic-ip", ip))
    assert ok_json(invoke("describe-elastic-ips", "--stack-id", stack_id)) == {"ElasticIps": []}
    assert ec2.describe_addresses(PublicIps=[ip])["Addresses"]  # still allocated


def test_auto_assign_elastic_ips_allocates_at_boot_and_releases_at_delete(boot, invoke):
    ec2 = boot.client("ec2")
    stack_id = make_stack(invoke)
    layer_id = make_layer(invoke, stack_id, "app", "--auto-assign-elastic-ips")
    inst = online_instance(invoke, stack_id, layer_id)
    ip = inst["ElasticIp"]
    (address,) = ec2.describe_addresses(PublicIps=[ip])["Addresses"]
    assert address["InstanceId"] == inst["Ec2InstanceId"] and inst["PublicIp"] == ip
    assert ok_json(invoke("describe-elastic-ips", "--instance-id", inst["InstanceId"]))[
        "ElasticIps"
    ] == [
        {
            "Ip": ip,
            "Name": inst["Hostname"],
            "Domain": "vpc",
            "Region": "us-east-1",
            "InstanceId": inst["InstanceId"],
        }
    ]

    ok_json(invoke("stop-instance", "--instance-id", inst["InstanceId"]))
    ok_json(invoke("dispatch", "--drain", "--executor", "local"))
    ok_json(invoke("delete-instance", "--instance-id", inst["InstanceId"]))
    assert ec2.describe_addresses()["Addresses"] == []


def test_delete_instance_releases_its_address_only_when_asked(boot, invoke):
    ec2 = boot.client("ec2")
    stack_id = make_stack(invoke)
    layer_id = make_layer(invoke, stack_id)
    kept_ip = ec2.allocate_address(Domain="vpc")["PublicIp"]
    gone_ip = ec2.allocate_address(Domain="vpc")["PublicIp"]
    for ip in (kept_ip, gone_ip):
        ok_json(invoke("register-elastic-ip", "--elastic-ip", ip, "--stack-id", stack_id))
    keep = online_instance(invoke, stack_id, layer_id)
    drop = online_instance(invoke, stack_id, layer_id)
    for ip, inst in ((kept_ip, keep), (gone_ip, drop)):
        ok_json(
            invoke("associate-elastic-ip", "--elastic-ip", ip, "--instance-id", inst["InstanceId"])
        )
    for inst in (keep, drop):
        ok_json(invoke("stop-instance", "--instance-id", inst["InstanceId"], "--force"))
    ok_json(invoke("delete-instance", "--instance-id", keep["InstanceId"]))
    ok_json(invoke("delete-instance", "--instance-id", drop["InstanceId"], "--delete-elastic-ip"))
    assert [a["PublicIp"] for a in ec2.describe_addresses()["Addresses"]] == [kept_ip]


# -- tags ---------------------------------------------------------------------------------
def test_tags_on_stack_and_layer_reach_the_ec2_instances(boot, invoke):
    stack_id = make_stack(invoke)
    layer_id = make_layer(invoke, stack_id)
    (stack,) = ok_json(invoke("describe-stacks", "--stack-ids", stack_id))["Stacks"]
    (layer,) = ok_json(invoke("describe-layers", "--layer-ids", layer_id))["Layers"]
    ok_json(invoke("tag-resource", "--resource-arn", stack["Arn"], "--tags", "Team=web,Env=dev"))
    ok_json(invoke("tag-resource", "--resource-arn", layer["Arn"], "--tags", '{"Env": "prod"}'))
    assert ok_json(invoke("list-tags", "--resource-arn", stack["Arn"])) == {
        "Tags": {"Env": "dev", "Team": "web"}
    }
    page = ok_json(invoke("list-tags", "--resource-arn", stack["Arn"], "--max-results", "1"))
    assert page == {"Tags": {"Env": "dev"}, "NextToken": "1"}
    page = ok_json(
        invoke(
            "list-tags", "--resource-arn", stack["Arn"], "--max-results", "1", "--next-token", "1"
        )
    )
    assert page == {"Tags": {"Team": "web"}}

    # Launched with the stack's tags, the layer's values over them.
    inst = online_instance(invoke, stack_id, layer_id)
    tags = ec2_tags(boot, inst["Ec2InstanceId"])
    assert tags["Team"] == "web" and tags["Env"] == "prod"
    assert tags["stackops:instance-id"] == inst["InstanceId"]

    # Changes reach running instances; removing the layer's value uncovers the stack's.
    ok_json(invoke("tag-resource", "--resource-arn", stack["Arn"], "--tags", "Owner=ops"))
    ok_json(invoke("untag-resource", "--resource-arn", layer["Arn"], "--tag-keys", "Env"))
    tags = ec2_tags(boot, inst["Ec2InstanceId"])
    assert (tags["Owner"], tags["Env"], tags["Team"]) == ("ops", "dev", "web")
    ok_json(invoke("untag-resource", "--resource-arn", stack["Arn"], "--tag-keys", "Env", "Team"))
    tags = ec2_tags(boot, inst["Ec2InstanceId"])
    assert "Env" not in tags and "Team" not in tags and tags["Owner"] == "ops"

    # Tags never show in describe answers (not in OpsWorks's shapes).
    (stack,) = ok_json(invoke("describe-stacks", "--stack-ids", stack_id))["Stacks"]
    assert "Tags" not in stack


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ["--resource-arn", "arn:aws:ec2:us-east-1:123456789012:instance/i-1", "--tags", "A=b"],
            "is not a stack or layer ARN",
        ),
        (["--tags", "stackops:x=1"], "are reserved"),
        (["--tags", "A=b<c"], "may hold letters"),
        (["--tags", "A"], "expected Key=value"),
    ],
)
def test_bad_tags_are_refused(boot, invoke, args, message):
    stack_id = make_stack(invoke)
    (stack,) = ok_json(invoke("describe-stacks", "--stack-ids", stack_id))["Stacks"]
    full = args if "--resource-arn" in args else ["--resource-arn", stack["Arn"], *args]
    result = invoke("tag-resource", *full)
    assert result.exit_code == 2 and message in result.stderr, result.stderr
    assert ok_json(invoke("list-tags", "--resource-arn", stack["Arn"])) == {"Tags": {}}


# -- registered instances -------------------------------------------------------------------
def run_ec2(aws, name: str | None = None) -> dict:
    kwargs = {}
    if name:
        kwargs["TagSpecifications"] = [
            {"ResourceType": "instance", "Tags": [{"Key": "Name", "Value": name}]}
        ]
    return aws.client("ec2").run_instances(
        ImageId="ami-12345678", MinCount=1, MaxCount=1, InstanceType="t3.small", **kwargs
    )["Instances"][0]


def test_register_assign_unassign_deregister(boot, invoke):
    stack_id = make_stack(invoke)
    layer_id = make_layer(invoke, stack_id, "app")
    peer = online_instance(invoke, stack_id, layer_id)
    raw = run_ec2(boot, "legacy1")
    identity = json.dumps({"instanceId": raw["InstanceId"], "region": "us-east-1"})

    # Found by its private IP and its identity document, which must agree.
    registered = ok_json(
        invoke(
            "register-instance",
            "--stack-id",
            stack_id,
            "--private-ip",
            raw["PrivateIpAddress"],
            "--instance-identity",
            json.dumps({"Document": identity, "Signature": "sig"}),
        )
    )["InstanceId"]
    (inst,) = ok_json(invoke("describe-instances", "--instance-ids", registered))["Instances"]
    assert (inst["Status"], inst["LayerIds"], inst["Hostname"]) == ("registered", [], "legacy1")
    assert inst["RegisteredBy"] and inst["Ec2InstanceId"] == raw["InstanceId"]
    summary = ok_json(invoke("describe-stack-summary", "--stack-id", stack_id))["StackSummary"]
    assert summary["InstancesCount"]["Registered"] == 1

    ok_json(invoke("assign-instance", "--instance-id", registered, "--layer-ids", layer_id))
    ok_json(invoke("dispatch", "--drain", "--executor", "local"))
    (inst,) = ok_json(invoke("describe-instances", "--instance-ids", registered))["Instances"]
    assert inst["Status"] == "online" and inst["LayerIds"] == [layer_id]
    kinds = [
        c["Type"]
        for c in ok_json(invoke("describe-commands", "--instance-id", registered))["Commands"]
    ]
    assert "setup" in kinds  # setup, then configure, as OpsWorks
    peer_configures = [
        c
        for c in ok_json(invoke("describe-commands", "--instance-id", peer["InstanceId"]))[
            "Commands"
        ]
        if c["Type"] == "configure"
    ]
    assert peer_configures, "the rest of the stack is configured"

    twice = invoke("assign-instance", "--instance-id", registered, "--layer-ids", layer_id)
    assert twice.exit_code == 1 and "unassign-instance first" in twice.stderr

    before = len(
        ok_json(invoke("describe-commands", "--instance-id", peer["InstanceId"]))["Commands"]
    )
    ok_json(invoke("unassign-instance", "--instance-id", registered))
    (inst,) = ok_json(invoke("describe-instances", "--instance-ids", registered))["Instances"]
    assert (inst["Status"], inst["LayerIds"]) == ("registered", [])
    ok_json(invoke("dispatch", "--drain", "--executor", "local"))
    after = ok_json(invoke("describe-commands", "--instance-id", peer["InstanceId"]))["Commands"]
    assert len(after) > before and after[-1]["Type"] == "configure"

    ok_json(invoke("deregister-instance", "--instance-id", registered))
    assert ok_json(invoke("describe-instances", "--instance-ids", peer["InstanceId"]))
    gone = invoke("describe-instances", "--instance-ids", registered)
    assert gone.exit_code == 2
    state = boot.client("ec2").describe_instances(InstanceIds=[raw["InstanceId"]])
    assert state["Reservations"][0]["Instances"][0]["State"]["Name"] == "running"
    assert not any(k.startswith("stackops:") for k in ec2_tags(boot, raw["InstanceId"]))


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--rsa-public-key", "ssh-rsa AAAA"], "key exchange (RsaPublicKey"),
        (["--rsa-public-key-fingerprint", "aa:bb"], "key exchange (RsaPublicKey"),
        (["--private-ip", "10.99.99.99"], "on-premises instances are not supported"),
        ([], "give --ec2-instance-id"),
        (["--instance-identity", '{"Document": "not json"}'], "instance identity document"),
    ],
)
def test_register_refusals(boot, invoke, extra, message):
    stack_id = make_stack(invoke)
    result = invoke("register-instance", "--stack-id", stack_id, *extra)
    assert result.exit_code == 2 and message in result.stderr, result.stderr


def test_assign_is_for_registered_instances_any_layer_type(boot, invoke):
    """OpsWorks kept registered EC2 instances out of built-in layers because those layers'
    recipes installed packages; every stackops layer type runs the same built-in recipes."""
    stack_id = make_stack(invoke)
    custom = make_layer(invoke, stack_id, "app")
    lb = ok_json(
        invoke(
            "create-layer",
            "--stack-id",
            stack_id,
            "--type",
            "lb",
            "--name",
            "LB",
            "--shortname",
            "lb",
        )
    )["LayerId"]
    created = make_instance(invoke, stack_id, custom)
    refused = invoke("assign-instance", "--instance-id", created, "--layer-ids", custom)
    assert refused.exit_code == 2 and "is for registered instances" in refused.stderr
    raw = run_ec2(boot)
    registered = ok_json(
        invoke("register-instance", "--stack-id", stack_id, "--ec2-instance-id", raw["InstanceId"])
    )["InstanceId"]
    refused = invoke("unassign-instance", "--instance-id", registered)
    assert refused.exit_code == 2 and "in no layer" in refused.stderr
    ok_json(invoke("assign-instance", "--instance-id", registered, "--layer-ids", lb))
    (inst,) = ok_json(invoke("describe-instances", "--instance-ids", registered))["Instances"]
    assert (inst["Status"], inst["LayerIds"]) == ("pending", [lb])
    tags = ec2_tags(boot, raw["InstanceId"])
    assert tags["stackops:layer-ids"] == lb


def test_drained_shutdown_on_moto(boot, invoke, monkeypatch):
    """DelayUntilElbConnectionsDrained with draining on: the load balancer is asked until the
    instance is out, then the shutdown recipes run."""
    from stackops.aws.elb import ClassicLoadBalancers

    classic_elb(boot)
    boot.client("elb").modify_load_balancer_attributes(
        LoadBalancerName="web-elb",
        LoadBalancerAttributes={"ConnectionDraining": {"Enabled": True, "Timeout": 30}},
    )
    stack_id = make_stack(invoke)
    layer_id = make_layer(
        invoke,
        stack_id,
        "app",
        "--lifecycle-event-configuration",
        "Shutdown={ExecutionTimeout=60,DelayUntilElbConnectionsDrained=true}",
    )
    inst = online_instance(invoke, stack_id, layer_id)
    ok_json(
        invoke(
            "attach-elastic-load-balancer",
            "--elastic-load-balancer-name",
            "web-elb",
            "--layer-id",
            layer_id,
        )
    )
    asked: list[str] = []
    original = ClassicLoadBalancers.in_service

    def spy(self, name, ec2_id):
        asked.append(ec2_id)
        return original(self, name, ec2_id)

    monkeypatch.setattr(ClassicLoadBalancers, "in_service", spy)
    ok_json(invoke("stop-instance", "--instance-id", inst["InstanceId"]))
    ok_json(invoke("dispatch", "--drain", "--executor", "local"))
    assert asked == [inst["Ec2InstanceId"]]
    (stopped,) = ok_json(invoke("describe-instances", "--instance-ids", inst["InstanceId"]))[
        "Instances"
    ]
    assert stopped["Status"] == "stopped" and elb_members(boot) == []


def test_an_elastic_ip_follows_its_instance_through_a_restart(boot, invoke):
    ec2 = boot.client("ec2")
    ip = ec2.allocate_address(Domain="vpc")["PublicIp"]
    stack_id = make_stack(invoke)
    layer_id = make_layer(invoke, stack_id)
    instance_id = make_instance(invoke, stack_id, layer_id)
    ok_json(invoke("register-elastic-ip", "--elastic-ip", ip, "--stack-id", stack_id))
    # Associated while the instance has no EC2 instance yet: remembered, associated at boot.
    ok_json(invoke("associate-elastic-ip", "--elastic-ip", ip, "--instance-id", instance_id))
    assert "InstanceId" not in ec2.describe_addresses(PublicIps=[ip])["Addresses"][0] or not (
        ec2.describe_addresses(PublicIps=[ip])["Addresses"][0].get("InstanceId")
    )
    ok_json(invoke("start-instance", "--instance-id", instance_id))
    ok_json(invoke("watch", "--once"))
    ok_json(invoke("dispatch", "--drain", "--executor", "local"))
    (inst,) = ok_json(invoke("describe-instances", "--instance-ids", instance_id))["Instances"]
    (address,) = ec2.describe_addresses(PublicIps=[ip])["Addresses"]
    assert address["InstanceId"] == inst["Ec2InstanceId"] and inst["PublicIp"] == ip
