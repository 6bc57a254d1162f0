"""An app's health check, as a user writes it and as it is stored.

Two kinds, told apart by their fields (or by `kind`, when given):
- http: `path` and/or `port` (port 80 and path "/" when left out), the status
  expected (`expect_status`, 200) and optionally a text the body must hold;
- command: `command`, an argv run without a shell, ok on exit 0 (and with
  `expect_text` in its output, when set).
Both retry: `retries` attempts in all, `interval` seconds apart, each allowed
`timeout` seconds. OpsWorks-style PascalCase keys (`Path`, `Port`,
`ExpectStatus`...) are accepted beside snake_case ones.

The rules are those `stackops.deploy.health` runs by, so what is accepted here
is what a deployment can run; they are checked when the app is created,
updated or applied, never first at deploy time.
"""

from __future__ import annotations

from typing import Any, Literal, Self

from pydantic import (
    ConfigDict,
    SerializationInfo,
    SerializerFunctionWrapHandler,
    ValidationError,
    field_validator,
    model_serializer,
    model_validator,
)
from pydantic.alias_generators import to_pascal

from stackops.errors import InvalidInput
from stackops.model import validation as v
from stackops.model.base import OpsWorksModel
from stackops.model.deploysettings import validate_argv
from stackops.model.text import check_line

DEFAULT_HTTP_PORT = 80
DEFAULT_EXPECT_STATUS = 200
MAX_SECONDS = 600.0
MAX_RETRIES = 100
KINDS = ("http", "command")

HTTP_FIELDS = ("path", "port", "expect_status")
COMMAND_FIELDS = ("command",)
COMMON_FIELDS = ("expect_text", "retries", "interval", "timeout")

_WHOLE = ("port", "expect_status", "retries")
_SECONDS = ("interval", "timeout")


