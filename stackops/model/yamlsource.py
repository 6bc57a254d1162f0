"""YAML that remembers where each value came from, and errors that point there.

`parse_yaml` returns the data with the position of every key and value;
`describe_errors` turns pydantic errors into `FILE:LINE:COLUMN: path: message`
lines (1-based line and column).

Hostile YAML is refused before it is built into data: nesting deeper than
`MAX_DEPTH` (the composer recurses), aliases that expand to more than
`MAX_EXPANDED_VALUES` values (a "billion laughs": nine aliases of nine aliases
make a billion values out of a few lines) and an alias inside its own anchor.
"""

from __future__ import annotations

import difflib
import types
import typing
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import yaml
from pydantic import BaseModel, ValidationError
from pydantic.alias_generators import to_pascal

from stackops.errors import InvalidInput
from stackops.model.validation import LocatedValueError

Loc = tuple[str | int, ...]
MAX_ERRORS = 20
MAX_DEPTH = 64
"""Levels of nesting a YAML document may have (a stack file needs about 40 at most)."""
MAX_EXPANDED_VALUES = 100_000
"""Values a document may hold once its aliases are expanded."""
MAX_TEXT_CHARS = 2 * 1024 * 1024


@dataclass(frozen=True)
class Problem:
    """One problem found in a file: where (data path) and what."""

    loc: Loc
    message: str
    at_key: bool = False


@dataclass
class YamlDocument:
    """Parsed YAML data plus the 0-based (line, column) of each value and mapping key."""

    source: str
    data: Any
    value_marks: dict[Loc, tuple[int, int]] = field(default_factory=dict)
    key_marks: dict[Loc, tuple[int, int]] = field(default_factory=dict)

    def position(self, loc: Loc, *, at_key: bool = False) -> tuple[int, int]:
        """1-based (line, column) of `loc`, or of its nearest ancestor present in the file."""
        marks = self.key_marks if at_key else self.value_marks
        if loc in marks:
            line, col = marks[loc]
            return line + 1, col + 1
        for depth in range(len(loc) - 1, -1, -1):
            if loc[:depth] in self.value_marks:
                line, col = self.value_marks[loc[:depth]]
                return line + 1, col + 1
        return 1, 1

    def where(self, loc: Loc, *, at_key: bool = False) -> str:
        """`FILE:LINE:COLUMN` of `loc`."""
        line, col = self.position(loc, at_key=at_key)
        return f"{self.source}:{line}:{col}"


