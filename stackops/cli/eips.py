"""register-, deregister-, associate-, disassociate-, update-, describe-elastic-ips."""

from __future__ import annotations

import click

from stackops.api import eips as api
from stackops.cli.context import services, show
from stackops.cli.params import ELASTIC_IP, RECORD_ID, AwsStyleCommand, list_option


@click.command("register-elastic-ip", cls=AwsStyleCommand)
@click.option(
    "--elastic-ip", type=ELASTIC_IP, required=True, help="An allocated Elastic IP address."
)
@click.option("--stack-id", type=RECORD_ID, required=True)
@click.pass_context
def register_elastic_ip(ctx: click.Context, elastic_ip: str, stack_id: str) -> None:
    """Register an Elastic IP with a stack (one stack at a time)."""
    show(ctx, api.register_elastic_ip(services(ctx), elastic_ip, stack_id))


@click.command("deregister-elastic-ip", cls=AwsStyleCommand)
@click.option("--elastic-ip", type=ELASTIC_IP, required=True)
@click.pass_context
def deregister_elastic_ip(ctx: click.Context, elastic_ip: str) -> None:
    """Deregister an Elastic IP (it stays allocated)."""
    api.deregister_elastic_ip(services(ctx), elastic_ip)
    show(ctx, None, f"deregistered {elastic_ip}")


@click.command("associate-elastic-ip", cls=AwsStyleCommand)
@click.option("--elastic-ip", type=ELASTIC_IP, required=True)
@click.option("--instance-id", type=RECORD_ID, help="The instance (of the address's stack).")
@click.pass_context
def associate_elastic_ip(ctx: click.Context, elastic_ip: str, instance_id: str | None) -> None:
    """Associate a registered Elastic IP with an instance (again at every boot)."""
    api.associate_elastic_ip(services(ctx), elastic_ip, instance_id)
    show(ctx, None, f"associated {elastic_ip} with instance {instance_id}")


@click.command("disassociate-elastic-ip", cls=AwsStyleCommand)
@click.option("--elastic-ip", type=ELASTIC_IP, required=True)
@click.pass_context
def disassociate_elastic_ip(ctx: click.Context, elastic_ip: str) -> None:
    """Detach a registered Elastic IP from its instance."""
    api.disassociate_elastic_ip(services(ctx), elastic_ip)
    show(ctx, None, f"disassociated {elastic_ip}")


@click.command("update-elastic-ip", cls=AwsStyleCommand)
@click.option("--elastic-ip", type=ELASTIC_IP, required=True)
@click.option("--name", help="The address's new name (empty: none).")
@click.pass_context
def update_elastic_ip(ctx: click.Context, elastic_ip: str, name: str | None) -> None:
    """Name a registered Elastic IP."""
    api.update_elastic_ip(services(ctx), elastic_ip, name)
    show(ctx, None, f"updated {elastic_ip}")


@click.command("describe-elastic-ips", cls=AwsStyleCommand)
@click.option("--instance-id", type=RECORD_ID)
@click.option("--stack-id", type=RECORD_ID)
@list_option("--ips", type=ELASTIC_IP)
@click.pass_context
def describe_elastic_ips(
    ctx: click.Context, instance_id: str | None, stack_id: str | None, ips: tuple[str, ...]
) -> None:
    """Registered Elastic IPs of an instance, of a stack, or by address."""
    show(ctx, api.describe_elastic_ips(services(ctx), instance_id, stack_id, list(ips) or None))
