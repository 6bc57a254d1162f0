"""What a failed deployment rolls back, by its failure policy, and the switching back itself.

rollback_all switches every instance the deployment switched back to its previous
release, rollback_failed only the failed ones, stop leaves them; the deployment's
message says what was rolled back (`rollback_note`).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stackops.model.commands import CommandStatus
from stackops.model.deployments import Deployment

if TYPE_CHECKING:
    from stackops.deploy.instance_run import InstanceRun
    from stackops.lifecycle.activities import StackView
    from stackops.model.apps import App


def switched_ids(deployment: Deployment) -> list[str]:
    """The instances the deployment's record says switched to its release, in order."""
    return [i for b in deployment.batches for i in b.switched_instance_ids]


def rollback_targets(deployment: Deployment, policy: str) -> list[str]:
    """The instances the failure `policy` switches back, from what the record says."""
    switched = switched_ids(deployment)
    failed = {i for b in deployment.batches for i in b.failed_instance_ids}
    match policy:
        case "rollback_all":
            return switched
        case "rollback_failed":
            return [i for i in switched if i in failed]
        case _:
            return []


def rollback_note(policy: str, switched: int, rolled: int | None, trouble: list[str]) -> str:
    """What the failure message adds: how many were rolled back (`rolled`: None when none
    was tried) and which could not be, or why nothing was."""
    if rolled is not None:
        note = f"; rolled back {rolled} instance(s)"
        if trouble:
            note += f" ({len(trouble)} could not be: {'; '.join(trouble)})"
        return note
    if policy != "stop" and not switched:
        return "; nothing had switched"
    if policy == "stop" and switched:
        return f"; {switched} switched instance(s) left as they are (policy stop)"
    return ""


def switch_back(
    on_instance: InstanceRun,
    deployment: Deployment,
    view: StackView,
    app: App,
    instance_ids: list[str],
) -> tuple[list[str], list[str]]:
    """Switch instances back to the release they had before this deployment; returns the
    ids switched back and, for the others, why not. The commands join the record."""
    by_id = {i.instance_id: i for i in view.instances}
    done: list[str] = []
    trouble: list[str] = []
    ran: list[str] = []
    for instance_id in instance_ids:
        instance = by_id.get(instance_id)
        if instance is None:
            trouble.append(f"{instance_id}: not in the stack any more")
            continue
        previous = on_instance.current_release(instance, app, before=deployment.deployment_id)
        if previous is None:
            trouble.append(f"{instance.hostname}: no earlier release of {app.shortname}")
            continue
        command = on_instance.run(
            deployment, instance, app, view, migrate=False, switch_back_to=previous
        )
        ran.append(command.command_id)
        if command.status is CommandStatus.successful:
            done.append(instance_id)
        else:
            trouble.append(f"{instance.hostname}: {command.summary}")
    on_instance.progress.note_commands(deployment.deployment_id, ran)
    return done, trouble
