"""The release resource: deploy_to/releases/<id> from an artifact, switched in atomically.

Layout (Capistrano's, which OpsWorks used too):

    <deploy_to>/releases/<id>/        one folder per release, unpacked from its artifact
    <deploy_to>/shared/<name>/        folders that outlive releases (log, tmp, ...)
    <deploy_to>/current -> releases/<id>
    <deploy_to>/.stackops-releases.json   release ids, oldest first (for keep=)

Naming an existing release without `source=` switches back to it at once.
"""

import json
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from stackops.converge.context import ConvergeContext
from stackops.converge.filesystem import (
    check_owner,
    gid_of,
    remove_path,
    set_owner,
    symlink_atomically,
    uid_of,
    write_atomically,
)
from stackops.converge.paths import node_path
from stackops.converge.resource import DeclarationError, NoChange, Resource, resource_type
from stackops.converge.resources.archive import Artifact, artifact_of
from stackops.converge.resources.execute import Command, CommandFailed, run_command
from stackops.converge.unpack import read_marker
from stackops.errors import StackopsError

HISTORY = ".stackops-releases.json"
_RELEASE_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")


class ReleaseMissing(StackopsError):
    """The release to switch to does not exist and there is nothing to make it from."""


class ReleaseConflict(StackopsError):
    """A release id already names a different artifact."""


class ReleaseDesired(NamedTuple):
    path: str
    host: Path
    release: str
    artifact: Artifact | None
    shared: tuple[str, ...]
    keep: int
    migrate: Command | None
    migrate_env: Mapping[str, str]
    uid: int | None
    gid: int | None


class ReleaseState(NamedTuple):
    releases: tuple[str, ...]  # release folders present, sorted
    history: tuple[str, ...]  # recorded order, oldest first
    current: str | None  # the release `current` points to
    target_marker: dict[str, Any] | None
    shared_present: frozenset[str]
    shared_linked: frozenset[str]  # shared names already linked into the target release


class ReleaseChange(NamedTuple):
    path: str
    host: Path
    release: str
    artifact: Artifact | None  # set when the release is to be unpacked
    make_shared: tuple[str, ...]
    link_shared: tuple[str, ...]
    migrate: Command | None
    migrate_env: Mapping[str, str]
    switch_from: str | None
    switch: bool
    prune: tuple[str, ...]
    history: tuple[str, ...]
    uid: int | None
    gid: int | None

    @property
    def summary(self) -> str:
        parts = []
        if self.artifact is not None:
            parts.append(f"unpack release {self.release} from {self.artifact.source}")
        if self.make_shared:
            parts.append(f"create shared {', '.join(self.make_shared)}")
        if self.link_shared:
            parts.append(f"link shared {', '.join(self.link_shared)}")
        if self.migrate is not None:
            parts.append("run the migration")
        if self.switch:
            parts.append(f"switch current {self.switch_from or '(none)'} -> {self.release}")
        if self.prune:
            parts.append(f"remove old releases {', '.join(self.prune)}")
        return "; ".join(parts) or "record the release history"

    @property
    def diff(self) -> str | None:
        return None


