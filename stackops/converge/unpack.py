"""Unpack tar and zip archives into a folder, safely and all at once.

Every entry is checked before anything is written: absolute names, `..`, links
that leave the folder, devices and fifos are refused naming the entry. The
archive is unpacked into a hidden sibling, marked, then renamed into place.
"""

from __future__ import annotations

import json
import os
import posixpath
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stackops.converge.filesystem import remove_path, temporary_name
from stackops.errors import StackopsError

MARKER = ".stackops-archive.json"


class UnsafeArchive(StackopsError):
    """An archive entry would land outside the folder, or is not a file, folder or link."""


class NotAnArchive(StackopsError):
    """The artifact is neither a tar (plain or compressed) nor a zip file."""


def entry_path(name: str, strip: int) -> str | None:
    """An entry's path inside the folder after stripping `strip` leading parts.

    None when stripping removes it; UnsafeArchive when it would escape the folder.
    """
    if name.startswith(("/", "\\")) or (len(name) > 1 and name[1] == ":"):
        raise UnsafeArchive(f"archive entry {name!r} has an absolute path; refusing the archive")
    parts = [part for part in name.split("/") if part not in ("", ".")]
    if ".." in parts:
        raise UnsafeArchive(f"archive entry {name!r} escapes the folder with '..'; refusing it")
    if len(parts) <= strip:
        return None
    return "/".join(parts[strip:])


def check_link(entry: str, target: str) -> None:
    """A symlink entry must point inside the folder."""
    if target.startswith("/"):
        raise UnsafeArchive(f"archive link {entry!r} points to absolute {target!r}; refusing it")
    joined = posixpath.normpath(posixpath.join(posixpath.dirname(entry), target))
    if joined == ".." or joined.startswith("../"):
        raise UnsafeArchive(
            f"archive link {entry!r} -> {target!r} points outside the folder; refusing it"
        )


def extract(archive: Path, dest: Path, strip: int = 0) -> None:
    """Unpack a tar (any compression) or zip `archive` into the existing folder `dest`."""
    import zipfile

    if zipfile.is_zipfile(archive):
        _extract_zip(archive, dest, strip)
    else:
        _extract_tar(archive, dest, strip)


def _extract_tar(archive: Path, dest: Path, strip: int) -> None:
    import tarfile

    try:
        tar = tarfile.open(archive, "r:*")  # noqa: SIM115 - closed by the `with` below
    except tarfile.TarError:
        raise NotAnArchive(f"{archive.name} is not a tar or zip archive") from None
    with tar:
        members = []
        for member in tar.getmembers():
            path = entry_path(member.name, strip)
            if path is None:
                continue
            link = member.linkname
            if member.issym():
                check_link(path, link)
            elif member.islnk():
                link = entry_path(member.linkname, strip) or ""
                if not link:
                    raise UnsafeArchive(f"archive hard link {member.name!r} has no target inside")
            elif not (member.isfile() or member.isdir()):
                raise UnsafeArchive(
                    f"archive entry {member.name!r} is a device, fifo or other special file"
                )
            members.append(member.replace(name=path, linkname=link, deep=False))
        tar.extractall(dest, members=members, filter="data")


def _extract_zip(archive: Path, dest: Path, strip: int) -> None:
    import shutil
    import zipfile

    with zipfile.ZipFile(archive) as zipped:
        entries = [(info, entry_path(info.filename, strip)) for info in zipped.infolist()]
        for info, path in entries:
            if path is None:
                continue
            target = dest / path
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zipped.open(info) as src, open(target, "wb") as out:
                shutil.copyfileobj(src, out, 1 << 20)
            mode = (info.external_attr >> 16) & 0o777
            if mode:
                os.chmod(target, mode | 0o600)


def read_marker(folder: Path) -> dict[str, Any] | None:
    """What a folder unpacked by stackops records about its artifact, if anything."""
    try:
        with open(folder / MARKER, "rb") as handle:
            data = json.loads(handle.read())
    except (FileNotFoundError, NotADirectoryError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def install(
    archive: Path,
    dest: Path,
    *,
    strip: int,
    marker: Mapping[str, Any],
    uid: int | None = None,
    gid: int | None = None,
) -> None:
    """Unpack `archive` into a sibling of `dest`, mark it, then rename it over `dest`."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = temporary_name(dest, "unpack")
    staging.mkdir()
    try:
        extract(archive, staging, strip)
        (staging / MARKER).write_text(json.dumps(dict(marker), sort_keys=True) + "\n")
        if uid is not None or gid is not None:
            _chown_tree(staging, uid, gid)
        if os.path.lexists(dest):
            old = temporary_name(dest, "old")
            os.rename(dest, old)
            os.rename(staging, dest)
            remove_path(old)
        else:
            os.rename(staging, dest)
    except BaseException:
        if staging.exists():
            remove_path(staging)
        raise


def _chown_tree(top: Path, uid: int | None, gid: int | None) -> None:
    u, g = (-1 if uid is None else uid), (-1 if gid is None else gid)
    os.chown(top, u, g)
    for folder, dirs, files in os.walk(top):
        for name in dirs + files:
            os.chown(os.path.join(folder, name), u, g, follow_symlinks=False)
