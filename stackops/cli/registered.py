"""register-instance, assign-instance, unassign-instance, deregister-instance."""

from __future__ import annotations

from typing import Any

import click

from stackops.api import registered as api
from stackops.cli.context import services, show
from stackops.cli.params import EC2_INSTANCE_ID, HOSTNAME, RECORD_ID, AwsStyleCommand, list_option
from stackops.cli.shorthand import structured_value


@click.command("register-instance", cls=AwsStyleCommand)
@click.option("--stack-id", type=RECORD_ID, required=True)
@click.option(
    "--hostname", type=HOSTNAME, help="Default: its Name tag, else the stack's hostname theme."
)
@click.option(
    "--ec2-instance-id",
    type=EC2_INSTANCE_ID,
    help="The EC2 instance to register (stackops extension).",
)
@click.option("--private-ip", help="Find the EC2 instance by its private IP address.")
@click.option("--public-ip", help="Find the EC2 instance by its public IP address.")
@click.option(
    "--instance-identity",
    metavar="JSON",
    help="Document (and Signature) of the EC2 instance identity; its instanceId is registered.",
)
@click.option("--rsa-public-key", help="Refused: the OpsWorks agent's key exchange is not used.")
@click.option("--rsa-public-key-fingerprint", help="Refused, as --rsa-public-key.")
@list_option(
    "--layer-ids", type=RECORD_ID, help="Assign it to these layers at once (stackops extension)."
)
@click.pass_context
def register_instance(
    ctx: click.Context, stack_id: str, instance_identity: str | None, **values: Any
) -> None:
    """Register an existing EC2 instance with a stack (status registered, in no layer)."""
    identity = (
        structured_value("--instance-identity", instance_identity) if instance_identity else None
    )
    layer_ids = list(values.pop("layer_ids"))
    result = api.register_instance(
        services(ctx), stack_id, instance_identity=identity, layer_ids=layer_ids, **values
    )
    show(ctx, result)


@click.command("assign-instance", cls=AwsStyleCommand)
@click.option("--instance-id", type=RECORD_ID, required=True)
@list_option("--layer-ids", type=RECORD_ID, required=True, help="Custom layers to put it in.")
@click.pass_context
def assign_instance(ctx: click.Context, instance_id: str, layer_ids: tuple[str, ...]) -> None:
    """Put a registered instance in layers: the dispatcher sets it up, then configures."""
    api.assign_instance(services(ctx), instance_id, list(layer_ids))
    show(ctx, None, f"assigning instance {instance_id}: setup runs when the dispatcher sees it")


@click.command("unassign-instance", cls=AwsStyleCommand)
@click.option("--instance-id", type=RECORD_ID, required=True)
@click.pass_context
def unassign_instance(ctx: click.Context, instance_id: str) -> None:
    """Take a registered instance out of all its layers (it stays registered)."""
    api.unassign_instance(services(ctx), instance_id)
    show(ctx, None, f"unassigned instance {instance_id}")


@click.command("deregister-instance", cls=AwsStyleCommand)
@click.option("--instance-id", type=RECORD_ID, required=True)
@click.pass_context
def deregister_instance(ctx: click.Context, instance_id: str) -> None:
    """Forget a registered instance; its EC2 instance keeps running, untagged."""
    api.deregister_instance(services(ctx), instance_id)
    show(ctx, None, f"deregistered instance {instance_id}: its EC2 instance keeps running")
