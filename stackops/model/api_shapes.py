"""Check an answer against the output shape of its OpsWorks operation.

The OpsWorks API model ships with stackops (`data/opsworks-2013-02-18.json`,
the botocore model without its documentation). `answer_problems` walks an
answer beside the operation's output shape: every key must be a member of its
structure (or one of stackops's extension keys below), every value of the
member's type, enums among their values, times in OpsWorks's form
`2026-01-01T00:00:00+00:00`, protected values `*****FILTERED*****`, and an
operation OpsWorks answered with nothing answers nothing.
"""

from __future__ import annotations

import json
import re
from functools import cache
from pathlib import Path
from typing import Any

from stackops.model.opsworks_values import FILTERED, PROTECTED_ATTRIBUTES

MODEL_PATH = Path(__file__).parent / "data" / "opsworks-2013-02-18.json"
TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\+00:00")

EXTENSION_KEYS: dict[str, dict[str, str]] = {
    "Stack": {"DefaultAmiId": "the AMI an instance launches when it names none and no OS maps"},
    "Layer": {
        "TargetGroupArn": "the ELBv2 target group its online instances are registered in",
        "AutoScalingGroup": "the Auto Scaling group whose launches join the layer",
    },
    "App": {
        "DeployTo": "where releases are unpacked (default /srv/www/<shortname>)",
        "MigrateCommand": "argv run once per deployment, before any switch",
        "HealthCheck": "checked after each deploy: HTTP path and port, or a command",
        "Layers": "shortnames of the layers whose instances get the app (empty: all)",
    },
    "Instance": {
        "PortOffset": "added to service ports where nodes share a host (the sandbox)",
        "StatusReason": "why the instance is in its status (a failed setup or health check)",
    },
    "Command": {
        "StackId": "the command's stack",
        "Recipes": "the run list the command ran",
        "Summary": "one line: resources changed, failed, or why it did not run",
        "Seq": "order of the command within its deployment",
        "Releases": "the release each app switched to",
    },
    "Deployment": {
        "Strategy": "all_at_once, rolling, pilot or half",
        "BatchSize": "instances per rolling batch (N or N%)",
        "OnFailure": "rollback_all, rollback_failed or stop",
        "MaxFailures": "instances that may fail (N or N%)",
        "Pause": "half: held after the first half until continued",
        "Batches": "each batch's instances and outcome",
        "Message": "why the deployment ended as it did",
        "RollbackOf": "the deployment this one rolled back to",
        "Release": "the release id the deployment installs",
        "AppSource": "the app's source when it was created (type, url, revision; no secrets)",
        "CommandIds": "the commands the deployment ran",
    },
}
"""Shape -> key -> what it holds: the keys stackops adds to OpsWorks's answers.
The README's list of extension keys is made from this table (a test holds them together)."""

SECRET_MEMBERS = {("Source", "Password"), ("Source", "SshKey"), ("SslConfiguration", "PrivateKey")}
TIME_MEMBERS = frozenset({"CreatedAt", "CompletedAt", "AcknowledgedAt"})


@cache
def api_model() -> dict[str, Any]:
    """The OpsWorks API model (operations and shapes)."""
    return json.loads(MODEL_PATH.read_text())


def operation_name(verb: str) -> str:
    """`describe-elastic-ips` -> `DescribeElasticIps`."""
    return "".join(part.capitalize() for part in verb.split("-"))


def output_shape(operation: str) -> str | None:
    """The output shape of an operation (None when OpsWorks answered nothing)."""
    op = api_model()["operations"].get(operation)
    if op is None:
        raise KeyError(f"no OpsWorks operation {operation}")
    return (op.get("output") or {}).get("shape")


def input_members(operation: str) -> list[str]:
    """The request parameters of an operation, as the API names them."""
    op = api_model()["operations"][operation]
    shape = (op.get("input") or {}).get("shape")
    return list(api_model()["shapes"][shape]["members"]) if shape else []


def answer_problems(operation: str, answer: Any) -> list[str]:
    """Every way `answer` departs from the operation's output shape (empty when it fits)."""
    shape = output_shape(operation)
    if shape is None:
        return (
            [] if answer is None else [f"{operation} answers nothing in OpsWorks; got {answer!r}"]
        )
    if answer is None:
        return [f"{operation} must answer a {shape}; got nothing"]
    problems: list[str] = []
    _check(shape, answer, operation, problems, parent=None, member=None)
    return problems


