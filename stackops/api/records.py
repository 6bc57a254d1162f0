"""Small shared steps of the verbs: new ids, validated updates, name checks."""

from __future__ import annotations

from typing import Any, TypeVar

import pydantic
from pydantic.alias_generators import to_pascal

from stackops.errors import Conflict, InvalidInput

T = TypeVar("T", bound=pydantic.BaseModel)


def updated(record: T, changes: dict[str, Any]) -> T:
    """`record` with `changes` applied, validated again as a whole."""
    data = {**record.to_record(), **changes}  # type: ignore[attr-defined]
    try:
        return type(record).from_record(data)  # type: ignore[attr-defined]
    except pydantic.ValidationError as exc:
        raise InvalidInput(describe_errors(exc)) from None


def ensure_unique(
    kind: str, field: str, value: str, taken: dict[str, str], own_id: str | None
) -> None:
    """Refuse a name already used by another record of the stack."""
    other = taken.get(value)
    if other is not None and other != own_id:
        raise Conflict(f"the stack already has a {kind} with {field} {value!r} (id {other})")


def describe_errors(exc: pydantic.ValidationError, option: str | None = None) -> str:
    """One line per validation error, naming the option (`--custom-recipes.Setup[0]`).

    With `option`, the whole value came from that one option (`--command`), and the
    error's path is inside it: `--command.Name`. A message that starts with the
    field's own name reads as the option's (`--deploy-to '/' is a system directory`).
    """
    from stackops.model.validation import LocatedValueError

    lines: list[str] = []
    for err in exc.errors():
        loc = list(err["loc"])
        message = _plain_message(err)
        cause = (err.get("ctx") or {}).get("error")
        if isinstance(cause, LocatedValueError) and not cause.at_key:
            path = list(cause.path)
            given = err.get("input")
            if path and isinstance(given, dict) and path[0] not in given:
                path[0] = to_pascal(str(path[0]))  # the key as the user spelled it
            loc += path
            message = cause.reason
        if option is not None:
            head, loc = option, ["", *loc]
        else:
            head = "--" + str(loc[0]).replace("_", "-") if loc else "input"
        rest = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in loc[1:])
        where = f"{head}{rest}"
        name = str(loc[-1]) if loc and loc[-1] != "" else ""
        if name and message.startswith((f"{name} ", f"{name}[", f"{name}:")):
            lines.append(f"{where}{message[len(name) :]}")
        else:
            lines.append(message if message.startswith(where) else f"{where}: {message}")
    return "invalid input:\n  " + "\n  ".join(lines) if len(lines) > 1 else lines[0]


_EXPECTED = {
    "list_type": 'a JSON list (like ["a", "b"])',
    "dict_type": 'a JSON object (like {"Key": "value"})',
    "model_type": 'a JSON object (like {"Key": "value"})',
    "model_attributes_type": 'a JSON object (like {"Key": "value"})',
}


def _plain_message(err: Any) -> str:
    """pydantic's message, said the way the rest of stackops says it."""
    kind = err["type"]
    if kind in _EXPECTED:
        from stackops.model.jsontext import json_kind

        return f"expected {_EXPECTED[kind]}, got {json_kind(err.get('input'))}"
    if kind == "extra_forbidden":
        return "unknown field; check its spelling (describe-* and --help list the fields)"
    return str(err["msg"]).removeprefix("Value error, ")


def require_one(value: str | None, option: str, alternative: str) -> str:
    """The value of `option`, which must be given when `alternative` is not."""
    if not value:
        raise InvalidInput(f"give {option} or {alternative}")
    return value
