"""The one output helper: render a result as json, table or yaml."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

import click

FORMATS = ("json", "table", "yaml")

# The columns a table shows for the lists a verb answers with (json and yaml show all).
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "Stacks": ("Name", "Region", "StackId", "HostnameTheme", "CreatedAt"),
    "Layers": ("Shortname", "Name", "Type", "LayerId", "EnableAutoHealing"),
    "Apps": ("Shortname", "Name", "Type", "AppId"),
    "Instances": ("Hostname", "Status", "InstanceType", "Ec2InstanceId", "PrivateIp", "InstanceId"),
    "Commands": ("Type", "Status", "CompletedAt", "ExitCode", "Summary", "CommandId"),
    "Deployments": ("CreatedAt", "Command", "Strategy", "Status", "Comment", "Message"),
    "Actions": ("DecidedAt", "Action", "Hostname", "Cause", "Outcome", "Reason"),
    "ScalingActions": ("DecidedAt", "Action", "Hostname", "Cause", "Outcome", "Reason"),
    "LayerVerdicts": ("Layer", "Verdict", "Note"),
}


def _json_default(value: Any) -> Any:
    if hasattr(value, "isoformat"):
        return value.isoformat()
    if isinstance(value, set | frozenset):
        return sorted(value)
    return str(value)


def to_json(data: Any) -> str:
    """Serialise like the aws CLI: indented, keys in their given order."""
    return json.dumps(data, indent=4, default=_json_default)


def to_yaml(data: Any) -> str:
    import yaml

    plain = json.loads(json.dumps(data, default=_json_default))
    return yaml.safe_dump(plain, sort_keys=False, default_flow_style=False).rstrip("\n")


def _cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, Mapping | list | tuple):
        return json.dumps(value, default=_json_default, separators=(",", ":"))
    return str(value)


def _grid(title: str, rows: Sequence[Mapping[str, Any]]) -> str:
    columns: list[str] = list(TABLE_COLUMNS.get(title, ()))
    if not columns:
        for row in rows:
            for key, value in row.items():
                if key not in columns and not isinstance(value, Mapping):
                    columns.append(key)
    cells = [[_cell(row.get(col)) for col in columns] for row in rows]
    widths = [max([len(col), *(len(r[i]) for r in cells)]) for i, col in enumerate(columns)]
    rule = "+" + "+".join("-" * (w + 2) for w in widths) + "+"

    def line(vals: list[str]) -> str:
        return "|" + "|".join(f" {v:<{w}} " for v, w in zip(vals, widths, strict=True)) + "|"

    width = len(rule)
    head = "|" + f" {title} ".center(width - 2) + "|"
    return "\n".join([rule, head, rule, line(columns), rule, *(line(r) for r in cells), rule])


def to_table(data: Any) -> str:
    """A table per list in the result, and a two-column table for scalars."""
    if not isinstance(data, Mapping):
        return _cell(data)
    parts: list[str] = []
    scalars = {k: v for k, v in data.items() if not isinstance(v, list | Mapping)}
    if scalars:
        parts.append(_grid("Result", [{"Key": k, "Value": _cell(v)} for k, v in scalars.items()]))
    for key, value in data.items():
        if isinstance(value, list):
            rows = [v if isinstance(v, Mapping) else {"Value": v} for v in value]
            parts.append(_grid(key, rows) if rows else f"{key}: (none)")
        elif isinstance(value, Mapping):
            parts.append(to_table(value))
    return "\n".join(parts)


def render(data: Any, fmt: str) -> str:
    """Render `data` in one of FORMATS."""
    match fmt:
        case "json":
            return to_json(data)
        case "yaml":
            return to_yaml(data)
        case "table":
            return to_table(data)
    raise ValueError(f"unknown output format {fmt!r}")


def emit(data: Any, fmt: str) -> None:
    """Print a command's result on stdout."""
    if data is None:
        return
    click.echo(render(data, fmt))


def note(message: str) -> None:
    """Print a line for the human on stderr (stdout stays clean for scripts)."""
    click.echo(message, err=True)
