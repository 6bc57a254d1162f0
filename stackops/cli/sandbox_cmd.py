"""`stackops sandbox up|down|status`: the embedded AWS (a moto server) on loopback."""

from __future__ import annotations

import click

from stackops.cli.context import options
from stackops.cli.output import emit, note
from stackops.config import DEFAULT_REGION, SANDBOX_PORT, state_home
from stackops.sandbox import sandbox_status, start_sandbox, stop_sandbox


@click.group()
def sandbox() -> None:
    """Run the embedded AWS sandbox (moto) in the background."""


@sandbox.command()
@click.option(
    "--port",
    type=click.IntRange(1, 65535),
    default=SANDBOX_PORT,
    show_default=True,
    envvar="STACKOPS_SANDBOX_PORT",
    help="Loopback port (LocalStack's by default).",
)
@click.pass_context
def up(ctx: click.Context, port: int) -> None:
    """Start the sandbox, or say where it already runs."""
    home = state_home()
    before = sandbox_status(home)
    if before.running:
        note(f"sandbox already running at {before.endpoint_url} (pid {before.pid})")
    else:
        info = start_sandbox(home, port, region=options(ctx).region or DEFAULT_REGION)
        note(f"sandbox up at {info.endpoint_url} (pid {info.pid}, log {before.log})")
    emit(sandbox_status(home).to_dict(), options(ctx).output)


@sandbox.command()
@click.pass_context
def down(ctx: click.Context) -> None:
    """Stop the sandbox (its state is lost)."""
    home = state_home()
    before = sandbox_status(home)
    stopped = stop_sandbox(home)
    note(f"sandbox stopped (pid {before.pid})" if stopped else "sandbox was not running")
    emit(sandbox_status(home).to_dict(), options(ctx).output)


@sandbox.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """Say whether the sandbox runs, its endpoint, pid and log."""
    emit(sandbox_status(state_home()).to_dict(), options(ctx).output)
