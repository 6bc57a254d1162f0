"""Download one S3 object to a local file, for the recipe engine's archive and release.

Imported only when a recipe names an s3:// source, so `stackops solo` never loads
boto3 otherwise. Pass a client (e.g. `AwsSession(target).client("s3")`) to use a
chosen target; without one a default boto3 client is made (instance profile,
environment, AWS_ENDPOINT_URL).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from stackops.aws.roles import INSTANCE, calls
from stackops.aws.session import aws_errors
from stackops.errors import InvalidInput


def split_url(url: str) -> tuple[str, str]:
    """('bucket', 'key') of 's3://bucket/key'; InvalidInput when either is missing."""
    rest = url.removeprefix("s3://")
    bucket, _, key = rest.partition("/")
    if not url.startswith("s3://") or not bucket or not key:
        raise InvalidInput(f"{url!r} is not an S3 object URL; write s3://bucket/key")
    return bucket, key


@calls("s3:GetObject", roles=(INSTANCE,))
def download(url: str, dest: Path, *, client: Any | None = None) -> None:
    """Write the object at `url` to `dest`; AwsFailure naming the call on failure."""
    bucket, key = split_url(url)
    if client is None:
        import boto3

        client = boto3.client("s3")
    with aws_errors(f"s3:GetObject {url}"):
        body = client.get_object(Bucket=bucket, Key=key)["Body"]
        with open(dest, "wb") as out:
            for chunk in body.iter_chunks(1 << 20):
                out.write(chunk)
