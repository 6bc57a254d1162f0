"""The apply planner: what to create, update and delete to make a stack match its file.

Pure: it compares a `StackFile` with the records read once (`CurrentState`)
and returns a `Plan`, plain frozen data that a dry run prints and an executor
runs. Secret values never enter a plan: they show as "(secret)".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import BaseModel

from stackops.errors import InvalidInput
from stackops.model.apps import App, AppSpec
from stackops.model.instances import Instance
from stackops.model.layers import Layer, LayerSpec
from stackops.model.opsworks_values import PROTECTED_ATTRIBUTES
from stackops.model.stackfile import InstanceEntry, StackFile
from stackops.model.stacks import Stack, StackSpec

Action = Literal["create", "update", "delete"]
Kind = Literal["stack", "layer", "app", "instance"]
Spec = StackSpec | LayerSpec | AppSpec | InstanceEntry

SECRET = "(secret)"
SOURCE_SECRETS = ("password", "ssh_key", "private_key")
SOURCE_FIELDS = ("app_source", "custom_cookbooks_source", "ssl_configuration")
INHERITED_INSTANCE_FIELDS = frozenset(
    {
        "ec2_instance_id",
        "os",
        "ami_id",
        "ssh_key_name",
        "availability_zone",
        "subnet_id",
        "agent_version",
        "tenancy",
        "virtualization_type",
    }
)
"""Instance fields that, left out of the file, are decided at creation (from the stack's
defaults or by EC2): an unset value there is not a change."""
VALUE_WIDTH = 120


@dataclass(frozen=True)
class CurrentState:
    """What exists for the stack, read once before planning."""

    stack: Stack | None = None
    layers: list[Layer] = field(default_factory=list)
    apps: list[App] = field(default_factory=list)
    instances: list[Instance] = field(default_factory=list)


@dataclass(frozen=True)
class FieldChange:
    """One spec field that differs; secret values are replaced by "(secret)"."""

    name: str
    old: Any
    new: Any


@dataclass(frozen=True)
class Change:
    """One record to create, update or delete.

    `key` is the stack name, layer or app shortname, or instance hostname;
    `record_id` the existing id (update, delete); `spec` the desired spec
    (create, update); `fields` what differs (update).
    """

    action: Action
    kind: Kind
    key: str
    record_id: str | None = None
    spec: Spec | None = None
    fields: tuple[FieldChange, ...] = ()


@dataclass(frozen=True)
class Plan:
    """Changes in the order to run them, plus what is unchanged and what is kept."""

    changes: tuple[Change, ...] = ()
    unchanged: tuple[tuple[str, str], ...] = ()
    kept: tuple[tuple[str, str], ...] = ()

    @property
    def is_empty(self) -> bool:
        """True when nothing is to be done."""
        return not self.changes

    def count(self, action: Action) -> int:
        """How many changes of one action the plan holds."""
        return sum(1 for change in self.changes if change.action == action)

    def render(self, source: str = "the stack file") -> str:
        """Human text: one line per change, kept records, and a closing summary line."""
        lines = [_render_change(change) for change in self.changes]
        lines += [
            f"  kept: {kind} {key} (not in {source}; pruning would delete it)"
            for kind, key in self.kept
        ]
        if self.is_empty:
            lines.append(f"No changes: stack {self._stack_name()} matches {source}.")
        else:
            lines.append(
                f"Plan: {self.count('create')} to create, {self.count('update')} to update, "
                f"{self.count('delete')} to delete."
            )
        return "\n".join(lines)

    def _stack_name(self) -> str:
        names = [c.key for c in self.changes if c.kind == "stack"]
        names += [key for kind, key in self.unchanged if kind == "stack"]
        return names[0] if names else "(unnamed)"


def plan_stack_changes(desired: StackFile, current: CurrentState, *, prune: bool = False) -> Plan:
    """The plan that makes `current` match `desired`.

    Records are matched by stack name, layer and app shortname and instance
    hostname. Creates and updates come stack, layers, apps, instances; deletes
    (only with `prune`) come last, instances, then apps, then layers.
    """
    if current.stack is not None and current.stack.name != desired.stack.name:
        raise InvalidInput(
            f"the current state is stack {current.stack.name!r}, "
            f"the file describes {desired.stack.name!r}; plan against the stack of that name"
        )
    builder = _PlanBuilder()
    if current.stack is None:
        builder.create("stack", desired.stack.name, desired.stack)
    else:
        builder.compare(
            "stack", desired.stack.name, current.stack.stack_id, desired.stack, current.stack.spec()
        )

    layers = {layer.shortname: layer for layer in current.layers}
    for spec in desired.layers:
        layer = layers.get(spec.shortname)
        if layer is None:
            builder.create("layer", spec.shortname, spec)
        else:
            builder.compare("layer", spec.shortname, layer.layer_id, spec, layer.spec())

    apps = {app.shortname: app for app in current.apps}
    for spec in desired.apps:
        app = apps.get(spec.shortname)
        if app is None:
            builder.create("app", spec.shortname, spec)
        else:
            builder.compare("app", spec.shortname, app.app_id, spec, app.spec())

    shortnames = {layer.layer_id: layer.shortname for layer in current.layers}
    instances = {instance.hostname.lower(): instance for instance in current.instances}
    for entry in desired.instances:
        instance = instances.get(entry.hostname.lower())
        if instance is None:
            builder.create("instance", entry.hostname, entry)
        else:
            builder.compare(
                "instance",
                entry.hostname,
                instance.instance_id,
                entry,
                _as_entry(instance, shortnames),
                ignore_unset=INHERITED_INSTANCE_FIELDS,
            )

    wanted_hosts = {entry.hostname.lower() for entry in desired.instances}
    gone: list[tuple[Kind, str, str]] = [
        ("instance", i.hostname, i.instance_id)
        for i in current.instances
        if i.hostname.lower() not in wanted_hosts
    ]
    wanted_apps = {spec.shortname for spec in desired.apps}
    gone += [("app", a.shortname, a.app_id) for a in current.apps if a.shortname not in wanted_apps]
    wanted_layers = {spec.shortname for spec in desired.layers}
    gone += [
        ("layer", la.shortname, la.layer_id)
        for la in current.layers
        if la.shortname not in wanted_layers
    ]
    builder.remove(gone, prune=prune)
    return builder.plan()


def _as_entry(instance: Instance, shortnames: dict[str, str]) -> InstanceEntry:
    """An instance record seen as a stack file entry: its spec plus layer shortnames."""
    data = instance.spec().model_dump()
    data["hostname"] = instance.hostname
    data["layers"] = [shortnames.get(layer_id, layer_id) for layer_id in instance.layer_ids]
    data["ec2_instance_id"] = instance.ec2_instance_id
    return InstanceEntry.model_construct(**data)


class _PlanBuilder:
    def __init__(self) -> None:
        self.changes: list[Change] = []
        self.unchanged: list[tuple[str, str]] = []
        self.kept: list[tuple[str, str]] = []

    def create(self, kind: Kind, key: str, spec: Spec) -> None:
        self.changes.append(Change("create", kind, key, None, spec))

    def compare(
        self,
        kind: Kind,
        key: str,
        record_id: str,
        desired: Spec,
        current: BaseModel,
        *,
        ignore_unset: frozenset[str] = frozenset(),
    ) -> None:
        fields = diff_specs(desired, current, ignore_unset=ignore_unset)
        if fields:
            self.changes.append(Change("update", kind, key, record_id, desired, fields))
        else:
            self.unchanged.append((kind, key))

    def remove(self, gone: Sequence[tuple[Kind, str, str]], *, prune: bool) -> None:
        order = {"instance": 0, "app": 1, "layer": 2}
        for kind, key, record_id in sorted(gone, key=lambda g: (order[g[0]], g[1])):
            if prune:
                self.changes.append(Change("delete", kind, key, record_id))
            else:
                self.kept.append((kind, key))

    def plan(self) -> Plan:
        kept_order = {"layer": 0, "app": 1, "instance": 2}
        kept = sorted(self.kept, key=lambda k: (kept_order[k[0]], k[1]))
        return Plan(tuple(self.changes), tuple(self.unchanged), tuple(kept))


def diff_specs(
    desired: BaseModel, current: BaseModel, *, ignore_unset: Iterable[str] = ()
) -> tuple[FieldChange, ...]:
    """The fields of `desired`'s model that differ in `current`, secrets masked.

    A secret the current record no longer holds (blanked to "" when moved to
    Parameter Store) is unknown, so it is not reported as a change.
    """
    skip = set(ignore_unset)
    new_all = desired.model_dump(mode="json")
    old_all = current.model_dump(mode="json")
    changes = []
    for name in type(desired).model_fields:
        new, old = new_all.get(name), old_all.get(name)
        if name in skip and new is None:
            continue
        if name == "layers" and isinstance(new, list) and isinstance(old, list):
            new, old = sorted(new), sorted(old)
        if _comparable(name, new, old) != old:
            changes.append(FieldChange(name, _mask(name, old), _mask(name, new)))
    return tuple(changes)


def _comparable(name: str, new: Any, old: Any) -> Any:
    """`new` with secrets the current record cannot show replaced by the record's blank."""
    if name in SOURCE_FIELDS and isinstance(new, dict) and isinstance(old, dict):
        return {
            key: old[key] if key in SOURCE_SECRETS and old.get(key) == "" else value
            for key, value in new.items()
        }
    if name == "attributes" and isinstance(new, dict) and isinstance(old, dict):
        return {
            key: old[key] if key in PROTECTED_ATTRIBUTES and old.get(key) == "" else value
            for key, value in new.items()
        }
    if name == "environment" and isinstance(new, list) and isinstance(old, list):
        stashed = {v["key"] for v in old if v.get("secure") and v.get("value") == ""}
        return [{**v, "value": ""} if v.get("secure") and v["key"] in stashed else v for v in new]
    return new


