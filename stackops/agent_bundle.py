"""The agent's wheels: built (or taken prebuilt), checked, and laid out for the bucket.

Instances install stackops with `pip install --no-index` from these files, so the
folder must hold the stackops wheel and a wheel of every dependency for each
Python and machine the documented AMIs have: CPython 3.11 (Amazon Linux 2023,
Ubuntu 22.04) and 3.12 (Ubuntu 24.04, and the Lambda runtime), x86_64 and
aarch64. In the bucket: `agent/<version>/<wheel>`, `agent/<version>/manifest.json`
(name, sha256 and size of each) and `agent/latest.json`.
"""

from __future__ import annotations

import hashlib
import io
import json
import re
import subprocess
import sys
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NamedTuple

from stackops.errors import InvalidInput, StackopsError

AGENT_PREFIX = "agent/"
LATEST_KEY = "agent/latest.json"
PYTHONS = ("3.11", "3.12")
PLATFORMS = ("manylinux2014_x86_64", "manylinux2014_aarch64")
LAMBDA_PYTHON = "3.12"
LAMBDA_ARCH = "x86_64"
_FIXED_TIME = (1980, 1, 1, 0, 0, 0)  # zip entries dated alike: the same wheels, the same zip


def version_prefix(version: str) -> str:
    return f"{AGENT_PREFIX}{version}/"


def manifest_key(version: str) -> str:
    return f"{version_prefix(version)}manifest.json"


def normalize(name: str) -> str:
    """A distribution name as wheels and PEP 503 compare them."""
    return re.sub(r"[-_.]+", "-", name).lower()


class Wheel(NamedTuple):
    """One wheel file and what its name says (PEP 427)."""

    path: Path
    name: str  # normalized
    version: str
    python: str
    abi: str
    platform: str
    sha256: str
    size: int

    @classmethod
    def read(cls, path: Path) -> Wheel:
        parts = path.name[: -len(".whl")].split("-")
        if len(parts) not in (5, 6):
            raise InvalidInput(f"{path}: not a wheel file name (name-version-python-abi-platform)")
        data = path.read_bytes()
        return cls(
            path,
            normalize(parts[0]),
            parts[1],
            parts[-3],
            parts[-2],
            parts[-1],
            hashlib.sha256(data).hexdigest(),
            len(data),
        )

    def requirements(self) -> list[str]:
        """The distributions it requires unconditionally (Requires-Dist without a marker)."""
        with zipfile.ZipFile(self.path) as wheel:
            meta = next((n for n in wheel.namelist() if n.endswith(".dist-info/METADATA")), None)
            text = wheel.read(meta).decode() if meta else ""
        found = []
        for line in text.splitlines():
            if line.startswith("Requires-Dist:") and ";" not in line:
                found.append(normalize(re.split(r"[\s<>=!~\[(]", line.split(":", 1)[1].strip())[0]))
        return found

    def fits(self, python: str, arch: str) -> bool:
        """True when this wheel installs on CPython `python` ("3.12") on Linux `arch`."""
        platforms = self.platform.split(".")
        if self.platform != "any" and not any(
            p.startswith(("manylinux", "linux")) and p.endswith(f"_{arch}") for p in platforms
        ):
            return False
        minor = int(python.split(".")[1])
        cp, tags = f"cp3{minor}", self.python.split(".")
        if self.abi == "none":
            return any(t in ("py3", f"py3{minor}", cp) for t in tags)
        if self.abi == cp:
            return cp in tags
        if self.abi == "abi3":
            return any(t[:3] == "cp3" and t[3:].isdigit() and int(t[3:]) <= minor for t in tags)
        return False


class AgentBundle(NamedTuple):
    """The wheels of one stackops version."""

    version: str
    wheels: tuple[Wheel, ...]
    folder: Path

    def manifest(self) -> bytes:
        files = [{"name": w.path.name, "sha256": w.sha256, "size": w.size} for w in self.wheels]
        return json.dumps({"version": self.version, "files": files}, sort_keys=True).encode()


def read_bundle(folder: Path) -> AgentBundle:
    """The wheels in `folder`; InvalidInput when stackops or a dependency is missing."""
    if not folder.is_dir():
        raise InvalidInput(f"--agent-wheels {folder}: no such folder")
    wheels = tuple(sorted((Wheel.read(p) for p in folder.glob("*.whl")), key=lambda w: w.path))
    ours = [w for w in wheels if w.name == "stackops"]
    if len(ours) != 1:
        raise InvalidInput(
            f"--agent-wheels {folder}: expected one stackops wheel, found {len(ours)}",
            hint="build them with 'stackops bootstrap' on a machine with the package index",
        )
    missing = _missing({w.name: w for w in wheels})
    if missing:
        raise InvalidInput(
            f"--agent-wheels {folder}: no wheel of {', '.join(missing)}, which stackops "
            "requires; instances install with --no-index and would fail"
        )
    return AgentBundle(ours[0].version, wheels, folder)


