"""Specs and records: alias styles, refused typos, API shapes, secret filtering, storage."""

from __future__ import annotations

import json

import pytest
from pydantic import ValidationError

from stackops.model.api_shapes import EXTENSION_KEYS, api_model
from stackops.model.apps import App, AppSpec, derive_shortname
from stackops.model.base import FILTERED
from stackops.model.enums import HostnameTheme, InstanceStatus, LayerType, SourceType
from stackops.model.instances import Instance, InstanceSpec
from stackops.model.layers import Layer, LayerSpec, Recipes
from stackops.model.sources import Source
from stackops.model.stacks import Stack, StackSpec, summarize

WHEN = "2026-11-28T17:00:00+00:00"


def _stack(**fields: object) -> Stack:
    return Stack(name="demo", stack_id="st-1", created_at=WHEN, **fields)


def test_both_alias_styles_validate() -> None:
    assert Recipes.model_validate({"Setup": ["a::b"]}) == Recipes.model_validate(
        {"setup": ["a::b"]}
    )
    pascal = LayerSpec.model_validate(
        {"Type": "lb", "Shortname": "lb", "CustomRecipes": {"Configure": ["lb::configure"]}}
    )
    snake = LayerSpec.model_validate(
        {"type": "lb", "shortname": "lb", "custom_recipes": {"configure": ["lb::configure"]}}
    )
    assert pascal == snake
    assert pascal.type is LayerType.lb
    assert pascal.name == "lb"  # defaults to the shortname


def test_typos_are_refused() -> None:
    with pytest.raises(ValidationError) as info:
        StackSpec.model_validate({"name": "demo", "custm_json": {}})
    assert info.value.errors()[0]["type"] == "extra_forbidden"
    with pytest.raises(ValidationError):
        Recipes.model_validate({"setupp": []})


def test_recipe_names_are_checked_per_item() -> None:
    with pytest.raises(ValidationError) as info:
        Recipes(setup=["ok::fine", "not ok"])
    assert info.value.errors()[0]["loc"] == ("setup", 1)


def test_custom_json_given_as_string_is_parsed() -> None:
    spec = StackSpec.model_validate({"Name": "demo", "CustomJson": '{"env": "prod"}'})
    assert spec.custom_json == {"env": "prod"}
    with pytest.raises(ValidationError, match="custom_json is not valid JSON"):
        StackSpec(name="demo", custom_json="{nope")
    with pytest.raises(ValidationError, match="must be a JSON object"):
        StackSpec(name="demo", custom_json="[1]")


def test_stack_defaults_and_checks() -> None:
    spec = StackSpec(name="demo")
    assert spec.region == "us-east-1"
    assert spec.default_os == "Amazon Linux 2023"
    assert spec.hostname_theme is HostnameTheme.Layer_Dependent
    assert spec.configuration_manager.name == "stackops"
    assert spec.configuration_manager.version == "1"
    with pytest.raises(ValidationError, match="region 'useast1' is not an AWS region"):
        StackSpec(name="demo", region="useast1")
    with pytest.raises(ValidationError, match="not in region 'us-east-1'"):
        StackSpec(name="demo", default_availability_zone="eu-west-1a")
    with pytest.raises(ValidationError, match="is not a VPC id"):
        StackSpec(name="demo", vpc_id="vpc_1")
    with pytest.raises(ValidationError):
        StackSpec(name="")


def test_hostname_theme_accepts_opsworks_and_brief_spellings() -> None:
    assert StackSpec(name="d", hostname_theme="Europe_Cities").hostname_theme == "Europe_Cities"
    assert StackSpec(name="d", hostname_theme="European_Cities").hostname_theme == "Europe_Cities"
    assert HostnameTheme.Greek_Deities is HostnameTheme.Greek_Deities_and_Titans  # type: ignore[attr-defined]
    assert len(HostnameTheme) == 12


def test_app_shortname_derived_from_name() -> None:
    assert derive_shortname("My Web App!") == "my_web_app"
    app = AppSpec(name="Web Shop")
    assert app.shortname == "web_shop"
    assert app.deploy_to == "/srv/www/web_shop"
    assert AppSpec(shortname="api").name == "api"
    with pytest.raises(ValidationError, match="cannot derive a shortname"):
        AppSpec(name="!!!")


