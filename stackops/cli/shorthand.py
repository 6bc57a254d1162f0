"""The aws CLI's ways of giving structured values: JSON, shorthand, file://, --cli-input-json.

Shorthand is what `aws opsworks` scripts write for structures and lists:

    --app-source Type=git,Url=https://github.com/x/y.git,Revision=v1
    --environment Key=A,Value=1 Key=B,Value=2,Secure=true      (a list: one structure per value)
    --lifecycle-event-configuration 'Shutdown={ExecutionTimeout=60}'
    --attributes Color=blue
    --custom-recipes 'Setup=[web::setup,web::users],Deploy=[web::deploy]'

Values are strings; the model turns "true" and "60" into what the field holds.
`--cli-input-json '{...}'` (or file://...) gives a whole request as the API names it;
options on the command line win over it, as with the aws CLI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import click

from stackops.errors import InvalidInput
from stackops.model.jsontext import decode_utf8, load_json

CLI_INPUT = "--cli-input-json"
_KEY = re.compile(r"\s*([A-Za-z_][A-Za-z0-9_.:-]*)\s*=")


OPTION_FILE_MAX_BYTES = 1024 * 1024


def read_option_text(option: str, text: str) -> tuple[str, str]:
    """(text, source) of an option value; `file://PATH` reads it from a file (at most
    1 MiB of UTF-8), as the aws CLI does. `source` names the option and the file."""
    if not text.startswith("file://"):
        return text, option
    path = Path(text[len("file://") :]).expanduser()
    source = f"{option} ({path})"
    try:
        with path.open("rb") as handle:
            data = handle.read(OPTION_FILE_MAX_BYTES + 1)
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        reason = getattr(exc, "strerror", None) or exc
        raise InvalidInput(f"{option}: cannot read {str(path)!r}: {reason}") from None
    if len(data) > OPTION_FILE_MAX_BYTES:
        raise InvalidInput(f"{source}: larger than {OPTION_FILE_MAX_BYTES} bytes")
    return decode_utf8(data, source), source


def read_json(option: str, text: str) -> Any:
    """A JSON option value (or `file://PATH`), read without any risk to the process."""
    text, source = read_option_text(option, text)
    return load_json(text, source)


def structured_value(option: str, text: str) -> Any:
    """A structure or list given as JSON or shorthand (or `file://` holding either)."""
    text, source = read_option_text(option, text)
    stripped = text.strip()
    if _looks_like_json(stripped):
        return _json(source, stripped)
    return parse_shorthand(stripped, source)


def _json(source: str, text: str) -> Any:
    return load_json(text, source)


def list_value(option: str, values: Sequence[str]) -> list[Any]:
    """A list parameter given as one JSON list, or as one value (JSON or shorthand) per item."""
    items: list[Any] = []
    for value in values:
        text, source = read_option_text(option, value)
        stripped = text.strip()
        if not _looks_like_json(stripped):
            items.append(parse_shorthand(stripped, source))
            continue
        parsed = _json(source, stripped)
        if not isinstance(parsed, list):
            # As the aws CLI: JSON given for a list parameter is a list.
            raise InvalidInput(
                f"{source}: expected a JSON list like [{{...}}, {{...}}] (or shorthand items "
                f"Key=value,... separated by spaces), not a JSON {_JSON_KINDS[type(parsed)]}"
            )
        items.extend(parsed)
    return items


_JSON_KINDS = {dict: "object", str: "string", bool: "boolean", int: "number", float: "number"}
_JSON_KINDS[type(None)] = "null"


def _looks_like_json(text: str) -> bool:
    return text.startswith(("{", "[", '"')) or text in ("null", "true", "false")


# -- shorthand ----------------------------------------------------------------------------
def parse_shorthand(text: str, source: str = "value") -> dict[str, Any]:
    """`Key=value,Other={A=1},List=[a,b]` -> a dict of strings, dicts and lists."""
    parser = _Parser(text, source)
    result = parser.structure(closing=None)
    parser.expect_end()
    return result


class _Parser:
    def __init__(self, text: str, source: str) -> None:
        self.text = text
        self.pos = 0
        self.source = source

    def fail(self, what: str) -> InvalidInput:
        return InvalidInput(
            f"{self.source}: {what} at character {self.pos + 1} of {self.text!r}",
            hint="shorthand is Key=value,Key2=value2 (nested: Key={A=1}, lists: Key=[a,b]); "
            "or give JSON",
        )

    def peek(self) -> str:
        return self.text[self.pos] if self.pos < len(self.text) else ""

    def expect_end(self) -> None:
        if self.pos != len(self.text):
            raise self.fail(f"unexpected {self.peek()!r}")

    def structure(self, closing: str | None) -> dict[str, Any]:
        result: dict[str, Any] = {}
        while True:
            match = _KEY.match(self.text, self.pos)
            if not match:
                raise self.fail("expected Key=value")
            key = match.group(1)
            if key in result:
                raise self.fail(f"key {key!r} given twice")
            self.pos = match.end()
            result[key] = self.value(closing, top=closing is None)
            self.skip_spaces()
            if self.peek() == ",":
                self.pos += 1
                continue
            if self.peek() == (closing or ""):
                return result
            raise self.fail(f"expected ',' or {closing or 'the end'}")

    def value(self, closing: str | None, *, top: bool) -> Any:
        self.skip_spaces()
        char = self.peek()
        if char == "{":
            self.pos += 1
            self.skip_spaces()
            if self.peek() == "}":
                self.pos += 1
                return {}
            inner = self.structure(closing="}")
            self.pos += 1
            return inner
        if char == "[":
            return self.bracket_list()
        first = self.scalar(closing)
        # `Key=a,b,c`: commas not followed by another Key= continue a list (as the aws CLI).
        items = [first]
        while self.peek() == "," and not _KEY.match(self.text, self.pos + 1):
            self.pos += 1
            items.append(self.scalar(closing))
        return items if len(items) > 1 else first

    def bracket_list(self) -> list[Any]:
        self.pos += 1
        items: list[Any] = []
        self.skip_spaces()
        if self.peek() == "]":
            self.pos += 1
            return items
        while True:
            self.skip_spaces()
            if self.peek() == "{":
                self.pos += 1
                items.append(self.structure(closing="}"))
                self.pos += 1
            else:
                items.append(self.scalar("]"))
            self.skip_spaces()
            if self.peek() == ",":
                self.pos += 1
                continue
            if self.peek() == "]":
                self.pos += 1
                return items
            raise self.fail("expected ',' or ']'")

    def scalar(self, closing: str | None) -> str:
        self.skip_spaces()
        char = self.peek()
        if char in ("'", '"'):
            return self.quoted(char)
        stops = {",", "]", "}"} if closing else {","}
        start = self.pos
        while self.pos < len(self.text) and self.text[self.pos] not in stops:
            self.pos += 1
        return self.text[start : self.pos].strip()

    def quoted(self, quote: str) -> str:
        self.pos += 1
        out: list[str] = []
        while self.pos < len(self.text):
            char = self.text[self.pos]
            if char == "\\" and self.pos + 1 < len(self.text):
                out.append(self.text[self.pos + 1])
                self.pos += 2
                continue
            if char == quote:
                self.pos += 1
                return "".join(out)
            out.append(char)
            self.pos += 1
        raise self.fail("unterminated quote")

    def skip_spaces(self) -> None:
        while self.peek() in (" ", "\t", "\n"):
            self.pos += 1


# -- --cli-input-json -----------------------------------------------------------------------
def kebab(member: str) -> str:
    """`SshKeyName` -> `ssh-key-name`, `Ec2InstanceId` -> `ec2-instance-id`."""
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "-", member).lower()


def expand_cli_input(command: click.Command, args: list[str]) -> list[str]:
    """`args` with `--cli-input-json VALUE` replaced by one option per request member.

    Members map to options by name (`LayerIds` -> `--layer-ids`); options already on the
    command line win; an unknown member is refused naming the valid ones.
    """
    position, text = _find_cli_input(args)
    if position is None:
        return args
    rest = args[:position] + args[position + (1 if "=" in args[position] else 2) :]
    value, source = read_option_text(CLI_INPUT, text or "")
    request = _json(source, value)
    if not isinstance(request, dict):
        raise InvalidInput(f"{source}: give a JSON object of request parameters")
    options = {
        opt: param
        for param in command.params
        if isinstance(param, click.Option)
        for opt in (*param.opts, *param.secondary_opts)
    }
    given = {arg.split("=", 1)[0] for arg in rest if arg.startswith("--")}
    extra: list[str] = []
    for member, item in request.items():
        opt = "--" + kebab(str(member))
        param = options.get(opt)
        if param is None or opt == CLI_INPUT:
            valid = sorted(
                {_pascal(o) for p in command.params for o in getattr(p, "opts", ())}
                - {"CliInputJson"}
            )
            raise InvalidInput(f"{source}: unknown parameter {member!r}; valid: {', '.join(valid)}")
        own = set(param.opts) | set(param.secondary_opts)
        if own & given or item is None:
            continue
        extra += _as_args(opt, param, item)
    return extra + rest


def _find_cli_input(args: list[str]) -> tuple[int | None, str | None]:
    for i, arg in enumerate(args):
        if arg == CLI_INPUT:
            if i + 1 >= len(args):
                raise InvalidInput(f"{CLI_INPUT} needs a value: JSON text or file://request.json")
            return i, args[i + 1]
        if arg.startswith(CLI_INPUT + "="):
            return i, arg.split("=", 1)[1]
    return None, None


def _pascal(option: str) -> str:
    return "".join(part.capitalize() for part in option.lstrip("-").split("-"))


def _as_args(opt: str, param: click.Option, item: Any) -> list[str]:
    if param.is_bool_flag or (param.secondary_opts and isinstance(item, bool)):
        if not isinstance(item, bool):
            raise InvalidInput(f"{CLI_INPUT}: {_pascal(opt)} takes true or false, not {item!r}")
        if item:
            return [param.opts[0]]
        return [param.secondary_opts[0]] if param.secondary_opts else []
    if getattr(param, "aws_list", False):
        values = item if isinstance(item, list) else [item]
        return [opt, *(v if isinstance(v, str) else json.dumps(v) for v in values)]
    if isinstance(item, dict | list):
        return [opt, json.dumps(item)]
    if isinstance(item, bool):
        return [opt, "true" if item else "false"]
    return [opt, str(item)]
