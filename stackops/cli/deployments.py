"""create-deployment, describe-deployments, continue-deployment, abort-deployment."""

from __future__ import annotations

from typing import TYPE_CHECKING

import click

from stackops.cli.context import services, show
from stackops.cli.output import note
from stackops.cli.params import (
    RECORD_ID,
    AwsStyleCommand,
    build,
    list_option,
    read_json,
    read_option_text,
)

if TYPE_CHECKING:
    from stackops.model.deployments import Deployment


@click.command("create-deployment", cls=AwsStyleCommand)
@click.option("--stack-id", type=RECORD_ID, required=True)
@click.option(
    "--app-id", type=RECORD_ID, help="The app (deploy, rollback, undeploy, start, stop, restart)."
)
@click.option(
    "--command",
    "command_json",
    required=True,
    metavar="JSON",
    help='OpsWorks DeploymentCommand: {"Name": "deploy", "Args": {"migrate": ["true"]}}.',
)
@list_option(
    "--instance-ids",
    type=RECORD_ID,
    help="Instances to run on (default: the app's online instances).",
)
@list_option("--layer-ids", type=RECORD_ID, help="Run on the online instances of these layers.")
@click.option("--custom-json", metavar="JSON", help="Merged over the stack's and layers'.")
@click.option("--comment")
@click.option("--strategy", help="all_at_once (default), rolling, pilot or half.")
@click.option("--batch-size", help="rolling: instances per batch, N or N%.")
@click.option(
    "--on-failure",
    type=click.Choice(["rollback_all", "rollback_failed", "stop"]),
    help="What a failure beyond --max-failures does (default: the strategy's).",
)
@click.option("--max-failures", help="Instances that may fail: N or N% (default 0).")
@click.option("--pause", is_flag=True, help="half: hold after the first half until continued.")
@click.option(
    "--wait",
    is_flag=True,
    help="Follow it to its end, progress on stderr; exit 0 successful (or paused, as "
    "asked), 1 failed or not ended within --wait-timeout.",
)
@click.option(
    "--wait-timeout",
    type=click.FloatRange(min=1),
    default=3600,
    show_default=True,
    help="Seconds --wait follows it.",
)
@click.pass_context
def create_deployment(
    ctx: click.Context,
    stack_id: str,
    app_id: str | None,
    command_json: str,
    instance_ids: tuple[str, ...],
    layer_ids: tuple[str, ...],
    custom_json: str | None,
    comment: str | None,
    strategy: str | None,
    batch_size: str | None,
    on_failure: str | None,
    max_failures: str | None,
    pause: bool,
    wait: bool,
    wait_timeout: float,
) -> None:
    """Run a command (deploy, rollback, setup, configure, ...) on a stack's instances."""
    from stackops.api.deployments import create_deployment as create
    from stackops.model.deployments import DeploymentCommand
    from stackops.model.validation import parse_custom_json

    command = build(DeploymentCommand, read_json("--command", command_json), "--command")
    extra = {}
    if custom_json:
        text, source = read_option_text("--custom-json", custom_json)
        extra = parse_custom_json(text, source)
    svc = services(ctx)
    result = create(
        svc,
        stack_id=stack_id,
        app_id=app_id,
        command=command,
        instance_ids=list(instance_ids),
        layer_ids=list(layer_ids),
        custom_json=extra,
        comment=comment,
        strategy=strategy,
        batch_size=batch_size,
        on_failure=on_failure,
        max_failures=max_failures,
        pause=pause,
    )
    if not wait:
        show(ctx, result)
        return
    from stackops.api.waiting import wait_for_deployment

    ended = wait_for_deployment(
        svc, result["DeploymentId"], on_progress=_progress, timeout=wait_timeout
    )
    done = ended.record
    show(
        ctx,
        {"DeploymentId": done.deployment_id, "Status": done.status.value, "Message": done.message},
    )
    if not ended.ok:
        ctx.exit(1)


def _progress(deployment: Deployment, stalled: float) -> None:
    """One line per change, on stderr (stdout stays the JSON result)."""
    if stalled:
        note(
            f"{deployment.status.value} for {stalled:.0f} s with no change: "
            "is 'stackops dispatch' running?"
        )
        return
    parts = []
    for batch in deployment.batches:
        failed = len(batch.failed_instance_ids)
        size = len(batch.instance_ids)
        match batch.status:
            case "successful" | "failed":
                parts.append(f"batch {batch.index + 1}: {size - failed} done, {failed} failed")
            case "running":
                switched = len(batch.switched_instance_ids)
                parts.append(
                    f"batch {batch.index + 1}: running {size}, {switched} switched, {failed} failed"
                )
            case _:
                parts.append(f"batch {batch.index + 1}: {size} pending")
    line = "; ".join(parts) or "starting"
    suffix = f" ({deployment.message})" if deployment.message else ""
    note(f"{deployment.status.value}: {line}{suffix}")


@click.command("describe-deployments", cls=AwsStyleCommand)
@click.option("--stack-id", type=RECORD_ID)
@click.option("--app-id", type=RECORD_ID)
@list_option("--deployment-ids", type=RECORD_ID)
@click.pass_context
def describe_deployments(
    ctx: click.Context, stack_id: str | None, app_id: str | None, deployment_ids: tuple[str, ...]
) -> None:
    """Deployments of a stack or an app, or those named, newest first."""
    from stackops.api.deployments import describe_deployments as describe

    show(ctx, describe(services(ctx), stack_id, app_id, list(deployment_ids)))


@click.command("continue-deployment")
@click.option("--deployment-id", type=RECORD_ID, required=True)
@click.pass_context
def continue_deployment(ctx: click.Context, deployment_id: str) -> None:
    """Let a paused (half) deployment deploy the rest."""
    from stackops.api.deployments import continue_deployment as go_on

    show(ctx, None, f"deployment {deployment_id}: {go_on(services(ctx), deployment_id)}")


@click.command("abort-deployment")
@click.option("--deployment-id", type=RECORD_ID, required=True)
@click.pass_context
def abort_deployment(ctx: click.Context, deployment_id: str) -> None:
    """Stop a deployment and switch the instances it switched back."""
    from stackops.api.deployments import abort_deployment as abort

    show(ctx, None, f"deployment {deployment_id}: {abort(services(ctx), deployment_id)}")
