"""JSON from users, read so that no input can crash the reader.

`json.loads` recurses once per level of nesting: 3,000 `[` raise RecursionError
(and a 30,000-deep value may take the interpreter down). `load_json` therefore
counts the nesting of the text first, with a scan that never recurses, and
refuses more than `MAX_DEPTH` levels before decoding; it refuses NaN and
Infinity (no JSON reader but Python's takes them) and numbers too long to
convert, and names the source, line and column.

`check_tree` walks decoded data (from JSON or YAML) without recursion: depth,
keys that are strings without control or invisible characters, no NUL in any
string. Pure and light: importable without pydantic.
"""

from __future__ import annotations

import json
import re
from typing import Any

from stackops.errors import InvalidInput
from stackops.model.text import describe_char, first_bad_char

MAX_DEPTH = 32
"""Levels of nesting a user's JSON may have (custom JSON, option values, node attributes)."""

_TOKENS = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"|[\[\]{}]', re.DOTALL)


class JsonProblem(InvalidInput):
    """A problem at `path` inside a JSON value (`('deploy', 'web', 'environment')`)."""

    def __init__(self, path: tuple[str | int, ...], reason: str, field: str) -> None:
        where = f"{field}{format_subpath(path)}"
        super().__init__(f"{where}: {reason}" if where else reason)
        self.path = path
        self.reason = reason


def format_subpath(path: tuple[str | int, ...]) -> str:
    """`('a', 0, 'b')` -> `.a[0].b` (appended to the field's own name)."""
    return "".join(f"[{part}]" if isinstance(part, int) else f".{part}" for part in path)


def line_column(text: str, offset: int) -> tuple[int, int]:
    """1-based line and column of `offset` in `text`."""
    line = text.count("\n", 0, offset) + 1
    return line, offset - (text.rfind("\n", 0, offset) + 1) + 1


def too_deep_at(text: str, max_depth: int = MAX_DEPTH) -> int | None:
    """Offset of the first bracket that opens level `max_depth + 1`, or None.

    Strings are skipped whole (a bracket inside one is text), so the count is the
    nesting a JSON parser would see.
    """
    depth = 0
    for match in _TOKENS.finditer(text):
        token = match.group()
        if token in "[{":
            depth += 1
            if depth > max_depth:
                return match.start()
        elif token in "]}":
            depth = max(depth - 1, 0)
    return None


def _refuse_constant(name: str) -> Any:
    raise InvalidInput(f"{name} is not a JSON number; write a number or a string")


def load_json(text: str, source: str, *, max_depth: int = MAX_DEPTH, is_file: bool = False) -> Any:
    """Decode `text`; InvalidInput for anything a parser would choke on or a reader elsewhere
    would not take. Errors name `source` (an option, or with `is_file` a file, written
    `FILE:LINE:COLUMN:`), the line and the column."""

    def where(line: int, col: int) -> str:
        return f"{source}:{line}:{col}:" if is_file else f"{source} (line {line} column {col}):"

    offset = too_deep_at(text, max_depth)
    if offset is not None:
        raise InvalidInput(
            f"{where(*line_column(text, offset))} nested more than {max_depth} levels deep; "
            f"at most {max_depth} levels are allowed: flatten the data"
        )
    try:
        return json.loads(text, parse_constant=_refuse_constant)
    except json.JSONDecodeError as exc:
        if is_file:
            at = where(exc.lineno, exc.colno)
            raise InvalidInput(f"{at} not valid JSON: {exc.msg}") from None
        raise InvalidInput(
            f"{source} is not valid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}"
        ) from None
    except InvalidInput as exc:
        raise InvalidInput(f"{source}: {exc.message}") from None
    except (ValueError, RecursionError) as exc:  # an integer of more than 4300 digits
        reason = str(exc).split(";")[0]
        raise InvalidInput(f"{source}: not a usable JSON value: {reason}") from None


def decode_utf8(data: bytes, source: str) -> str:
    """`data` as UTF-8 text; InvalidInput naming the first byte that is not."""
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InvalidInput(
            f"{source}: not UTF-8 text (byte 0x{data[exc.start]:02x} at offset {exc.start}); "
            "save the file as UTF-8"
        ) from None


def check_tree(value: Any, field: str, *, max_depth: int = MAX_DEPTH) -> list[dict[str, Any]]:
    """Check decoded JSON-like data without recursing: at most `max_depth` levels of
    objects and arrays, string keys of visible characters, no NUL in any string.

    Returns the objects holding one key `ssm` met on the way (secret references), so
    callers need no second walk. Paths are only worked out for an error (`_path_to`):
    a clean value costs one pass, and this runs on every record the store reads."""
    refs: list[dict[str, Any]] = []
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth >= max_depth:
            raise JsonProblem(
                path_to(value, item),
                f"nested more than {max_depth} levels deep; "
                f"at most {max_depth} levels are allowed: flatten the data",
                field,
            )
        if isinstance(item, dict):
            if len(item) == 1 and "ssm" in item:
                refs.append(item)
            for key, child in item.items():
                if not (isinstance(key, str) and key.isascii() and key.isprintable()):
                    _check_key(key, path_to(value, item), field)
                if isinstance(child, dict | list):
                    stack.append((child, depth + 1))
                elif isinstance(child, str) and "\x00" in child:
                    _nul(value, item, key, field)
        else:
            for index, child in enumerate(item):
                if isinstance(child, dict | list):
                    stack.append((child, depth + 1))
                elif isinstance(child, str) and "\x00" in child:
                    _nul(value, item, index, field)
    return refs


def _nul(root: Any, container: Any, key: str | int, field: str) -> None:
    raise JsonProblem(
        (*path_to(root, container), key),
        "holds a NUL character (U+0000), which no file or process can take",
        field,
    )


def path_to(root: Any, target: Any) -> tuple[str | int, ...]:
    """The path from `root` to the container `target` (found by identity), for errors."""
    stack: list[tuple[Any, tuple[str | int, ...]]] = [(root, ())]
    while stack:
        item, path = stack.pop()
        if item is target:
            return path
        pairs = item.items() if isinstance(item, dict) else enumerate(item)
        stack.extend(
            (child, (*path, key)) for key, child in pairs if isinstance(child, dict | list)
        )
    return ()


def _check_key(key: Any, path: tuple[str | int, ...], field: str) -> None:
    if not isinstance(key, str):
        raise JsonProblem(
            path, f"key {key!r} is not a string; quote it (JSON object keys are strings)", field
        )
    bad = first_bad_char(key, "line")
    if bad is not None:
        index, char, why = bad
        raise JsonProblem(
            path,
            f"key {key!r} holds {why}, {describe_char(char)}, at position {index + 1}; "
            "keys are one line of visible characters",
            field,
        )


def json_kind(value: object) -> str:
    match value:
        case None:
            return "null"
        case bool():
            return "a boolean"
        case int() | float():
            return "a number"
        case str():
            return "a string"
        case list():
            return "an array"
        case dict():
            return "an object"
        case _:
            return type(value).__name__
