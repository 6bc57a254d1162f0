"""Node attributes: what a recipe sees (DESIGN §5), built fresh for every run.

`build_node_attributes` is pure: records in, one JSON-able dict out, with
custom JSON (stack < layer < deployment) deep-merged over the generated part.
Protected values stay secret references `{"ssm": "/path"}` until
`stackops.secrets.resolve_secret_refs` swaps them for their values just before
a run; the values it returns feed `redact` / `redact_data` there, so they never
reach a log or a stored report.
"""

from __future__ import annotations

import copy
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Final, Literal

from stackops.errors import InvalidInput
from stackops.model.apps import App
from stackops.model.enums import InstanceStatus
from stackops.model.instances import Instance
from stackops.model.layers import Layer
from stackops.model.opsworks_values import PROTECTED_ATTRIBUTES
from stackops.model.secret_ref import SecretRef
from stackops.model.stacks import Stack
from stackops.source_attributes import (
    app_source_secret_path,
    custom_cookbooks_attributes,
    source_secret_refs,
)

Activity = Literal["setup", "configure", "deploy", "undeploy", "shutdown"]
ACTIVITIES: Final = ("setup", "configure", "deploy", "undeploy", "shutdown")
BUILTIN_COOKBOOK: Final = "stackops"
KEEP_RELEASES: Final = 5
SANDBOX_ADDRESS: Final = "127.0.0.1"


# -- merging ------------------------------------------------------------------------
def deep_merge(base: Mapping[str, Any], override: Mapping[str, Any]) -> dict[str, Any]:
    """`override` over `base`: objects merge key by key; lists, scalars and null replace.

    Neither input is mutated, and the result shares no mutable part with them.
    """
    merged = {key: copy.deepcopy(value) for key, value in base.items()}
    for key, value in override.items():
        current = merged.get(key)
        if isinstance(value, Mapping) and isinstance(current, Mapping):
            merged[key] = deep_merge(current, value)
        else:
            merged[key] = copy.deepcopy(value)
    return merged


# -- who gets what --------------------------------------------------------------------
def layers_of(instance: Instance, layers: Sequence[Layer]) -> list[Layer]:
    """The instance's layers in its own layer order; an id not among `layers` is an error."""
    by_id = {layer.layer_id: layer for layer in layers}
    missing = [layer_id for layer_id in instance.layer_ids if layer_id not in by_id]
    if missing:
        raise InvalidInput(
            f"instance {instance.hostname} ({instance.instance_id}) is in layer(s) "
            f"{', '.join(missing)}, which the stack does not have"
        )
    return [by_id[layer_id] for layer_id in instance.layer_ids]


def apps_for(layer_shortnames: Iterable[str], apps: Sequence[App]) -> list[App]:
    """The apps deployed to an instance of these layers, by app shortname.

    An app goes everywhere when its `layers` is empty, else where a shortname is shared.
    """
    names = set(layer_shortnames)
    chosen = [app for app in apps if not app.layers or names.intersection(app.layers)]
    return sorted(chosen, key=lambda app: app.shortname)


# -- building ---------------------------------------------------------------------------
def build_node_attributes(
    *,
    activity: str,
    command_id: str,
    deployment_id: str | None,
    stack: Stack,
    layers: Sequence[Layer],
    apps: Sequence[App],
    instances: Sequence[Instance],
    instance: Instance,
    releases: Mapping[str, str],
    secret_prefix: str,
    sandbox: bool,
    deployment_custom_json: Mapping[str, Any] | None = None,
    app_revisions: Mapping[str, str] | None = None,
    migrate: bool = False,
) -> dict[str, Any]:
    """The node attributes of one run of `activity` on `instance` (DESIGN §5).

    `layers`, `apps` and `instances` are the whole stack's; `releases` and
    `app_revisions` are keyed by app shortname. Secure environment values become
    `{"ssm": "<secret_prefix>/apps/<app id>/env/<KEY>"}` references.
    """
    own_layers = layers_of(instance, layers)
    shortnames = [layer.shortname for layer in own_layers]
    own_apps = apps_for(shortnames, apps)
    revisions = app_revisions or {}

    generated: dict[str, Any] = {
        "stackops": {
            "activity": activity,
            "command_id": command_id,
            "deployment_id": deployment_id,
            "stack": {"id": stack.stack_id, "name": stack.name, "region": stack.region},
            "instance": {
                "id": instance.instance_id,
                "ec2_instance_id": instance.ec2_instance_id,
                "hostname": instance.hostname,
                "layers": shortnames,
                "private_ip": instance.private_ip,
                "status": instance.status.value,
                "address": _address(instance, sandbox),
                "port_offset": instance.port_offset,
                **_setup_attributes(instance, own_layers),
            },
            "layers": {
                layer.shortname: {
                    **_layer_attributes(layer, instances, sandbox),
                    "attributes": _layer_settings(layer, secret_prefix),
                }
                for layer in layers
            },
            "applications": [
                {"name": app.name, "slug_name": app.shortname, "application_type": app.type.value}
                for app in own_apps
            ],
            **custom_cookbooks_attributes(stack, secret_prefix),
        },
        "deploy": {
            app.shortname: _deploy_attributes(
                app,
                release=releases.get(app.shortname),
                revision=revisions.get(app.shortname),
                secret_prefix=secret_prefix,
                migrate=migrate,
            )
            for app in own_apps
        },
    }
    merged = deep_merge(generated, stack.custom_json)
    for layer in own_layers:
        merged = deep_merge(merged, layer.custom_json)
    if deployment_custom_json:
        merged = deep_merge(merged, deployment_custom_json)
    return merged