def _missing(wheels: dict[str, Wheel]) -> list[str]:
    """The distributions stackops needs, directly or through another wheel, that have no
    wheel among `wheels` (requirements without an environment marker)."""
    seen: set[str] = set()
    missing: set[str] = set()
    todo = ["stackops"]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        seen.add(name)
        wheel = wheels.get(name)
        if wheel is None:
            missing.add(name)
        else:
            todo.extend(wheel.requirements())
    return sorted(missing)


def source_tree() -> Path | None:
    """The stackops source folder this package runs from (an editable install), if any."""
    top = Path(__file__).resolve().parents[1]
    project = top / "pyproject.toml"
    if project.is_file() and 'name = "stackops"' in project.read_text():
        return top
    return None


Runner = Callable[[Sequence[str]], Any]


def _run(argv: Sequence[str]) -> None:
    done = subprocess.run(list(argv), capture_output=True, text=True, check=False)
    if done.returncode != 0:
        said = "\n".join((done.stderr or done.stdout).strip().splitlines()[-5:])
        raise StackopsError(f"building the agent wheels failed: {' '.join(argv[:5])} ...:\n{said}")


def build_commands(dest: Path, wheel: Path | None, python: str = sys.executable) -> list[list[str]]:
    """pip's commands: the stackops wheel (no network), then its dependencies for every
    Python and platform of the documented AMIs (from the package index)."""
    pip = [python, "-m", "pip"]
    if wheel is None:
        source = source_tree()
        if source is None:
            raise InvalidInput(
                "cannot build the stackops wheel: this stackops is not a source tree",
                hint="give --agent-wheels DIR with the stackops wheel and its dependencies",
            )
        return [[*pip, "wheel", "--no-deps", "-w", str(dest), str(source)]]
    commands = []
    for version in PYTHONS:
        for platform in PLATFORMS:
            commands.append(
                [
                    *pip,
                    "download",
                    "--only-binary=:all:",
                    "--implementation",
                    "cp",
                    "--python-version",
                    version,
                    "--platform",
                    platform,
                    "-d",
                    str(dest),
                    str(wheel),
                ]
            )
    return commands


def build_bundle(dest: Path, run: Runner = _run) -> AgentBundle:
    """Build the stackops wheel into `dest`, download its dependencies' wheels beside it."""
    dest.mkdir(parents=True, exist_ok=True)
    for command in build_commands(dest, None):
        run(command)
    ours = sorted(dest.glob("stackops-*.whl"), key=lambda p: p.stat().st_mtime)
    if not ours:
        raise StackopsError(f"building the agent wheels made no stackops wheel in {dest}")
    for command in build_commands(dest, ours[-1]):
        run(command)
    return read_bundle(dest)


def lambda_zip(bundle: AgentBundle) -> bytes:
    """A Lambda deployment package: every wheel for python3.12 x86_64, unpacked at its top.

    Entries are sorted and dated alike, so the same wheels always make the same zip
    (and Lambda's CodeSha256 tells whether the function runs them)."""
    chosen: dict[str, Wheel] = {}
    for wheel in bundle.wheels:
        if wheel.fits(LAMBDA_PYTHON, LAMBDA_ARCH):
            best = chosen.get(wheel.name)
            if best is None or (best.platform == "any" and wheel.platform != "any"):
                chosen[wheel.name] = wheel
    missing = _missing(chosen)
    if missing:
        raise InvalidInput(
            f"{bundle.folder}: no wheel of {', '.join(missing)} for Lambda "
            f"(CPython {LAMBDA_PYTHON}, manylinux {LAMBDA_ARCH})"
        )
    entries: dict[str, tuple[zipfile.ZipInfo, bytes]] = {}
    for wheel in chosen.values():
        with zipfile.ZipFile(wheel.path) as source:
            for info in source.infolist():
                if not info.is_dir():
                    entries[info.filename] = (info, source.read(info))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as package:
        for name in sorted(entries):
            info, data = entries[name]
            fixed = zipfile.ZipInfo(name, date_time=_FIXED_TIME)
            fixed.external_attr = info.external_attr or (0o644 << 16)
            fixed.compress_type = zipfile.ZIP_DEFLATED
            package.writestr(fixed, data)
    return out.getvalue()
