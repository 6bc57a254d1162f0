"""import-opsworks: a stack file from a saved OpsWorks stack."""

from __future__ import annotations

from pathlib import Path

import click

from stackops.cli.params import RECORD_ID, LocalPath


@click.command("import-opsworks")
@click.argument("folder", type=LocalPath(path_type=Path))
@click.option("-o", "--output", type=LocalPath(path_type=Path), help="Default: stacks/<name>.yaml.")
@click.option(
    "--stack-id", type=RECORD_ID, help="Which stack, when the saved answers hold several."
)
@click.option(
    "--adopt-instances",
    is_flag=True,
    help="Register the existing EC2 instances instead of launching new ones.",
)
def import_opsworks(
    folder: Path, output: Path | None, stack_id: str | None, adopt_instances: bool
) -> None:
    """Write a stack file from the saved answers of aws opsworks describe-stacks,
    describe-layers, describe-apps and describe-instances (and, if saved,
    describe-elastic-load-balancers, describe-elastic-ips and the auto scaling ones)."""
    from stackops.importer import import_opsworks as run_import

    result = run_import(folder, output, stack_id=stack_id, adopt_instances=adopt_instances)
    click.echo(result.report)
