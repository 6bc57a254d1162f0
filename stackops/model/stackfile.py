"""A stack file: one YAML file describing a stack, its layers, apps and instances.

```yaml
stack: {name: demo, region: us-east-1}
layers: [{shortname: app, type: custom, name: App server}]
apps: [{shortname: web, name: Web, app_source: {type: archive, url: ...}}]
instances: [{hostname: app1, layers: [app], instance_type: t3.micro}]
```
Top-level keys starting with `x-` are ignored, to hold YAML anchors shared by
entries (as in docker compose files). Errors name the place:
`FILE:LINE:COLUMN: layers[1].custom_recipes.setup[0]: ...`.
"""

from __future__ import annotations

import difflib
from pathlib import Path
from typing import Any, Self

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from stackops.errors import InvalidInput
from stackops.model.apps import AppSpec
from stackops.model.fields import Hostname, Shortname
from stackops.model.instances import InstanceSpec
from stackops.model.jsontext import decode_utf8
from stackops.model.layers import LayerSpec
from stackops.model.stacks import StackSpec
from stackops.model.yamlsource import (
    MAX_TEXT_CHARS,
    Problem,
    ProblemsError,
    describe_errors,
    parse_yaml,
    problems_error,
)

SECTIONS = ("stack", "layers", "apps", "instances")


class InstanceEntry(InstanceSpec):
    """An instance in a stack file: its spec, a required hostname and its layers by shortname."""

    hostname: Hostname
    layers: list[Shortname] = Field(min_length=1)
    ec2_instance_id: str | None = Field(default=None, pattern=r"i-[0-9a-f]{8,17}")
    """Adopt this existing EC2 instance (register-instance) instead of launching one."""


class StackFile(BaseModel):
    """The whole file: a stack spec and its layers, apps and instances.

    Cross checks: layer and app shortnames and instance hostnames are unique,
    every layer an instance names is defined in the file.
    """

    model_config = ConfigDict(extra="forbid")

    stack: StackSpec
    layers: list[LayerSpec] = []
    apps: list[AppSpec] = []
    instances: list[InstanceEntry] = []

    @model_validator(mode="after")
    def _cross_check(self) -> Self:
        problems = cross_check(self)
        if problems:
            raise ProblemsError(problems)
        return self

    def layer(self, shortname: str) -> LayerSpec | None:
        """The layer with this shortname, if any."""
        return next((layer for layer in self.layers if layer.shortname == shortname), None)


def cross_check(stack_file: StackFile) -> list[Problem]:
    """Problems that involve several entries of the file."""
    problems = _repeats("layers", "shortname", [layer.shortname for layer in stack_file.layers])
    problems += _repeats("apps", "shortname", [app.shortname for app in stack_file.apps])
    problems += _repeats(
        "instances", "hostname", [entry.hostname.lower() for entry in stack_file.instances]
    )
    defined = list(dict.fromkeys(layer.shortname for layer in stack_file.layers))
    region = stack_file.stack.region
    for i, app in enumerate(stack_file.apps):
        for j, shortname in enumerate(app.layers):
            if shortname not in defined:
                problems.append(
                    Problem(("apps", i, "layers", j), _unknown_layer(shortname, defined))
                )
    for i, entry in enumerate(stack_file.instances):
        seen: set[str] = set()
        for j, shortname in enumerate(entry.layers):
            loc = ("instances", i, "layers", j)
            if shortname in seen:
                problems.append(Problem(loc, f"layer {shortname!r} is listed twice; list it once"))
            elif shortname not in defined:
                problems.append(Problem(loc, _unknown_layer(shortname, defined)))
            seen.add(shortname)
        zone = entry.availability_zone
        if zone and not zone.startswith(region):
            problems.append(
                Problem(
                    ("instances", i, "availability_zone"),
                    f"zone {zone!r} is not in the stack's region {region!r}; "
                    f"choose a zone like '{region}a'",
                )
            )
    return problems


def _repeats(section: str, field: str, values: list[str]) -> list[Problem]:
    first: dict[str, int] = {}
    problems = []
    for index, value in enumerate(values):
        if value in first:
            problems.append(
                Problem(
                    (section, index, field),
                    f"{value!r} is already used by {section}[{first[value]}]; "
                    f"each {field} must be unique",
                )
            )
        else:
            first[value] = index
    return problems


def _unknown_layer(shortname: str, defined: list[str]) -> str:
    close = difflib.get_close_matches(shortname, defined, n=1)
    known = ", ".join(defined) if defined else "none"
    hint = f"did you mean {close[0]!r}? " if close else ""
    return f"layer {shortname!r} is not defined in this file; {hint}defined layers: {known}"


def parse_stack_file(text: str, source: str = "<stack file>") -> StackFile:
    """Parse and validate stack file text; errors are `SOURCE:LINE:COLUMN: path: message`."""
    doc = parse_yaml(text, source)
    if not isinstance(doc.data, dict):
        found = "nothing" if doc.data is None else type(doc.data).__name__
        raise InvalidInput(
            f"{doc.where(())}: expected a mapping with keys {', '.join(SECTIONS)}; found {found}"
        )
    data = {k: v for k, v in doc.data.items() if not (isinstance(k, str) and k.startswith("x-"))}
    try:
        return StackFile.model_validate(data)
    except ValidationError as exc:
        problems = describe_errors(doc, exc, StackFile)
    raise problems_error(doc, problems)


def load_stack_file(path: Path) -> StackFile:
    """Read and validate a stack file; any problem raises InvalidInput naming FILE:LINE:COLUMN."""
    try:
        with Path(path).open("rb") as handle:
            data = handle.read(MAX_TEXT_CHARS + 1)
    except (OSError, ValueError) as exc:  # ValueError: a NUL in the name
        reason = getattr(exc, "strerror", None) or exc
        raise InvalidInput(f"{path}: cannot read the stack file: {reason}") from None
    if len(data) > MAX_TEXT_CHARS:
        raise InvalidInput(f"{path}: larger than {MAX_TEXT_CHARS} bytes; is it a stack file?")
    return parse_stack_file(decode_utf8(data, str(path)), str(path))


def stack_file_schema() -> dict[str, Any]:
    """The JSON Schema of a stack file, by field name, for editors."""
    schema = StackFile.model_json_schema(by_alias=False)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        **schema,
        "title": "stackops stack file",
    }
