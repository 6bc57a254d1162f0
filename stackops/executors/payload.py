"""The payload of `stackops agent apply`: a RunRequest as JSON, read back field by field."""

from __future__ import annotations

import json
import re
from dataclasses import fields
from typing import Any

from stackops.errors import InvalidInput
from stackops.executors.base import RunRequest

FIELDS = tuple(f.name for f in fields(RunRequest))
COMMAND_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


def payload_data(request: RunRequest, node: dict[str, Any] | None = None) -> dict[str, Any]:
    """The request as JSON-able data; `node` replaces the request's (resolved secrets)."""
    return {
        "command_id": request.command_id,
        "ec2_instance_id": request.ec2_instance_id,
        "recipes": list(request.recipes),
        "node": request.node if node is None else node,
        "cookbook_paths": [str(p) for p in request.cookbook_paths],
        "timeout": request.timeout,
        "root": request.root,
        "dry_run": request.dry_run,
    }


def payload_bytes(request: RunRequest, node: dict[str, Any] | None = None) -> bytes:
    """The payload as UTF-8 JSON."""
    return json.dumps(payload_data(request, node), separators=(",", ":")).encode()


def parse_payload(text: str | bytes, source: str) -> RunRequest:
    """A RunRequest from payload JSON; InvalidInput naming `source` and the field at fault.

    Required: recipes, timeout. Optional: command_id and ec2_instance_id (""),
    node ({}), cookbook_paths ([]), root (null: "/"), dry_run (false).
    """
    try:
        data = json.loads(text)
    except UnicodeDecodeError as exc:
        raise InvalidInput(f"payload {source}: not UTF-8 text: {exc}") from None
    except json.JSONDecodeError as exc:
        raise InvalidInput(
            f"payload {source}:{exc.lineno}:{exc.colno}: not valid JSON: {exc.msg}"
        ) from None
    if not isinstance(data, dict):
        raise InvalidInput(f"payload {source}: must be a JSON object, not {type(data).__name__}")

    def bad(field: str, what: str) -> InvalidInput:
        return InvalidInput(f"payload {source}: field {field!r} {what}")

    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise bad(unknown[0], f"is not a payload field; valid: {', '.join(FIELDS)}")
    recipes = data.get("recipes")
    if recipes is None:
        raise bad("recipes", "is missing: give a list of cookbook::recipe names")
    if (
        not isinstance(recipes, list)
        or not recipes
        or not all(isinstance(r, str) and r for r in recipes)
    ):
        raise bad("recipes", "must be a non-empty list of cookbook::recipe names")
    command_id = data.get("command_id", "")
    if not isinstance(command_id, str) or (command_id and not COMMAND_ID.match(command_id)):
        raise bad("command_id", "must be 1-128 letters, digits, '.', '_' or '-'")
    instance = data.get("ec2_instance_id", "")
    if not isinstance(instance, str):
        raise bad("ec2_instance_id", "must be a string")
    node = data.get("node", {})
    if not isinstance(node, dict):
        raise bad("node", f"must be a JSON object, not {type(node).__name__}")
    paths = data.get("cookbook_paths", [])
    if not isinstance(paths, list) or not all(isinstance(p, str) and p for p in paths):
        raise bad("cookbook_paths", "must be a list of folder paths")
    timeout = data.get("timeout")
    if timeout is None:
        raise bad("timeout", "is missing: give the run's time budget in seconds")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise bad("timeout", f"must be a number of seconds > 0, not {timeout!r}")
    root = data.get("root")
    if root is not None and (not isinstance(root, str) or not root):
        raise bad("root", "must be a folder path or null")
    dry_run = data.get("dry_run", False)
    if not isinstance(dry_run, bool):
        raise bad("dry_run", "must be true or false")
    return RunRequest(
        command_id=command_id,
        ec2_instance_id=instance,
        recipes=tuple(recipes),
        node=node,
        cookbook_paths=tuple(paths),
        timeout=float(timeout),
        root=root,
        dry_run=dry_run,
    )
