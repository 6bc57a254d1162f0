"""Resources on disk: execute guards and timeouts, ownership, immediate notifications, include."""

from __future__ import annotations

import grp
import os
import pwd
from pathlib import Path
from typing import Any

from stackops.converge import format_text, run_recipes


def converge(cookbooks: Any, root: Path, body: str, node: dict | None = None, **kw: Any) -> Any:
    cookbooks.recipe("r::default", body)
    return run_recipes(["r"], node or {}, root, [cookbooks.path], **kw)


def test_execute_guards(cookbooks: Any, root: Path) -> None:
    body = """
    run.directory("/w")
    run.execute(["touch", "created"], cwd="/w", creates="/w/created")
    run.execute(["touch", "only"], name="only_if true", cwd="/w", only_if=["true"])
    run.execute(["touch", "never"], name="only_if false", cwd="/w", only_if=["false"])
    run.execute(["touch", "never2"], name="not_if callable", cwd="/w", not_if=lambda: True)
    run.execute("echo $STACKOPS_ROOT > root.txt", shell=True, cwd="/w",
                not_if="test -e root.txt")
    """
    first = converge(cookbooks, root, body)
    assert first.ok, format_text(first)
    assert sorted(os.listdir(root / "w")) == ["created", "only", "root.txt"]
    assert (root / "w/root.txt").read_text().strip() == str(root)
    summaries = {r.resource: r.summary for r in first.results}
    assert summaries["execute[only_if false]"] == "not run: only_if is false"
    assert summaries["execute[not_if callable]"] == "not run: not_if is true"
    second = converge(cookbooks, root, body)
    statuses = {r.resource: r.status for r in second.results}
    assert statuses["execute[touch created]"] == "unchanged"
    assert statuses["execute[echo $STACKOPS_ROOT > root.txt]"] == "unchanged"
    assert statuses["execute[only_if true]"] == "changed"  # no guard keeps it from running


def test_execute_timeout_and_run_budget(cookbooks: Any, root: Path) -> None:
    report = converge(cookbooks, root, 'run.execute(["sleep", "5"], timeout=0.2)')
    assert "timed out after 0.2 s" in (report.results[0].error or "")
    budget = converge(
        cookbooks, root, 'run.execute(["sleep", "5"])\nrun.file("/after", content="")', timeout=0.3
    )
    assert "timed out" in (budget.results[0].error or "")
    assert budget.results[1].status == "skipped"


def test_immediate_notification_runs_before_the_next_resource(cookbooks: Any, root: Path) -> None:
    body = """
    conf = run.file("/conf", content=run.node["v"])
    run.execute(["/bin/sh", "-c", "echo reload >> log"], name="reload", cwd="/",
                subscribes=[conf.immediately])
    run.execute(["/bin/sh", "-c", "echo next >> log"], name="next", cwd="/", requires=[conf])
    """
    report = converge(cookbooks, root, body, {"v": "1"})
    assert report.ok, format_text(report)
    assert (root / "log").read_text() == "reload\nnext\n"
    (note,) = report.notifications
    assert note.phase == "immediate" and note.notified_by == ("file[/conf]",)


def test_delayed_notifications_run_once_at_the_end(cookbooks: Any, root: Path) -> None:
    body = """
    a = run.file("/a", content=run.node["v"])
    b = run.file("/b", content=run.node["v"])
    run.execute(["/bin/sh", "-c", "echo restart >> log"], name="restart", cwd="/",
                subscribes=[a, b])
    run.execute(["/bin/sh", "-c", "echo last >> log"], name="last", cwd="/")
    """
    report = converge(cookbooks, root, body, {"v": "1"})
    assert (root / "log").read_text() == "last\nrestart\n"
    (note,) = report.notifications
    assert note.notified_by == ("file[/a]", "file[/b]")


def test_owner_group_and_mode(cookbooks: Any, root: Path) -> None:
    user = pwd.getpwuid(os.getuid()).pw_name
    group = grp.getgrgid(os.getgid()).gr_name
    body = f"""
    run.directory("/d", mode="0750", owner="{user}", group={os.getgid()})
    run.file("/d/f", content="x", mode=0o600, owner={os.getuid()}, group="{group}")
    """
    first = converge(cookbooks, root, body)
    assert first.ok, format_text(first)
    assert (root / "d").stat().st_mode & 0o777 == 0o750
    assert (root / "d/f").stat().st_mode & 0o777 == 0o600
    os.chmod(root / "d/f", 0o644)
    second = converge(cookbooks, root, body)
    assert [r.summary for r in second.results if r.status == "changed"] == ["mode 0644 -> 0600"]
    unknown = converge(cookbooks, root, 'run.file("/x", content="", owner="no-such-user-x")')
    assert "no user 'no-such-user-x'" in (unknown.results[0].error or "")


def test_sensitive_content_never_shows(cookbooks: Any, root: Path) -> None:
    body = 'run.file("/secret", content=run.node["s"], sensitive=True, mode=0o600)'
    converge(cookbooks, root, body, {"s": "password=one\n"})
    report = converge(cookbooks, root, body, {"s": "password=two\n"})
    assert report.results[0].diff == "(sensitive content hidden)"
    assert "password" not in format_text(report, verbose=True)
    assert (root / "secret").read_text() == "password=two\n"


def test_include_declares_a_recipe_once(cookbooks: Any, root: Path) -> None:
    cookbooks.recipe("base::default", 'run.directory("/base")')
    cookbooks.recipe("app::one", 'run.include("base")\nrun.file("/base/one", content="1")')
    cookbooks.recipe("app::two", 'run.include("base")\nrun.file("/base/two", content="2")')
    report = run_recipes(["app::one", "app::two", "base"], {}, root, [cookbooks.path])
    assert [r.resource for r in report.results] == [
        "directory[/base]",
        "file[/base/one]",
        "file[/base/two]",
    ]
    assert [r.recipe for r in report.results] == ["base::default", "app::one", "app::two"]


def test_file_from_the_cookbook_files_folder_and_link_replacing_a_file(
    cookbooks: Any, root: Path
) -> None:
    cookbooks.file("r", "logo.bin", b"\x89PNG\x00")
    (root / "srv").mkdir()
    (root / "srv/current").write_text("a plain file in the way")
    body = """
    run.file("/srv/logo.bin", source="logo.bin")
    run.link("/srv/current", to="/srv/logo.bin")
    """
    report = converge(cookbooks, root, body)
    assert report.ok, format_text(report)
    assert (root / "srv/logo.bin").read_bytes() == b"\x89PNG\x00"
    assert os.readlink(root / "srv/current") == "logo.bin"
    assert "(was a file)" in report.results[1].summary
    missing = converge(cookbooks, root, 'run.file("/x", source="nope.txt")')
    assert "source 'nope.txt' not found" in (missing.results[0].error or "")
