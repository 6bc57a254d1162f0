"""The package resource: pure change, the manager's commands, a host run with fake tools,
and the built-in setup's Packages, InstallUpdatesOnBoot and SSL files."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path
from typing import Any

import pytest

from stackops.converge import run_recipes
from stackops.converge.context import ConvergeContext
from stackops.converge.engine import converge_one
from stackops.converge.paths import NodeRoot
from stackops.converge.resource import DeclarationError, NoChange, Origin
from stackops.converge.resources.package import (
    MANAGERS,
    Package,
    PackageDesired,
    PackageState,
    host_manager,
)

ORIGIN = Origin("t::default", "t.py", 1, Path("."))


def test_change_is_pure_and_says_why():
    dnf = MANAGERS["dnf"]
    want = PackageDesired("install", ("nginx", "git"), True, dnf)
    assert Package.change(PackageState(missing=()), want) == NoChange("installed: nginx, git")
    change = Package.change(PackageState(missing=("nginx",)), want)
    assert change.commands == (("dnf", "install", "-y", "nginx"),)
    assert change.summary == "install nginx"
    folder = Package.change(None, want._replace(on_host=False))
    assert isinstance(folder, NoChange) and "packages install only on a host" in folder.reason
    upgrade = PackageDesired("upgrade", (), True, MANAGERS["apt-get"])
    assert Package.change(PackageState(pending=False), upgrade) == NoChange("no updates pending")
    assert Package.change(PackageState(pending=True), upgrade).commands == (
        ("apt-get", "update", "-q"),
        ("apt-get", "upgrade", "-y"),
    )
    assert "no dnf, yum or apt-get" in Package.change(None, want._replace(manager=None)).reason


def test_managers_and_declaration():
    assert host_manager(lambda name: "/usr/bin/apt-get" if name == "apt-get" else None).name == (
        "apt-get"
    )
    assert host_manager(lambda name: None) is None
    assert MANAGERS["apt-get"].is_installed(0, "installed")
    assert not MANAGERS["apt-get"].is_installed(0, "not-installed")
    assert MANAGERS["yum"].has_pending(100, "") and not MANAGERS["yum"].has_pending(0, "")
    with pytest.raises(DeclarationError, match="at least one package"):
        Package(name="x", origin=ORIGIN)
    with pytest.raises(DeclarationError, match="list of package names"):
        Package(name="x", origin=ORIGIN, packages="nginx")
    with pytest.raises(DeclarationError, match="manager= is one of"):
        Package(name="x", origin=ORIGIN, packages=["a"], manager="pacman")


def _tool(folder: Path, name: str, body: str) -> None:
    path = folder / name
    path.write_text("#!/bin/sh\n" + body)
    path.chmod(path.stat().st_mode | stat.S_IEXEC)


def test_on_a_host_missing_packages_are_installed_by_the_manager(tmp_path, monkeypatch):
    """Root / with fake rpm and dnf first on PATH: only the missing package is installed."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    log = tmp_path / "calls"
    _tool(bin_dir, "rpm", f'echo "rpm $*" >> {log}\n[ "$3" = git ]\n')
    _tool(bin_dir, "dnf", f'echo "dnf $*" >> {log}\n')
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    resource = Package(name="web", origin=ORIGIN, packages=["nginx", "git"], manager="dnf")
    ctx = ConvergeContext(root=NodeRoot("/"), node={}, dry_run=False, clock=time.monotonic)
    result = converge_one(resource, "install", ctx)
    assert (result.status, result.summary) == ("changed", "install nginx"), result
    assert log.read_text().splitlines()[-1] == "dnf install -y nginx"


def _setup(root: Path, node: dict[str, Any]) -> Any:
    return run_recipes(["stackops::setup"], node, root)


def test_builtin_setup_reports_packages_on_a_folder_root_and_writes_ssl_files(tmp_path):
    node = {
        "stackops": {
            "instance": {"packages": ["nginx"], "install_updates_on_boot": True},
        },
        "deploy": {
            "web": {
                "application": "web",
                "deploy_to": "/srv/www/web",
                "scm": {"scm_type": "archive", "repository": "/tmp/web.tar.gz"},
                "ssl": {
                    "enabled": True,
                    "certificate": "CERT",
                    "private_key": "KEY",
                    "chain": "CA",
                    "certificate_file": "/srv/www/web/shared/ssl/web.crt",
                    "key_file": "/srv/www/web/shared/ssl/web.key",
                    "chain_file": "/srv/www/web/shared/ssl/web.ca",
                },
            }
        },
    }
    report = _setup(tmp_path, node)
    assert report.ok
    by_id = {r.resource: r for r in report.results}
    packages = by_id["package[layer packages]"]
    assert packages.status == "unchanged"
    assert "not installed (nginx): the run's root is a folder" in packages.summary
    assert "package[pending updates]" in by_id
    ssl = tmp_path / "srv/www/web/shared/ssl"
    assert (ssl / "web.crt").read_text() == "CERT" and (ssl / "web.ca").read_text() == "CA"
    assert (ssl / "web.key").read_text() == "KEY"
    assert stat.S_IMODE((ssl / "web.key").stat().st_mode) == 0o600
    assert "KEY" not in str([r.to_dict() for r in report.results])

    node["stackops"]["instance"] = {"packages": [], "install_updates_on_boot": False}
    node["deploy"]["web"]["ssl"] = {"enabled": False}
    quiet = {r.resource for r in _setup(tmp_path, node).results}
    assert not any(r.startswith("package[") for r in quiet)
