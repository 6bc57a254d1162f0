"""The link resource: a symlink replaced atomically by rename."""

import os
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from stackops.converge.context import ConvergeContext
from stackops.converge.filesystem import (
    PathState,
    gid_of,
    make_parents,
    owner_changes,
    read_state,
    set_owner,
    symlink_atomically,
    uid_of,
)
from stackops.converge.paths import node_path
from stackops.converge.resource import DeclarationError, NoChange, resource_type
from stackops.converge.resources.files import PathResource, WrongKind, ownership_text


class LinkDesired(NamedTuple):
    path: str
    host: Path
    action: str
    text: str
    uid: int | None
    gid: int | None


class LinkChange(NamedTuple):
    path: str
    host: Path
    text: str | None = None  # the new link text, None: keep it
    old: str | None = None  # what was there before ("file", "folder" or old text)
    remove: bool = False
    uid: int | None = None
    gid: int | None = None

    @property
    def summary(self) -> str:
        if self.remove:
            return f"remove link {self.path}"
        parts = []
        if self.text is not None:
            before = f" (was {self.old})" if self.old else ""
            parts.append(f"link {self.path} -> {self.text}{before}")
        return ", ".join(parts + ownership_text(self.uid, self.gid))

    @property
    def diff(self) -> str | None:
        return None


@resource_type("link")
class Link(PathResource):
    """A symlink at `name` pointing `to=` a node path, replaced atomically by rename.

    Under a root other than `/` the link text is relative, so it works from the host too.
    """

    actions: ClassVar[tuple[str, ...]] = ("create", "delete")
    example: ClassVar[dict[str, Any]] = {"name": "/srv/web/current", "to": "/srv/web/releases/1"}

    to: str = ""

    def validate(self) -> None:
        super().validate()
        if self.mode is not None:
            raise DeclarationError("a link has no mode of its own; set it on its target")
        if self.action == "create" and (not isinstance(self.to, str) or not self.to):
            raise DeclarationError("to= names the path the link points to")
        if self.to:
            base = os.path.dirname(node_path(self.name))
            node_path(self.to if self.to.startswith("/") else os.path.join(base, self.to))

    def desired(self, ctx: ConvergeContext, action: str) -> LinkDesired:
        host = ctx.root.host_path(self.name, follow_last=False)
        text = ctx.root.link_text(self.name, self.to) if self.to else ""
        return LinkDesired(
            node_path(self.name), host, action, text, uid_of(self.owner), gid_of(self.group)
        )

    def current(self, ctx: ConvergeContext, desired: LinkDesired) -> PathState:
        return read_state(desired.host, follow=False)

    @staticmethod
    def change(current: PathState, desired: LinkDesired) -> LinkChange | NoChange:
        path = desired.path
        if desired.action == "delete":
            if current.kind == "missing":
                return NoChange("link is absent")
            if current.kind != "link":
                raise WrongKind(f"{path} is a {current.kind}, not a link; not removing it")
            return LinkChange(path, desired.host, remove=True)
        if current.kind == "link" and current.link_text == desired.text:
            uid, gid = owner_changes(current, desired.uid, desired.gid)
            if uid is None and gid is None:
                return NoChange(f"link points to {desired.text}")
            return LinkChange(path, desired.host, uid=uid, gid=gid)
        old = {"missing": None, "link": current.link_text, "directory": "a folder"}.get(
            current.kind, f"a {current.kind}"
        )
        return LinkChange(
            path, desired.host, text=desired.text, old=old, uid=desired.uid, gid=desired.gid
        )

    def apply(self, ctx: ConvergeContext, change: LinkChange) -> None:
        if change.remove:
            change.host.unlink()
            return
        if change.text is not None:
            make_parents(change.host)
            symlink_atomically(change.host, change.text)
        set_owner(change.host, change.uid, change.gid, follow=False)
