"""upload-app-bundle: an app's artifact put in the artifacts bucket, for an s3 app source.

On the sandbox this is how an app gets an s3:// source without an AWS account:
the object goes to the sandbox's bucket, and the nodes fetch it from the sandbox
(their AWS access is the sandbox's endpoint, never the public S3).
"""

from __future__ import annotations

import hashlib
import tarfile
import zipfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from stackops.errors import InvalidInput

if TYPE_CHECKING:
    from stackops.services import Services

PREFIX = "apps/"
MAX_BYTES = 512 * 1024 * 1024  # read into memory for one PutObject
RESERVED = ("payloads/", "logs/", "commands/")  # stackops's own objects in the bucket


def upload_app_bundle(services: Services, path: Path, key: str | None = None) -> dict[str, Any]:
    """Put the archive at `path` under `key` (default `apps/<file name>`) in the
    artifacts bucket; returns its s3:// URL, size and sha256 checksum."""
    where = f"upload-app-bundle {path}"
    if not path.is_file():
        raise InvalidInput(f"{where}: no such file")
    size = path.stat().st_size
    if size > MAX_BYTES:
        raise InvalidInput(f"{where}: {size} bytes; at most {MAX_BYTES} bytes are uploaded")
    if not (tarfile.is_tarfile(path) or zipfile.is_zipfile(path)):
        raise InvalidInput(
            f"{where}: not a tar (plain, gz, bz2, xz) or zip archive, which is what a "
            "deploy unpacks into a release"
        )
    key = _checked_key(key if key is not None else PREFIX + path.name)
    body = path.read_bytes()
    services.artifacts.put_object(key, body, content_type="application/octet-stream")
    bucket = services.artifacts.name
    return {
        "Url": f"s3://{bucket}/{key}",
        "Bucket": bucket,
        "Key": key,
        "Size": len(body),
        "Checksum": "sha256:" + hashlib.sha256(body).hexdigest(),
    }


def _checked_key(key: str) -> str:
    if not key or len(key.encode()) > 1024:
        raise InvalidInput("--key: give an object key of 1 to 1024 bytes, like apps/web-v2.tgz")
    if any(ord(c) < 32 or ord(c) == 127 for c in key):
        raise InvalidInput(f"--key {key!r}: control characters are not allowed")
    parts = key.split("/")
    if key.startswith("/") or ".." in parts or "" in parts[:-1] or key.endswith("/"):
        raise InvalidInput(f"--key {key!r}: write a relative key like apps/web-v2.tgz")
    if key.startswith(RESERVED):
        raise InvalidInput(
            f"--key {key!r}: {', '.join(RESERVED)} hold stackops's own objects; use apps/..."
        )
    return key
