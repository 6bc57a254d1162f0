"""Node attributes: DESIGN §5 shape, membership, custom JSON, secrets, redaction, run lists."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from stackops.errors import InvalidInput
from stackops.lifecycle.attributes import (
    apps_for,
    build_node_attributes,
    deep_merge,
    layers_of,
    recipes_for,
)
from stackops.model.apps import App, EnvironmentVariable
from stackops.model.instances import Instance
from stackops.model.layers import Layer, Recipes
from stackops.model.sources import Source
from stackops.model.stacks import Stack
from stackops.secrets import redact, redact_data, resolve_secret_refs

WHEN = "2026-11-28T17:00:00+00:00"
PREFIX = "/stackops/secrets"


def _stack(**fields: Any) -> Stack:
    return Stack(name="shop", stack_id="st-1", region="us-east-1", created_at=WHEN, **fields)


def _layer(shortname: str, layer_type: str = "custom", **fields: Any) -> Layer:
    return Layer(
        type=layer_type,
        shortname=shortname,
        layer_id=f"ly-{shortname}",
        stack_id="st-1",
        created_at=WHEN,
        **fields,
    )


def _instance(hostname: str, layers: list[str], status: str = "online", **fields: Any) -> Instance:
    number = len(hostname) + sum(map(ord, hostname)) % 200
    return Instance(
        instance_type="t3.micro",
        instance_id=f"in-{hostname}",
        stack_id="st-1",
        layer_ids=[f"ly-{name}" for name in layers],
        hostname=hostname,
        status=status,
        ec2_instance_id=f"i-{hostname}",
        private_ip=f"10.0.0.{number}",
        created_at=WHEN,
        **fields,
    )


def _web_app(**fields: Any) -> App:
    return App(
        name="web",
        app_id="ap-web",
        stack_id="st-1",
        created_at=WHEN,
        app_source=Source(type="s3", url="s3://bucket/web.tar.gz", revision="v1"),
        environment=[
            EnvironmentVariable(key="MODE", value="production"),
            EnvironmentVariable(key="TOKEN", value="", secure=True),
        ],
        domains=["shop.example.com"],
        migrate_command=["./manage", "migrate"],
        health_check={"path": "/health", "port": 8080},
        layers=["app"],
        **fields,
    )


LB = _layer("lb", "lb", name="Load balancer")
APP = _layer("app", "custom", name="App server")
LAYERS = [LB, APP]
LB1 = _instance("lb1", ["lb"], port_offset=0)
APP1 = _instance("app1", ["app"], port_offset=10)
APP2 = _instance("app2", ["app"], port_offset=20)
APP3 = _instance("app3", ["app"], status="booting", port_offset=30)
INSTANCES = [LB1, APP2, APP3, APP1]


def _attrs(instance: Instance = APP1, **overrides: Any) -> dict[str, Any]:
    arguments: dict[str, Any] = {
        "activity": "configure",
        "command_id": "cmd-1",
        "deployment_id": "dep-1",
        "stack": _stack(),
        "layers": LAYERS,
        "apps": [_web_app()],
        "instances": INSTANCES,
        "instance": instance,
        "releases": {"web": "20261128T1700Z-abc"},
        "secret_prefix": PREFIX,
        "sandbox": False,
    }
    arguments.update(overrides)
    return build_node_attributes(**arguments)


# -- deep_merge -------------------------------------------------------------------------
def test_deep_merge_merges_objects_and_replaces_everything_else() -> None:
    base = {"a": {"b": 1, "c": [1, 2], "d": {"e": 1}}, "f": "x", "g": {"h": 1}}
    override = {"a": {"c": [3], "d": {"z": 2}}, "f": None, "g": 5, "new": {"k": "v"}}
    before = copy.deepcopy((base, override))
    merged = deep_merge(base, override)
    assert merged == {
        "a": {"b": 1, "c": [3], "d": {"e": 1, "z": 2}},
        "f": None,
        "g": 5,
        "new": {"k": "v"},
    }
    assert (base, override) == before
    merged["a"]["d"]["e"] = 99
    merged["new"]["k"] = "changed"
    assert (base, override) == before


def test_deep_merge_an_object_replaces_a_scalar() -> None:
    assert deep_merge({"a": 1}, {"a": {"b": 2}}) == {"a": {"b": 2}}


# -- the generated shape ------------------------------------------------------------------
def test_the_design_shape_for_a_small_stack() -> None:
    attrs = _attrs()
    assert attrs == {
        "stackops": {
            "activity": "configure",
            "command_id": "cmd-1",
            "deployment_id": "dep-1",
            "stack": {"id": "st-1", "name": "shop", "region": "us-east-1"},
            "instance": {
                "id": "in-app1",
                "ec2_instance_id": "i-app1",
                "hostname": "app1",
                "layers": ["app"],
                "private_ip": APP1.private_ip,
                "status": "online",
                "address": APP1.private_ip,
                "port_offset": 10,
                "packages": [],
                "install_updates_on_boot": True,
            },
            "layers": {
                "lb": {
                    "id": "ly-lb",
                    "name": "Load balancer",
                    "type": "lb",
                    "attributes": {},
                    "instances": {
                        "lb1": {
                            "private_ip": LB1.private_ip,
                            "status": "online",
                            "address": LB1.private_ip,
                            "port_offset": 0,
                            "ec2_instance_id": "i-lb1",
                        }
                    },
                },
                "app": {
                    "id": "ly-app",
                    "name": "App server",
                    "type": "custom",
                    "attributes": {},
                    "instances": {
                        "app1": {
                            "private_ip": APP1.private_ip,
                            "status": "online",
                            "address": APP1.private_ip,
                            "port_offset": 10,
                            "ec2_instance_id": "i-app1",
                        },
                        "app2": {
                            "private_ip": APP2.private_ip,
                            "status": "online",
                            "address": APP2.private_ip,
                            "port_offset": 20,
                            "ec2_instance_id": "i-app2",
                        },
                    },
                },
            },
            "applications": [{"name": "web", "slug_name": "web", "application_type": "other"}],
        },
        "deploy": {
            "web": {
                "application": "web",
                "deploy_to": "/srv/www/web",
                "release": "20261128T1700Z-abc",
                "scm": {
                    "scm_type": "s3",
                    "repository": "s3://bucket/web.tar.gz",
                    "revision": "v1",
                },
                "environment": {
                    "MODE": "production",
                    "TOKEN": {"ssm": "/stackops/secrets/apps/ap-web/env/TOKEN"},
                },
                "migrate": False,
                "migrate_command": ["./manage", "migrate"],
                "keep_releases": 5,
                "domains": ["shop.example.com"],
                "health_check": {"path": "/health", "port": 8080},
                "application_type": "other",
                "attributes": {},
                "data_sources": [],
                "ssl": {"enabled": False},
            }
        },
    }


def test_layer_membership_lists_online_instances_only_sorted_by_hostname() -> None:
    stopped = _instance("app0", ["app"], status="stopped")
    failed = _instance("app4", ["app"], status="setup_failed")
    attrs = _attrs(instances=[APP3, stopped, APP2, failed, APP1, LB1])
    assert list(attrs["stackops"]["layers"]["app"]["instances"]) == ["app1", "app2"]
    # The instance itself, while in setup, is not yet a member anywhere.
    setup = _attrs(APP3, activity="setup")
    assert "app3" not in setup["stackops"]["layers"]["app"]["instances"]
    assert setup["stackops"]["instance"]["status"] == "booting"


def test_every_layer_is_listed_even_an_empty_one() -> None:
    db = _layer("db", "db-master")
    attrs = _attrs(layers=[*LAYERS, db])
    assert attrs["stackops"]["layers"]["db"] == {
        "id": "ly-db",
        "name": "db",
        "type": "db-master",
        "attributes": {},
        "instances": {},
    }


def test_an_instance_in_several_layers_is_listed_under_each() -> None:
    both = _instance("combo1", ["app", "lb"])
    attrs = _attrs(both, instances=[*INSTANCES, both])
    assert attrs["stackops"]["instance"]["layers"] == ["app", "lb"]
    assert "combo1" in attrs["stackops"]["layers"]["app"]["instances"]
    assert "combo1" in attrs["stackops"]["layers"]["lb"]["instances"]


def test_sandbox_address_is_loopback_real_address_is_the_private_ip() -> None:
    sandbox = _attrs(sandbox=True)
    assert sandbox["stackops"]["instance"]["address"] == "127.0.0.1"
    assert sandbox["stackops"]["instance"]["private_ip"] == APP1.private_ip
    members = sandbox["stackops"]["layers"]["app"]["instances"]
    assert {m["address"] for m in members.values()} == {"127.0.0.1"}
    assert {m["port_offset"] for m in members.values()} == {10, 20}
    real = _attrs(sandbox=False)
    assert real["stackops"]["layers"]["app"]["instances"]["app2"]["address"] == APP2.private_ip


def test_apps_go_to_their_layers_or_everywhere() -> None:
    everywhere = App(name="static", app_id="ap-static", stack_id="st-1", created_at=WHEN)
    apps = [_web_app(), everywhere]
    lb = _attrs(LB1, apps=apps)
    assert [a["slug_name"] for a in lb["stackops"]["applications"]] == ["static"]
    assert list(lb["deploy"]) == ["static"]
    assert lb["deploy"]["static"]["scm"] == {"scm_type": None, "repository": None, "revision": None}
    app = _attrs(APP1, apps=apps)
    assert [a["slug_name"] for a in app["stackops"]["applications"]] == ["static", "web"]
    assert [a.shortname for a in apps_for(["lb"], apps)] == ["static"]


def test_deployment_revision_and_migrate_override_the_app_source() -> None:
    attrs = _attrs(app_revisions={"web": "v2"}, migrate=True, releases={})
    web = attrs["deploy"]["web"]
    assert web["scm"]["revision"] == "v2"
    assert web["migrate"] is True
    assert web["release"] is None


def test_an_unknown_layer_id_is_refused() -> None:
    stray = _instance("stray1", ["gone"])
    with pytest.raises(InvalidInput, match="ly-gone"):
        _attrs(stray)
    assert layers_of(APP1, LAYERS) == [APP]


def test_the_result_is_plain_json() -> None:
    import json

    attrs = _attrs()
    assert json.loads(json.dumps(attrs)) == attrs


# -- custom JSON ---------------------------------------------------------------------------
def test_custom_json_merge_order_stack_then_layers_then_deployment() -> None:
    stack = _stack(
        custom_json={
            "level": "stack",
            "only_stack": True,
            "nested": {"stack": 1, "shared": "stack"},
            "list": [1, 2, 3],
        }
    )
    lb = _layer(
        "lb",
        "lb",
        name="Load balancer",
        custom_json={"level": "lb", "nested": {"lb": 1, "shared": "lb"}, "list": ["lb"]},
    )
    app = _layer(
        "app",
        custom_json={"level": "app", "nested": {"app": 1, "shared": "app"}, "list": ["app"]},
    )
    combo = _instance("combo1", ["lb", "app"])
    attrs = _attrs(
        combo,
        stack=stack,
        layers=[lb, app],
        instances=[combo],
        deployment_custom_json={"level": "deployment", "nested": {"shared": "deployment"}},
    )
    assert attrs["level"] == "deployment"
    assert attrs["only_stack"] is True
    assert attrs["nested"] == {"stack": 1, "lb": 1, "app": 1, "shared": "deployment"}
    assert attrs["list"] == ["app"]  # lists replace; the instance's last layer wins
    # Without a deployment value, the instance's layer order decides.
    no_deploy = _attrs(combo, stack=stack, layers=[lb, app], instances=[combo])
    assert no_deploy["level"] == "app"
    # A layer the instance is not in contributes nothing.
    only_lb = _instance("lb9", ["lb"])
    assert _attrs(only_lb, stack=stack, layers=[lb, app], instances=[only_lb])["level"] == "lb"


def test_custom_json_may_override_generated_attributes() -> None:
    stack = _stack(custom_json={"deploy": {"web": {"keep_releases": 2, "environment": {"X": "1"}}}})
    web = _attrs(stack=stack)["deploy"]["web"]
    assert web["keep_releases"] == 2
    assert web["environment"]["X"] == "1"
    assert web["environment"]["MODE"] == "production"


# -- secrets -------------------------------------------------------------------------------
def test_secure_env_var_is_a_reference_resolved_with_one_fetch() -> None:
    stack = _stack(custom_json={"db": {"password": {"ssm": "/shop/db/password"}}})
    attrs = _attrs(stack=stack)
    assert "s3cr3t" not in repr(attrs)
    calls: list[list[str]] = []
    store = {
        "/stackops/secrets/apps/ap-web/env/TOKEN": "s3cr3t-token",
        "/shop/db/password": "hunter22",
    }

    def fetch(names: list[str]) -> dict[str, str]:
        calls.append(names)
        return {name: store[name] for name in names if name in store}

    resolved, secrets = resolve_secret_refs(attrs, fetch)
    assert calls == [sorted(store)]
    assert resolved["deploy"]["web"]["environment"]["TOKEN"] == "s3cr3t-token"
    assert resolved["db"]["password"] == "hunter22"
    assert sorted(secrets) == ["hunter22", "s3cr3t-token"]
    assert attrs["deploy"]["web"]["environment"]["TOKEN"] == {
        "ssm": "/stackops/secrets/apps/ap-web/env/TOKEN"
    }


def test_resolving_fetches_each_parameter_once_and_reaches_into_lists() -> None:
    attrs = {"a": {"ssm": "/p/one"}, "b": [{"ssm": "/p/one"}, {"ssm": "/p/two"}, "plain"]}
    calls: list[list[str]] = []

    def fetch(names: list[str]) -> dict[str, str]:
        calls.append(names)
        return {"/p/one": "1", "/p/two": "2"}

    resolved, secrets = resolve_secret_refs(attrs, fetch)
    assert calls == [["/p/one", "/p/two"]]
    assert resolved == {"a": "1", "b": ["1", "2", "plain"]}
    assert secrets == ("1", "2")


def test_no_reference_means_no_fetch() -> None:
    def fetch(names: list[str]) -> dict[str, str]:
        raise AssertionError("fetch called")

    attrs = {"a": {"ssm": "/x", "other": 1}, "b": {"ssm": 5}}  # not references
    resolved, secrets = resolve_secret_refs(attrs, fetch)
    assert resolved == attrs
    assert secrets == ()


def test_a_missing_secret_names_the_attribute_path_and_parameter_not_any_value() -> None:
    attrs = _attrs(stack=_stack(custom_json={"db": {"password": {"ssm": "/shop/db/password"}}}))

    def fetch(names: list[str]) -> dict[str, str]:
        return {"/shop/db/password": "hunter22"}

    with pytest.raises(InvalidInput) as info:
        resolve_secret_refs(attrs, fetch)
    message = str(info.value)
    assert "deploy.web.environment.TOKEN" in message
    assert "/stackops/secrets/apps/ap-web/env/TOKEN" in message
    assert "hunter22" not in message
    assert "db.password" not in message


# -- redaction -----------------------------------------------------------------------------
def test_redact_masks_every_secret_longest_first() -> None:
    text = "token=abc123 again abc123, short=abc, pw=hunter22"
    assert redact(text, ["abc", "abc123", "", "hunter22"]) == (
        "token=******** again ********, short=********, pw=********"
    )
    assert redact("nothing here", []) == "nothing here"
    assert redact("a.b*c", ["a.b*c"]) == "********"  # regex characters are literal


def test_redact_data_masks_inside_nested_structures() -> None:
    report = {
        "resources": [
            {"name": "execute[login s3cr3t]", "output": ["ok", "used s3cr3t"], "changed": True},
            ("s3cr3t", 3),
        ],
        "s3cr3t-key": None,
        "count": 2,
    }
    before = copy.deepcopy(report)
    assert redact_data(report, ("s3cr3t",)) == {
        "resources": [
            {"name": "execute[login ********]", "output": ["ok", "used ********"], "changed": True},
            ("********", 3),
        ],
        "********-key": None,
        "count": 2,
    }
    assert report == before


# -- run lists -----------------------------------------------------------------------------
def test_recipes_builtin_first_then_layers_in_instance_order_without_duplicates() -> None:
    lb = _layer(
        "lb",
        "lb",
        custom_recipes=Recipes(configure=["haproxy::configure", "common::configure"]),
    )
    app = _layer(
        "app",
        custom_recipes=Recipes(
            configure=["common::configure", "web::configure", "stackops::configure", "web"],
            setup=["web::setup"],
        ),
    )
    web_default = _layer("other", custom_recipes=Recipes(configure=["web::default"]))
    assert recipes_for("configure", [lb, app, web_default]) == [
        "stackops::configure",
        "haproxy::configure",
        "common::configure",
        "web::configure",
        "web",
    ]
    assert recipes_for("configure", [app, lb]) == [
        "stackops::configure",
        "common::configure",
        "web::configure",
        "web",
        "haproxy::configure",
    ]
    assert recipes_for("setup", [lb, app]) == ["stackops::setup", "web::setup"]
    assert recipes_for("shutdown", []) == ["stackops::shutdown"]


def test_recipes_for_refuses_an_unknown_activity() -> None:
    with pytest.raises(ValueError, match="activity"):
        recipes_for("reboot", [])  # type: ignore[arg-type]


def test_opsworks_settings_reach_the_recipes() -> None:
    """Packages, InstallUpdatesOnBoot, data sources, SSL and attributes are in the node."""
    from stackops.model.apps import DataSource, SslConfiguration

    app = _web_app(
        enable_ssl=True,
        ssl_configuration=SslConfiguration(certificate="CERT", private_key="", chain="CA"),
        data_sources=[
            DataSource(
                type="RdsDbInstance",
                arn="arn:aws:rds:us-east-1:123456789012:db:shop",
                database_name="shop",
            )
        ],
        attributes={"DocumentRoot": "public"},
    )
    app_layer = APP.model_copy(
        update={
            "packages": ["nginx", "git"],
            "install_updates_on_boot": False,
            "attributes": {"MysqlRootPassword": "", "RubyVersion": "3.2"},
        }
    )
    attrs = _attrs(apps=[app], layers=[LB, app_layer])
    instance = attrs["stackops"]["instance"]
    assert instance["packages"] == ["nginx", "git"]
    assert instance["install_updates_on_boot"] is False
    assert attrs["stackops"]["layers"]["app"]["attributes"] == {
        "MysqlRootPassword": {"ssm": f"{PREFIX}/layers/ly-app/attributes/MysqlRootPassword"},
        "RubyVersion": "3.2",
    }
    web = attrs["deploy"]["web"]
    assert web["data_sources"] == [
        {
            "type": "RdsDbInstance",
            "arn": "arn:aws:rds:us-east-1:123456789012:db:shop",
            "database_name": "shop",
        }
    ]
    assert web["attributes"] == {"DocumentRoot": "public"}
    assert web["ssl"] == {
        "enabled": True,
        "certificate": "CERT",
        "private_key": {"ssm": f"{PREFIX}/apps/ap-web/ssl/private_key"},
        "chain": "CA",
        "certificate_file": "/srv/www/web/shared/ssl/web.crt",
        "key_file": "/srv/www/web/shared/ssl/web.key",
        "chain_file": "/srv/www/web/shared/ssl/web.ca",
    }
    # An instance's own InstallUpdatesOnBoot=false wins over its layers' true.
    quiet = APP1.model_copy(update={"install_updates_on_boot": False})
    assert _attrs(quiet)["stackops"]["instance"]["install_updates_on_boot"] is False