def _address(instance: Instance, sandbox: bool) -> str | None:
    """Where other nodes connect to it: loopback in the sandbox (moto's IPs are fiction)."""
    return SANDBOX_ADDRESS if sandbox else instance.private_ip


def _layer_attributes(layer: Layer, instances: Sequence[Instance], sandbox: bool) -> dict[str, Any]:
    members = sorted(
        (
            i
            for i in instances
            if layer.layer_id in i.layer_ids and i.status is InstanceStatus.online
        ),
        key=lambda i: i.hostname,
    )
    return {
        "id": layer.layer_id,
        "name": layer.name,
        "type": layer.type.value,
        "instances": {
            member.hostname: {
                "private_ip": member.private_ip,
                "status": member.status.value,
                "address": _address(member, sandbox),
                "port_offset": member.port_offset,
                "ec2_instance_id": member.ec2_instance_id,
            }
            for member in members
        },
    }


def _deploy_attributes(
    app: App, *, release: str | None, revision: str | None, secret_prefix: str, migrate: bool
) -> dict[str, Any]:
    source = app.app_source
    return {
        "application": app.shortname,
        "deploy_to": app.deploy_to,
        "release": release,
        "scm": {
            "scm_type": source.type.value if source else None,
            "repository": source.url if source else None,
            "revision": revision if revision is not None else (source.revision if source else None),
            **source_secret_refs(
                source, lambda field: app_source_secret_path(secret_prefix, app.app_id, field)
            ),
        },
        "environment": {
            var.key: (
                var.value.model_dump()  # the user's own parameter: {"ssm": ...}
                if isinstance(var.value, SecretRef)
                else {"ssm": app_env_secret_path(secret_prefix, app.app_id, var.key)}
                if var.secure
                else var.value
            )
            for var in app.environment
        },
        "migrate": migrate,
        "migrate_command": list(app.migrate_command) if app.migrate_command else None,
        "keep_releases": KEEP_RELEASES,
        "domains": list(app.domains),
        "health_check": app.health_check.model_dump(mode="json") if app.health_check else None,
        **_app_settings(app, secret_prefix),
    }


def _setup_attributes(instance: Instance, layers: Sequence[Layer]) -> dict[str, Any]:
    """What the built-in setup installs: its layers' packages, and updates unless turned off
    on the instance or one of its layers (InstallUpdatesOnBoot)."""
    return {
        "packages": list(dict.fromkeys(p for layer in layers for p in layer.packages)),
        "install_updates_on_boot": instance.install_updates_on_boot
        and all(layer.install_updates_on_boot for layer in layers),
    }


def _layer_settings(layer: Layer, secret_prefix: str) -> dict[str, Any]:
    """A layer's attributes; a protected one ("" in the record) as a ref to its parameter."""
    attributes = layer.model_dump(mode="json")["attributes"]
    prefix = secret_prefix.rstrip("/")
    return {
        key: {"ssm": f"{prefix}/layers/{layer.layer_id}/attributes/{key}"}
        if value == "" and key in PROTECTED_ATTRIBUTES
        else value
        for key, value in attributes.items()
    }


def _app_settings(app: App, secret_prefix: str) -> dict[str, Any]:
    """An app's OpsWorks settings for its recipes: attributes, data sources, SSL.

    The SSL private key stays a secret ref until the run; the built-in setup writes the
    certificate, key and chain to the files named here."""
    dumped = app.model_dump(mode="json")
    settings: dict[str, Any] = {
        "application_type": app.type.value,
        "attributes": dumped["attributes"],
        "data_sources": dumped["data_sources"],
        "ssl": {"enabled": app.enable_ssl},
    }
    if app.enable_ssl and app.ssl_configuration is not None:
        folder = f"{app.deploy_to}/shared/ssl"
        ssl = dumped["ssl_configuration"]
        if ssl["private_key"] == "":  # kept at the app's own parameter
            ssl["private_key"] = {
                "ssm": f"{secret_prefix.rstrip('/')}/apps/{app.app_id}/ssl/private_key"
            }
        settings["ssl"] = {
            "enabled": True,
            **ssl,
            "certificate_file": f"{folder}/{app.shortname}.crt",
            "key_file": f"{folder}/{app.shortname}.key",
            "chain_file": f"{folder}/{app.shortname}.ca" if app.ssl_configuration.chain else None,
        }
    return settings


def app_env_secret_path(secret_prefix: str, app_id: str, key: str) -> str:
    """The parameter holding a secure environment value (as `stackops.api.secrets` stores it)."""
    return f"{secret_prefix.rstrip('/')}/apps/{app_id}/env/{key}"


# -- recipes ------------------------------------------------------------------------------
def recipes_for(activity: Activity, layers: Sequence[Layer]) -> list[str]:
    """The run list of `activity` in OpsWorks's order, each recipe once.

    The built-in `stackops::<activity>` first, then each layer's custom recipes for
    that event in the order of `layers` (the instance's). `web` and `web::default`
    count as the same recipe; the first spelling is kept.
    """
    if activity not in ACTIVITIES:
        raise ValueError(f"activity {activity!r} is not one of {', '.join(ACTIVITIES)}")
    run_list: list[str] = []
    seen: set[str] = set()
    candidates = [f"{BUILTIN_COOKBOOK}::{activity}"]
    for layer in layers:
        candidates.extend(layer.custom_recipes.model_dump()[activity])
    for recipe in candidates:
        key = recipe if "::" in recipe else f"{recipe}::default"
        if key not in seen:
            seen.add(key)
            run_list.append(recipe)
    return run_list
