"""Every path resolves under the run's root: neither `..` nor a symlink leads out of it."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from stackops.converge import run_recipes
from stackops.converge.paths import NodeRoot, OutsideRoot, node_path
from stackops.errors import InvalidInput


def test_node_path_normalises_and_refuses_climbing_out() -> None:
    assert node_path("/etc//web/./x/../web.conf") == "/etc/web/web.conf"
    with pytest.raises(OutsideRoot):
        node_path("/etc/../../x")
    with pytest.raises(Exception, match="must be absolute"):
        node_path("etc/x")


def test_host_path_maps_under_the_root(tmp_path: Path) -> None:
    root = NodeRoot(tmp_path)
    assert root.host_path("/etc/web.conf") == Path(os.path.realpath(tmp_path)) / "etc/web.conf"
    assert root.host_path("/") == Path(os.path.realpath(tmp_path))


def test_symlink_inside_the_root_is_followed(tmp_path: Path) -> None:
    (tmp_path / "srv/releases/1").mkdir(parents=True)
    (tmp_path / "srv/current").symlink_to("releases/1")
    root = NodeRoot(tmp_path)
    real = Path(os.path.realpath(tmp_path))
    assert root.host_path("/srv/current/app.py") == real / "srv/releases/1/app.py"
    assert root.host_path("/srv/current", follow_last=False) == real / "srv/current"


@pytest.mark.parametrize("target", ["/", "../../..", "/etc"])
def test_symlink_out_of_the_root_is_refused(tmp_path: Path, target: str) -> None:
    (tmp_path / "node/etc").mkdir(parents=True)
    (tmp_path / "node/etc/evil").symlink_to(target)
    root = NodeRoot(tmp_path / "node")
    with pytest.raises(OutsideRoot, match="outside the root"):
        root.host_path("/etc/evil/passwd")


def test_link_text_is_relative_under_a_root_and_as_given_on_the_host(tmp_path: Path) -> None:
    assert NodeRoot(tmp_path).link_text("/srv/web/current", "/srv/web/releases/1") == "releases/1"
    assert NodeRoot(tmp_path).link_text("/a/b", "/c") == "../c"
    assert NodeRoot("/").link_text("/srv/web/current", "/srv/web/releases/1") == (
        "/srv/web/releases/1"
    )


def test_a_resource_through_an_escaping_symlink_fails_and_writes_nothing_outside(
    tmp_path: Path, cookbooks: Any
) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    root = tmp_path / "node"
    (root / "etc").mkdir(parents=True)
    (root / "etc/app").symlink_to(outside)  # absolute, out of the root
    cookbooks.recipe(
        "evil::default",
        """
        run.file("/etc/app/config", content="pwned\\n")
        run.file("/etc/ok", content="fine\\n")
        """,
    )
    report = run_recipes(["evil"], {}, root, [cookbooks.path])
    assert not report.ok
    first, second = report.results
    assert first.status == "failed" and "outside the root" in (first.error or "")
    assert second.status == "skipped"
    assert list(outside.iterdir()) == []


def test_dot_dot_in_a_recipe_is_refused_before_anything_runs(
    tmp_path: Path, cookbooks: Any
) -> None:
    cookbooks.recipe(
        "evil::default",
        """
        run.file("/etc/ok", content="fine\\n")
        run.file("/etc/../../../tmp/pwned", content="x")
        """,
    )
    with pytest.raises(InvalidInput, match=r"default.py:3: file\[.*climbs above the root"):
        run_recipes(["evil"], {}, tmp_path / "node", [cookbooks.path])
    assert not (tmp_path / "node").exists()


def test_host_path_resolves_as_realpath_does(tmp_path: Path) -> None:
    """The walk below the root gives what os.path.realpath gives for every kind of path:
    plain, missing, through a file, through in-root links (relative, absolute, chained),
    a dangling link and a loop."""
    real = Path(os.path.realpath(tmp_path))
    (tmp_path / "srv/releases/1/app").mkdir(parents=True)
    (tmp_path / "srv/releases/1/app/run.py").write_text("")
    (tmp_path / "srv/current").symlink_to("releases/1")
    (tmp_path / "srv/absolute").symlink_to(real / "srv/releases/1")
    (tmp_path / "srv/chained").symlink_to("current/app")
    (tmp_path / "srv/dangling").symlink_to("nowhere/at/all")
    (tmp_path / "srv/loop-a").symlink_to("loop-b")
    (tmp_path / "srv/loop-b").symlink_to("loop-a")
    root = NodeRoot(tmp_path)
    for path in [
        "/srv",
        "/srv/releases/1/app/run.py",
        "/srv/missing/deeper/x",
        "/srv/releases/1/app/run.py/below-a-file",
        "/srv/current/app/run.py",
        "/srv/absolute/app",
        "/srv/chained/run.py",
        "/srv/dangling/x",
        "/srv/loop-a/x",
    ]:
        assert root.host_path(path) == Path(os.path.realpath(str(real) + path)), path
        parent, name = os.path.split(path)
        expected = Path(os.path.realpath(str(real) + parent)) / name
        assert root.host_path(path, follow_last=False) == expected, path
