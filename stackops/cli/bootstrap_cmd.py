"""`stackops bootstrap`: create the AWS side (idempotent), or print the IAM policy of a role."""

from __future__ import annotations

import click

from stackops.aws.roles import DISPATCHER, ROLES
from stackops.cli.context import names, options, session
from stackops.cli.output import emit, note, to_json


@click.command()
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option(
    "--print-iam-policy",
    is_flag=True,
    help="Print the least-privilege IAM policy of --role (no AWS call).",
)
@click.option(
    "--role",
    type=click.Choice(ROLES),
    default=DISPATCHER,
    show_default=True,
    help="Whose policy --print-iam-policy prints.",
)
@click.option(
    "--source-bucket",
    "source_buckets",
    multiple=True,
    metavar="BUCKET",
    help="A bucket of app or cookbook archives the instances read (repeatable).",
)
@click.pass_context
def bootstrap(
    ctx: click.Context,
    dry_run: bool,
    print_iam_policy: bool,
    role: str,
    source_buckets: tuple[str, ...],
) -> None:
    """Create the state table, queues, event rule, artifacts bucket and IAM roles."""
    from stackops.bootstrap import BootstrapOptions

    chosen = BootstrapOptions(source_buckets=source_buckets)
    if print_iam_policy:
        from stackops.aws.iam_policy import build_policy

        note(f"IAM policy of role {role} (--role: {', '.join(ROLES)})")
        # A policy document is JSON whatever --output says: it is pasted into IAM as is.
        policy = build_policy(names(ctx), role=role, source_buckets=source_buckets)
        click.echo(to_json(policy))
        return
    from stackops.bootstrap import run_bootstrap

    prefix = "would " if dry_run else "done: "
    result = run_bootstrap(
        session(ctx),
        names(ctx),
        dry_run=dry_run,
        on_done=lambda s: note(prefix + s.describe()),
        options=chosen,
    )
    if dry_run:
        for step in result.steps:
            note(prefix + step.describe())
    count = len(result.steps)
    if not count:
        note(f"bootstrap: nothing to do, namespace {result.names.namespace} is up to date")
    elif dry_run:
        note(f"bootstrap: dry run, {count} step(s) would run; nothing was changed")
    else:
        note(f"bootstrap: {count} step(s) done for namespace {result.names.namespace}")
    emit(result.to_dict(), options(ctx).output)
