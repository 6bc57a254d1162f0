"""Instance verbs: create, describe, update, delete, start, stop, reboot, hostnames, OS names."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import click

from stackops.api import instances as api
from stackops.cli.context import services, show
from stackops.cli.output import note
from stackops.cli.params import (
    RECORD_ID,
    AwsStyleCommand,
    build,
    given_fields,
    list_option,
    model_options,
)
from stackops.errors import InvalidInput
from stackops.model.instances import Instance, InstanceSpec


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


@click.command("delete-instance", cls=AwsStyleCommand)
@click.option("--instance-id", type=RECORD_ID, required=True)
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


def wait_options(verb: str, goal: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """--wait and --wait-timeout, worded for `verb`."""

    def decorate(function: Callable[..., Any]) -> Callable[..., Any]:
        function = click.option(
            "--wait-timeout",
            type=click.FloatRange(min=1),
            default=900,
            show_default=True,
            help="Seconds --wait follows it.",
        )(function)
        return click.option(
            "--wait",
            is_flag=True,
            help=f"Follow the instance until it is {goal}, progress on stderr; exit 0 when "
            f"{goal}, 1 when it ends otherwise or not within --wait-timeout. "
            f"The dispatcher does the work ({verb}).",
        )(function)

    return decorate


@click.command("start-instance", cls=AwsStyleCommand)
@click.option("--instance-id", type=RECORD_ID, required=True)
@wait_options("setup and deploy, then online", "online")
@click.pass_context
def start_instance(ctx: click.Context, instance_id: str, wait: bool, wait_timeout: float) -> None:
    """Launch an instance's EC2 instance (setup runs when the dispatcher sees it boot)."""
    svc = services(ctx)
    api.start_instance(svc, instance_id)
    show(ctx, None, f"starting instance {instance_id}")
    if wait:
        _wait(ctx, svc, instance_id, "online", wait_timeout)


@click.command("stop-instance", cls=AwsStyleCommand)
@click.option("--instance-id", type=RECORD_ID, required=True)
@click.option(
    "--force/--no-force",
    default=False,
    help="Skip shutdown recipes; stop now, whatever the status.",
)
@wait_options("shutdown recipes, then EC2 stops it", "stopped")
@click.pass_context
def stop_instance(
    ctx: click.Context, instance_id: str, force: bool, wait: bool, wait_timeout: float
) -> None:
    """Stop an instance: shutdown recipes, then EC2 stops it (instance store: terminated)."""
    svc = services(ctx)
    outcome = api.stop_instance(svc, instance_id, force=force)
    show(ctx, None, f"instance {instance_id}: {outcome}")
    if wait:
        _wait(ctx, svc, instance_id, "stopped", wait_timeout)


def _wait(ctx: click.Context, svc: Any, instance_id: str, until: str, timeout: float) -> None:
    """Follow the instance; its last state on stdout, exit 1 unless it got `until`."""
    from stackops.api.waiting import wait_for_instance

    ended = wait_for_instance(svc, instance_id, until=until, on_progress=_progress, timeout=timeout)
    last = ended.record
    answer = {"InstanceId": last.instance_id, "Status": last.status.value}
    if last.status_reason:
        answer["StatusReason"] = last.status_reason
    show(ctx, answer)
    if not ended.ok:
        ctx.exit(1)


def _progress(instance: Instance, stalled: float) -> None:
    """One line per change on stderr: `app1: running_setup`."""
    if stalled:
        note(
            f"{instance.hostname}: {instance.status.value} for {stalled:.0f} s with no change: "
            "is 'stackops dispatch' running (and on a sandbox, 'stackops watch')?"
        )
        return
    reason = f" ({instance.status_reason})" if instance.status_reason else ""
    note(f"{instance.hostname}: {instance.status.value}{reason}")


@click.command("reboot-instance", cls=AwsStyleCommand)
@click.option("--instance-id", type=RECORD_ID, required=True)
@click.pass_context
def reboot_instance(ctx: click.Context, instance_id: str) -> None:
    """Reboot an online instance."""
    api.reboot_instance(services(ctx), instance_id)
    show(ctx, None, f"rebooted instance {instance_id}")


@click.command("get-hostname-suggestion", cls=AwsStyleCommand)
@click.option("--layer-id", type=RECORD_ID, required=True)
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
