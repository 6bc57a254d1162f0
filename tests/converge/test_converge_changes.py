"""Change computation of every resource type, from plain values (no disk, no processes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackops.converge.filesystem import PathState
from stackops.converge.resource import NoChange
from stackops.converge.resources.archive import Archive, ArchiveDesired, ArchiveState, Artifact
from stackops.converge.resources.execute import Execute, ExecuteDesired, GuardState
from stackops.converge.resources.files import (
    ContentResource,
    Directory,
    DirectoryDesired,
    FileDesired,
    WrongKind,
)
from stackops.converge.resources.links import Link, LinkDesired
from stackops.converge.resources.release import (
    Release,
    ReleaseConflict,
    ReleaseDesired,
    ReleaseMissing,
    ReleaseState,
    shared_link_text,
)
from stackops.converge.resources.service import Service, ServiceDesired, ServiceState
from stackops.converge.supervise import PidRecord

HOST = Path("/n/x")


def file_desired(content: bytes | None = b"hello\n", **kw: object) -> FileDesired:
    values = dict(
        path="/x",
        host=HOST,
        action="create",
        content=content,
        mode=0o644,
        new_mode=0o644,
        uid=None,
        gid=None,
        sensitive=False,
    )
    values.update(kw)
    return FileDesired(**values)  # type: ignore[arg-type]


def file_state(content: bytes, mode: int = 0o644) -> PathState:
    return PathState("file", mode, 0, 0, len(content), content)


# -- file ---------------------------------------------------------------------------


def test_file_missing_is_created_with_a_diff() -> None:
    change = ContentResource.change(PathState("missing"), file_desired())
    assert change.summary == "create file /x (6 bytes, mode 0644)"
    assert "+hello" in change.diff


def test_file_same_content_and_mode_is_unchanged() -> None:
    result = ContentResource.change(file_state(b"hello\n"), file_desired())
    assert isinstance(result, NoChange)
    assert "up to date" in result.reason


def test_file_content_change_has_a_unified_diff() -> None:
    change = ContentResource.change(file_state(b"hello\nold\n"), file_desired(b"hello\nnew\n"))
    assert change.summary == "update content"
    assert change.diff.splitlines()[:2] == ["--- /x (current)", "+++ /x (desired)"]
    assert "-old" in change.diff and "+new" in change.diff


def test_file_sizes_differ_without_reading_content() -> None:
    # The content of a file whose size differs need not have been read.
    state = PathState("file", 0o644, 0, 0, 99, None)
    change = ContentResource.change(state, file_desired(sensitive=True))
    assert change.content == b"hello\n"
    assert change.diff == "(sensitive content hidden)"


def test_file_mode_only() -> None:
    change = ContentResource.change(file_state(b"hello\n", 0o600), file_desired())
    assert change.content is None
    assert change.summary == "mode 0600 -> 0644"


def test_file_unmanaged_content_leaves_existing_content() -> None:
    result = ContentResource.change(file_state(b"anything"), file_desired(None, mode=None))
    assert isinstance(result, NoChange)


def test_file_where_a_folder_is_fails() -> None:
    with pytest.raises(WrongKind, match="is a directory"):
        ContentResource.change(PathState("directory", 0o755), file_desired())


def test_file_delete() -> None:
    assert isinstance(
        ContentResource.change(PathState("missing"), file_desired(action="delete")), NoChange
    )
    change = ContentResource.change(file_state(b"x"), file_desired(action="delete"))
    assert change.summary == "remove file /x"


def test_binary_content_diff_is_a_note() -> None:
    change = ContentResource.change(file_state(b"\xff\x00"), file_desired(b"\xfe\x01\x02"))
    assert change.diff == "(binary content: 2 bytes -> 3 bytes)"


# -- directory and link --------------------------------------------------------------


def test_directory_changes() -> None:
    want = DirectoryDesired("/d", HOST, "create", 0o755, None, None)
    assert Directory.change(PathState("missing"), want).summary == ("create folder /d, mode 0755")
    assert isinstance(Directory.change(PathState("directory", 0o755, 0, 0), want), NoChange)
    assert Directory.change(PathState("directory", 0o700, 0, 0), want).summary == (
        "mode 0700 -> 0755"
    )
    with pytest.raises(WrongKind):
        Directory.change(PathState("file", 0o644), want)


def test_link_changes() -> None:
    want = LinkDesired("/srv/current", HOST, "create", "releases/2", None, None)
    assert isinstance(Link.change(PathState("link", link_text="releases/2"), want), NoChange)
    change = Link.change(PathState("link", link_text="releases/1"), want)
    assert change.summary == "link /srv/current -> releases/2 (was releases/1)"
    assert Link.change(PathState("file", 0o644), want).summary.endswith("(was a file)")


# -- execute ---------------------------------------------------------------------------


def execute_desired(action: str = "run") -> ExecuteDesired:
    return ExecuteDesired(["true"], False, action, None, {}, None, (0,), None, None)


def test_execute_runs_unless_a_guard_says_no() -> None:
    assert Execute.change(GuardState(None), execute_desired()).summary == "run true"
    blocked = Execute.change(GuardState("/done exists"), execute_desired())
    assert blocked == NoChange("not run: /done exists")
    assert isinstance(Execute.change(GuardState(None), execute_desired("nothing")), NoChange)


# -- archive ---------------------------------------------------------------------------


def test_archive_identity_is_the_checksum_when_given_else_the_url() -> None:
    digest = "ab" * 32
    with_sum = Artifact("s3://b/new.tgz", ("sha256", digest), 0)
    assert with_sum.matches({"source": "s3://b/old.tgz", "checksum": f"sha256:{digest}"})
    assert not with_sum.matches({"source": "s3://b/new.tgz", "checksum": "sha256:" + "cd" * 32})
    plain = Artifact("s3://b/a.tgz", None, 0)
    assert plain.matches({"source": "s3://b/a.tgz", "checksum": "sha256:x"})
    assert not plain.matches({"source": "s3://b/a.tgz", "strip_components": 1})
    assert not plain.matches(None)


def test_archive_changes() -> None:
    want = ArchiveDesired("/app", HOST, Artifact("/tmp/a.tgz", None, 0), None, None)
    assert Archive.change(ArchiveState("missing", None), want).why == "folder is absent"
    held = {"source": "/tmp/a.tgz", "checksum": "sha256:00", "strip_components": 0}
    assert isinstance(Archive.change(ArchiveState("directory", held), want), NoChange)
    assert "not unpacked by stackops" in Archive.change(ArchiveState("directory", None), want).why


# -- release ---------------------------------------------------------------------------


def release_desired(release: str = "v3", source: str | None = "/a.tgz", keep: int = 2):
    artifact = Artifact(source, None, 0) if source else None
    return ReleaseDesired("/srv/app", HOST, release, artifact, ("log",), keep, None, {}, None, None)


def release_state(releases: tuple[str, ...], current: str | None, **kw: object) -> ReleaseState:
    values = dict(
        releases=releases,
        history=releases,
        current=current,
        target_marker=None,
        shared_present=frozenset({"log"}),
        shared_linked=frozenset({"log"}),
    )
    values.update(kw)
    return ReleaseState(**values)  # type: ignore[arg-type]


def test_release_new_keeps_n_newest() -> None:
    change = Release.change(release_state(("v1", "v2"), "v2"), release_desired())
    assert change.artifact is not None
    assert change.link_shared == ("log",)
    assert (change.switch_from, change.switch) == ("v2", True)
    assert change.prune == ("v1",)
    assert change.history == ("v2", "v3")
    assert "switch current v2 -> v3" in change.summary


def test_release_switch_back_without_source() -> None:
    state = release_state(("v1", "v2"), "v2")
    change = Release.change(state, release_desired("v1", source=None, keep=5))
    assert change.artifact is None and change.switch and change.prune == ()
    assert change.summary == "switch current v2 -> v1"


def test_release_current_and_linked_is_unchanged() -> None:
    marker = {"source": "/a.tgz", "strip_components": 0}
    state = release_state(("v2", "v3"), "v3", target_marker=marker)
    assert isinstance(Release.change(state, release_desired()), NoChange)


def test_release_missing_without_source_names_what_exists() -> None:
    with pytest.raises(ReleaseMissing, match=r"have: v1, v2"):
        Release.change(release_state(("v1", "v2"), "v2"), release_desired("v9", source=None))


def test_release_id_reused_for_another_artifact_is_refused() -> None:
    state = release_state(("v3",), "v3", target_marker={"source": "/other.tgz"})
    with pytest.raises(ReleaseConflict, match="use a new id"):
        Release.change(state, release_desired())


def test_shared_link_text_is_relative() -> None:
    assert shared_link_text("v1", "log") == "../../shared/log"
    assert shared_link_text("v1", "tmp/pids") == "../../../shared/tmp/pids"


# -- service ---------------------------------------------------------------------------


def service_desired(action: str, spec: str = "s1", reload_signal: int | None = None):
    return ServiceDesired(
        "web",
        "supervised",
        action,
        ("true",),
        None,
        {},
        spec,
        HOST,
        HOST,
        reload_signal,
        15,
        1.0,
        0.0,
        None,
        30.0,
        HOST,
    )


RUNNING = ServiceState(True, PidRecord(42, 1, "s1"))
STOPPED = ServiceState(False)


@pytest.mark.parametrize(
    ("state", "action", "steps"),
    [
        (STOPPED, "start", ("start",)),
        (RUNNING, "start", None),
        (STOPPED, "stop", None),
        (RUNNING, "stop", ("stop",)),
        (RUNNING, "restart", ("stop", "start")),
        (STOPPED, "restart", ("start",)),
        (RUNNING, "reload", ("stop", "start")),  # no reload signal: reload restarts
        (STOPPED, "reload", ("start",)),
        (RUNNING, "nothing", None),
    ],
)
def test_service_changes(state: ServiceState, action: str, steps: tuple[str, ...] | None) -> None:
    result = Service.change(state, service_desired(action))
    if steps is None:
        assert isinstance(result, NoChange)
    else:
        assert result.steps == steps


def test_service_reload_signal_and_changed_command() -> None:
    assert Service.change(RUNNING, service_desired("reload", reload_signal=1)).steps == ("reload",)
    changed = Service.change(RUNNING, service_desired("start", spec="s2"))
    assert changed.steps == ("stop", "start")
    assert "changed" in changed.summary
