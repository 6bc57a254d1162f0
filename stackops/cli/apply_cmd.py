"""`stackops apply -f FILE` and `stackops schema`."""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING

import click

from stackops.cli.context import services, show
from stackops.cli.output import note
from stackops.cli.params import LocalPath

if TYPE_CHECKING:
    from stackops.model.plan import Plan


@click.command("apply")
@click.option(
    "-f",
    "--file",
    "path",
    required=True,
    type=LocalPath(path_type=Path),
    help="Stack file (YAML).",
)
@click.option("--dry-run", is_flag=True, help="Print the plan; change nothing.")
@click.option(
    "--prune", is_flag=True, help="Also delete layers, apps and instances the file omits."
)
@click.pass_context
def apply(ctx: click.Context, path: Path, dry_run: bool, prune: bool) -> None:
    """Make a stack match its file: create, update (and with --prune delete) records."""
    from stackops.api.apply import plan_apply, run_plan
    from stackops.model.stackfile import load_stack_file

    desired = load_stack_file(path)  # every validation before any AWS call
    svc = services(ctx)
    plan, current = plan_apply(svc, desired, prune=prune)
    note(plan.render(str(path)))  # the plan, for the human, on stderr
    if dry_run or plan.is_empty:
        stack_id = current.stack.stack_id if current.stack else None
        show(ctx, {"StackId": stack_id, "DryRun": dry_run, "Changes": _changes(plan)})
        return
    done = run_plan(
        svc, plan, current, on_done=lambda c: note(f"done: {c.action} {c.kind} {c.key}")
    )
    counts = f"{done['Created']} created, {done['Updated']} updated, {done['Deleted']} deleted"
    note(f"Applied: {counts}.")
    show(ctx, {**done, "Changes": _changes(plan)})


def _changes(plan: Plan) -> list[dict[str, object]]:
    return [
        {
            "Action": c.action,
            "Kind": c.kind,
            "Key": c.key,
            **({"Id": c.record_id} if c.record_id else {}),
            **({"Fields": [f.name for f in c.fields]} if c.fields else {}),
        }
        for c in plan.changes
    ]


@click.command("schema")
def schema() -> None:
    """Print the stack file's JSON Schema (for editors)."""
    from stackops.model.stackfile import stack_file_schema

    click.echo(json.dumps(stack_file_schema(), indent=2))