class GuardedLoader(yaml.SafeLoader):
    """SafeLoader that refuses nesting deeper than MAX_DEPTH while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.depth = 0

    def compose_node(self, parent: yaml.Node | None, index: object) -> yaml.Node:
        self.depth += 1
        try:
            if self.depth > MAX_DEPTH:
                mark = self.peek_event().start_mark
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"nested more than {MAX_DEPTH} levels deep; flatten the data",
                    mark,
                )
            return super().compose_node(parent, index)  # type: ignore[no-untyped-call]
        finally:
            self.depth -= 1


def parse_yaml(text: str, source: str) -> YamlDocument:
    """Parse one YAML document (SafeLoader), refusing syntax errors, repeated keys, nesting
    deeper than MAX_DEPTH and aliases that expand past MAX_EXPANDED_VALUES."""
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidInput(
            f"{source}: {len(text)} characters; a stack file may have at most {MAX_TEXT_CHARS}"
        )
    loader: yaml.SafeLoader | None = None
    try:
        loader = _loader(text)
        node = loader.get_single_node()
        if node is None:
            return YamlDocument(source, None)
        check_expansion(node, source)
        doc = YamlDocument(source, None)
        repeats: list[str] = []
        _walk(node, (), doc, repeats, set())
        if repeats:
            raise InvalidInput("\n".join(repeats[:MAX_ERRORS]))
        doc.data = loader.construct_document(node)
        return doc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        what = exc.problem or exc.context or "invalid YAML"
        if "maximum nesting depth" in what:  # libyaml's own limit, met while reading ahead
            what = f"nested more than {MAX_DEPTH} levels deep; flatten the data"
        raise InvalidInput(f"{source}:{line}:{col}: YAML syntax error: {what}") from None
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{source}:1:1: YAML error: {exc}") from None
    finally:
        if loader is not None:
            loader.dispose()


def _loader(text: str) -> yaml.SafeLoader:
    """libyaml's loader when PyYAML has it (5 times faster: a 2 MiB file in seconds, not
    a minute), after a pass over its events refuses nesting past MAX_DEPTH (its composer
    recurses in C); else the pure-Python GuardedLoader, which checks depth as it composes."""
    if not getattr(yaml, "__with_libyaml__", False):
        return GuardedLoader(text)
    depth = 0
    for event in yaml.parse(text, Loader=yaml.CSafeLoader):
        if isinstance(event, yaml.MappingStartEvent | yaml.SequenceStartEvent):
            depth += 1
            if depth > MAX_DEPTH:
                raise yaml.composer.ComposerError(
                    None,
                    None,
                    f"nested more than {MAX_DEPTH} levels deep; flatten the data",
                    event.start_mark,
                )
        elif isinstance(event, yaml.MappingEndEvent | yaml.SequenceEndEvent):
            depth -= 1
    return yaml.CSafeLoader(text)  # type: ignore[return-value]


def _children(node: yaml.Node) -> list[yaml.Node]:
    if isinstance(node, yaml.MappingNode):
        return [part for pair in node.value for part in pair]
    if isinstance(node, yaml.SequenceNode):
        return node.value  # type: ignore[no-any-return]
    return []


def check_expansion(root: yaml.Node, source: str) -> None:
    """Refuse a node graph whose aliases expand it past MAX_EXPANDED_VALUES values, or that
    holds an alias inside its own anchor. Sizes are counted once per node (memoised),
    never by expanding; the value named is the innermost one that crosses the limit."""
    scalar = yaml.ScalarNode
    sizes: dict[int, int] = {}
    order: list[yaml.Node] = []
    open_nodes: set[int] = set()
    written = 0  # values as written (an alias counts once)
    stack: list[yaml.Node] = [] if isinstance(root, scalar) else [root]
    while stack:
        node = stack[-1]
        key = id(node)
        if key in sizes:  # reached twice before it was counted (two aliases to it)
            stack.pop()
        elif key not in open_nodes:  # first visit: its children go on top
            open_nodes.add(key)
            for child in _children(node):
                if isinstance(child, scalar) or id(child) in sizes:
                    continue
                if id(child) in open_nodes:
                    mark = child.start_mark
                    raise InvalidInput(
                        f"{source}:{mark.line + 1}:{mark.column + 1}: a YAML alias refers to "
                        "the value that holds it (a loop); write the data out"
                    )
                stack.append(child)
        else:  # its children are counted
            stack.pop()
            open_nodes.discard(key)
            children = _children(node)
            scalars = sum(1 for child in children if isinstance(child, scalar))
            sizes[key] = (
                1
                + scalars
                + sum(sizes[id(child)] for child in children if not isinstance(child, scalar))
            )
            written += 1 + scalars
            order.append(node)
    if not order or sizes[id(root)] <= MAX_EXPANDED_VALUES:
        return
    if written > MAX_EXPANDED_VALUES:  # large as written, no alias needed
        raise InvalidInput(
            f"{source}:1:1: holds more than {MAX_EXPANDED_VALUES} values; "
            "a stack file is far smaller: move bulky data to S3 or SSM"
        )
    node = next(n for n in order if sizes[id(n)] > MAX_EXPANDED_VALUES)
    mark = node.start_mark
    raise InvalidInput(
        f"{source}:{mark.line + 1}:{mark.column + 1}: YAML aliases expand this value to more "
        f"than {MAX_EXPANDED_VALUES} values (a 'billion laughs'?); "
        "write the data out or use fewer aliases"
    )


def _walk(node: yaml.Node, loc: Loc, doc: YamlDocument, repeats: list[str], seen: set[int]) -> None:
    doc.value_marks.setdefault(loc, (node.start_mark.line, node.start_mark.column))
    if id(node) in seen:  # an alias to a node already walked: its marks are known
        return
    seen.add(id(node))
    if isinstance(node, yaml.MappingNode):
        first: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge" or not isinstance(
                key_node, yaml.ScalarNode
            ):
                continue
            key = key_node.value
            child = (*loc, key)
            if key in first:
                earlier = first[key].start_mark.line + 1
                mark = key_node.start_mark
                repeats.append(
                    f"{doc.source}:{mark.line + 1}:{mark.column + 1}: "
                    f"{format_path(child)}: key {key!r} repeats the one on line {earlier}; "
                    "YAML would silently keep only the last, so write it once"
                )
                continue
            first[key] = key_node
            doc.key_marks[child] = (key_node.start_mark.line, key_node.start_mark.column)
            _walk(value_node, child, doc, repeats, seen)
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            _walk(item, (*loc, index), doc, repeats, seen)


def format_path(loc: Sequence[str | int]) -> str:
    """`('layers', 1, 'custom_recipes')` -> `layers[1].custom_recipes`."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def resolve_loc(loc: Sequence[str | int], data: Any, *, keep_last: bool) -> Loc:
    """Map a pydantic error location onto the keys actually written in `data`.

    Field names are matched against their PascalCase alias; union tags pydantic
    adds (like 'str' or 'function-after[...]') are dropped. The last element is
    kept when it names something absent (a missing field).
    """
    resolved: list[str | int] = []
    current = data
    for index, part in enumerate(loc):
        if isinstance(current, dict):
            key = _match_key(current, part)
            if key is not None:
                resolved.append(key)
                current = current[key]
                continue
        elif isinstance(current, list) and isinstance(part, int) and 0 <= part < len(current):
            resolved.append(part)
            current = current[part]
            continue
        if keep_last and index == len(loc) - 1:
            resolved.append(part)
    return tuple(resolved)