class HealthCheckSpec(OpsWorksModel):
    """One health check (see the module docstring); stored with only the fields given."""

    model_config = ConfigDict(frozen=True)

    path: str | None = None
    port: int | None = None
    command: list[str] | None = None
    expect_status: int | None = None
    expect_text: str | None = None
    retries: int = 5
    interval: float = 1.0
    timeout: float = 5.0

    @property
    def kind(self) -> Literal["http", "command"]:
        """Which check this is."""
        return "command" if self.command is not None else "http"

    @model_validator(mode="before")
    @classmethod
    def _shape(cls, data: Any) -> Any:
        if isinstance(data, HealthCheckSpec):
            return data
        if not isinstance(data, dict):
            raise ValueError(
                'must be a mapping like {"path": "/health", "port": 8080} (HTTP) or '
                f'{{"command": ["./bin/check"]}} (a command), not {type(data).__name__}'
            )
        known = {name: name for name in cls.model_fields}
        known.update({to_pascal(name): name for name in cls.model_fields})
        known.update({"kind": "kind", "Kind": "kind"})
        given: dict[str, str] = {}
        for key in data:
            name = known.get(key) if isinstance(key, str) else None
            if name is None:
                raise v.located(
                    (key,),
                    f"unknown field(s) {key!r}; valid fields: {', '.join(cls.model_fields)}, kind",
                    at_key=True,
                )
            if name in given:
                raise v.located(
                    (key,),
                    f"{key!r} repeats {given[name]!r} (one field, two spellings); give it once",
                    at_key=True,
                )
            given[name] = key
        if "kind" in given:
            data = dict(data)
            kind = data.pop(given["kind"])
            if kind not in KINDS:
                raise v.located((given["kind"],), f"kind {kind!r} is not 'http' or 'command'")
            has_command = data.get(given.get("command", "command")) is not None
            if (kind == "command") != has_command:
                need = "a command" if kind == "command" else "path and/or port, not a command"
                raise v.located((given["kind"],), f"a {kind} check needs {need}")
        return data

    @field_validator(*_WHOLE, mode="before")
    @classmethod
    def _whole_number(cls, value: Any) -> Any:
        if value is not None and (isinstance(value, bool) or not isinstance(value, int)):
            raise ValueError(f"must be a whole number, not {value!r}")
        return value

    @field_validator(*_SECONDS, mode="before")
    @classmethod
    def _seconds(cls, value: Any) -> Any:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ValueError(f"must be a number of seconds (like 1 or 0.5), not {value!r}")
        return value

    @field_validator("path", "expect_text", mode="before")
    @classmethod
    def _string(cls, value: Any) -> Any:
        if value is not None and not isinstance(value, str):
            raise ValueError(f"must be a string, not {value!r}")
        return value

    @field_validator("command", mode="before")
    @classmethod
    def _argv(cls, value: Any) -> Any:
        if value is None:
            return None
        try:
            return validate_argv(value, "command", allow_empty=False)
        except InvalidInput as exc:
            raise ValueError(exc.message.removeprefix("command").lstrip()) from None

    @field_validator("path")
    @classmethod
    def _path(cls, path: str | None) -> str | None:
        if path is None:
            return None
        v.as_value_error(check_line, path, "path")
        if not path.startswith("/") or any(c.isspace() for c in path):
            raise ValueError(f"{path!r} must start with '/' and hold no spaces (like '/health')")
        return path

    @field_validator("expect_text")
    @classmethod
    def _expect_text(cls, text: str | None) -> str | None:
        if text == "":
            raise ValueError("must not be empty; leave it out")
        return None if text is None else v.as_value_error(check_line, text, "expect_text")

    @model_validator(mode="after")
    def _ranges(self) -> Self:
        problems = []
        if self.command is not None:
            if self.path is not None or self.port is not None:
                raise ValueError(
                    "gives both command and path/port; give path and port for an HTTP check, "
                    "or command for a command check"
                )
            if self.expect_status is not None:
                problems.append(("expect_status", "applies to HTTP checks, not to a command check"))
        elif self.path is None and self.port is None:
            raise ValueError(
                'needs path and port (like {"path": "/health", "port": 8080}) '
                'or command (like {"command": ["curl", "-f", "http://localhost/health"]})'
            )
        if self.port is not None and not 1 <= self.port <= 65535:
            problems.append(("port", f"{self.port} must be from 1 to 65535"))
        if self.expect_status is not None and not 100 <= self.expect_status <= 599:
            problems.append(
                ("expect_status", f"{self.expect_status} must be an HTTP status from 100 to 599")
            )
        if not 1 <= self.retries <= MAX_RETRIES:
            problems.append(
                ("retries", f"{self.retries} must be from 1 to {MAX_RETRIES} (attempts in all)")
            )
        if not 0 <= self.interval <= MAX_SECONDS:
            problems.append(
                ("interval", f"{float(self.interval)} must be from 0 to {MAX_SECONDS:g} seconds")
            )
        if not 0 < self.timeout <= MAX_SECONDS:
            problems.append(
                (
                    "timeout",
                    f"{float(self.timeout)} must be more than 0 and at most "
                    f"{MAX_SECONDS:g} seconds",
                )
            )
        if problems:
            name, reason = problems[0]
            raise v.located((name,), reason)
        return self

    @model_serializer(mode="wrap")
    def _only_given(
        self, handler: SerializerFunctionWrapHandler, info: SerializationInfo
    ) -> dict[str, Any]:
        """The fields the user gave (so a stored check reads as it was written)."""
        data = handler(self)
        keep = {to_pascal(n) if info.by_alias else n for n in self.model_fields_set}
        return {key: value for key, value in data.items() if key in keep and value is not None}

    def runtime_fields(self) -> dict[str, Any]:
        """Keyword arguments of `stackops.deploy.health.HealthCheck` for this check."""
        fields: dict[str, Any] = {
            "expect_text": self.expect_text,
            "retries": self.retries,
            "interval": float(self.interval),
            "timeout": float(self.timeout),
        }
        if self.command is not None:
            return {**fields, "command": list(self.command)}
        return {
            **fields,
            "path": self.path,
            "port": self.port,
            "expect_status": self.expect_status or DEFAULT_EXPECT_STATUS,
        }


def build_health_check(config: object, field: str = "health_check") -> HealthCheckSpec:
    """`config` validated as a health check; InvalidInput naming `field` and the key."""
    try:
        return HealthCheckSpec.model_validate(config)
    except ValidationError as exc:
        lines = []
        for error in exc.errors():
            cause = (error.get("ctx") or {}).get("error")
            located = isinstance(cause, v.LocatedValueError)
            path = list(error["loc"])
            if located and not cause.at_key:
                path += cause.path
            if path and isinstance(config, dict) and path[0] not in config:
                path[0] = to_pascal(str(path[0]))  # name the key as the user spelled it
            reason = cause.reason if located else error["msg"].removeprefix("Value error, ")
            if located and cause.at_key:
                reason = f"has {reason}"
            where = field + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in path)
            lines.append(f"{where}{'' if reason.startswith('[') else ' '}{reason}")
        raise InvalidInput("; ".join(lines)) from None
