"""Resource types for paths: directory, file and template (link: `links.py`)."""

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from stackops.converge.context import ConvergeContext
from stackops.converge.diff import content_diff
from stackops.converge.filesystem import (
    PathState,
    check_owner,
    format_mode,
    gid_of,
    owner_changes,
    parse_mode,
    read_state,
    remove_path,
    set_owner,
    uid_of,
    write_atomically,
)
from stackops.converge.paths import node_path
from stackops.converge.render_memo import digest
from stackops.converge.resource import (
    DeclarationError,
    NoChange,
    Resource,
    resource_type,
)
from stackops.errors import StackopsError


class WrongKind(StackopsError):
    """Something of another kind (a folder where a file belongs) is in the way."""


def ownership_text(uid: int | None, gid: int | None) -> list[str]:
    parts = []
    if uid is not None:
        parts.append(f"owner -> {uid}")
    if gid is not None:
        parts.append(f"group -> {gid}")
    return parts


class PathResource(Resource):
    """A resource at a node path (its name), with the keywords every path takes."""

    mode: int | str | None = None
    owner: str | int | None = None
    group: str | int | None = None

    def validate(self) -> None:
        node_path(self.name)  # refuses relative paths and '..' above the root early
        self.mode = parse_mode(self.mode)
        check_owner(self.owner, "owner")
        check_owner(self.group, "group")


# -- directory ----------------------------------------------------------------


class DirectoryDesired(NamedTuple):
    path: str
    host: Path
    action: str
    mode: int | None
    uid: int | None
    gid: int | None


class DirectoryChange(NamedTuple):
    path: str
    host: Path
    create: bool = False
    remove: bool = False
    mode: int | None = None
    old_mode: int | None = None
    uid: int | None = None
    gid: int | None = None

    @property
    def summary(self) -> str:
        if self.remove:
            return f"remove folder {self.path}"
        parts = [f"create folder {self.path}"] if self.create else []
        if self.mode is not None:
            parts.append(
                f"mode {format_mode(self.mode)}"
                if self.create
                else f"mode {format_mode(self.old_mode)} -> {format_mode(self.mode)}"
            )
        return ", ".join(parts + ownership_text(self.uid, self.gid))

    @property
    def diff(self) -> str | None:
        return None


@resource_type("directory")
class Directory(PathResource):
    """A folder (parents are created as needed); `action="delete"` removes it with its content."""

    actions: ClassVar[tuple[str, ...]] = ("create", "delete")
    example: ClassVar[dict[str, Any]] = {"name": "/etc/web", "mode": 0o755}

    def desired(self, ctx: ConvergeContext, action: str) -> DirectoryDesired:
        host = ctx.root.host_path(self.name, follow_last=action != "delete")
        return DirectoryDesired(
            node_path(self.name), host, action, self.mode, uid_of(self.owner), gid_of(self.group)
        )

    def current(self, ctx: ConvergeContext, desired: DirectoryDesired) -> PathState:
        return read_state(desired.host, follow=desired.action != "delete")

    @staticmethod
    def change(current: PathState, desired: DirectoryDesired) -> DirectoryChange | NoChange:
        path = desired.path
        if desired.action == "delete":
            if current.kind == "missing":
                return NoChange("folder is absent")
            if current.kind != "directory":
                raise WrongKind(f"{path} is a {current.kind}, not a folder; not removing it")
            return DirectoryChange(path, desired.host, remove=True)
        if current.kind == "missing":
            return DirectoryChange(
                path, desired.host, create=True, mode=desired.mode, uid=desired.uid, gid=desired.gid
            )
        if current.kind != "directory":
            raise WrongKind(f"{path} is a {current.kind}, not a folder; remove it first")
        mode = desired.mode if desired.mode is not None and desired.mode != current.mode else None
        uid, gid = owner_changes(current, desired.uid, desired.gid)
        if mode is None and uid is None and gid is None:
            return NoChange(f"folder exists, mode {format_mode(current.mode)}")
        return DirectoryChange(
            path, desired.host, mode=mode, old_mode=current.mode, uid=uid, gid=gid
        )

    def apply(self, ctx: ConvergeContext, change: DirectoryChange) -> None:
        if change.remove:
            remove_path(change.host)
            return
        if change.create:
            change.host.mkdir(parents=True, exist_ok=True)
        if change.mode is not None:
            os.chmod(change.host, change.mode)
        set_owner(change.host, change.uid, change.gid)


