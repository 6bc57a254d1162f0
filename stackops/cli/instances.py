"""Instance verbs: create, describe, update, delete, start, stop, reboot, hostnames, OS names."""

from __future__ import annotations

from typing import Any

import click

from stackops.api import instances as api
from stackops.cli.context import services, show
from stackops.cli.params import AwsStyleCommand, build, given_fields, list_option, model_options
from stackops.errors import InvalidInput
from stackops.model.resources import InstanceSpec


@click.command("create-instance", cls=AwsStyleCommand)
@click.option("--stack-id", required=True)
@list_option("--layer-ids", required=True, help="Layers the instance belongs to.")
@model_options(InstanceSpec, required=("instance_type",))
@click.pass_context
def create_instance(
    ctx: click.Context, stack_id: str, layer_ids: tuple[str, ...], **values: Any
) -> None:
    """Create an instance (stopped) in one or more layers of a stack."""
    spec = build(InstanceSpec, given_fields(InstanceSpec, values))
    show(ctx, api.create_instance(services(ctx), stack_id, list(layer_ids), spec))


@click.command("describe-instances", cls=AwsStyleCommand)
@click.option("--stack-id")
@click.option("--layer-id")
@list_option("--instance-ids")
@click.pass_context
def describe_instances(
    ctx: click.Context, stack_id: str | None, layer_id: str | None, instance_ids: tuple[str, ...]
) -> None:
    """Describe instances by stack, by layer or by id."""
    result = api.describe_instances(services(ctx), stack_id, layer_id, list(instance_ids) or None)
    show(ctx, result)


@click.command("update-instance", cls=AwsStyleCommand)
@click.option("--instance-id", required=True)
@list_option("--layer-ids", help="The instance's layers (replaces the list).")
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


@click.command("delete-instance", cls=AwsStyleCommand)
@click.option("--instance-id", required=True)
@click.option(
    "--delete-elastic-ip/--no-delete-elastic-ip",
    default=False,
    help="Release the Elastic IP associated with it too.",
)
@click.option(
    "--delete-volumes/--no-delete-volumes",
    default=False,
    help="Refused: OpsWorks EBS volumes are not supported (the root volume goes as EC2 says).",
)
@click.pass_context
def delete_instance(
    ctx: click.Context, instance_id: str, delete_elastic_ip: bool, delete_volumes: bool
) -> None:
    """Delete a stopped instance (its EC2 instance is terminated)."""
    if delete_volumes:
        raise InvalidInput(
            "--delete-volumes: OpsWorks EBS volumes (VolumeConfigurations, RegisterVolume) are "
            "not supported: an instance has its root volume only, which EC2 deletes or keeps "
            "as its DeleteOnTermination says"
        )
    api.delete_instance(services(ctx), instance_id, delete_elastic_ip=delete_elastic_ip)
    show(ctx, None, f"deleted instance {instance_id}")


@click.command("start-instance", cls=AwsStyleCommand)
@click.option("--instance-id", required=True)
@click.pass_context
def start_instance(ctx: click.Context, instance_id: str) -> None:
    """Launch an instance's EC2 instance (setup runs when the dispatcher sees it boot)."""
    api.start_instance(services(ctx), instance_id)
    show(ctx, None, f"starting instance {instance_id}")


@click.command("stop-instance", cls=AwsStyleCommand)
@click.option("--instance-id", required=True)
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


@click.command("reboot-instance", cls=AwsStyleCommand)
@click.option("--instance-id", required=True)
@click.pass_context
def reboot_instance(ctx: click.Context, instance_id: str) -> None:
    """Reboot an online instance."""
    api.reboot_instance(services(ctx), instance_id)
    show(ctx, None, f"rebooted instance {instance_id}")


@click.command("get-hostname-suggestion", cls=AwsStyleCommand)
@click.option("--layer-id", required=True)
@click.pass_context
def get_hostname_suggestion(ctx: click.Context, layer_id: str) -> None:
    """The next hostname for a layer, by the stack's hostname theme."""
    show(ctx, api.get_hostname_suggestion(services(ctx), layer_id))


@click.command("describe-operating-systems", cls=AwsStyleCommand)
@click.pass_context
def describe_operating_systems(ctx: click.Context) -> None:
    """The operating system names instances may use (each maps to a current public AMI)."""
    from stackops.api.amis import describe_operating_systems as describe

    show(ctx, describe())
