"""create-app, describe-apps, update-app, delete-app."""

from __future__ import annotations

from typing import Any

import click

from stackops.api import apps as api
from stackops.cli.context import services, show
from stackops.cli.params import (
    RECORD_ID,
    AwsStyleCommand,
    build,
    given_fields,
    list_option,
    model_options,
)
from stackops.model.apps import AppSpec


@click.command("create-app", cls=AwsStyleCommand)
@click.option("--stack-id", type=RECORD_ID, required=True)
@model_options(AppSpec, required=("name",))
@click.pass_context
def create_app(ctx: click.Context, stack_id: str, **values: Any) -> None:
    """Create an app (deployable code) in a stack."""
    spec = build(AppSpec, given_fields(AppSpec, values))
    show(ctx, api.create_app(services(ctx), stack_id, spec))


@click.command("describe-apps", cls=AwsStyleCommand)
@click.option("--stack-id", type=RECORD_ID)
@list_option("--app-ids", type=RECORD_ID)
@click.pass_context
def describe_apps(ctx: click.Context, stack_id: str | None, app_ids: tuple[str, ...]) -> None:
    """Describe the apps of a stack, or the apps named (protected values filtered)."""
    show(ctx, api.describe_apps(services(ctx), stack_id, list(app_ids) or None))


@click.command("update-app", cls=AwsStyleCommand)
@click.option("--app-id", type=RECORD_ID, required=True)
@model_options(AppSpec, exclude=("shortname",))
@click.pass_context
def update_app(ctx: click.Context, app_id: str, **values: Any) -> None:
    """Change an app's settings; --environment replaces the whole environment."""
    api.update_app(services(ctx), app_id, given_fields(AppSpec, values))
    show(ctx, None, f"updated app {app_id}")


@click.command("delete-app", cls=AwsStyleCommand)
@click.option("--app-id", type=RECORD_ID, required=True)
@click.pass_context
def delete_app(ctx: click.Context, app_id: str) -> None:
    """Undeploy an app from its instances, then delete it and its protected values."""
    outcome = api.delete_app(services(ctx), app_id)
    show(ctx, None, f"app {app_id}: {outcome}")
