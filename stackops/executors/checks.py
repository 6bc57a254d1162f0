"""Health-check commands on a node: run where the node's recipes run, as the node runs them.

A command check (`{"command": [...]}` in an app's health_check) is code the app's
owner wrote; it runs on the node, in the app's `current` release folder, with the
app's environment over the node's own, never on the dispatcher's host with the
dispatcher's working directory, environment or credentials. The local executor
calls `run_check_here` under the node's root; the ssm executor sends the request
to the instance, where `stackops agent check` calls it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from stackops.errors import InvalidInput
from stackops.executors.base import CheckReply, CheckRequest
from stackops.executors.payload import COMMAND_ID
from stackops.secrets import redact

CHECK_FIELDS = ("check_id", "ec2_instance_id", "argv", "cwd", "env", "timeout", "root")


def node_environment(
    base: Mapping[str, str], aws: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment a node's processes start from: `base` without the caller's AWS
    settings (credentials, profile, endpoint), plus `aws`, the node's own AWS access
    (in the sandbox, the sandbox's endpoint, as an instance role would give)."""
    env = {key: value for key, value in base.items() if not key.startswith("AWS_")}
    env.update(aws or {})
    return env


def run_check_here(
    request: CheckRequest,
    env: Mapping[str, str],
    secrets: tuple[str, ...],
    base_env: Mapping[str, str],
) -> CheckReply:
    """Run the check's command on this host, under the request's node root.

    `env` is the app's environment with secrets resolved (`secrets` are their values,
    masked in what comes back); `base_env` the node's own environment.
    """
    from stackops.converge.paths import NodeRoot
    from stackops.processes import run_bounded

    root = NodeRoot(request.root or "/")
    try:
        cwd = root.host_path(request.cwd) if request.cwd else root.path
    except InvalidInput as exc:
        return CheckReply(None, error=str(exc))
    if not cwd.is_dir():
        return CheckReply(None, error=f"{request.cwd}: no such folder on the node")
    full = {**base_env, "STACKOPS_ROOT": str(root.path), **{str(k): str(v) for k, v in env.items()}}
    done = run_bounded(request.argv, request.timeout, full, str(cwd))
    error = redact(done.error, secrets) if done.error else None
    return CheckReply(done.exit_code, redact(done.output, secrets), error)


def check_payload_bytes(request: CheckRequest) -> bytes:
    """The request as the JSON payload `stackops agent check` reads."""
    data = {name: getattr(request, name) for name in CHECK_FIELDS}
    data["argv"] = list(request.argv)
    return json.dumps(data, separators=(",", ":")).encode()


def parse_check_payload(text: str | bytes, source: str) -> CheckRequest:
    """A CheckRequest from payload JSON; InvalidInput naming `source` and the field at fault."""
    try:
        data = json.loads(text)
    except (UnicodeDecodeError, ValueError) as exc:
        raise InvalidInput(f"check payload {source}: not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise InvalidInput(f"check payload {source}: must be a JSON object")

    def bad(field: str, what: str) -> InvalidInput:
        return InvalidInput(f"check payload {source}: field {field!r} {what}")

    unknown = sorted(set(data) - set(CHECK_FIELDS))
    if unknown:
        raise bad(unknown[0], f"is not a field; valid: {', '.join(CHECK_FIELDS)}")
    check_id = data.get("check_id", "")
    if not isinstance(check_id, str) or not COMMAND_ID.match(check_id):
        raise bad("check_id", "must be 1-128 letters, digits, '.', '_' or '-'")
    argv = data.get("argv")
    if not isinstance(argv, list) or not argv or not all(isinstance(a, str) and a for a in argv):
        raise bad("argv", "must be a non-empty list of non-empty strings")
    env: Any = data.get("env", {})
    if not isinstance(env, dict):
        raise bad("env", "must be a JSON object")
    timeout = data.get("timeout")
    if isinstance(timeout, bool) or not isinstance(timeout, int | float) or timeout <= 0:
        raise bad("timeout", f"must be a number of seconds > 0, not {timeout!r}")
    for field in ("cwd", "root"):
        value = data.get(field)
        if value is not None and (not isinstance(value, str) or not value):
            raise bad(field, "must be a path or null")
    instance = data.get("ec2_instance_id", "")
    if not isinstance(instance, str):
        raise bad("ec2_instance_id", "must be a string")
    return CheckRequest(
        check_id=check_id,
        ec2_instance_id=instance,
        argv=tuple(argv),
        cwd=data.get("cwd"),
        env=env,
        timeout=float(timeout),
        root=data.get("root"),
    )
