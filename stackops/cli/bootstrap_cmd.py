"""`stackops bootstrap`: create the AWS side (idempotent), or print the IAM policy of a role."""

from __future__ import annotations

from pathlib import Path

import click

from stackops.aws.roles import DISPATCHER, ROLES
from stackops.cli.context import names, options, session
from stackops.cli.output import emit, note, to_json
from stackops.cli.params import LocalPath
from stackops.config import state_home


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
    "--dispatcher",
    type=click.Choice(["process", "lambda"]),
    default=None,
    help="Where the dispatcher runs: 'stackops dispatch' processes (default), or Lambda "
    "functions on the queue and the scaler's schedule. Default: as it runs now.",
)
@click.option(
    "--agent-wheels",
    type=LocalPath(file_okay=False, path_type=Path),
    help="A folder with the stackops wheel and its dependencies' wheels, to upload.",
)
@click.option(
    "--build-agent",
    is_flag=True,
    help="Build those wheels with pip (needs the package index), then upload them.",
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
    dispatcher: str | None,
    agent_wheels: Path | None,
    build_agent: bool,
    source_buckets: tuple[str, ...],
) -> None:
    """Create the state table, queues, event rule, artifacts bucket and IAM roles.

    With --build-agent or --agent-wheels, upload the agent instances install;
    with --dispatcher lambda, the dispatcher and scaler functions.
    """
    from stackops.bootstrap import BootstrapOptions

    if agent_wheels and build_agent:
        raise click.UsageError("give --agent-wheels or --build-agent, not both")
    chosen = BootstrapOptions(
        source_buckets=source_buckets,
        dispatcher=dispatcher,  # type: ignore[arg-type]
        agent_wheels=agent_wheels,
        build_agent=state_home() / "agent-wheels" if build_agent else None,
    )
    if print_iam_policy:
        from stackops.aws.iam_policy import build_policy

        note(f"IAM policy of role {role} (--role: {', '.join(ROLES)})")
        # A policy document is JSON whatever --output says: it is pasted into IAM as is.
        policy = build_policy(names(ctx), role=role, source_buckets=source_buckets)
        click.echo(to_json(policy))
        return
    from stackops.bootstrap import run_bootstrap

    prefix = "would " if dry_run else "done: "
    aws = session(ctx)
    result = run_bootstrap(
        aws,
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
    if result.agent_version is None and not dry_run and aws.target.kind == "account":
        note(
            "bootstrap: no agent uploaded: instances start without it unless their AMI has "
            "it (--build-agent or --agent-wheels DIR uploads it)"
        )
    emit(result.to_dict(), options(ctx).output)
