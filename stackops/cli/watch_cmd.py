"""`stackops watch`: publish EC2 state changes where the platform does not (moto, LocalStack)."""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import click

from stackops.cli.context import names, session, show
from stackops.cli.output import note
from stackops.cli.params import Seconds


@click.command()
@click.option(
    "--interval",
    type=Seconds(min=0.1),
    default=2.0,
    show_default=True,
    help="Seconds from one poll to the next.",
)
@click.option("--once", is_flag=True, help="Poll once, print what was published, and exit.")
@click.pass_context
def watch(ctx: click.Context, interval: float, once: bool) -> None:
    """Poll the tagged EC2 instances and put a state-change event on the bus for each change.

    Real EC2 emits these events itself; run this against a sandbox or LocalStack.
    As AWS would, it also ends the processes of a sandbox node whose EC2 instance it
    sees stopped or terminated. Stops cleanly on Ctrl-C or SIGTERM.
    """
    from stackops.aws.events import EventBus
    from stackops.lifecycle.watcher import PollResult, watcher_for
    from stackops.nodes import end_down_nodes, local_nodes_root

    aws = session(ctx)
    rule = names(ctx).rule
    if EventBus(aws).describe_rule(rule) is None:
        note(
            f"watch: rule {rule} does not exist, so events reach no queue; run 'stackops bootstrap'"
        )
    watcher = watcher_for(aws)

    def log(result: PollResult) -> None:
        states = [(change.instance_id, change.state) for change in result.changes]
        ended = set(end_down_nodes(local_nodes_root(), states))
        for change in result.changes:
            extra = ": its node's processes ended" if change.instance_id in ended else ""
            note(f"{change.instance_id} {change.state}{extra}")

    if once:
        result = watcher.poll()
        log(result)
        show(ctx, result.to_dict())
        return
    note(f"watch: polling every {interval:g}s; Ctrl-C to stop")
    with _stop_on_signals() as stop:
        polls = watcher.run(
            interval,
            should_stop=stop.is_set,
            sleep=stop.wait,
            on_poll=log,
            on_error=lambda exc: note(f"watch: poll failed, retrying: {exc}"),
        )
    note(f"watch: stopped after {polls} poll(s)")


@contextmanager
def _stop_on_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT or SIGTERM (a second signal aborts at once); handlers restored."""
    stop = threading.Event()

    def request_stop(signum: int, frame: FrameType | None) -> None:
        if stop.is_set():
            raise KeyboardInterrupt
        stop.set()

    previous = {}
    if threading.current_thread() is threading.main_thread():
        for sig in (signal.SIGINT, signal.SIGTERM):
            previous[sig] = signal.signal(sig, request_stop)
    try:
        yield stop
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
