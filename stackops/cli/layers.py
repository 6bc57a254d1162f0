"""create-layer, describe-layers, update-layer, delete-layer."""

from __future__ import annotations

from typing import Any

import click

from stackops.api import layers as api
from stackops.cli.context import services, show
from stackops.cli.params import (
    RECORD_ID,
    AwsStyleCommand,
    build,
    given_fields,
    list_option,
    model_options,
)
from stackops.model.layers import LayerSpec

# Set by their own verbs, as in OpsWorks (attach-elastic-load-balancer), not by options here.
LAYER_VERB_ONLY = ("elastic_load_balancer",)


@click.command("create-layer", cls=AwsStyleCommand)
@click.option("--stack-id", type=RECORD_ID, required=True)
@model_options(LayerSpec, exclude=LAYER_VERB_ONLY, required=("type", "name", "shortname"))
@click.pass_context
def create_layer(ctx: click.Context, stack_id: str, **values: Any) -> None:
    """Create a layer (a role: lb, app, db, custom) in a stack."""
    spec = build(LayerSpec, given_fields(LayerSpec, values))
    show(ctx, api.create_layer(services(ctx), stack_id, spec))


@click.command("describe-layers", cls=AwsStyleCommand)
@click.option("--stack-id", type=RECORD_ID)
@list_option("--layer-ids", type=RECORD_ID)
@click.pass_context
def describe_layers(ctx: click.Context, stack_id: str | None, layer_ids: tuple[str, ...]) -> None:
    """Describe the layers of a stack, or the layers named."""
    show(ctx, api.describe_layers(services(ctx), stack_id, list(layer_ids) or None))


@click.command("update-layer", cls=AwsStyleCommand)
@click.option("--layer-id", type=RECORD_ID, required=True)
@model_options(LayerSpec, exclude=("type", *LAYER_VERB_ONLY))
@click.pass_context
def update_layer(ctx: click.Context, layer_id: str, **values: Any) -> None:
    """Change a layer's settings."""
    api.update_layer(services(ctx), layer_id, given_fields(LayerSpec, values))
    show(ctx, None, f"updated layer {layer_id}")


@click.command("delete-layer", cls=AwsStyleCommand)
@click.option("--layer-id", type=RECORD_ID, required=True)
@click.pass_context
def delete_layer(ctx: click.Context, layer_id: str) -> None:
    """Delete a layer that has no instances."""
    api.delete_layer(services(ctx), layer_id)
    show(ctx, None, f"deleted layer {layer_id}")
