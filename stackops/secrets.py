"""Secret refs in attributes: find them, resolve them, keep their values out of logs.

A leaf module (it imports only stackops.errors), so the model, the executors, the
agent and the dispatcher share one implementation without loading each other.

A secret ref is an object with the one key "ssm" naming a Parameter Store
parameter: `{"ssm": "/shop/db/password"}`. It is resolved just before a run and
every value it brought is replaced by MASK in whatever the run reports.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from typing import Any

from stackops.errors import InvalidInput

MASK = "********"
SECRET_PATHS = "secret_paths"  # node["stackops"][...]: attribute paths a ref was resolved at
MIN_LINE = 8  # lines of a multi-line secret this long are masked on their own too

Lookup = Callable[[list[str]], Mapping[str, str]]
# Turns secret refs in node attributes into values; returns the node and the values.
Resolver = Callable[[dict[str, Any]], tuple[dict[str, Any], tuple[str, ...]]]


def is_secret_ref(value: object) -> bool:
    """True for `{"ssm": "/path"}`."""
    return (
        isinstance(value, dict)
        and len(value) == 1
        and isinstance(value.get("ssm"), str)
        and bool(value["ssm"])
    )


def secret_refs(data: Any, where: str = "") -> dict[str, str]:
    """Attribute path ('deploy.web.environment.DB_PASSWORD') -> parameter name, for every ref."""
    if is_secret_ref(data):
        return {where or "(node)": data["ssm"]}
    found: dict[str, str] = {}
    if isinstance(data, dict):
        for key, value in data.items():
            found.update(secret_refs(value, f"{where}.{key}" if where else str(key)))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found.update(secret_refs(value, f"{where}[{index}]"))
    return found


def resolve_secret_refs(
    node: dict[str, Any], lookup: Lookup
) -> tuple[dict[str, Any], tuple[str, ...]]:
    """The node with every ref replaced by its value, and those values.

    `lookup` takes parameter names and returns the values of those that exist
    (`ParameterStore.get_many`). A missing parameter is InvalidInput naming the attribute.
    """
    refs = secret_refs(node)
    if not refs:
        return node, ()
    names = sorted(set(refs.values()))
    values = dict(lookup(names))
    missing = [f"{path} ({name})" for path, name in refs.items() if name not in values]
    if missing:
        raise InvalidInput(
            "secret parameters not found in Parameter Store for node attributes: "
            + ", ".join(missing),
            hint="create them with put-parameter (SecureString) or fix the names",
        )
    resolved = _replace(node, values)
    if isinstance(resolved.get("stackops"), dict):
        # Where the values went, so that what a run writes about itself (node.json) masks them.
        resolved["stackops"] = {**resolved["stackops"], SECRET_PATHS: sorted(refs)}
    return resolved, tuple(values[name] for name in names)


def parameter_store_resolver(lookup: Lookup) -> Resolver:
    """A resolver for executors: `parameter_store_resolver(ParameterStore(session).get_many)`."""

    def resolve(node: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, ...]]:
        return resolve_secret_refs(node, lookup)

    return resolve


def _replace(data: Any, values: Mapping[str, str]) -> Any:
    if is_secret_ref(data):
        return values[data["ssm"]]
    if isinstance(data, dict):
        return {key: _replace(value, values) for key, value in data.items()}
    if isinstance(data, list):
        return [_replace(value, values) for value in data]
    return data


def _needles(secrets: Iterable[str]) -> list[str]:
    """The strings to mask: each secret, its JSON-escaped form, the long lines of it."""
    found: set[str] = set()
    for secret in secrets:
        if not secret:
            continue
        found.add(secret)
        found.add(json.dumps(secret)[1:-1])
        if "\n" in secret:
            found.update(line for line in secret.splitlines() if len(line.strip()) >= MIN_LINE)
    return sorted(found, key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret value replaced by MASK."""
    for needle in _needles(secrets):
        text = text.replace(needle, MASK)
    return text


def redact_data(data: Any, secrets: Iterable[str]) -> Any:
    """A copy of JSON-like `data` with every secret value in its strings replaced by MASK."""
    needles = _needles(secrets)
    if not needles:
        return data

    def walk(value: Any) -> Any:
        if isinstance(value, str):
            for needle in needles:
                value = value.replace(needle, MASK)
            return value
        if isinstance(value, dict):
            return {walk(k): walk(v) for k, v in value.items()}
        if isinstance(value, list):
            return [walk(v) for v in value]
        if isinstance(value, tuple):
            return tuple(walk(v) for v in value)
        return value

    return walk(data)
