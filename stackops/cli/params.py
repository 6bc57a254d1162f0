"""Options as the aws CLI spells them, derived from the model's fields.

`--custom-json` for `custom_json`, JSON values (or `file://PATH`) for structures,
`--layer-ids L1 L2` for lists, `--enable-auto-healing/--no-enable-auto-healing`
for booleans. One derivation serves create-*, update-* and clone-stack, so the
verbs accept exactly the fields the model knows.

Every value is checked where it comes in: JSON is read by the model's
depth-safe reader (`file://` files at most 1 MiB of UTF-8), ids by `RECORD_ID`,
seconds by `Seconds` (finite numbers only), so no option value can end in a
traceback.
"""

from __future__ import annotations

import enum
import math
import re
import types
import typing
from collections.abc import Callable, Iterable
from typing import Any

import click

from stackops.cli.argv import options_of, split_list_values
from stackops.cli.shorthand import list_value, read_json, read_option_text, structured_value
from stackops.errors import InvalidInput

F = typing.TypeVar("F", bound=Callable[..., Any])


def option_name(field_name: str) -> str:
    """`custom_json` -> `--custom-json`."""
    return "--" + field_name.replace("_", "-")


def _unwrap(annotation: Any) -> Any:
    """`Annotated[X, ...] | None` -> X."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if len(args) == 1:
            annotation = args[0]
    if typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation


def field_style(annotation: Any) -> str:
    """How a field is given on the command line: bool, list, json or text."""
    inner = _unwrap(annotation)
    if inner is bool:
        return "bool"
    if typing.get_origin(inner) is list and _unwrap(typing.get_args(inner)[0]) is str:
        return "list"
    if inner in (str, int, float) or (isinstance(inner, type) and issubclass(inner, enum.Enum)):
        return "text"
    if typing.get_origin(inner) is typing.Literal:
        return "text"
    return "json"


class AwsStyleCommand(click.Command):
    """A command whose list options take several values (`--layer-ids L1 L2`) and that
    takes a whole request as `--cli-input-json` (see `stackops.cli.shorthand`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.append(
            click.Option(
                ["--cli-input-json"],
                expose_value=False,
                metavar="JSON",
                help="The request as JSON (or file://request.json), keys as the API names them.",
            )
        )

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        from stackops.cli.shorthand import expand_cli_input

        args = expand_cli_input(self, args)
        return super().parse_args(ctx, split_list_values(args, options_of(self).lists))


def list_option(*decls: str, **kwargs: Any) -> Callable[[F], F]:
    """An option taking several values after it, as `--layer-ids L1 L2` (see AwsStyleCommand)."""
    option = click.option(*decls, multiple=True, **kwargs)

    def decorate(func: F) -> F:
        func = option(func)
        func.__click_params__[-1].aws_list = True  # type: ignore[attr-defined]
        return func

    return decorate


def model_options(
    model: type,
    *,
    exclude: Iterable[str] = (),
    required: Iterable[str] = (),
) -> Callable[[F], F]:
    """Add one option per model field (none required unless named in `required`)."""
    skip = set(exclude)
    must = set(required)

    def decorate(func: F) -> F:
        for name, info in reversed(list(model.model_fields.items())):
            if name in skip:
                continue
            func = _option(name, info.annotation, name in must, info.description)(func)
        return func

    return decorate


def _option(name: str, annotation: Any, required: bool, help_text: str | None) -> Callable:
    style = field_style(annotation)
    opt = option_name(name)
    if style == "bool":
        return click.option(f"{opt}/--no-{opt[2:]}", name, default=None, help=help_text)
    if style == "list":
        return list_option(opt, name, required=required, help=help_text)
    inner = _unwrap(annotation)
    if style == "json" and typing.get_origin(inner) is list:
        # a list of structures: one JSON list, or one JSON/shorthand value per item
        return list_option(opt, name, required=required, metavar="JSON", help=help_text)
    if isinstance(inner, type) and issubclass(inner, enum.Enum):
        choices = click.Choice([str(m.value) for m in inner])
        return click.option(opt, name, type=choices, required=required, help=help_text)
    if typing.get_origin(inner) is typing.Literal:
        choices = click.Choice([str(v) for v in typing.get_args(inner)])
        return click.option(opt, name, type=choices, required=required, help=help_text)
    meta = "JSON" if style == "json" else None
    return click.option(opt, name, required=required, metavar=meta, help=help_text)


def given_fields(model: type, values: dict[str, Any]) -> dict[str, Any]:
    """The model fields the user actually gave, JSON options parsed."""
    data: dict[str, Any] = {}
    for name, info in model.model_fields.items():
        if name not in values:
            continue
        value = values[name]
        if value is None or value == ():
            continue
        style = field_style(info.annotation)
        if style == "list":
            flat = [v for item in value for v in _split_list(option_name(name), item)]
            data[name] = flat
        elif style == "json" and isinstance(value, tuple):
            data[name] = list_value(option_name(name), value)
        elif style == "json" and isinstance(value, str):
            # custom_json is kept as text: the model parses it and checks its size.
            data[name] = (
                read_option_text(option_name(name), value)[0]
                if name == "custom_json"
                else structured_value(option_name(name), value)
            )
        else:
            data[name] = value
    return data


def _split_list(option: str, item: str) -> list[str]:
    """A list element may itself be a JSON list of strings, as the aws CLI allows."""
    if item.startswith("["):
        parsed = read_json(option, item)
        if isinstance(parsed, list):
            for value in parsed:
                if not isinstance(value, str):
                    raise InvalidInput(
                        f"{option}: {value!r} is not a string; a JSON list given here "
                        'holds strings, like ["a", "b"]'
                    )
            return parsed
    return [item]


class PatternType(click.ParamType):
    """A value that must match one pattern, refused with what it should look like before
    any call (so a value that names nothing never reaches AWS)."""

    def __init__(self, name: str, pattern: str, rule: str) -> None:
        self.name = name
        self._pattern = re.compile(pattern)
        self._rule = rule

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        if isinstance(value, str) and self._pattern.fullmatch(value):
            return value
        self.fail(f"{str(value)[:80]!r} is not {self._rule}", param, ctx)


RECORD_ID = PatternType(
    "id",
    r"[A-Za-z0-9][A-Za-z0-9_.:-]{0,127}",
    "an id: ids are 1-128 letters, digits, '-', '_', '.' and ':' "
    "(like 0c8e5a34-7b5e-4d5e-9a53-3c1f6a2b9d10); describe-* lists them",
)
"""An id as stackops and OpsWorks make them (a UUID)."""
EC2_INSTANCE_ID = PatternType(
    "ec2-instance-id",
    r"i-[0-9a-f]{8}([0-9a-f]{9})?",
    "an EC2 instance id (like i-0123456789abcdef0)",
)
ELASTIC_IP = PatternType(
    "address",
    r"(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])){3}",
    "an Elastic IP address (an IPv4 address like 203.0.113.10)",
)
ELB_NAME = PatternType(
    "name",
    r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,30}[A-Za-z0-9])?",
    "a Classic Load Balancer name (1-32 letters, digits and '-', not at either end)",
)


