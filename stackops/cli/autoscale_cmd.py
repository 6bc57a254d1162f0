"""Time- and load-based instances: OpsWorks's four auto scaling verbs, and the scaler."""

from __future__ import annotations

import signal
import threading

import click

from stackops.cli.context import services, show
from stackops.cli.output import note
from stackops.cli.params import RECORD_ID, AwsStyleCommand, build, list_option, read_json
from stackops.errors import InvalidInput, StackopsError


@click.command("set-time-based-auto-scaling", cls=AwsStyleCommand)
@click.option("--instance-id", type=RECORD_ID, required=True)
@click.option(
    "--auto-scaling-schedule",
    metavar="JSON",
    help='Day -> UTC hour -> "on", e.g. \'{"Monday": {"9": "on", "10": "on"}}\' '
    "(hours not given are off).",
)
@click.pass_context
def set_time_based_auto_scaling(
    ctx: click.Context, instance_id: str, auto_scaling_schedule: str | None
) -> None:
    """Set a time-based instance's weekly schedule (UTC hours)."""
    from stackops.api.autoscaling import set_time_based_auto_scaling as set_schedule
    from stackops.model.autoscaling import WeeklyAutoScalingSchedule

    option = "--auto-scaling-schedule"
    schedule = None
    if auto_scaling_schedule is not None:
        raw = read_json(option, auto_scaling_schedule)
        schedule = build(WeeklyAutoScalingSchedule, raw, option)
    set_schedule(services(ctx), instance_id, schedule)
    show(ctx, None, f"schedule set for instance {instance_id}")


@click.command("describe-time-based-auto-scaling", cls=AwsStyleCommand)
@list_option("--instance-ids", type=RECORD_ID, required=True)
@click.pass_context
def describe_time_based_auto_scaling(ctx: click.Context, instance_ids: tuple[str, ...]) -> None:
    """The schedules of time-based instances."""
    from stackops.api.autoscaling import describe_time_based_auto_scaling as describe

    show(ctx, describe(services(ctx), list(instance_ids)))


@click.command("set-load-based-auto-scaling", cls=AwsStyleCommand)
@click.option("--layer-id", type=RECORD_ID, required=True)
@click.option("--enable/--no-enable", default=None, help="Turn load-based scaling on or off.")
@click.option("--up-scaling", metavar="JSON", help="AutoScalingThresholds to start instances.")
@click.option("--down-scaling", metavar="JSON", help="AutoScalingThresholds to stop instances.")
@click.pass_context
def set_load_based_auto_scaling(
    ctx: click.Context,
    layer_id: str,
    enable: bool | None,
    up_scaling: str | None,
    down_scaling: str | None,
) -> None:
    """Set a layer's load-based scaling: thresholds, wait and ignore times, counts."""
    from stackops.api.autoscaling import set_load_based_auto_scaling as set_thresholds
    from stackops.model.autoscaling import AutoScalingThresholds

    def thresholds(option: str, text: str | None) -> AutoScalingThresholds | None:
        if text is None:
            return None
        return build(AutoScalingThresholds, read_json(option, text), option)

    up = thresholds("--up-scaling", up_scaling)
    down = thresholds("--down-scaling", down_scaling)
    set_thresholds(services(ctx), layer_id, enable, up, down)
    show(ctx, None, f"load-based scaling set for layer {layer_id}")


@click.command("describe-load-based-auto-scaling", cls=AwsStyleCommand)
@list_option("--layer-ids", type=RECORD_ID, required=True)
@click.pass_context
def describe_load_based_auto_scaling(ctx: click.Context, layer_ids: tuple[str, ...]) -> None:
    """The load-based scaling of layers."""
    from stackops.api.autoscaling import describe_load_based_auto_scaling as describe

    show(ctx, describe(services(ctx), list(layer_ids)))


@click.command("autoscale", cls=AwsStyleCommand)
@click.option("--once", is_flag=True, help="One decision round, then exit (scripts, tests).")
@click.option(
    "--now",
    metavar="TIME",
    help="With --once: decide as if it were this moment (ISO 8601, UTC), e.g. "
    "2026-12-07T09:05:00Z.",
)
@click.option(
    "--interval",
    type=click.IntRange(5, 3600),
    default=60,
    show_default=True,
    help="Seconds between rounds of the loop.",
)
@list_option("--stack-ids", type=RECORD_ID, help="Only these stacks (default: every stack).")
@click.option("--dry-run", is_flag=True, help="Decide and show, start and stop nothing.")
@click.option("--history", is_flag=True, help="Show the recorded scaling actions instead.")
@click.option(
    "--limit",
    type=click.IntRange(1, 1000),
    default=50,
    show_default=True,
    help="With --history: how many, newest first.",
)
@click.pass_context
def autoscale(
    ctx: click.Context,
    once: bool,
    now: str | None,
    interval: int,
    stack_ids: tuple[str, ...],
    dry_run: bool,
    history: bool,
    limit: int,
) -> None:
    """The scaler: start and stop time-based and load-based instances.

    \b
    stackops autoscale                 # a round every --interval seconds; Ctrl-C stops
    stackops autoscale --once --now 2026-12-07T09:05:00Z
    stackops autoscale --history --stack-ids S
    """
    from stackops.api.autoscaling import autoscale_round, parse_moment, scaling_history

    if history:
        show(ctx, scaling_history(services(ctx), list(stack_ids), limit))
        return
    if now is not None and not once and not dry_run:
        raise InvalidInput("--now needs --once (or --dry-run): a loop runs on the clock")
    moment = parse_moment("--now", now) if now is not None else None
    svc = services(ctx)
    if once or dry_run:
        report = autoscale_round(svc, moment, list(stack_ids), dry_run=dry_run)
        show(ctx, report)
        if report.get("Failed"):
            failed = report["Failed"][0]
            raise StackopsError(f"the round failed for stack {failed['Name']}: {failed['Error']}")
        return
    from stackops.autoscale.round import Scaler

    scaler = Scaler(svc)
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    note(f"scaling every {interval} s; Ctrl-C stops")
    try:
        while not stop.is_set():
            try:
                report = autoscale_round(svc, None, list(stack_ids), scaler=scaler)
            except StackopsError as exc:  # a failed round is reported; the next one runs
                note(f"round failed: {exc}")
                stop.wait(interval)
                continue
            for failed in report.get("Failed", []):
                note(f"{report['DecidedAt']} stack {failed['Name']}: {failed['Error']}")
            for action in report["Actions"]:
                note(
                    f"{report['DecidedAt']} {action['Action']} {action['Hostname']}: "
                    f"{action['Outcome']} ({action['Reason']})"
                )
            stop.wait(interval)
    except KeyboardInterrupt:
        stop.set()
    finally:
        signal.signal(signal.SIGTERM, previous)
