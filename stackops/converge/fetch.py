"""Artifact sources (local path, file://, http(s)://, s3://, git+...) and their checksums.

A git source (`git+<repository>#<revision>`, see stackops.converge.git) is
fetched as a tar of that revision's tree, so archive and release unpack it as
any other artifact.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Mapping
from pathlib import Path

from stackops.converge.context import Fetcher
from stackops.converge.git import fetch_git, is_git_source
from stackops.converge.resource import DeclarationError
from stackops.errors import StackopsError

ALGORITHMS = ("sha256", "sha512", "sha1", "md5")
HEX_LENGTHS = {"sha256": 64, "sha512": 128, "sha1": 40, "md5": 32}
SCHEMES = ("s3", "http", "https", "file")


class FetchFailed(StackopsError):
    """An artifact could not be downloaded or read."""


class ChecksumMismatch(StackopsError):
    """An artifact's checksum is not the one the recipe asked for."""


def parse_checksum(value: str | None) -> tuple[str, str] | None:
    """('sha256', hex) from 'sha256:<hex>' or a bare 64-digit sha256; DeclarationError else."""
    if value is None:
        return None
    if not isinstance(value, str):
        raise DeclarationError(f"checksum= takes 'sha256:<hex>', not {value!r}")
    algorithm, _, digest = value.rpartition(":")
    algorithm = algorithm.lower() or "sha256"
    digest = digest.lower()
    if algorithm not in ALGORITHMS:
        raise DeclarationError(
            f"checksum algorithm {algorithm!r} is not supported; use one of {', '.join(ALGORITHMS)}"
        )
    if len(digest) != HEX_LENGTHS[algorithm] or any(c not in "0123456789abcdef" for c in digest):
        raise DeclarationError(
            f"checksum {value!r} is not a {algorithm} digest ({HEX_LENGTHS[algorithm]} hex digits)"
        )
    return algorithm, digest


def check_source(source: object) -> None:
    """A source is a host path, a URL with a scheme we can fetch, or a git source."""
    if not isinstance(source, str) or not source:
        raise DeclarationError(
            "source= takes a local path, an s3://, http(s):// or file:// URL, "
            "or git+<repository>#<revision>"
        )
    if is_git_source(source):
        return
    scheme, sep, _ = source.partition("://")
    if sep and scheme not in SCHEMES:
        raise DeclarationError(
            f"source scheme {scheme!r}:// is not supported; use {', '.join(SCHEMES)} or a path"
        )


def local_path(source: str) -> Path | None:
    """The host path of a local source (a path or file:// URL); None for a remote one."""
    if source.startswith("file://"):
        return Path(source.removeprefix("file://"))
    if "://" in source or is_git_source(source):
        return None
    return Path(source)


def file_digest(path: Path, algorithm: str) -> str:
    """The hex digest of a file, read in blocks."""
    import hashlib

    digest = hashlib.new(algorithm)
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def fetch_http(url: str, dest: Path) -> None:
    """Download an http(s) URL to `dest`."""
    import shutil
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=60) as response, open(dest, "wb") as out:
            shutil.copyfileobj(response, out, 1 << 20)
    except urllib.error.HTTPError as exc:
        raise FetchFailed(f"GET {url} failed: HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError) as exc:
        reason = getattr(exc, "reason", None) or exc
        raise FetchFailed(f"GET {url} failed: {reason}") from None


def fetch_s3(url: str, dest: Path) -> None:
    """Download an s3:// URL with a default boto3 client (imported only now)."""
    from stackops.aws.s3_fetch import download

    download(url, dest)


def default_fetchers() -> dict[str, Fetcher]:
    """The fetchers of a run that was given none: http(s) by urllib, s3 by boto3, git by git."""
    return {"http": fetch_http, "https": fetch_http, "s3": fetch_s3, "git": fetch_git}


def obtain(source: str, scratch: Path, fetchers: Mapping[str, Fetcher]) -> tuple[Path, bool]:
    """A local file holding `source`: the path itself, or a download to `scratch`.

    Returns (path, downloaded); the caller removes a downloaded file.
    """
    path = local_path(source)
    if path is not None:
        if not path.is_file():
            raise FetchFailed(f"archive {source} not found on this host")
        return path, False
    scheme = "git" if is_git_source(source) else source.partition("://")[0]
    fetcher = fetchers.get(scheme) or default_fetchers().get(scheme)
    if fetcher is None:
        raise FetchFailed(f"no fetcher for {scheme}:// sources")
    try:
        fetcher(source, scratch)
    except BaseException:
        scratch.unlink(missing_ok=True)
        raise
    return scratch, True


def verify(path: Path, source: str, checksum: tuple[str, str] | None) -> str:
    """The artifact's digest as 'algorithm:hex'; ChecksumMismatch if it is not the one asked."""
    algorithm = checksum[0] if checksum else "sha256"
    actual = file_digest(path, algorithm)
    if checksum and actual != checksum[1]:
        raise ChecksumMismatch(
            f"checksum mismatch for {source}: expected {algorithm}:{checksum[1]}, "
            f"got {algorithm}:{actual}; nothing was unpacked"
        )
    return f"{algorithm}:{actual}"


def remove_quietly(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)
