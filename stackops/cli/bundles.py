"""upload-app-bundle: put an app's archive in the artifacts bucket (an s3 app source)."""

from __future__ import annotations

from pathlib import Path

import click

from stackops.cli.context import services, show
from stackops.cli.params import LocalPath


@click.command("upload-app-bundle")
@click.argument("file", type=LocalPath(path_type=Path))
@click.option("--key", help="Object key in the artifacts bucket (default: apps/<file name>).")
@click.pass_context
def upload_app_bundle(ctx: click.Context, file: Path, key: str | None) -> None:
    """Upload an app's tar or zip archive to the artifacts bucket; print its s3:// URL.

    Use the URL as the app's source: --app-source '{"Type": "s3", "Url": "s3://..."}'.
    On a sandbox the bucket is the sandbox's, and the nodes fetch from it.
    """
    from stackops.api.bundles import upload_app_bundle as upload

    show(ctx, upload(services(ctx), file, key))
