"""Records in the DynamoDB state table: stacks, layers, apps and instances.

Item layout (one table, see `stackops.aws.dynamodb.TABLE_SHAPE`):
  pk = "<kind>#<id>", sk = "<kind>"            one record, its JSON in `data`
  gsi1pk = "stack#<stack id>" (or "stacks")    every record of a stack in one query
  gsi1sk = "<kind>#<id>"
Instances also carry `status` at top level, so a status change can be a
conditional write (start-instance twice launches one EC2 instance).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal, TypeVar

from stackops.aws.dynamodb import ConditionFailed
from stackops.errors import Conflict, NotFound
from stackops.model.apps import App
from stackops.model.instances import Instance
from stackops.model.layers import Layer
from stackops.model.stacks import Stack

if TYPE_CHECKING:
    from stackops.aws.dynamodb import StateTable

Kind = Literal["stack", "layer", "app", "instance"]
Record = Stack | Layer | App | Instance
R = TypeVar("R", Stack, Layer, App, Instance)

RECORD_TYPES: dict[Kind, type[Record]] = {
    "stack": Stack,
    "layer": Layer,
    "app": App,
    "instance": Instance,
}
ID_FIELDS: dict[Kind, str] = {
    "stack": "stack_id",
    "layer": "layer_id",
    "app": "app_id",
    "instance": "instance_id",
}


@dataclass(frozen=True)
class StackContents:
    """Everything recorded under one stack, read with one query."""

    layers: list[Layer]
    apps: list[App]
    instances: list[Instance]


class Store:
    """Typed access to the state table."""

    def __init__(self, table: StateTable) -> None:
        self._table = table

    # -- generic ------------------------------------------------------------
    def get(self, cls: type[R], record_id: str) -> R:
        """One record by id; NotFound names the kind and id."""
        kind = _kind_of(cls)
        item = self._table.get(f"{kind}#{record_id}", kind)
        if item is None:
            raise NotFound(f"no {kind} with id {record_id}")
        return _decode(cls, item)

    def get_many(self, cls: type[R], record_ids: Iterable[str]) -> list[R]:
        """Records by id, in the order asked; NotFound for the first missing one."""
        kind = _kind_of(cls)
        ids = list(dict.fromkeys(record_ids))
        found = {
            item["pk"].split("#", 1)[1]: _decode(cls, item)
            for item in self._table.get_many((f"{kind}#{i}", kind) for i in ids)
        }
        for record_id in ids:
            if record_id not in found:
                raise NotFound(f"no {kind} with id {record_id}")
        return [found[i] for i in ids]

    def find_many(self, cls: type[R], record_ids: Iterable[str]) -> dict[str, R]:
        """Records by id; ids that name nothing are left out (no error)."""
        kind = _kind_of(cls)
        items = self._table.get_many((f"{kind}#{i}", kind) for i in record_ids)
        return {item["pk"].split("#", 1)[1]: _decode(cls, item) for item in items}

    def put(self, record: Record) -> None:
        """Write a record (create or replace)."""
        self._table.put(_encode(record))

    def put_all(self, records: Iterable[Record]) -> None:
        """Write several records in batches."""
        self._table.put_many(_encode(r) for r in records)

    def delete(self, record: Record) -> None:
        kind = _kind_of(type(record))
        self._table.delete(f"{kind}#{_id_of(record)}", kind)

    # -- listings -------------------------------------------------------------
    def stacks(self) -> list[Stack]:
        """Every stack, by name."""
        items = self._table.query_index("stacks", "stack#")
        return sorted((_decode(Stack, i) for i in items), key=lambda s: (s.name, s.stack_id))

    def contents(self, stack_id: str) -> StackContents:
        """Layers, apps and instances of a stack, by (natural) shortname and hostname."""
        layers: list[Layer] = []
        apps: list[App] = []
        instances: list[Instance] = []
        for item in self._table.query_index(f"stack#{stack_id}"):
            match item.get("kind"):
                case "layer":
                    layers.append(_decode(Layer, item))
                case "app":
                    apps.append(_decode(App, item))
                case "instance":
                    instances.append(_decode(Instance, item))
        return StackContents(
            sorted(layers, key=lambda r: natural_key(r.shortname)),
            sorted(apps, key=lambda r: natural_key(r.shortname)),
            sorted(instances, key=lambda r: natural_key(r.hostname)),
        )

    # -- instance status: conditional -----------------------------------------
    def transition(self, instance: Instance, expected: Iterable[str]) -> None:
        """Write `instance` only if its stored status is one of `expected`.

        Raises Conflict naming the status found, so two concurrent start-instance
        calls launch one EC2 instance (moto ignores ClientToken; this does not).
        """
        allowed = sorted(set(expected))
        placeholders = {f":s{i}": s for i, s in enumerate(allowed)}
        condition = f"#st IN ({', '.join(placeholders)})"
        try:
            self._table.put(
                _encode(instance), condition=condition, names={"#st": "status"}, values=placeholders
            )
        except ConditionFailed as exc:
            current = self.get(Instance, instance.instance_id)
            raise Conflict(
                f"instance {instance.instance_id} ({current.hostname}) is {current.status}; "
                f"this needs it to be {' or '.join(allowed)}"
            ) from exc


def natural_key(name: str) -> tuple[tuple[int, int | str], ...]:
    """Sort key putting app2 before app10."""
    return tuple(
        (0, int(part)) if part.isdigit() else (1, part) for part in re.split(r"(\d+)", name) if part
    )


def _kind_of(cls: type[Record]) -> Kind:
    for kind, record_type in RECORD_TYPES.items():
        if issubclass(cls, record_type):
            return kind
    raise TypeError(f"not a record type: {cls!r}")


def _id_of(record: Record) -> str:
    return getattr(record, ID_FIELDS[_kind_of(type(record))])


def _encode(record: Record) -> dict[str, Any]:
    kind = _kind_of(type(record))
    record_id = _id_of(record)
    parent = "stacks" if kind == "stack" else f"stack#{record.stack_id}"
    item: dict[str, Any] = {
        "pk": f"{kind}#{record_id}",
        "sk": kind,
        "gsi1pk": parent,
        "gsi1sk": f"{kind}#{record_id}",
        "kind": kind,
        "data": json.dumps(record.to_record(), separators=(",", ":"), sort_keys=True),
    }
    if isinstance(record, Instance):
        item["status"] = str(
            record.status.value if hasattr(record.status, "value") else record.status
        )
    return item


def _decode(cls: type[R], item: dict[str, Any]) -> R:
    data = json.loads(item["data"])
    if "status" in item:
        data["status"] = item["status"]
    return cls.from_record(data)