def _mask(name: str, value: Any) -> Any:
    if name == "attributes" and isinstance(value, dict):
        return {k: SECRET if k in PROTECTED_ATTRIBUTES and v else v for k, v in value.items()}
    if name in SOURCE_FIELDS and isinstance(value, dict):
        return {
            key: SECRET if key in SOURCE_SECRETS and item else item for key, item in value.items()
        }
    if name == "environment" and isinstance(value, list):
        return [{**v, "value": SECRET} if v.get("secure") else v for v in value]
    return value


def _render_change(change: Change) -> str:
    match change.action:
        case "create":
            return f"+ {change.kind} {change.key}{_describe(change.spec)}"
        case "delete":
            return f"- {change.kind} {change.key}"
        case _:
            parts = [
                f"{fc.name} (secret changed)"
                if fc.old == fc.new
                else f"{fc.name} {_show(fc.old)} -> {_show(fc.new)}"
                for fc in change.fields
            ]
            return f"~ {change.kind} {change.key}: " + ", ".join(parts)


def _describe(spec: Spec | None) -> str:
    match spec:
        case StackSpec():
            return f" ({spec.region})"
        case LayerSpec() | AppSpec():
            return f" ({spec.name})" if spec.name != spec.shortname else ""
        case InstanceEntry():
            return f" ({spec.instance_type} in {', '.join(spec.layers)})"
        case _:
            return ""


def _show(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= VALUE_WIDTH else text[: VALUE_WIDTH - 3] + "..."
