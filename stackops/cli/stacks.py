"""create-stack, describe-stacks, update-stack, delete-stack, clone-stack, and friends."""

from __future__ import annotations

from typing import Any

import click

from stackops.api import instances as instance_api
from stackops.api import stacks as api
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
from stackops.model.stacks import StackSpec

STACK_REGION_HELP = "The stack's region (the aws CLI's name for CreateStack's Region)."


def _stack_fields(values: dict[str, Any]) -> dict[str, Any]:
    """The StackSpec fields given, --stack-region as the stack's region."""
    stack_region = values.pop("stack_region", None)
    fields = given_fields(StackSpec, values)
    if stack_region:
        if fields.get("region") not in (None, stack_region):
            raise InvalidInput("--stack-region and the stack's --region differ; give one")
        fields["region"] = stack_region
    return fields


def _note_service_role(fields: dict[str, Any]) -> None:
    """Say, once the request is done, what a given service role does (nothing)."""
    if fields.get("service_role_arn"):
        note(
            "note: --service-role-arn is recorded for reference; stackops acts with the "
            "dispatcher's own role (bootstrap --print-iam-policy --role dispatcher)"
        )


@click.command("create-stack", cls=AwsStyleCommand)
@click.option("--stack-region", help=STACK_REGION_HELP)
@model_options(StackSpec, required=("name",))
@click.pass_context
def create_stack(ctx: click.Context, **values: Any) -> None:
    """Create a stack (layers, apps and instances are added to it)."""
    fields = _stack_fields(values)
    spec = build(StackSpec, fields)
    answer = api.create_stack(services(ctx), spec)
    _note_service_role(fields)
    show(ctx, answer)


@click.command("describe-stacks", cls=AwsStyleCommand)
@list_option("--stack-ids", type=RECORD_ID, help="Stack ids (default: every stack).")
@click.pass_context
def describe_stacks(ctx: click.Context, stack_ids: tuple[str, ...]) -> None:
    """Describe stacks."""
    show(ctx, api.describe_stacks(services(ctx), list(stack_ids) or None))


@click.command("update-stack", cls=AwsStyleCommand)
@click.option("--stack-id", type=RECORD_ID, required=True)
@model_options(StackSpec, exclude=("region",))
@click.pass_context
def update_stack(ctx: click.Context, stack_id: str, **values: Any) -> None:
    """Change a stack's settings."""
    fields = _stack_fields(values)
    api.update_stack(services(ctx), stack_id, fields)
    _note_service_role(fields)
    show(ctx, None, f"updated stack {stack_id}")


@click.command("delete-stack", cls=AwsStyleCommand)
@click.option("--stack-id", type=RECORD_ID, required=True)
@click.pass_context
def delete_stack(ctx: click.Context, stack_id: str) -> None:
    """Delete a stack that has no instances, apps or layers left."""
    api.delete_stack(services(ctx), stack_id)
    show(ctx, None, f"deleted stack {stack_id}")


@click.command("clone-stack", cls=AwsStyleCommand)
@click.option("--source-stack-id", type=RECORD_ID, required=True)
@list_option("--clone-app-ids", type=RECORD_ID, help="Apps of the source stack to copy.")
@click.option(
    "--clone-permissions/--no-clone-permissions",
    default=False,
    help="Refused: OpsWorks user permissions are not supported.",
)
@click.option("--stack-region", help=STACK_REGION_HELP)
@model_options(StackSpec)
@click.pass_context
def clone_stack(
    ctx: click.Context,
    source_stack_id: str,
    clone_app_ids: tuple[str, ...],
    clone_permissions: bool,
    **values: Any,
) -> None:
    """Copy a stack's settings and layers (and the apps named) into a new stack."""
    if clone_permissions:
        raise InvalidInput(
            "--clone-permissions: OpsWorks user permissions (SetPermission, user profiles) are "
            "not supported; access is IAM's (bootstrap --print-iam-policy --role operator)"
        )
    overrides = _stack_fields(values)
    answer = api.clone_stack(services(ctx), source_stack_id, overrides, list(clone_app_ids))
    _note_service_role(overrides)
    show(ctx, answer)


@click.command("describe-stack-summary", cls=AwsStyleCommand)
@click.option("--stack-id", type=RECORD_ID, required=True)
@click.pass_context
def describe_stack_summary(ctx: click.Context, stack_id: str) -> None:
    """Counts of a stack's layers, apps and instances by status."""
    show(ctx, api.describe_stack_summary(services(ctx), stack_id))


@click.command("start-stack", cls=AwsStyleCommand)
@click.option("--stack-id", type=RECORD_ID, required=True)
@click.pass_context
def start_stack(ctx: click.Context, stack_id: str) -> None:
    """Start every stopped 24/7 instance of a stack (OpsWorks answers nothing; stderr lists them;
    the scaler starts time- and load-based ones)."""
    started = instance_api.start_stack(services(ctx), stack_id)["StartedInstanceIds"]
    show(ctx, None, f"starting {len(started)} instance(s): {' '.join(started) or '-'}")


@click.command("stop-stack", cls=AwsStyleCommand)
@click.option("--stack-id", type=RECORD_ID, required=True)
@click.pass_context
def stop_stack(ctx: click.Context, stack_id: str) -> None:
    """Stop every running instance of a stack (OpsWorks answers nothing; stderr lists them)."""
    stopped = instance_api.stop_stack(services(ctx), stack_id)["StoppedInstanceIds"]
    show(ctx, None, f"stopping {len(stopped)} instance(s): {' '.join(stopped) or '-'}")