def test_app_environment_rules_apply() -> None:
    with pytest.raises(ValidationError, match="appears twice"):
        AppSpec(name="web", environment=[{"key": "A", "value": "1"}, {"Key": "A", "Value": "2"}])
    with pytest.raises(ValidationError) as info:
        AppSpec(name="web", environment=[{"key": "A-B", "value": "1"}])
    assert info.value.errors()[0]["loc"] == ("environment", 0, "key")


def test_source_needs_a_url() -> None:
    with pytest.raises(ValidationError, match="a s3 source needs a url"):
        Source(type=SourceType.s3)


def test_shutdown_timeout_bounds() -> None:
    assert LayerSpec(type="custom", shortname="x").lifecycle_event_configuration.shutdown == (
        LayerSpec(
            type="custom",
            shortname="x",
            lifecycle_event_configuration={"Shutdown": {"ExecutionTimeout": 120}},
        ).lifecycle_event_configuration.shutdown
    )
    with pytest.raises(ValidationError):
        LayerSpec(
            type="custom",
            shortname="x",
            lifecycle_event_configuration={"shutdown": {"execution_timeout": 901}},
        )


def test_stack_to_api_shape() -> None:
    stack = _stack(
        custom_json={"env": "demo", "db": {"password": {"ssm": "/demo/db"}}, "off": None},
        custom_cookbooks_source={"type": "git", "url": "https://x/c.git", "ssh_key": "KEY"},
        arn="arn:aws:opsworks:us-east-1:123456789012:stack/st-1/",
    )
    api = stack.to_api()
    assert api["StackId"] == "st-1"
    assert api["Name"] == "demo"
    assert api["CreatedAt"] == WHEN
    assert json.loads(api["CustomJson"]) == stack.custom_json  # a JSON string, nulls kept
    assert api["CustomCookbooksSource"] == {
        "Type": "git",
        "Url": "https://x/c.git",
        "SshKey": FILTERED,
    }
    assert api["ConfigurationManager"] == {"Name": "stackops", "Version": "1"}
    assert "VpcId" not in api  # None left out
    assert "CustomJson" not in _stack().to_api()  # empty custom JSON left out too
    assert FILTERED == "*****FILTERED*****"


def test_app_to_api_filters_secrets() -> None:
    app = App(
        name="Web",
        app_id="ap-1",
        stack_id="st-1",
        created_at=WHEN,
        app_source={"type": "s3", "url": "s3://b/web.tgz", "username": "AK", "password": "SK"},
        environment=[
            {"key": "GREETING", "value": "hello"},
            {"key": "TOKEN", "value": "t0p", "secure": True},
        ],
    )
    api = app.to_api()
    assert api["AppSource"] == {
        "Type": "s3",
        "Url": "s3://b/web.tgz",
        "Username": "AK",
        "Password": FILTERED,
    }
    assert api["Environment"] == [
        {"Key": "GREETING", "Value": "hello", "Secure": False},
        {"Key": "TOKEN", "Value": FILTERED, "Secure": True},
    ]
    assert api["Shortname"] == "web"
    assert api["Type"] == "other"
    assert api["DeployTo"] == "/srv/www/web"
    # storage keeps the secrets; the store decides where they go
    record = app.to_record()
    assert record["environment"][1]["value"] == "t0p"
    assert record["app_source"]["password"] == "SK"


def test_layer_to_api_has_default_recipes() -> None:
    layer = Layer(type="custom", shortname="app", layer_id="l-1", stack_id="st-1", created_at=WHEN)
    api = layer.to_api()
    assert api["DefaultRecipes"]["Setup"] == ["stackops::setup"]
    assert api["DefaultRecipes"]["Shutdown"] == ["stackops::shutdown"]
    assert api["CustomRecipes"] == {
        "Setup": [],
        "Configure": [],
        "Deploy": [],
        "Undeploy": [],
        "Shutdown": [],
    }
    assert api["LifecycleEventConfiguration"] == {
        "Shutdown": {"ExecutionTimeout": 120, "DelayUntilElbConnectionsDrained": False}
    }
    assert api["EnableAutoHealing"] is True


