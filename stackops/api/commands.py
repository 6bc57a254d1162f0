"""describe-commands and logs: what the dispatcher ran, and its converge report."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, Any

from stackops.errors import InvalidInput, NotFound
from stackops.model.instances import Instance

if TYPE_CHECKING:
    from stackops.services import Services


def describe_commands(
    services: Services,
    instance_id: str | None,
    command_ids: list[str],
    deployment_id: str | None = None,
) -> dict[str, Any]:
    """Commands of an instance, of a deployment, or the commands named, oldest first."""
    if command_ids:
        commands = services.commands.get_many(command_ids)
        missing = set(command_ids) - {c.command_id for c in commands}
        if missing:
            raise NotFound(f"no command with id {sorted(missing)[0]}")
    elif instance_id:
        services.store.get(Instance, instance_id)
        commands = services.commands.for_instance(instance_id)
    elif deployment_id:
        from stackops.api.deployments import deployment_commands

        commands = deployment_commands(services, deployment_id)
    else:
        raise InvalidInput("give --instance-id, --deployment-id or --command-ids")
    return {"Commands": [c.to_api() for c in commands]}


def command_log(services: Services, command_id: str) -> dict[str, Any]:
    """The stored log of a command: {"CommandId", "Report", "Log"}."""
    command = services.commands.get(command_id)
    if not command.log_url:
        raise NotFound(f"command {command_id} has no log yet (status {command.status.value})")
    key = command.log_url.split("/", 3)[3]
    return json.loads(services.artifacts.get_object(key))
