"""`stackops dispatch`: the lifecycle worker; `describe-commands` and `logs`: what it did."""

from __future__ import annotations

import json
import logging
import signal
import threading
from pathlib import Path

import click

from stackops.cli.context import options, services, show
from stackops.cli.params import RECORD_ID, AwsStyleCommand, LocalPath, list_option
from stackops.config import state_home


@click.command("dispatch")
@click.option("--once", is_flag=True, help="Handle one batch (up to 10 messages) and exit.")
@click.option("--drain", is_flag=True, help="Handle batches until the queue is empty, then exit.")
@click.option(
    "--executor",
    default=None,
    help="Where recipes run: local (sandbox nodes on this host) or ssm. "
    "Default: local on a sandbox or endpoint, ssm on an AWS account.",
)
@click.option(
    "--cookbooks",
    "cookbooks",
    multiple=True,
    type=LocalPath(exists=True, file_okay=False, path_type=Path),
    help="Cookbook folders searched before ./recipes and the built-in cookbook.",
)
@click.option("--workers", type=click.IntRange(1, 64), default=8, show_default=True)
@click.option(
    "--visibility-timeout",
    type=click.IntRange(1, 43200),
    default=300,
    show_default=True,
    help="Seconds a received message stays hidden; extended while its work runs.",
)
@click.option(
    "--sweep-every",
    type=click.FloatRange(0.1, 86400),
    default=60.0,
    show_default=True,
    help="Seconds between sweeps for what dead dispatchers left (one sweep for all of them).",
)
@click.option(
    "--poll-wait",
    type=click.IntRange(0, 20),
    default=20,
    show_default=True,
    help="Seconds each receive waits for messages (long polling).",
)
@click.option(
    "--print-systemd-unit",
    is_flag=True,
    help="Print a systemd unit that runs this dispatcher as a service, and exit (no AWS call).",
)
@click.pass_context
def dispatch(
    ctx: click.Context,
    once: bool,
    drain: bool,
    executor: str | None,
    cookbooks: tuple[Path, ...],
    workers: int,
    visibility_timeout: int,
    sweep_every: float,
    poll_wait: int,
    print_systemd_unit: bool,
) -> None:
    """Run the lifecycle dispatcher on the queue: setup, configure, deploy, shutdown."""
    if print_systemd_unit:
        from stackops.dispatch_unit import systemd_unit

        opts = options(ctx)
        click.echo(
            systemd_unit(
                namespace=opts.namespace,
                region=opts.region,
                profile=opts.profile,
                endpoint_url=opts.endpoint_url,
                executor=executor or "ssm",
                workers=workers,
                visibility_timeout=visibility_timeout,
                cookbooks=[str(c.resolve()) for c in cookbooks],
            ),
            nl=False,
        )
        return
    from stackops.lifecycle.runtime import build_dispatcher

    svc = services(ctx)
    kind = executor or ("ssm" if svc.session.target.kind == "account" else "local")
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s", datefmt="%H:%M:%S")
    dispatcher = build_dispatcher(
        svc,
        executor=kind,
        cookbooks=cookbooks,
        nodes_root=state_home() / "nodes",
        workers=workers,
        visibility_timeout=visibility_timeout,
        sweep_every_seconds=sweep_every,
    )
    if once or drain:
        outcome = dispatcher.drain() if drain else dispatcher.poll()
        show(ctx, outcome.to_dict())
        return
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    click.echo(f"dispatching ({kind} executor); Ctrl-C stops", err=True)
    try:
        dispatcher.serve(stop, wait_seconds=poll_wait)
    except KeyboardInterrupt:
        stop.set()


@click.command("describe-commands", cls=AwsStyleCommand)
@click.option("--instance-id", type=RECORD_ID)
@list_option("--command-ids", type=RECORD_ID)
@click.option("--deployment-id", type=RECORD_ID)
@click.pass_context
def describe_commands(
    ctx: click.Context,
    instance_id: str | None,
    command_ids: tuple[str, ...],
    deployment_id: str | None,
) -> None:
    """Commands (one run of recipes on one instance) by instance, deployment or id."""
    from stackops.api.commands import describe_commands as describe

    show(ctx, describe(services(ctx), instance_id, list(command_ids), deployment_id))


@click.command("logs")
@click.argument("command_id", type=RECORD_ID)
@click.pass_context
def logs(ctx: click.Context, command_id: str) -> None:
    """The converge report of one command (text; --output json for the whole record)."""
    from stackops.api.commands import command_log

    body = command_log(services(ctx), command_id)
    if options(ctx).output in ("json", "yaml") and _explicit_output(ctx):
        show(ctx, body)
    else:
        click.echo(body.get("Log") or json.dumps(body.get("Report"), indent=2))


def _explicit_output(ctx: click.Context) -> bool:
    root = ctx.find_root()
    source = root.get_parameter_source("output")
    return source is not None and source.name != "DEFAULT"
