"""tag-resource, untag-resource, list-tags: on stack and layer ARNs."""

from __future__ import annotations

import click

from stackops.api import tags as api
from stackops.cli.context import services, show
from stackops.cli.params import AwsStyleCommand, list_option
from stackops.cli.shorthand import structured_value


@click.command("tag-resource", cls=AwsStyleCommand)
@click.option("--resource-arn", required=True, help="A stack's or layer's Arn.")
@click.option("--tags", required=True, metavar="MAP", help="Key=value,Key2=value2 or JSON.")
@click.pass_context
def tag_resource(ctx: click.Context, resource_arn: str, tags: str) -> None:
    """Tag a stack or layer; its EC2 instances carry the tags too."""
    api.tag_resource(services(ctx), resource_arn, structured_value("--tags", tags))
    show(ctx, None, f"tagged {resource_arn}")


@click.command("untag-resource", cls=AwsStyleCommand)
@click.option("--resource-arn", required=True)
@list_option("--tag-keys", required=True, help="Keys of the tags to remove.")
@click.pass_context
def untag_resource(ctx: click.Context, resource_arn: str, tag_keys: tuple[str, ...]) -> None:
    """Remove tags from a stack or layer and from its EC2 instances."""
    api.untag_resource(services(ctx), resource_arn, list(tag_keys))
    show(ctx, None, f"untagged {resource_arn}")


@click.command("list-tags", cls=AwsStyleCommand)
@click.option("--resource-arn", required=True)
@click.option("--max-results", type=int)
@click.option("--next-token")
@click.pass_context
def list_tags(
    ctx: click.Context, resource_arn: str, max_results: int | None, next_token: str | None
) -> None:
    """A stack's or layer's tags."""
    show(ctx, api.list_tags(services(ctx), resource_arn, max_results, next_token))