@resource_type("release")
class Release(Resource):
    """An app release under deploy_to (the name): unpack, link shared, switch, keep N.

    `release=` is the release id; `source=`/`checksum=`/`strip_components=` as for
    archive; `shared=` names folders of deploy_to/shared linked into the release;
    `keep=` releases are kept (the current one always); `migrate=` is a command run
    in a newly unpacked release before the switch.
    """

    actions: ClassVar[tuple[str, ...]] = ("deploy",)
    example: ClassVar[dict[str, Any]] = {
        "name": "/srv/www/web",
        "release": "20261128T1700Z-abc",
        "source": "/tmp/web.tar.gz",
        "shared": ["log"],
        "keep": 5,
    }

    release: str = ""
    source: str | None = None
    checksum: str | None = None
    strip_components: int = 0
    shared: Sequence[str] = ()
    keep: int = 5
    migrate: Command | None = None
    env: Mapping[str, str] | None = None
    owner: str | int | None = None
    group: str | int | None = None

    def validate(self) -> None:
        node_path(self.name)
        if not isinstance(self.release, str) or not _RELEASE_ID.match(self.release):
            raise DeclarationError(
                f"release= {self.release!r} is not a valid id: letters, digits, '.', '_', '-'"
            )
        if self.source is not None:
            artifact_of(self.source, self.checksum, self.strip_components)
        if isinstance(self.shared, str):
            self.shared = [self.shared]
        for name in self.shared:
            if not isinstance(name, str) or name.startswith("/") or ".." in name.split("/"):
                raise DeclarationError(f"shared= takes relative folder names, not {name!r}")
        self.shared = tuple(name.strip("/") for name in self.shared)
        if not isinstance(self.keep, int) or isinstance(self.keep, bool) or self.keep < 1:
            raise DeclarationError(f"keep= takes a count >= 1, not {self.keep!r}")
        if self.migrate is not None and (
            not isinstance(self.migrate, list | tuple)
            or not self.migrate
            or not all(isinstance(a, str) for a in self.migrate)
        ):
            raise DeclarationError("migrate= takes a non-empty argv list")
        check_owner(self.owner, "owner")
        check_owner(self.group, "group")

    def desired(self, ctx: ConvergeContext, action: str) -> ReleaseDesired:
        artifact = (
            artifact_of(self.source, self.checksum, self.strip_components)
            if self.source is not None
            else None
        )
        return ReleaseDesired(
            path=node_path(self.name),
            host=ctx.root.host_path(self.name),
            release=self.release,
            artifact=artifact,
            shared=tuple(self.shared),
            keep=self.keep,
            migrate=self.migrate,
            migrate_env=ctx.command_env(self.env),
            uid=uid_of(self.owner),
            gid=gid_of(self.group),
        )

    def current(self, ctx: ConvergeContext, desired: ReleaseDesired) -> ReleaseState:
        releases_dir = desired.host / "releases"
        try:
            releases = tuple(
                sorted(
                    entry.name
                    for entry in os.scandir(releases_dir)
                    if not entry.name.startswith(".") and entry.is_dir(follow_symlinks=False)
                )
            )
        except (FileNotFoundError, NotADirectoryError):
            releases = ()
        target = releases_dir / desired.release
        linked = frozenset(
            name
            for name in desired.shared
            if _readlink(target / name) == shared_link_text(desired.release, name)
        )
        present = frozenset(n for n in desired.shared if (desired.host / "shared" / n).is_dir())
        return ReleaseState(
            releases=releases,
            history=_read_history(desired.host / HISTORY),
            current=_current_release(_readlink(desired.host / "current")),
            target_marker=read_marker(target) if desired.release in releases else None,
            shared_present=present,
            shared_linked=linked,
        )

    @staticmethod
    def change(current: ReleaseState, desired: ReleaseDesired) -> ReleaseChange | NoChange:
        target = desired.release
        exists = target in current.releases
        artifact = desired.artifact
        if not exists and artifact is None:
            have = ", ".join(current.releases) or "none"
            raise ReleaseMissing(
                f"release {target} is not in {desired.path}/releases (have: {have}) "
                "and no source= was given to make it"
            )
        if exists and artifact is not None and not artifact.matches(current.target_marker):
            held = (current.target_marker or {}).get("source", "content not unpacked by stackops")
            raise ReleaseConflict(
                f"release {target} already exists in {desired.path}/releases from {held}, "
                f"not {artifact.source}; a release id names one artifact, use a new id"
            )
        unpack = not exists
        make_shared = tuple(n for n in desired.shared if n not in current.shared_present)
        link_shared = tuple(n for n in desired.shared if unpack or n not in current.shared_linked)
        known = [r for r in current.history if r in current.releases]
        order = [r for r in current.releases if r not in known] + known
        if target not in order:
            order.append(target)
        kept = set(order[-desired.keep :]) | {target}
        prune = tuple(r for r in order if r not in kept)
        history = tuple(r for r in order if r in kept)
        switch = current.current != target
        if not (unpack or make_shared or link_shared or switch or prune) and (
            history == current.history
        ):
            return NoChange(f"current is {target}; {len(history)} release(s) kept")
        return ReleaseChange(
            path=desired.path,
            host=desired.host,
            release=target,
            artifact=artifact if unpack else None,
            make_shared=make_shared,
            link_shared=link_shared,
            migrate=desired.migrate if unpack else None,
            migrate_env=desired.migrate_env,
            switch_from=current.current,
            switch=switch,
            prune=prune,
            history=history,
            uid=desired.uid,
            gid=desired.gid,
        )

    def apply(self, ctx: ConvergeContext, change: ReleaseChange) -> None:
        release_dir = change.host / "releases" / change.release
        if change.artifact is not None:
            change.artifact.install_into(release_dir, ctx.fetchers, change.uid, change.gid)
        for name in change.make_shared:
            folder = change.host / "shared" / name
            folder.mkdir(parents=True, exist_ok=True)
            set_owner(folder, change.uid, change.gid)
        for name in change.link_shared:
            link = release_dir / name
            if os.path.lexists(link) and not link.is_symlink():
                remove_path(link)  # the artifact's own copy gives way to the shared folder
            symlink_atomically(link, shared_link_text(change.release, name))
        if change.migrate is not None:
            result = run_command(
                change.migrate,
                shell=False,
                cwd=release_dir,
                env=change.migrate_env,
                timeout=ctx.remaining(),
            )
            if result.status != 0:
                raise CommandFailed(
                    f"migration of release {change.release} exited with status {result.status}; "
                    f"current was not switched; output:\n{result.output[-4000:].rstrip()}"
                )
        history = json.dumps(list(change.history)).encode() + b"\n"
        write_atomically(change.host / HISTORY, history, 0o644)
        if change.switch:
            symlink_atomically(change.host / "current", f"releases/{change.release}")
        for old in change.prune:
            remove_path(change.host / "releases" / old)


def shared_link_text(release: str, name: str) -> str:
    """The text of the link releases/<release>/<name> -> shared/<name>, relative."""
    depth = name.count("/") + 2  # up from the link's folder to deploy_to
    return "../" * depth + f"shared/{name}"


def _readlink(path: Path) -> str | None:
    try:
        return os.readlink(path)
    except OSError:
        return None


def _current_release(text: str | None) -> str | None:
    """The release id a `current` link text names (releases/<id>, or an absolute path)."""
    if not text:
        return None
    parts = text.rstrip("/").split("/")
    return parts[-1] if len(parts) >= 2 and parts[-2] == "releases" else None


def _read_history(path: Path) -> tuple[str, ...]:
    try:
        data = json.loads(path.read_bytes())
    except (FileNotFoundError, NotADirectoryError, ValueError):
        return ()
    return tuple(str(r) for r in data) if isinstance(data, list) else ()