class Seconds(click.FloatRange):
    """A number of seconds in a range; NaN and infinities are refused (click's FloatRange
    lets NaN through every bound, and sleep(nan) raises)."""

    name = "seconds"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        number = super().convert(value, param, ctx)
        if not math.isfinite(number):
            self.fail(f"{value!r} is not a finite number of seconds", param, ctx)
        return number


def build(model: type, data: Any, option: str | None = None) -> Any:
    """Validate `data` as `model`; errors name the option (and the field inside `option`
    when the whole value came from that one option) and what would be valid."""
    import pydantic

    from stackops.api.records import describe_errors  # pydantic: not for `stackops solo`

    try:
        return model.model_validate(data)
    except pydantic.ValidationError as exc:
        raise InvalidInput(describe_errors(exc, option)) from None


PATH_MAX = 4096
NAME_MAX = 255


class LocalPath(click.Path):
    """click.Path that first refuses what no file system takes (a NUL, a name over 255
    bytes, a path over 4096), so the value fails here, named, not deep in a run."""

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        text = str(value)
        if "\x00" in text:
            self.fail(f"{text[:40]!r} holds a NUL character, which no path can", param, ctx)
        longest = max((len(part.encode()) for part in text.split("/")), default=0)
        if len(text.encode()) > PATH_MAX or longest > NAME_MAX:
            self.fail(
                f"{text[:40]!r}... is too long for a path "
                f"(at most {PATH_MAX} bytes, {NAME_MAX} per name)",
                param,
                ctx,
            )
        return super().convert(value, param, ctx)


class HostnameType(click.ParamType):
    """A host name label, checked by the model's rule before any call."""

    name = "hostname"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from stackops.model.validation import validate_hostname

        try:
            return validate_hostname(str(value))
        except InvalidInput as exc:
            self.fail(exc.message, param, ctx)


HOSTNAME = HostnameType()
