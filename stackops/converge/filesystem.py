"""Small filesystem steps the resource types share: read state, write atomically, own."""

import os
import stat
from pathlib import Path
from typing import Literal, NamedTuple

from stackops.converge.resource import DeclarationError
from stackops.errors import StackopsError

Kind = Literal["missing", "file", "directory", "link", "other"]

# Contents above this size are compared, never read into a diff.
DIFF_LIMIT = 512 * 1024


class PathState(NamedTuple):
    """What is at a path now. `content` is read only when it may be needed."""

    kind: Kind
    mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    size: int | None = None
    content: bytes | None = None
    link_text: str | None = None


def read_state(
    path: Path, *, follow: bool = True, want_size: int | None = None, for_diff: bool = False
) -> PathState:
    """Stat `path`; read a regular file's bytes when they may differ from `want_size` bytes.

    Bytes are read when the size equals `want_size` (to compare them), or when the
    file is small and `for_diff` asks for them to show a diff; never twice.
    """
    try:
        st = os.stat(path) if follow else os.lstat(path)
    except FileNotFoundError:
        return PathState("missing")
    except NotADirectoryError:
        return PathState("missing")
    mode = stat.S_IMODE(st.st_mode)
    if stat.S_ISREG(st.st_mode):
        content = None
        if want_size is not None and (
            st.st_size == want_size or (for_diff and st.st_size <= DIFF_LIMIT)
        ):
            with open(path, "rb") as handle:
                content = handle.read()
        return PathState("file", mode, st.st_uid, st.st_gid, st.st_size, content)
    if stat.S_ISDIR(st.st_mode):
        return PathState("directory", mode, st.st_uid, st.st_gid)
    if stat.S_ISLNK(st.st_mode):
        return PathState("link", mode, st.st_uid, st.st_gid, link_text=os.readlink(path))
    return PathState("other", mode, st.st_uid, st.st_gid)


def parse_mode(value: int | str | None) -> int | None:
    """A permission mode from 0o644 or '0644'; DeclarationError otherwise."""
    if value is None:
        return None
    if isinstance(value, bool):
        raise DeclarationError(f"mode= must be an octal number like 0o644 or '0644', not {value!r}")
    if isinstance(value, str):
        try:
            value = int(value.removeprefix("0o"), 8)
        except ValueError:
            raise DeclarationError(
                f"mode= must be an octal number like 0o644 or '0644', not {value!r}"
            ) from None
    if not isinstance(value, int) or not 0 <= value <= 0o7777:
        raise DeclarationError(f"mode= must be between 0 and 0o7777, not {value!r}")
    return value


def check_owner(value: object, keyword: str) -> None:
    """owner=/group= take a name or a numeric id."""
    if value is not None and (isinstance(value, bool) or not isinstance(value, str | int)):
        raise DeclarationError(f"{keyword}= takes a name or a numeric id, not {value!r}")


def uid_of(owner: str | int | None) -> int | None:
    """The user id of a user name or id."""
    if owner is None or isinstance(owner, int):
        return owner
    if owner.isdigit():
        return int(owner)
    import pwd

    try:
        return pwd.getpwnam(owner).pw_uid
    except KeyError:
        raise StackopsError(f"no user {owner!r} on this host") from None


def gid_of(group: str | int | None) -> int | None:
    """The group id of a group name or id."""
    if group is None or isinstance(group, int):
        return group
    if group.isdigit():
        return int(group)
    import grp

    try:
        return grp.getgrnam(group).gr_gid
    except KeyError:
        raise StackopsError(f"no group {group!r} on this host") from None


def format_mode(mode: int | None) -> str:
    return "-" if mode is None else f"{mode:04o}"


def temporary_name(path: Path, purpose: str) -> Path:
    """A hidden sibling of `path`, unique in this process, for write-then-rename."""
    return path.with_name(f".{path.name}.{purpose}-{os.getpid()}-{os.urandom(4).hex()}")


def make_parents(path: Path) -> None:
    """Create the folders above `path` that are missing."""
    parent = path.parent
    if not parent.is_dir():
        parent.mkdir(parents=True, exist_ok=True)


def write_atomically(
    path: Path, content: bytes, mode: int, uid: int | None = None, gid: int | None = None
) -> None:
    """Write `content` to a temporary sibling then rename it over `path`."""
    make_parents(path)
    tmp = temporary_name(path, "tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)
    try:
        try:
            view = memoryview(content)
            while view:
                view = view[os.write(fd, view) :]
            os.fchmod(fd, mode)
            if uid is not None or gid is not None:
                os.fchown(fd, -1 if uid is None else uid, -1 if gid is None else gid)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def symlink_atomically(path: Path, text: str) -> None:
    """Point symlink `path` at `text` by renaming a new link over it (never absent)."""
    make_parents(path)
    tmp = temporary_name(path, "link")
    os.symlink(text, tmp)
    try:
        if path.is_dir() and not path.is_symlink():
            path.rmdir()  # an empty folder in the way; a full one fails here, on purpose
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def set_owner(path: Path, uid: int | None, gid: int | None, *, follow: bool = True) -> None:
    """chown without following a final symlink unless asked."""
    if uid is None and gid is None:
        return
    os.chown(path, -1 if uid is None else uid, -1 if gid is None else gid, follow_symlinks=follow)


def remove_path(path: Path) -> None:
    """Remove a file, a symlink or a whole folder."""
    if path.is_symlink() or not path.is_dir():
        path.unlink(missing_ok=True)
        return
    import shutil

    shutil.rmtree(path)


def owner_changes(
    state: PathState, uid: int | None, gid: int | None
) -> tuple[int | None, int | None]:
    """The (uid, gid) that differ from `state`; None where nothing is to change."""
    new_uid = uid if uid is not None and uid != state.uid else None
    new_gid = gid if gid is not None and gid != state.gid else None
    return new_uid, new_gid
