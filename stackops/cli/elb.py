"""attach-elastic-load-balancer, detach-elastic-load-balancer, describe-elastic-load-balancers."""

from __future__ import annotations

import click

from stackops.api import elb as api
from stackops.cli.context import services, show
from stackops.cli.params import ELB_NAME, RECORD_ID, AwsStyleCommand, list_option


@click.command("attach-elastic-load-balancer", cls=AwsStyleCommand)
@click.option(
    "--elastic-load-balancer-name", type=ELB_NAME, required=True, help="A Classic Load Balancer."
)
@click.option("--layer-id", type=RECORD_ID, required=True)
@click.pass_context
def attach_elastic_load_balancer(
    ctx: click.Context, elastic_load_balancer_name: str, layer_id: str
) -> None:
    """Attach a Classic ELB to a layer; its online instances are registered with it."""
    api.attach_elastic_load_balancer(services(ctx), elastic_load_balancer_name, layer_id)
    show(ctx, None, f"attached {elastic_load_balancer_name} to layer {layer_id}")


@click.command("detach-elastic-load-balancer", cls=AwsStyleCommand)
@click.option("--elastic-load-balancer-name", type=ELB_NAME, required=True)
@click.option("--layer-id", type=RECORD_ID, required=True)
@click.pass_context
def detach_elastic_load_balancer(
    ctx: click.Context, elastic_load_balancer_name: str, layer_id: str
) -> None:
    """Detach a layer's Classic ELB; the layer's instances are deregistered from it."""
    api.detach_elastic_load_balancer(services(ctx), elastic_load_balancer_name, layer_id)
    show(ctx, None, f"detached {elastic_load_balancer_name} from layer {layer_id}")


@click.command("describe-elastic-load-balancers", cls=AwsStyleCommand)
@click.option("--stack-id", type=RECORD_ID)
@list_option("--layer-ids", type=RECORD_ID)
@click.pass_context
def describe_elastic_load_balancers(
    ctx: click.Context, stack_id: str | None, layer_ids: tuple[str, ...]
) -> None:
    """The load balancers of a stack's layers, or of the layers named."""
    show(ctx, api.describe_elastic_load_balancers(services(ctx), stack_id, list(layer_ids) or None))
