"""Where a recipe's paths land: every path resolves under the run's root (DESIGN §6).

A recipe names paths as seen from the node (`/etc/web/web.conf`); the run maps
them under its root (`/` on an instance, `.stackops/nodes/<id>/` in the sandbox).
Neither `..` nor a symlink can take a path outside the root: such a path is refused.
"""

from __future__ import annotations

import os
import re
import stat
from pathlib import Path

from stackops.errors import InvalidInput


class OutsideRoot(InvalidInput):
    """A path would resolve outside the run's root."""


# An absolute path with no empty, "." or ".." part and no trailing slash.
_PLAIN = re.compile(r"(?:/(?!\.\.?(?:/|\Z))[^/]+)+")


def node_path(path: str) -> str:
    """`path` normalised as an absolute node path; `..` may not climb above `/`."""
    if isinstance(path, str) and path.startswith("/") and _PLAIN.fullmatch(path):
        return path  # already normal: most paths, checked once per resource
    if not isinstance(path, str) or not path.startswith("/"):
        raise InvalidInput(f"path {path!r} must be absolute (it is resolved under the run's root)")
    parts: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if not parts:
                raise OutsideRoot(f"path {path!r} climbs above the root with '..'")
            parts.pop()
        else:
            parts.append(part)
    return "/" + "/".join(parts)


def relative_link(link: str, to: str) -> str:
    """The symlink text that makes node path `link` point at node path `to`."""
    return os.path.relpath(node_path(to), os.path.dirname(node_path(link)))


class NodeRoot:
    """The folder a run converges under, and the mapping of node paths onto it."""

    def __init__(self, root: Path | str) -> None:
        self.path = Path(os.path.abspath(root))
        self._real = os.path.realpath(self.path)
        self.is_host = self._real == "/"

    def __repr__(self) -> str:
        return f"NodeRoot({str(self.path)!r})"

    def host_path(self, path: str, *, follow_last: bool = True) -> Path:
        """The host path of node path `path`, with symlinks resolved inside the root.

        With `follow_last=False` a final symlink is left alone (for links themselves).
        Raises OutsideRoot when `..` or a symlink would leave the root.
        """
        virtual = node_path(path)
        if self.is_host:
            if not follow_last:
                return Path(virtual)
            return Path(self._resolve(virtual))  # the same as under any other root
        if virtual == "/":
            return Path(self._real)
        if follow_last:
            real = self._resolve(virtual)
        else:
            parent, name = os.path.split(virtual)
            real = os.path.join(self._resolve(parent), name)
        if real != self._real and not real.startswith(self._real + "/"):
            raise OutsideRoot(
                f"{virtual} resolves to {real} through a symlink, outside the root {self.path}"
            )
        return Path(real)

    def _resolve(self, virtual: str) -> str:
        """`os.path.realpath` of the root joined with normalised node path `virtual`.

        The root was resolved once, when the run began; only the components below it
        are looked at (one lstat each), and the first symlink among them hands the rest
        to realpath. Half the system calls of realpath on the whole path, per resource.
        """
        path = self._real
        parts = virtual.split("/")[1:] if virtual != "/" else []
        for index, part in enumerate(parts):
            candidate = f"{path}/{part}" if path != "/" else f"/{part}"
            try:
                is_link = stat.S_ISLNK(os.lstat(candidate).st_mode)
            except OSError:  # missing, or not a folder: the rest stands as written
                return "/".join([candidate, *parts[index + 1 :]])
            if is_link:
                return os.path.realpath("/".join([candidate, *parts[index + 1 :]]))
            path = candidate
        return path

    def link_text(self, link: str, to: str) -> str:
        """What to write in symlink `link` so it points at `to` under this root.

        On the host root an absolute `to` is written as given; under another root the
        text is relative, so the link works both from the host and from the node.
        """
        if to.startswith("/"):
            return node_path(to) if self.is_host else relative_link(link, to)
        target = node_path(os.path.join(os.path.dirname(node_path(link)), to))
        return to if self.is_host else relative_link(link, target)
