"""The archive resource: a folder holding exactly what a tar.gz or zip artifact holds."""

from collections.abc import Mapping
from pathlib import Path
from typing import Any, ClassVar, NamedTuple

from stackops.converge.context import ConvergeContext, Fetcher
from stackops.converge.fetch import check_source, obtain, parse_checksum, remove_quietly, verify
from stackops.converge.filesystem import (
    PathState,
    check_owner,
    gid_of,
    read_state,
    temporary_name,
    uid_of,
)
from stackops.converge.paths import node_path
from stackops.converge.resource import DeclarationError, NoChange, Resource, resource_type
from stackops.converge.resources.files import WrongKind
from stackops.converge.unpack import install, read_marker
from stackops.errors import StackopsError


class Artifact(NamedTuple):
    """Where an artifact comes from and how it is checked and unpacked."""

    source: str
    checksum: tuple[str, str] | None
    strip: int

    @property
    def checksum_text(self) -> str | None:
        return f"{self.checksum[0]}:{self.checksum[1]}" if self.checksum else None

    def matches(self, marker: dict[str, Any] | None) -> bool:
        """True when a folder's marker says it holds this artifact.

        With a checksum the content decides (the URL may move); without one the
        source URL is the artifact's identity.
        """
        if marker is None or marker.get("strip_components", 0) != self.strip:
            return False
        if self.checksum is not None:
            return marker.get("checksum") == self.checksum_text
        return marker.get("source") == self.source

    def install_into(
        self,
        dest: Path,
        fetchers: Mapping[str, Fetcher],
        uid: int | None = None,
        gid: int | None = None,
    ) -> None:
        """Fetch, verify, then unpack into `dest` (replaced as a whole)."""
        dest.parent.mkdir(parents=True, exist_ok=True)
        local, downloaded = obtain(self.source, temporary_name(dest, "download"), fetchers)
        try:
            digest = verify(local, self.source, self.checksum)
            marker = {"source": self.source, "checksum": digest, "strip_components": self.strip}
            install(local, dest, strip=self.strip, marker=marker, uid=uid, gid=gid)
        finally:
            if downloaded:
                remove_quietly(local)


def artifact_of(source: str | None, checksum: str | None, strip: int) -> Artifact:
    """The Artifact of a declaration's keywords; DeclarationError when one is not valid."""
    check_source(source)
    if not isinstance(strip, int) or isinstance(strip, bool) or strip < 0:
        raise DeclarationError(f"strip_components= takes a count >= 0, not {strip!r}")
    return Artifact(str(source), parse_checksum(checksum), strip)


class ArchiveDesired(NamedTuple):
    path: str
    host: Path
    artifact: Artifact
    uid: int | None
    gid: int | None


class ArchiveState(NamedTuple):
    kind: str
    marker: dict[str, Any] | None


class ArchiveChange(NamedTuple):
    path: str
    host: Path
    artifact: Artifact
    why: str
    uid: int | None
    gid: int | None

    @property
    def summary(self) -> str:
        check = f", {self.artifact.checksum_text}" if self.artifact.checksum else ""
        return f"unpack {self.artifact.source}{check} into {self.path} ({self.why})"

    @property
    def diff(self) -> str | None:
        return None


@resource_type("archive")
class Archive(Resource):
    """A folder (the name) unpacked from a tar (.tar.gz, .tgz, .tar...) or zip artifact.

    `source=` is a host path, file://, http(s):// or s3:// URL; `checksum=` is
    'sha256:<hex>' (also sha512, sha1, md5) and is verified before unpacking.
    The folder is replaced as a whole; entries that would escape it are refused.
    Without a checksum the source URL is the artifact's identity: change the URL
    (or give a checksum) to unpack a new artifact. A dry run downloads nothing.
    """

    actions: ClassVar[tuple[str, ...]] = ("extract",)
    example: ClassVar[dict[str, Any]] = {
        "name": "/srv/web/app",
        "source": "/tmp/app.tar.gz",
        "checksum": "sha256:" + "0" * 64,
    }

    source: str = ""
    checksum: str | None = None
    strip_components: int = 0
    owner: str | int | None = None
    group: str | int | None = None

    def validate(self) -> None:
        node_path(self.name)
        artifact_of(self.source, self.checksum, self.strip_components)
        check_owner(self.owner, "owner")
        check_owner(self.group, "group")

    def desired(self, ctx: ConvergeContext, action: str) -> ArchiveDesired:
        return ArchiveDesired(
            node_path(self.name),
            ctx.root.host_path(self.name),
            artifact_of(self.source, self.checksum, self.strip_components),
            uid_of(self.owner),
            gid_of(self.group),
        )

    def current(self, ctx: ConvergeContext, desired: ArchiveDesired) -> ArchiveState:
        state: PathState = read_state(desired.host)
        marker = read_marker(desired.host) if state.kind == "directory" else None
        return ArchiveState(state.kind, marker)

    @staticmethod
    def change(current: ArchiveState, desired: ArchiveDesired) -> ArchiveChange | NoChange:
        artifact = desired.artifact
        if current.kind == "missing":
            why = "folder is absent"
        elif current.kind != "directory":
            raise WrongKind(f"{desired.path} is a {current.kind}, not a folder; remove it first")
        elif current.marker is None:
            why = "folder was not unpacked by stackops; its content is replaced"
        elif artifact.matches(current.marker):
            return NoChange(
                f"holds {current.marker.get('source')} ({current.marker.get('checksum')})"
            )
        else:
            why = f"holds {current.marker.get('source')} ({current.marker.get('checksum')})"
        return ArchiveChange(desired.path, desired.host, artifact, why, desired.uid, desired.gid)

    def apply(self, ctx: ConvergeContext, change: ArchiveChange) -> None:
        try:
            change.artifact.install_into(change.host, ctx.fetchers, change.uid, change.gid)
        except StackopsError:
            raise
        except OSError as exc:
            raise StackopsError(
                f"unpacking {change.artifact.source} into {change.path} failed: {exc}"
            ) from exc
