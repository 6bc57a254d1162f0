"""Download one S3 object to a local file, for the recipe engine's archive and release.

Imported only when a recipe names an s3:// source, so `stackops solo` never loads
boto3 otherwise. Pass a client (e.g. `AwsSession(target).client("s3")`) to use a
chosen target; without one the client is made for the target the environment
names: `AWS_ENDPOINT_URL` (a sandbox, LocalStack) and `AWS_REGION` /
`AWS_DEFAULT_REGION`, else the account of the default credential chain (an
instance profile). The dispatcher puts its own endpoint and region in the
environment of every run it starts on this host, so a sandbox run fetches its
sources from the sandbox, never from the internet.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stackops.aws.roles import INSTANCE, calls
from stackops.aws.session import AwsSession, aws_errors
from stackops.config import Target
from stackops.errors import InvalidInput

DEFAULT_REGION = "us-east-1"


def split_url(url: str) -> tuple[str, str]:
    """('bucket', 'key') of 's3://bucket/key'; InvalidInput when either is missing."""
    rest = url.removeprefix("s3://")
    bucket, _, key = rest.partition("/")
    if not url.startswith("s3://") or not bucket or not key:
        raise InvalidInput(f"{url!r} is not an S3 object URL; write s3://bucket/key")
    return bucket, key


def environment_client(environ: Mapping[str, str] | None = None) -> Any:
    """An S3 client on the target the environment names (see the module docstring)."""
    env = os.environ if environ is None else environ
    endpoint = env.get("AWS_ENDPOINT_URL") or None
    region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or DEFAULT_REGION
    target = Target("endpoint" if endpoint else "account", region, endpoint_url=endpoint)
    return AwsSession(target).client("s3")


@calls("s3:GetObject", roles=(INSTANCE,))
def download(url: str, dest: Path, *, client: Any | None = None) -> None:
    """Write the object at `url` to `dest`; AwsFailure naming the call on failure."""
    bucket, key = split_url(url)
    if client is None:
        client = environment_client()
    with aws_errors(f"s3:GetObject {url}"):
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        with open(dest, "wb") as out:
            for chunk in body.iter_chunks(1 << 20):
                out.write(chunk)