def _match_key(mapping: dict[Any, Any], part: str | int) -> Any:
    if part in mapping:
        return part
    if isinstance(part, str):
        for key in mapping:
            if isinstance(key, str) and (to_pascal(key) == part or key == to_pascal(part)):
                return key
    return None


def describe_errors(
    doc: YamlDocument, error: ValidationError, root: type[BaseModel]
) -> list[Problem]:
    """Turn a pydantic ValidationError into problems located in `doc`."""
    problems: list[Problem] = []
    for item in error.errors():
        cause = (item.get("ctx") or {}).get("error")
        if isinstance(cause, ProblemsError):
            problems.extend(cause.problems)
            continue
        if isinstance(cause, LocatedValueError):
            loc = resolve_loc((*item["loc"], *cause.path), doc.data, keep_last=cause.at_key)
            problems.append(Problem(loc, cause.reason, at_key=cause.at_key))
            continue
        kind = item["type"]
        loc = resolve_loc(item["loc"], doc.data, keep_last=kind in ("missing", "extra_forbidden"))
        if kind == "missing" and loc and isinstance(loc[-1], str):
            loc = (*loc[:-1], _field_name(root, item["loc"][:-1], loc[-1]))
        problems.append(Problem(loc, _message(item, root), at_key=kind == "extra_forbidden"))
    return problems


def problems_error(doc: YamlDocument, problems: Iterable[Problem]) -> InvalidInput:
    """One InvalidInput listing the problems in file order, one per line (at most 20)."""
    located = sorted(
        ((doc.position(p.loc, at_key=p.at_key), p) for p in problems), key=lambda pair: pair[0]
    )
    lines = []
    for (line, col), problem in located[:MAX_ERRORS]:
        path = format_path(problem.loc)
        prefix = f"{doc.source}:{line}:{col}: " + (f"{path}: " if path else "")
        lines.append(prefix + problem.message)
    if len(located) > MAX_ERRORS:
        lines.append(f"... and {len(located) - MAX_ERRORS} more errors")
    return InvalidInput("\n".join(lines) or f"{doc.source}: not valid")


