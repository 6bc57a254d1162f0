"""The release resource on disk: unpack, shared links, atomic switch, keep N, switch back."""

from __future__ import annotations

import io
import json
import os
import tarfile
from pathlib import Path
from typing import Any

from stackops.converge import run_recipes


def artifact(tmp_path: Path, version: str) -> Path:
    path = tmp_path / f"app-{version}.tar.gz"
    with tarfile.open(path, "w:gz") as tar:
        for name, data in {
            "VERSION": version.encode(),
            "log/README": b"replaced by shared",
        }.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return path


def deploy(cookbooks: Any, root: Path, release: str, source: Path | None, keep: int = 2) -> Any:
    src = f'source="{source}", ' if source else ""
    cookbooks.recipe(
        "app::default",
        f'run.release("/srv/app", release="{release}", {src}shared=["log", "tmp/pids"], '
        f"keep={keep})",
    )
    return run_recipes(["app"], {}, root, [cookbooks.path])


def current(root: Path) -> str:
    return (root / "srv/app/current/VERSION").read_text()


def test_deploy_keep_n_and_switch_back(tmp_path: Path, cookbooks: Any, root: Path) -> None:
    first = deploy(cookbooks, root, "v1", artifact(tmp_path, "v1"))
    assert first.ok, first.results
    assert os.readlink(root / "srv/app/current") == "releases/v1"
    assert current(root) == "v1"
    log = root / "srv/app/releases/v1/log"
    assert log.is_symlink() and os.readlink(log) == "../../shared/log"
    assert (root / "srv/app/releases/v1/tmp/pids").resolve() == (
        root / "srv/app/shared/tmp/pids"
    ).resolve()

    assert deploy(cookbooks, root, "v1", artifact(tmp_path, "v1")).results[0].status == (
        "unchanged"
    )
    deploy(cookbooks, root, "v2", artifact(tmp_path, "v2"))
    third = deploy(cookbooks, root, "v3", artifact(tmp_path, "v3"))
    assert "remove old releases v1" in third.results[0].summary
    assert sorted(os.listdir(root / "srv/app/releases")) == ["v2", "v3"]
    assert current(root) == "v3"
    history = json.loads((root / "srv/app/.stackops-releases.json").read_text())
    assert history == ["v2", "v3"]

    back = deploy(cookbooks, root, "v2", None)
    assert back.ok, back.results
    assert back.results[0].summary == "switch current v3 -> v2"
    assert current(root) == "v2"
    assert sorted(os.listdir(root / "srv/app/releases")) == ["v2", "v3"]
    assert deploy(cookbooks, root, "v2", None).results[0].status == "unchanged"


def test_switch_to_a_release_that_is_gone_fails_clearly(
    tmp_path: Path, cookbooks: Any, root: Path
) -> None:
    deploy(cookbooks, root, "v1", artifact(tmp_path, "v1"))
    report = deploy(cookbooks, root, "v0", None)
    assert not report.ok
    assert "release v0 is not in /srv/app/releases (have: v1)" in (report.results[0].error or "")
    assert current(root) == "v1"


def test_failed_migration_does_not_switch(tmp_path: Path, cookbooks: Any, root: Path) -> None:
    deploy(cookbooks, root, "v1", artifact(tmp_path, "v1"))
    v2 = artifact(tmp_path, "v2")
    cookbooks.recipe(
        "app::default",
        f'run.release("/srv/app", release="v2", source="{v2}", '
        'migrate=["/bin/sh", "-c", "echo migrating; exit 1"])',
    )
    report = run_recipes(["app"], {}, root, [cookbooks.path])
    assert not report.ok
    assert "migration of release v2 exited with status 1" in (report.results[0].error or "")
    assert current(root) == "v1"


def test_dry_run_leaves_releases_alone(
    tmp_path: Path, cookbooks: Any, root: Path, tree: Any
) -> None:
    deploy(cookbooks, root, "v1", artifact(tmp_path, "v1"))
    before = tree(root)
    v2 = artifact(tmp_path, "v2")
    cookbooks.recipe(
        "app::default", f'run.release("/srv/app", release="v2", source="{v2}", keep=1)'
    )
    report = run_recipes(["app"], {}, root, [cookbooks.path], dry_run=True)
    assert "switch current v1 -> v2; remove old releases v1" in report.results[0].summary
    assert tree(root) == before
