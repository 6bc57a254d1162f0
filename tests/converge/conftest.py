"""Fixtures for the recipe engine: cookbooks written on the fly, a solo runner, tree snapshots."""

from __future__ import annotations

import json
import os
import signal
import textwrap
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result

from stackops.cli.main import cli


class Cookbooks:
    """A folder of cookbooks a test writes recipes, templates and files into."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def recipe(self, name: str, body: str) -> Path:
        """Write recipe `cookbook::recipe` with `body` as the inside of `def recipe(run):`."""
        cookbook, _, recipe = name.partition("::")
        folder = self.path / cookbook
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{recipe or 'default'}.py"
        indented = textwrap.indent(textwrap.dedent(body).strip("\n"), "    ")
        path.write_text(f"def recipe(run):\n{indented}\n")
        return path

    def template(self, cookbook: str, name: str, text: str) -> Path:
        path = self.path / cookbook / "templates" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def file(self, cookbook: str, name: str, data: bytes) -> Path:
        path = self.path / cookbook / "files" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)
        return path


@pytest.fixture
def cookbooks(tmp_path: Path) -> Cookbooks:
    path = tmp_path / "cookbooks"
    path.mkdir()
    return Cookbooks(path)


@pytest.fixture
def root(tmp_path: Path) -> Path:
    path = tmp_path / "node"
    path.mkdir()
    return path


@pytest.fixture
def node_file(tmp_path: Path) -> Callable[[dict[str, Any]], Path]:
    def write(node: dict[str, Any]) -> Path:
        path = tmp_path / "node.json"
        path.write_text(json.dumps(node))
        return path

    return write


SoloRunner = Callable[..., Result]


@pytest.fixture
def solo(cookbooks: Cookbooks, root: Path, tmp_path: Path) -> SoloRunner:
    """Run `stackops solo` in-process on the test's root and cookbooks."""

    def run(*args: str, node: dict[str, Any] | None = None) -> Result:
        argv = ["solo", "--root", str(root), "--cookbooks", str(cookbooks.path)]
        if node is not None:
            path = tmp_path / "node.json"
            path.write_text(json.dumps(node))
            argv += ["-j", str(path)]
        return CliRunner().invoke(cli, [*argv, *args], catch_exceptions=False)

    return run


def snapshot(root: Path) -> dict[str, tuple[str, Any, int]]:
    """Every path under `root` with its kind, content or link text, and mode."""
    found: dict[str, tuple[str, Any, int]] = {}
    for folder, dirs, files in os.walk(root):
        for name in dirs + files:
            path = Path(folder, name)
            st = path.lstat()
            rel = str(path.relative_to(root))
            if path.is_symlink():
                found[rel] = ("link", os.readlink(path), st.st_mode)
            elif path.is_dir():
                found[rel] = ("dir", None, st.st_mode)
            else:
                found[rel] = ("file", path.read_bytes(), st.st_mode)
    return found


@pytest.fixture
def tree() -> Callable[[Path], dict[str, tuple[str, Any, int]]]:
    """snapshot(root): compare a tree before and after."""
    return snapshot


@pytest.fixture
def stop_services(tmp_path: Path) -> Iterator[None]:
    """Kill every process a test's pid files name, whatever the test did."""
    yield
    for pid_file in tmp_path.rglob("*.pid"):
        try:
            data = json.loads(pid_file.read_text())
            pid = data["pid"] if isinstance(data, dict) else int(data)
            os.killpg(pid, signal.SIGKILL)
        except (OSError, ValueError, KeyError, TypeError):
            pass
