"""Instance verbs: create, describe, update, delete, start, stop, reboot, register, hostnames."""

from __future__ import annotations

from typing import Any

import click

from stackops.api import instances as api
from stackops.cli.context import services, show
from stackops.cli.params import (
    EC2_INSTANCE_ID,
    HOSTNAME,
    RECORD_ID,
    AwsStyleCommand,
    build,
    given_fields,
    list_option,
    model_options,
)
from stackops.model.resources import InstanceSpec


@click.command("create-instance", cls=AwsStyleCommand)
@click.option("--stack-id", type=RECORD_ID, required=True)
@list_option("--layer-ids", type=RECORD_ID, required=True, help="Layers the instance belongs to.")
@model_options(InstanceSpec, required=("instance_type",))
@click.pass_context
def create_instance(
    ctx: click.Context, stack_id: str, layer_ids: tuple[str, ...], **values: Any
) -> None:
    """Create an instance (stopped) in one or more layers of a stack."""
    spec = build(InstanceSpec, given_fields(InstanceSpec, values))
    show(ctx, api.create_instance(services(ctx), stack_id, list(layer_ids), spec))


@click.command("describe-instances", cls=AwsStyleCommand)
@click.option("--stack-id", type=RECORD_ID)
@click.option("--layer-id", type=RECORD_ID)
@list_option("--instance-ids", type=RECORD_ID)
@click.pass_context
def describe_instances(
    ctx: click.Context, stack_id: str | None, layer_id: str | None, instance_ids: tuple[str, ...]
) -> None:
    """Describe instances by stack, by layer or by id."""
    result = api.describe_instances(services(ctx), stack_id, layer_id, list(instance_ids) or None)
    show(ctx, result)


@click.command("update-instance", cls=AwsStyleCommand)
@click.option("--instance-id", type=RECORD_ID, required=True)
@list_option("--layer-ids", type=RECORD_ID, help="The instance's layers (replaces the list).")
@model_options(InstanceSpec)
@click.pass_context
def update_instance(
    ctx: click.Context, instance_id: str, layer_ids: tuple[str, ...], **values: Any
) -> None:
    """Change an instance's settings or layers (launch settings only while stopped)."""
    changes = given_fields(InstanceSpec, values)
    if layer_ids:
        changes["layer_ids"] = list(layer_ids)
    api.update_instance(services(ctx), instance_id, changes)
    show(ctx, None, f"updated instance {instance_id}")


@click.command("delete-instance")
@click.option("--instance-id", type=RECORD_ID, required=True)
@click.option("--delete-elastic-ip/--no-delete-elastic-ip", default=False, hidden=True)
@click.option("--delete-volumes/--no-delete-volumes", default=False, hidden=True)
@click.pass_context
def delete_instance(ctx: click.Context, instance_id: str, **_: Any) -> None:
    """Delete a stopped instance (its EC2 instance is terminated)."""
    api.delete_instance(services(ctx), instance_id)
    show(ctx, None, f"deleted instance {instance_id}")


@click.command("start-instance")
@click.option("--instance-id", type=RECORD_ID, required=True)
@click.pass_context
def start_instance(ctx: click.Context, instance_id: str) -> None:
    """Launch an instance's EC2 instance (setup runs when the dispatcher sees it boot)."""
    api.start_instance(services(ctx), instance_id)
    show(ctx, None, f"starting instance {instance_id}")


@click.command("stop-instance")
@click.option("--instance-id", type=RECORD_ID, required=True)
@click.option(
    "--force/--no-force",
    default=False,
    help="Skip shutdown recipes; stop now, whatever the status.",
)
@click.pass_context
def stop_instance(ctx: click.Context, instance_id: str, force: bool) -> None:
    """Stop an instance: shutdown recipes, then EC2 stops it (instance store: terminated)."""
    outcome = api.stop_instance(services(ctx), instance_id, force=force)
    show(ctx, None, f"instance {instance_id}: {outcome}")


@click.command("reboot-instance")
@click.option("--instance-id", type=RECORD_ID, required=True)
@click.pass_context
def reboot_instance(ctx: click.Context, instance_id: str) -> None:
    """Reboot an online instance."""
    api.reboot_instance(services(ctx), instance_id)
    show(ctx, None, f"rebooted instance {instance_id}")


@click.command("register-instance", cls=AwsStyleCommand)
@click.option("--stack-id", type=RECORD_ID, required=True)
@click.option(
    "--ec2-instance-id", type=EC2_INSTANCE_ID, required=True, help="The EC2 instance to adopt."
)
@click.option("--hostname", type=HOSTNAME, help="Default: its Name tag, else the stack's theme.")
@list_option("--layer-ids", type=RECORD_ID, help="Layers to put it in.")
@click.pass_context
def register_instance(
    ctx: click.Context,
    stack_id: str,
    ec2_instance_id: str,
    hostname: str | None,
    layer_ids: tuple[str, ...],
) -> None:
    """Adopt an existing EC2 instance into a stack by tagging it."""
    result = api.register_instance(
        services(ctx), stack_id, ec2_instance_id, hostname, list(layer_ids)
    )
    show(ctx, result)


@click.command("get-hostname-suggestion")
@click.option("--layer-id", type=RECORD_ID, required=True)
@click.pass_context
def get_hostname_suggestion(ctx: click.Context, layer_id: str) -> None:
    """The next hostname for a layer, by the stack's hostname theme."""
    show(ctx, api.get_hostname_suggestion(services(ctx), layer_id))
