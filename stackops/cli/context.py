"""What a command needs from the edge: options, the target, an AWS session, the store."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from stackops.cli.main import GlobalOptions
from stackops.cli.output import note
from stackops.config import Target, choose_target, state_home
from stackops.naming import ResourceNames

if TYPE_CHECKING:
    from stackops.aws.session import AwsSession
    from stackops.services import Services


def options(ctx: click.Context) -> GlobalOptions:
    """The global options parsed by the `stackops` group."""
    opts = ctx.find_object(GlobalOptions)
    if opts is None:  # a command invoked on its own (tests of a single command)
        opts = GlobalOptions(None, None, None, "stackops", "json", False)
    return opts


def names(ctx: click.Context) -> ResourceNames:
    """Resource names for the chosen namespace."""
    return ResourceNames(options(ctx).namespace)


def target(ctx: click.Context) -> Target:
    """The AWS target chosen by the rules of `stackops.config`."""
    opts = options(ctx)
    return choose_target(
        endpoint_url=opts.endpoint_url, region=opts.region, profile=opts.profile, home=state_home()
    )


def session(ctx: click.Context) -> AwsSession:
    """An AWS session on the target, made once per command; says the target on stderr."""
    cached = ctx.meta.get("stackops.session")
    if cached is not None:
        return cached
    from stackops.aws.session import AwsSession

    chosen = target(ctx)
    made = AwsSession(chosen)
    account = made.account_id() if chosen.kind == "account" else None
    note(chosen.describe(account))
    ctx.meta["stackops.session"] = made
    return made


def services(ctx: click.Context) -> Services:
    """The parts a command works with, on the chosen target."""
    from stackops.services import Services

    return Services(session(ctx), names(ctx))


def show(ctx: click.Context, result: object, message: str | None = None) -> None:
    """Render a verb's result on stdout (nothing for verbs OpsWorks answers with nothing)."""
    from stackops.cli.output import emit

    if message:
        note(message)
    emit(result, options(ctx).output)
