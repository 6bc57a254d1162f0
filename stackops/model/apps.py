"""Apps: environment, SSL and data sources, what a user sets on one, the stored record."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any, ClassVar, Self

from pydantic import Field, ValidationInfo, field_validator, model_validator

from stackops.model import opsworks_values as ow
from stackops.model import validation as v
from stackops.model.base import OpsWorksModel, RecordModel, default_name_from_shortname
from stackops.model.enums import AppType, SourceType
from stackops.model.fields import (
    Argv,
    Arn,
    DeployTo,
    DomainName,
    Line,
    Name,
    RecordId,
    Shortname,
    Text,
    Timestamp,
)
from stackops.model.health import HealthCheckSpec
from stackops.model.secret_ref import SecretRef, SecretText
from stackops.model.sources import Source


class EnvironmentVariable(OpsWorksModel):
    """One app environment variable; `secure` hides its value in API output."""

    key: Line
    value: SecretText = ""
    """The value, or {"ssm": "/param"}: kept in your parameter, read when recipes run."""
    secure: bool = False

    def __repr_args__(self) -> Iterable[tuple[str | None, Any]]:
        """Secure values stay out of reprs and logs."""
        for name, value in super().__repr_args__():
            yield name, "(secret)" if name == "value" and self.secure else value

    @field_validator("key")
    @classmethod
    def _key(cls, key: str) -> str:
        return v.as_value_error(v.validate_environment_key, key)

    @field_validator("value")
    @classmethod
    def _value(cls, value: str | SecretRef, info: ValidationInfo) -> str | SecretRef:
        if isinstance(value, SecretRef):
            return value
        return v.as_value_error(v.validate_environment_value, info.data.get("key", "?"), value)

    @model_validator(mode="after")
    def _ref_is_secure(self) -> Self:
        if isinstance(self.value, SecretRef) and not self.secure:
            raise ValueError(f"{self.key}: a value kept in Parameter Store needs secure: true")
        return self


class SslConfiguration(OpsWorksModel):
    """An app's SSL certificate (PEM); the private key is kept in Parameter Store."""

    certificate: Text = Field(min_length=1)
    private_key: SecretText = Field(repr=False)
    """PEM text, or {ssm: ...}; "" in a record: kept at the app's own parameter."""
    chain: Text | None = None


class DataSource(OpsWorksModel):
    """A database attached to an app (OpsWorks `DataSource`), passed to its recipes."""

    type: ow.DataSourceType | None = None
    arn: Arn | None = None
    database_name: Line | None = None


def derive_shortname(name: str) -> str:
    """An app shortname from its name: lower-case, other characters '_' ("My App!" -> "my_app")."""
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_")


APP_SOURCE_TYPES = (SourceType.s3, SourceType.archive, SourceType.git)
"""The app source types a deployment can fetch (svn is refused at the door)."""


class AppSpec(OpsWorksModel):
    """What a user sets on an app (OpsWorks `CreateAppRequest`, plus deploy extensions).

    `shortname` is derived from `name` when left out, `name` from `shortname`;
    `deploy_to` defaults to `/srv/www/<shortname>`.
    """

    shortname: Shortname
    name: Name
    description: Text | None = None
    type: AppType = AppType.other
    app_source: Source | None = None
    domains: list[DomainName] = Field(default=[], max_length=100)
    enable_ssl: bool = False
    ssl_configuration: SslConfiguration | None = None
    attributes: ow.AppAttributes = {}
    environment: list[EnvironmentVariable] = []
    data_sources: list[DataSource] = Field(default=[], max_length=10)
    deploy_to: DeployTo | None = None
    """stackops extension: where releases go; `/srv/www/<shortname>` when not set."""
    migrate_command: Argv | None = None
    """stackops extension: argv run once per deployment before the switch."""
    health_check: HealthCheckSpec | None = None
    """stackops extension: e.g. {"path": "/health", "port": 8080} or {"command": [...]}."""
    layers: list[Shortname] = Field(default=[], max_length=100)
    """stackops extension: shortnames of the layers whose instances get this app; empty means
    every layer (OpsWorks tied apps to layers by type; custom layers need it said)."""

    @model_validator(mode="before")
    @classmethod
    def _derive_names(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        if "shortname" not in data and "Shortname" not in data:
            name = data.get("name", data.get("Name"))
            if isinstance(name, str):
                derived = derive_shortname(name)[: v.SHORTNAME_MAX]
                if not derived:
                    raise ValueError(
                        f"cannot derive a shortname from name {name!r}; give shortname"
                    )
                data = {**data, "shortname": derived}
        return default_name_from_shortname(data)

    @field_validator("app_source")
    @classmethod
    def _deployable_source(cls, source: Source | None) -> Source | None:
        if source is not None and source.type not in APP_SOURCE_TYPES:
            kinds = " or ".join(t.value for t in APP_SOURCE_TYPES)
            raise ValueError(
                f"type {source.type.value!r} cannot be deployed yet: stackops deploys {kinds} "
                "sources (a .tar.gz or .zip at an s3://, https:// or local address, or a git "
                "repository with a revision)"
            )
        return source

    @field_validator("environment")
    @classmethod
    def _environment(cls, env: list[EnvironmentVariable]) -> list[EnvironmentVariable]:
        pairs = [(e.key, e.value) for e in env if isinstance(e.value, str)]
        v.as_value_error(v.validate_environment, pairs)
        return env

    @model_validator(mode="after")
    def _ssl_needs_certificate(self) -> Self:
        if self.enable_ssl and self.ssl_configuration is None:
            raise ValueError(
                "enable_ssl needs ssl_configuration (Certificate and PrivateKey, PEM text; "
                "file://cert.pem reads a file)"
            )
        return self

    @model_validator(mode="after")
    def _deploy_to_default(self) -> Self:
        if self.deploy_to is None:
            self.deploy_to = f"/srv/www/{self.shortname}"
        return self


class App(RecordModel, AppSpec):
    """An app as stored: its spec plus ids and creation time."""

    spec_class: ClassVar[type[OpsWorksModel]] = AppSpec

    app_id: RecordId
    stack_id: RecordId
    created_at: Timestamp

    def spec(self) -> AppSpec:
        """The user-set part of this app."""
        return super().spec()
