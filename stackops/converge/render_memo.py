"""A memo of template renders, so a run that changes nothing need not load Jinja2.

For each templated path it keeps two digests: of everything that went into the
render (the templates folder, the template name, the variables, the node, the
stackops version) and of what came out. When a template's inputs are the same as
last time and the file on disk has the recorded output digest, the file already
is the render, so nothing is rendered. Anything else renders as usual.

Only digests are kept, never content; `sensitive=True` templates are never
memoised. The memo is at <root>/var/lib/stackops/rendered-templates.json,
written at the end of a run that rendered something new, never by a dry run.
Deleting it only costs one slower run.
"""

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from stackops import __version__
from stackops.converge.filesystem import write_atomically

try:  # CPython's built-in BLAKE2: `import hashlib` loads OpenSSL, 2-3 ms of every start-up
    from _blake2 import blake2b
except ImportError:  # pragma: no cover - another Python
    from hashlib import blake2b

MEMO_PATH = "/var/lib/stackops/rendered-templates.json"


def digest(data: bytes) -> str:
    """A 256-bit BLAKE2b digest of `data`, in hex."""
    return blake2b(data, digest_size=32).hexdigest()


class RenderMemo:
    """The memo of one run: read on first use, saved once at the end if it grew."""

    def __init__(self, file: Path | None, node: Mapping[str, Any]) -> None:
        self._file = file
        self._node = node
        self._entries: dict[str, list[str]] | None = None
        self._node_digest: str | None = None
        self._folders: dict[Path, str] = {}
        self._dirty = False

    def _load(self) -> dict[str, list[str]]:
        if self._entries is None:
            self._entries = {}
            if self._file is not None:
                try:
                    data = json.loads(self._file.read_bytes())
                except (OSError, ValueError):
                    data = None
                if isinstance(data, dict) and isinstance(data.get("entries"), dict):
                    self._entries = data["entries"]
        return self._entries

    def inputs(self, folder: Path, source: str, variables: Mapping[str, Any]) -> str | None:
        """The digest of a render's inputs; None when they cannot be put in a digest.

        `variables` are the template's own; the node (which templates also see) is
        put in the digest once per run.
        """
        try:
            if self._node_digest is None:
                self._node_digest = digest(_canonical(self._node))
            values = _canonical(variables)
        except (TypeError, ValueError):
            return None
        folder_digest = self._folders.get(folder)
        if folder_digest is None:
            folder_digest = self._folders[folder] = _folder_digest(folder)
        parts = [__version__, folder_digest, source, self._node_digest, digest(values)]
        return digest("\0".join(parts).encode())

    def expected(self, path: str, inputs: str) -> str | None:
        """The output digest recorded for `path` rendered from `inputs`, if any."""
        entry = self._load().get(path)
        if isinstance(entry, list) and len(entry) == 2 and entry[0] == inputs:
            return entry[1]
        return None

    def record(self, path: str, inputs: str, output: bytes) -> None:
        """Remember that `inputs` render to `output` at `path`."""
        entry = [inputs, digest(output)]
        entries = self._load()
        if entries.get(path) != entry:
            entries[path] = entry
            self._dirty = True

    def save(self) -> None:
        """Write the memo if it grew; a memo that cannot be written is only a slower run."""
        if not self._dirty or self._file is None or self._entries is None:
            return
        body = json.dumps({"entries": self._entries}, sort_keys=True).encode() + b"\n"
        try:
            write_atomically(self._file, body, 0o644)
        except OSError:
            return
        self._dirty = False


def _canonical(value: Any) -> bytes:
    return json.dumps(value, sort_keys=True, separators=(",", ":")).encode()


def _folder_digest(folder: Path) -> str:
    """A digest of every file in a templates folder (includes and macros come from it)."""
    hasher = blake2b(digest_size=32)
    if folder.is_dir():
        for path in sorted(p for p in folder.rglob("*") if p.is_file()):
            data = path.read_bytes()
            hasher.update(f"{path.relative_to(folder)}\0{len(data)}\0".encode())
            hasher.update(data)
    return hasher.hexdigest()