def test_instance_record_and_api() -> None:
    instance = Instance(
        instance_type="t3.micro",
        hostname="app1",
        instance_id="i-1",
        stack_id="st-1",
        layer_ids=["l-1"],
        created_at=WHEN,
        ec2_instance_id="i-0123456789abcdef0",
    )
    assert instance.status is InstanceStatus.stopped
    api = instance.to_api()
    assert api["Status"] == "stopped"
    assert api["LayerIds"] == ["l-1"]
    assert api["Ec2InstanceId"] == "i-0123456789abcdef0"
    assert api["Architecture"] == "x86_64"
    assert api["RootDeviceType"] == "ebs"
    assert api["InfrastructureClass"] == "ec2"
    with pytest.raises(ValidationError):
        Instance(instance_type="t3.micro", instance_id="i", stack_id="s", created_at=WHEN)
    with pytest.raises(ValidationError, match="is not an EC2 instance type"):
        InstanceSpec(instance_type="t3micro")


def test_records_round_trip_through_storage() -> None:
    stack = _stack(custom_json={"a": {"b": None}}, attributes={"Color": None})
    layer = Layer(type="lb", shortname="lb", layer_id="l-1", stack_id="st-1", created_at=WHEN)
    app = App(name="web", app_id="a-1", stack_id="st-1", created_at=WHEN)
    instance = Instance(
        instance_type="t3.micro",
        hostname="lb1",
        instance_id="i-1",
        stack_id="st-1",
        layer_ids=["l-1"],
        created_at=WHEN,
        status="online",
    )
    for record in (stack, layer, app, instance):
        stored = json.loads(json.dumps(record.to_record()))
        assert type(record).from_record(stored) == record
        assert "stack_id" in stored


def test_spec_and_from_spec() -> None:
    spec = LayerSpec(type="lb", shortname="lb", packages=["haproxy"])
    layer = Layer.from_spec(spec, layer_id="l-1", stack_id="st-1", created_at=WHEN)
    assert layer.spec() == spec
    assert isinstance(layer.spec(), LayerSpec)


def test_summarize_counts_instances_by_opsworks_status_key() -> None:
    stack = _stack(arn="arn:aws:opsworks:us-east-1:123456789012:stack/st-1/")
    layer = Layer(type="lb", shortname="lb", layer_id="l-1", stack_id="st-1", created_at=WHEN)
    instances = [
        Instance(
            instance_type="t3.micro",
            hostname=f"h{n}",
            instance_id=f"i-{n}",
            stack_id="st-1",
            layer_ids=["l-1"],
            created_at=WHEN,
            status=status,
        )
        for n, status in enumerate(["online", "online", "running_setup", "setup_failed"])
    ]
    summary = summarize(stack, [layer], [], instances)
    assert summary["StackId"] == "st-1"
    assert summary["LayersCount"] == 1
    assert summary["AppsCount"] == 0
    counts = summary["InstancesCount"]
    assert counts["Online"] == 2
    assert counts["RunningSetup"] == 1
    assert counts["SetupFailed"] == 1
    assert counts["Stopped"] == 0
    assert set(counts) >= {"ConnectionLost", "ShuttingDown", "StartFailed", "StopFailed"}


# The stackops extensions: the answer keys listed in api_shapes (shown in the README), the
# stack-file key of a layer's load balancer (set by attach-elastic-load-balancer), and the
# record-only fields that never reach an answer (each model's api_hidden).
EXTENSIONS = {key for keys in EXTENSION_KEYS.values() for key in keys} | {"ElasticLoadBalancer"}


@pytest.mark.parametrize(
    ("model", "shape"),
    [
        (StackSpec, "CreateStackRequest"),
        (Stack, "Stack"),
        (LayerSpec, "CreateLayerRequest"),
        (Layer, "Layer"),
        (AppSpec, "CreateAppRequest"),
        (App, "App"),
        (Source, "Source"),
        (Recipes, "Recipes"),
        (InstanceSpec, "CreateInstanceRequest"),
        (Instance, "Instance"),
    ],
)
def test_aliases_are_opsworks_member_names(model: type, shape: str) -> None:
    members = set(api_model()["shapes"][shape]["members"])
    hidden = {model.model_fields[name].alias for name in model.api_hidden}
    aliases = {info.alias for info in model.model_fields.values()}
    assert aliases - hidden - EXTENSIONS <= members
