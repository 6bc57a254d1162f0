"""A stack's custom cookbooks on a node: fetched on setup, cached by revision.

The source is `stackops.custom_cookbooks` of the node attributes (OpsWorks's
CustomCookbooksSource: git with a revision and an SSH key, an http(s) archive
or an S3 archive). Each revision is unpacked once into
`/var/lib/stackops/cookbooks/<revision>/` under the node root and `current`
links to the one in use. Setup (and update_custom_cookbooks, which runs setup)
fetches: git asks the remote which commit the revision is and reuses the folder
of that commit; an archive with a revision is reused as long as the revision is
the same, one without is downloaded and keyed by its checksum. Other runs use
`current` without touching the network. The cookbooks are the top of the
repository or archive (a single wrapping folder, as in GitHub's tarballs, is
skipped).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path
from typing import Any, NamedTuple

from stackops.converge.context import Fetcher
from stackops.converge.fetch import obtain, remove_quietly, verify
from stackops.converge.filesystem import symlink_atomically, temporary_name
from stackops.converge.git import display, export, resolve
from stackops.converge.unpack import install, read_marker
from stackops.errors import InvalidInput

CACHE = "var/lib/stackops/cookbooks"  # under the node root
CURRENT = "current"
TYPES = ("git", "archive", "s3")
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


class CookbookSource(NamedTuple):
    """Where a stack's cookbooks come from (secrets resolved)."""

    type: str
    url: str
    revision: str | None
    ssh_key: str | None

    def describe(self) -> str:
        at = f" at {self.revision}" if self.revision else ""
        return f"{self.type} {display(self.url)}{at}"


class Cookbooks(NamedTuple):
    """The cookbooks a run uses: the folder, and the revision it holds."""

    path: Path  # the host folder to put first on the search path
    revision: str  # a commit for git; the source's revision or the archive's checksum
    source: str  # where they came from (no credentials)
    fetched: bool  # False when the cached folder was used as it was

    def to_report(self, root: Path) -> dict[str, Any]:
        return {
            "source": self.source,
            "revision": self.revision,
            "path": "/" + str(self.path.relative_to(root)),
            "fetched": self.fetched,
        }


def cookbook_source_of(node: Mapping[str, Any]) -> CookbookSource | None:
    """The node's cookbook source; InvalidInput naming the attribute that is not valid."""
    ops = node.get("stackops") if isinstance(node, Mapping) else None
    found = ops.get("custom_cookbooks") if isinstance(ops, Mapping) else None
    if not found:
        return None
    where = "node attribute stackops.custom_cookbooks"
    if not isinstance(found, Mapping):
        raise InvalidInput(f"{where}: expected an object with type and url")
    kind, url, revision = found.get("type"), found.get("url"), found.get("revision")
    if kind not in TYPES:
        raise InvalidInput(f"{where}.type: {kind!r} is not supported; use {', '.join(TYPES)}")
    if not isinstance(url, str) or not url:
        raise InvalidInput(f"{where}.url: give the repository or archive URL")
    if revision is not None and not isinstance(revision, str):
        raise InvalidInput(f"{where}.revision: expected a string")
    key = found.get("ssh_key")
    if key is not None and not isinstance(key, str):
        raise InvalidInput(f"{where}.ssh_key: not resolved (a secret ref must be resolved first)")
    if kind == "s3" and not url.startswith("s3://"):
        raise InvalidInput(f"{where}.url: an s3 source needs an s3://bucket/key URL")
    return CookbookSource(kind, url, revision, key or None)


def cookbooks_for(
    root: Path,
    source: CookbookSource,
    *,
    refresh: bool,
    fetchers: Mapping[str, Fetcher] | None = None,
) -> Cookbooks:
    """The cookbooks of `source` under the node root: fetched when `refresh` (or when
    nothing usable is cached), else the cached `current` ones."""
    cache = root / CACHE
    if not refresh:
        current = cached_cookbooks(root, source)
        if current is not None:
            return current
    cache.mkdir(parents=True, exist_ok=True)
    git = source.type == "git"
    found = _git(cache, source) if git else _archive(cache, source, fetchers or {})
    symlink_atomically(cache / CURRENT, found.path.relative_to(cache).parts[0])
    return found


def cached_cookbooks(root: Path, source: CookbookSource) -> Cookbooks | None:
    """The cookbooks `current` holds, if they are of `source` (no network)."""
    cache = root / CACHE
    link = cache / CURRENT
    try:
        name = os.readlink(link)
    except OSError:
        return None
    marker = read_marker(cache / name)
    if marker is None or marker.get("cookbooks_source") != source.describe():
        return None  # the stack's source changed since: fetch it
    return Cookbooks(_top(cache / name), str(marker.get("revision")), source.describe(), False)


def _git(cache: Path, source: CookbookSource) -> Cookbooks:
    revision = source.revision or "HEAD"
    commit = resolve(source.url, revision, ssh_key=source.ssh_key)
    folder = cache / commit if commit else None
    if folder is not None and read_marker(folder) is not None:
        return Cookbooks(_top(folder), commit or "", source.describe(), False)
    scratch = temporary_name(cache / "git", "download")
    try:
        commit = export(source.url, revision, scratch, ssh_key=source.ssh_key)
        folder = cache / commit
        marker = {"cookbooks_source": source.describe(), "revision": commit}
        if read_marker(folder) is None:
            install(scratch, folder, strip=0, marker=marker)
    finally:
        remove_quietly(scratch)
    return Cookbooks(_top(folder), commit, source.describe(), True)


def _archive(cache: Path, source: CookbookSource, fetchers: Mapping[str, Fetcher]) -> Cookbooks:
    if source.revision:
        folder = cache / ("rev-" + _UNSAFE.sub("_", source.revision))
        marker = read_marker(folder)
        if marker is not None and marker.get("cookbooks_source") == source.describe():
            return Cookbooks(_top(folder), source.revision, source.describe(), False)
    scratch = temporary_name(cache / "archive", "download")
    local, downloaded = obtain(source.url, scratch, fetchers)
    try:
        digest = verify(local, source.url, None)
        revision = source.revision or digest
        folder = cache / (
            "rev-" + _UNSAFE.sub("_", source.revision)
            if source.revision
            else digest.replace(":", "-")[:23]
        )
        marker = {"cookbooks_source": source.describe(), "revision": revision, "checksum": digest}
        fetched = read_marker(folder) != marker
        if fetched:
            install(local, folder, strip=0, marker=marker)
    finally:
        if downloaded:
            remove_quietly(local)
    return Cookbooks(_top(folder), revision, source.describe(), fetched)


def _top(folder: Path) -> Path:
    """The folder holding the cookbooks: `folder`, or its one wrapping folder."""
    entries = [e for e in os.scandir(folder) if not e.name.startswith(".")]
    if len(entries) == 1 and entries[0].is_dir(follow_symlinks=False):
        inner = Path(entries[0].path)
        if not any(p.suffix == ".py" for p in inner.iterdir() if p.is_file()):
            return inner
    return folder
