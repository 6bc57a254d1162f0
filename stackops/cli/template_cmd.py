"""`stackops template`: the AWS side as a CloudFormation template, for teams that deploy so."""

from __future__ import annotations

import click

from stackops.cli.context import names, options
from stackops.cli.output import emit, note


@click.command()
@click.option(
    "--dispatcher",
    type=click.Choice(["process", "lambda"]),
    default="process",
    show_default=True,
    help="lambda adds the dispatcher and scaler functions (parameters CodeBucket, CodeKey).",
)
@click.option(
    "--source-bucket",
    "source_buckets",
    multiple=True,
    metavar="BUCKET",
    help="A bucket of app or cookbook archives the instances read (repeatable).",
)
@click.pass_context
def template(ctx: click.Context, dispatcher: str, source_buckets: tuple[str, ...]) -> None:
    """Print what `stackops bootstrap` creates as a CloudFormation template (no AWS call).

    \b
    stackops template > stackops.json
    stackops --output yaml template --dispatcher lambda > stackops.yaml
    """
    from stackops.cfn_template import build_template

    note(f"template: namespace {names(ctx).namespace}, {dispatcher} dispatcher")
    body = build_template(
        names(ctx),
        dispatcher=dispatcher,  # type: ignore[arg-type]
        source_buckets=source_buckets,
    )
    fmt = options(ctx).output
    emit(body, "yaml" if fmt == "yaml" else "json")  # a template is JSON or YAML, never a table