# -- file and template ----------------------------------------------------------


class FileDesired(NamedTuple):
    path: str
    host: Path
    action: str
    content: bytes | None  # None: the content is not managed
    mode: int | None
    new_mode: int  # the mode of a file created without mode=
    uid: int | None
    gid: int | None
    sensitive: bool
    seen: PathState | None = None  # the current state, when computing `content` read it


class FileChange(NamedTuple):
    path: str
    host: Path
    create: bool = False
    remove: bool = False
    content: bytes | None = None  # new bytes to write, None: keep the content
    mode: int | None = None  # the mode to set (for a write: the new file's mode)
    old_mode: int | None = None
    uid: int | None = None
    gid: int | None = None
    keep_uid: int | None = None  # the owner of a replaced file, kept
    keep_gid: int | None = None
    content_diff: str | None = None

    @property
    def summary(self) -> str:
        if self.remove:
            return f"remove file {self.path}"
        if self.create:
            size = len(self.content or b"")
            parts = [f"create file {self.path} ({size} bytes, mode {format_mode(self.mode)})"]
        else:
            parts = ["update content"] if self.content is not None else []
            if self.mode is not None and self.mode != self.old_mode:
                parts.append(f"mode {format_mode(self.old_mode)} -> {format_mode(self.mode)}")
        return ", ".join(parts + ownership_text(self.uid, self.gid))

    @property
    def diff(self) -> str | None:
        return self.content_diff


class ContentResource(PathResource):
    """A regular file whose content, mode and owner are managed."""

    actions: ClassVar[tuple[str, ...]] = ("create", "create_if_missing", "delete")
    sensitive: bool = False

    def content_bytes(self, ctx: ConvergeContext) -> bytes | None:
        raise NotImplementedError

    def desired(
        self,
        ctx: ConvergeContext,
        action: str,
        content: bytes | None = None,
        host: Path | None = None,
    ) -> FileDesired:
        if host is None:
            host = ctx.root.host_path(self.name, follow_last=action != "delete")
        if content is None and action != "delete":
            content = self.content_bytes(ctx)
        return FileDesired(
            path=node_path(self.name),
            host=host,
            action=action,
            content=content,
            mode=self.mode,
            new_mode=self.mode if self.mode is not None else 0o666 & ~ctx.umask,
            uid=uid_of(self.owner),
            gid=gid_of(self.group),
            sensitive=self.sensitive,
        )

    def current(self, ctx: ConvergeContext, desired: FileDesired) -> PathState:
        if desired.seen is not None:
            return desired.seen
        size = None if desired.content is None else len(desired.content)
        return read_state(
            desired.host,
            follow=desired.action != "delete",
            want_size=size,
            for_diff=not desired.sensitive,
        )

    @staticmethod
    def change(current: PathState, desired: FileDesired) -> FileChange | NoChange:
        path = desired.path
        if desired.action == "delete":
            if current.kind == "missing":
                return NoChange("file is absent")
            if current.kind == "directory":
                raise WrongKind(f"{path} is a folder, not a file; not removing it")
            return FileChange(path, desired.host, remove=True)
        if current.kind == "missing":
            content = desired.content or b""
            diff = content_diff(path, None, content, sensitive=desired.sensitive)
            return FileChange(
                path,
                desired.host,
                create=True,
                content=content,
                mode=desired.new_mode,
                uid=desired.uid,
                gid=desired.gid,
                content_diff=diff,
            )
        if current.kind != "file":
            raise WrongKind(f"{path} is a {current.kind}, not a regular file; remove it first")
        if desired.action == "create_if_missing":
            return NoChange("file exists (create_if_missing)")
        want = desired.content
        differs = want is not None and (
            current.size != len(want) or current.content is None or current.content != want
        )
        mode = desired.mode if desired.mode is not None and desired.mode != current.mode else None
        uid, gid = owner_changes(current, desired.uid, desired.gid)
        if not differs and mode is None and uid is None and gid is None:
            return NoChange(
                f"file up to date ({current.size} bytes, mode {format_mode(current.mode)})"
            )
        if not differs:
            return FileChange(
                path, desired.host, mode=mode, old_mode=current.mode, uid=uid, gid=gid
            )
        assert want is not None
        diff = content_diff(
            path, current.content, want, old_size=current.size, sensitive=desired.sensitive
        )
        return FileChange(
            path,
            desired.host,
            content=want,
            mode=mode if mode is not None else current.mode,
            old_mode=current.mode,
            uid=uid,
            gid=gid,
            keep_uid=current.uid,
            keep_gid=current.gid,
            content_diff=diff,
        )

    def apply(self, ctx: ConvergeContext, change: FileChange) -> None:
        if change.remove:
            remove_path(change.host)
            return
        if change.content is not None:
            uid, gid = change.uid, change.gid
            if not change.create and os.geteuid() == 0:
                # A replaced file keeps its owner unless owner=/group= say otherwise.
                uid = change.keep_uid if uid is None else uid
                gid = change.keep_gid if gid is None else gid
            assert change.mode is not None
            write_atomically(change.host, change.content, change.mode, uid, gid)
            return
        if change.mode is not None:
            os.chmod(change.host, change.mode)
        set_owner(change.host, change.uid, change.gid)


