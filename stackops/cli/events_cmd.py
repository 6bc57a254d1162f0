"""`stackops events ...`: the lifecycle event queues (for now, the dead-letter queue)."""

from __future__ import annotations

import click

from stackops.cli.context import names, session, show


@click.group()
def events() -> None:
    """Look at the lifecycle event queues."""


@events.command()
@click.option("--redrive", is_flag=True, help="Move the messages back to the lifecycle queue.")
@click.option(
    "--max",
    "limit",
    type=click.IntRange(min=1),
    default=None,
    help="At most this many messages (default: 100 listed, all redriven).",
)
@click.option(
    "--wait-seconds",
    type=click.IntRange(0, 20),
    default=1,
    show_default=True,
    help="Long-poll each receive this long (0: short polling, may miss messages on AWS).",
)
@click.pass_context
def dlq(ctx: click.Context, redrive: bool, limit: int | None, wait_seconds: int) -> None:
    """List the dead-letter queue (messages stay), or move them back with --redrive.

    Listing shows each message's id, receive count, sent time and a one-line summary.
    --redrive sends each body to the lifecycle queue, then deletes it from the DLQ.
    """
    from stackops.aws.sqs import Queue
    from stackops.lifecycle import dlq as dead_letters

    aws, resource_names = session(ctx), names(ctx)
    dead_letter_queue = Queue(aws, resource_names.dead_letter_queue)
    if redrive:
        result = dead_letters.redrive(
            dead_letter_queue,
            Queue(aws, resource_names.queue),
            limit=limit,
            wait_seconds=wait_seconds,
        )
        message = f"dlq: {result.redriven} message(s) moved to {resource_names.queue}"
        if result.not_deleted:
            message += f"; {len(result.not_deleted)} could not be deleted and will come again"
        show(ctx, result.to_dict(), message)
        return
    listed = dead_letters.list_dead_letters(
        dead_letter_queue,
        limit=limit or dead_letters.DEFAULT_LIST_MAX,
        wait_seconds=wait_seconds,
    )
    message = f"dlq: {len(listed)} message(s) in {resource_names.dead_letter_queue}"
    if len(listed) == (limit or dead_letters.DEFAULT_LIST_MAX):
        message += " shown; there may be more (--max N shows up to N)"
    show(ctx, {"Messages": [m.to_dict() for m in listed]}, message)
