"""Unified diffs of file contents for reports, hiding what must stay hidden."""

from __future__ import annotations

SENSITIVE = "(sensitive content hidden)"
DIFF_LIMIT = 512 * 1024


def content_diff(
    path: str, old: bytes | None, new: bytes, *, old_size: int | None = None, sensitive: bool
) -> str:
    """A unified diff from `old` (None: absent or not read) to `new`, or a one-line note."""
    if sensitive:
        return SENSITIVE
    before_size = len(old) if old is not None else (old_size or 0)
    if old is None and old_size:
        return f"(content not read: {old_size} bytes -> {len(new)} bytes)"
    if len(new) > DIFF_LIMIT or before_size > DIFF_LIMIT:
        return f"(content changed: {before_size} bytes -> {len(new)} bytes)"
    try:
        before = (old or b"").decode("utf-8")
        after = new.decode("utf-8")
    except UnicodeDecodeError:
        return f"(binary content: {before_size} bytes -> {len(new)} bytes)"
    import difflib

    lines = difflib.unified_diff(
        _lines(before), _lines(after), fromfile=f"{path} (current)", tofile=f"{path} (desired)"
    )
    return "".join(lines).rstrip("\n")


def _lines(text: str) -> list[str]:
    """Lines with their ends; a last line without one is marked as diff(1) does."""
    lines = text.splitlines(keepends=True)
    if lines and not lines[-1].endswith("\n"):
        lines[-1] += "\n\\ No newline at end of file\n"
    return lines