def _check(
    shape_name: str,
    value: Any,
    where: str,
    problems: list[str],
    *,
    parent: str | None,
    member: str | None,
) -> None:
    shape = api_model()["shapes"][shape_name]
    kind = shape["type"]
    if kind == "structure":
        _structure(shape_name, shape, value, where, problems)
    elif kind == "list":
        if not isinstance(value, list):
            problems.append(f"{where}: expected a list, got {type(value).__name__}")
            return
        for i, item in enumerate(value):
            _check(
                shape["member"]["shape"], item, f"{where}[{i}]", problems, parent=None, member=None
            )
    elif kind == "map":
        _map(shape, value, where, problems, parent=parent)
    elif kind == "string":
        _string(shape_name, shape, value, where, problems, parent=parent, member=member)
    elif kind in ("integer", "long"):
        if not isinstance(value, int) or isinstance(value, bool):
            problems.append(f"{where}: expected an integer, got {value!r}")
    elif kind == "boolean":
        if not isinstance(value, bool):
            problems.append(f"{where}: expected true or false, got {value!r}")
    elif kind in ("double", "float"):
        if not isinstance(value, int | float) or isinstance(value, bool):
            problems.append(f"{where}: expected a number, got {value!r}")
    else:  # pragma: no cover - the model has no other kinds in output shapes
        problems.append(f"{where}: shape {shape_name} of kind {kind} is not checked")


def _structure(
    shape_name: str, shape: dict[str, Any], value: Any, where: str, problems: list[str]
) -> None:
    if not isinstance(value, dict):
        problems.append(f"{where}: expected an object ({shape_name}), got {type(value).__name__}")
        return
    members = shape["members"]
    extensions = EXTENSION_KEYS.get(shape_name, {})
    for key, item in value.items():
        path = f"{where}.{key}"
        if key in members:
            if item is None:
                problems.append(f"{path}: null where OpsWorks leaves the key out")
                continue
            _check(members[key]["shape"], item, path, problems, parent=shape_name, member=key)
        elif key not in extensions:
            problems.append(f"{path}: not a member of {shape_name} nor a listed extension key")
    secure = shape_name == "EnvironmentVariable" and value.get("Secure")
    if secure and value.get("Value") and value["Value"] != FILTERED:
        problems.append(f"{where}.Value: a secure value must be shown as {FILTERED}")


def _map(
    shape: dict[str, Any], value: Any, where: str, problems: list[str], *, parent: str | None
) -> None:
    if not isinstance(value, dict):
        problems.append(f"{where}: expected an object, got {type(value).__name__}")
        return
    keys = api_model()["shapes"][shape["key"]["shape"]].get("enum")
    for key, item in value.items():
        if keys is not None and key not in keys:
            problems.append(f"{where}: key {key!r} is not one of {', '.join(keys)}")
        if item is None:
            continue  # OpsWorks answered unset attributes as null
        if parent == "Layer" and key in PROTECTED_ATTRIBUTES and item != FILTERED:
            problems.append(f"{where}.{key}: a protected attribute must be shown as {FILTERED}")
        _check(shape["value"]["shape"], item, f"{where}.{key}", problems, parent=None, member=None)


def _string(
    shape_name: str,
    shape: dict[str, Any],
    value: Any,
    where: str,
    problems: list[str],
    *,
    parent: str | None,
    member: str | None,
) -> None:
    if not isinstance(value, str):
        problems.append(f"{where}: expected a string, got {value!r}")
        return
    enum = shape.get("enum")
    if enum is not None and value not in enum:
        problems.append(f"{where}: {value!r} is not one of {', '.join(enum)}")
    if (shape_name == "DateTime" or member in TIME_MEMBERS) and not TIMESTAMP.fullmatch(value):
        problems.append(f"{where}: {value!r} is not a time like 2026-01-01T00:00:00+00:00")
    if (parent, member) in SECRET_MEMBERS and value and value != FILTERED:
        problems.append(f"{where}: a protected value must be shown as {FILTERED}")
