"""Small real wheels for the agent tests (PEP 427 layout, installable by pip)."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path


def make_wheel(
    folder: Path,
    name: str,
    version: str,
    *,
    tag: str = "py3-none-any",
    requires: tuple[str, ...] = (),
    files: dict[str, str] | None = None,
    scripts: dict[str, str] | None = None,
) -> Path:
    """Write `<name>-<version>-<tag>.whl` into `folder`; its path."""
    dist = f"{name.replace('-', '_')}-{version}.dist-info"
    content = dict(files or {f"{name.replace('-', '_')}_pkg/__init__.py": "VERSION = 1\n"})
    content[f"{dist}/METADATA"] = (
        f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n"
        + "".join(f"Requires-Dist: {r}\n" for r in requires)
    )
    content[f"{dist}/WHEEL"] = (
        f"Wheel-Version: 1.0\nGenerator: tests\nRoot-Is-Purelib: true\nTag: {tag}\n"
    )
    if scripts:
        lines = "".join(f"{k} = {v}\n" for k, v in scripts.items())
        content[f"{dist}/entry_points.txt"] = f"[console_scripts]\n{lines}"
    record = []
    for path, text in content.items():
        digest = base64.urlsafe_b64encode(hashlib.sha256(text.encode()).digest()).rstrip(b"=")
        record.append(f"{path},sha256={digest.decode()},{len(text.encode())}")
    record.append(f"{dist}/RECORD,,")
    content[f"{dist}/RECORD"] = "\n".join(record) + "\n"
    path = folder / f"{name.replace('-', '_')}-{version}-{tag}.whl"
    folder.mkdir(parents=True, exist_ok=True)
    with zipfile.ZipFile(path, "w") as wheel:
        for member, text in content.items():
            wheel.writestr(member, text)
    return path


DEPENDENCIES = ("boto3", "pydantic", "click", "PyYAML", "Jinja2")


def agent_wheels(folder: Path, version: str = "0.1.0") -> Path:
    """A folder like `--build-agent` makes: stackops and a wheel for each dependency."""
    make_wheel(
        folder,
        "stackops",
        version,
        requires=(*(f"{d}>=1" for d in DEPENDENCIES), "pytest; extra == 'dev'"),
        files={
            "stackops/__init__.py": (
                f'__version__ = "{version}"\n\n\ndef main():\n'
                f'    print("stackops, version {version}")\n'
            )
        },
        scripts={"stackops": "stackops:main"},
    )
    for dependency in DEPENDENCIES:
        make_wheel(folder, dependency, "1.0")
    make_wheel(folder, "pydantic_core", "2.0", tag="cp311-cp311-manylinux_2_17_x86_64")
    make_wheel(folder, "pydantic_core", "2.0", tag="cp312-cp312-manylinux_2_17_x86_64")
    return folder
