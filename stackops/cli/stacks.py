"""create-stack, describe-stacks, update-stack, delete-stack, clone-stack, and friends."""

from __future__ import annotations

from typing import Any

import click

from stackops.api import instances as instance_api
from stackops.api import stacks as api
from stackops.cli.context import services, show
from stackops.cli.params import (
    RECORD_ID,
    AwsStyleCommand,
    build,
    given_fields,
    list_option,
    model_options,
)
from stackops.model.resources import StackSpec


@click.command("create-stack", cls=AwsStyleCommand)
@model_options(StackSpec, required=("name",))
@click.pass_context
def create_stack(ctx: click.Context, **values: Any) -> None:
    """Create a stack (layers, apps and instances are added to it)."""
    spec = build(StackSpec, given_fields(StackSpec, values))
    show(ctx, api.create_stack(services(ctx), spec))


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
    api.update_stack(services(ctx), stack_id, given_fields(StackSpec, values))
    show(ctx, None, f"updated stack {stack_id}")


@click.command("delete-stack")
@click.option("--stack-id", type=RECORD_ID, required=True)
@click.pass_context
def delete_stack(ctx: click.Context, stack_id: str) -> None:
    """Delete a stack that has no instances, apps or layers left."""
    api.delete_stack(services(ctx), stack_id)
    show(ctx, None, f"deleted stack {stack_id}")


@click.command("clone-stack", cls=AwsStyleCommand)
@click.option("--source-stack-id", type=RECORD_ID, required=True)
@list_option("--clone-app-ids", type=RECORD_ID, help="Apps of the source stack to copy.")
@model_options(StackSpec)
@click.pass_context
def clone_stack(
    ctx: click.Context, source_stack_id: str, clone_app_ids: tuple[str, ...], **values: Any
) -> None:
    """Copy a stack's settings and layers (and the apps named) into a new stack."""
    overrides = given_fields(StackSpec, values)
    show(ctx, api.clone_stack(services(ctx), source_stack_id, overrides, list(clone_app_ids)))


@click.command("describe-stack-summary")
@click.option("--stack-id", type=RECORD_ID, required=True)
@click.pass_context
def describe_stack_summary(ctx: click.Context, stack_id: str) -> None:
    """Counts of a stack's layers, apps and instances by status."""
    show(ctx, api.describe_stack_summary(services(ctx), stack_id))


@click.command("start-stack")
@click.option("--stack-id", type=RECORD_ID, required=True)
@click.pass_context
def start_stack(ctx: click.Context, stack_id: str) -> None:
    """Start every stopped instance of a stack."""
    show(ctx, instance_api.start_stack(services(ctx), stack_id))


@click.command("stop-stack")
@click.option("--stack-id", type=RECORD_ID, required=True)
@click.pass_context
def stop_stack(ctx: click.Context, stack_id: str) -> None:
    """Stop every running instance of a stack."""
    show(ctx, instance_api.stop_stack(services(ctx), stack_id))