@resource_type("file")
class File(ContentResource):
    """A file from `content=` (text or bytes) or `source=` (the cookbook's files/ folder).

    Without either the file is created empty if missing and its content left alone.
    `sensitive=True` hides the content from diffs and reports.
    """

    example: ClassVar[dict[str, Any]] = {"name": "/etc/motd", "content": "hello\n", "mode": 0o644}

    content: str | bytes | None = None
    source: str | None = None

    def validate(self) -> None:
        super().validate()
        if self.content is not None and self.source is not None:
            raise DeclarationError("give content= or source=, not both")
        if self.content is not None and not isinstance(self.content, str | bytes):
            raise DeclarationError(
                f"content= takes text or bytes, not {type(self.content).__name__}"
            )
        if self.source is not None and (not isinstance(self.source, str) or not self.source):
            raise DeclarationError("source= takes a file name in the cookbook's files/ folder")

    def content_bytes(self, ctx: ConvergeContext) -> bytes | None:
        if self.source is not None:
            folder = self.origin.cookbook_dir / "files"
            source = folder / self.source
            try:
                return source.read_bytes()
            except FileNotFoundError:
                raise StackopsError(
                    f"source {self.source!r} not found in {folder} (declared at {self.origin})"
                ) from None
        if isinstance(self.content, str):
            return self.content.encode("utf-8")
        return self.content


@resource_type("template")
class Template(ContentResource):
    """A file rendered from a Jinja2 template in the cookbook's templates/ folder.

    The template sees `variables` and `node`; an undefined name fails naming the
    template file and line.
    """

    example: ClassVar[dict[str, Any]] = {
        "name": "/etc/web/web.conf",
        "source": "web.conf.j2",
        "variables": {"port": 8001},
    }

    source: str = ""
    variables: Mapping[str, Any] | None = None

    def validate(self) -> None:
        super().validate()
        if not isinstance(self.source, str) or not self.source:
            raise DeclarationError("source= names a template in the cookbook's templates/ folder")
        if self.variables is None:
            self.variables = {}
        if not isinstance(self.variables, Mapping):
            raise DeclarationError("variables= takes a dict")

    def desired(self, ctx: ConvergeContext, action: str) -> FileDesired:
        """Render, unless the memo proves the file on disk already is this render."""
        if action == "delete" or self.sensitive:
            return super().desired(ctx, action)
        path = node_path(self.name)
        inputs = ctx.renders.inputs(self._folder(), self.source, self.variables or {})
        expected = ctx.renders.expected(path, inputs) if inputs else None
        if expected is not None:
            host = ctx.root.host_path(self.name)
            state = read_state(host, want_size=-1, for_diff=True)
            if state.content is not None and digest(state.content) == expected:
                plain = super().desired(ctx, action, content=state.content, host=host)
                return plain._replace(seen=state)
            desired = super().desired(ctx, action, host=host)
        else:
            desired = super().desired(ctx, action)
        if inputs and desired.content is not None:
            ctx.renders.record(path, inputs, desired.content)
        return desired

    def _folder(self) -> Path:
        return self.origin.cookbook_dir / "templates"

    def _variables(self, ctx: ConvergeContext) -> dict[str, Any]:
        return {"node": ctx.node, **(self.variables or {})}

    def content_bytes(self, ctx: ConvergeContext) -> bytes:
        rendered = ctx.templates.render(self._folder(), self.source, self._variables(ctx))
        return rendered.encode("utf-8")