class ProblemsError(ValueError):
    """Raised by a model validator to report several located problems at once."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__(
            "; ".join(
                f"{format_path(p.loc)}: {p.message}" if p.loc else p.message for p in problems
            )
        )


def _message(item: Any, root: type[BaseModel]) -> str:
    kind, text, value = item["type"], item["msg"], item.get("input")
    loc = item["loc"]
    if kind == "missing":
        return "required field is missing; add it"
    if kind == "extra_forbidden":
        name = str(loc[-1])
        fields = _fields_at(root, loc[:-1])
        if not fields:
            return f"unknown field {name!r}"
        twin = next((f for f in fields if name in (f, to_pascal(f))), None)
        if twin is not None:  # a known field refused as extra: both spellings were given
            other = to_pascal(twin) if name == twin else twin
            return (
                f"{name!r} repeats {other!r}: one field in two spellings "
                "(OpsWorks's PascalCase and snake_case); give it once"
            )
        close = difflib.get_close_matches(name, fields, n=1)
        hint = f"did you mean {close[0]!r}?" if close else "valid fields: " + ", ".join(fields)
        return f"unknown field {name!r}; {hint}"
    if kind == "value_error":
        text = text.removeprefix("Value error, ")
        name = str(loc[-1]) if loc else ""
        if name and text.startswith(f"{name} "):
            return text[len(name) + 1 :]  # the path already names the field
        return text
    if kind in ("string_type", "int_type", "bool_type", "float_type") and isinstance(
        value, bool | int | float
    ):
        return f"{text}, got {value!r}: YAML read an unquoted value; quote it ('{value}')"
    if kind in ("list_type", "dict_type", "model_type", "model_attributes_type"):
        want = (
            "a list ('- item' lines or [a, b])" if kind == "list_type" else "a mapping (key: value)"
        )
        return f"expected {want}, got {_kind(value)}"
    if value is not None and not isinstance(value, dict | list):
        return f"{text} (got {value!r})"
    return text


def _kind(value: object) -> str:
    if value is None:
        return "nothing (null)"
    return {str: "a string", bool: "a boolean", int: "a number", float: "a number"}.get(
        type(value), "a list" if isinstance(value, list) else "a mapping"
    )


def _fields_at(root: type[BaseModel], loc: Sequence[str | int]) -> list[str]:
    """Field names of the model found at `loc` below `root`, or [] when it cannot be told."""
    model = _unwrap(_type_at(root, loc))
    if isinstance(model, type) and issubclass(model, BaseModel):
        return list(model.model_fields)
    return []


def _type_at(root: type[BaseModel], loc: Sequence[str | int]) -> Any:
    """The declared type found at `loc` below `root` (None when it cannot be told)."""
    current: Any = root
    for part in loc:
        current = _unwrap(current)
        if isinstance(current, type) and issubclass(current, BaseModel):
            current = _field_named(current, part)
        elif typing.get_origin(current) is list and isinstance(part, int):
            current = typing.get_args(current)[0]
        elif typing.get_origin(current) is dict:
            current = typing.get_args(current)[1]
        else:
            return None
    return current


def _field_name(root: type[BaseModel], loc: Sequence[str | int], part: str) -> str:
    """The field name of `part` (a name or a PascalCase alias) in the model at `loc`."""
    model = _unwrap(_type_at(root, loc))
    if isinstance(model, type) and issubclass(model, BaseModel):
        for name, info in model.model_fields.items():
            if part in (name, info.alias):
                return name
    return part


def _field_named(model: type[BaseModel], part: str | int) -> Any:
    for name, info in model.model_fields.items():
        if part in (name, info.alias):
            return info.annotation
    return None


def _unwrap(tp: Any) -> Any:
    """Strip Annotated and Optional from a type."""
    while True:
        origin = typing.get_origin(tp)
        if origin is typing.Annotated:
            tp = typing.get_args(tp)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            if len(args) != 1:
                return tp
            tp = args[0]
        else:
            return tp
