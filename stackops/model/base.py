"""The base of every model: OpsWorks's names as aliases, API and record forms, specs and records.

Field names are snake_case; OpsWorks's PascalCase names are accepted as
aliases, so `{"Setup": [...]}` and `{"setup": [...]}` both validate. Unknown
fields are refused. `to_api()` gives the OpsWorks response shape (secrets
filtered); `to_record()` / `from_record()` give the plain storage form (secrets
kept: the store decides where they go). A record is its spec plus ids and state.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_pascal

from stackops.model import opsworks_values as ow

FILTERED = ow.FILTERED
"""What OpsWorks showed instead of a secret value."""


class OpsWorksModel(BaseModel):
    """Base of every model: snake_case names, PascalCase aliases, unknown fields refused."""

    model_config = ConfigDict(
        alias_generator=to_pascal,
        validate_by_name=True,
        validate_by_alias=True,
        extra="forbid",
    )

    api_hidden: ClassVar[frozenset[str]] = frozenset()
    """Fields kept in records but left out of API answers (stackops's own bookkeeping)."""

    def to_record(self) -> dict[str, Any]:
        """The plain JSON-able storage form: snake_case keys, secrets kept."""
        return self.model_dump(mode="json")

    @classmethod
    def from_record(cls, record: Mapping[str, Any]) -> Self:
        """Rebuild a model from `to_record()` output."""
        return cls.model_validate(dict(record))

    def to_api(self) -> dict[str, Any]:
        """The OpsWorks response shape: PascalCase keys, None left out, secrets filtered."""
        data = self.model_dump(
            mode="json", by_alias=True, exclude_none=True, exclude=set(self.api_hidden)
        )
        if "CustomJson" in data:
            custom = data.pop("CustomJson")
            if custom:
                data["CustomJson"] = json.dumps(custom)
        for key in ("AppSource", "CustomCookbooksSource"):
            if key in data:
                data[key] = _filter_source(data[key])
        if "Environment" in data:
            data["Environment"] = [
                {**item, "Value": FILTERED} if item.get("Secure") else item
                for item in data["Environment"]
            ]
        return ow.answer_form(data)


def _filter_source(source: dict[str, Any]) -> dict[str, Any]:
    """A source's API form with its password and SSH key hidden."""
    return {k: FILTERED if k in ("Password", "SshKey") else val for k, val in source.items()}


class RecordModel(OpsWorksModel):
    """Base of records: split off the spec, build from a spec."""

    spec_class: ClassVar[type[OpsWorksModel]]

    def spec(self) -> Any:
        """The user-set part of this record, as its spec class."""
        names = set(self.spec_class.model_fields)
        return self.spec_class.model_validate(self.model_dump(include=names))

    @classmethod
    def from_spec(cls, spec: OpsWorksModel, **state: Any) -> Self:
        """Build a record from a spec plus its ids and state (`stack_id=...`, ...)."""
        return cls.model_validate({**spec.model_dump(), **state})


def default_name_from_shortname(data: Any) -> Any:
    """Raw input with `name` set to `shortname` when only the latter is given."""
    if isinstance(data, dict) and "name" not in data and "Name" not in data:
        shortname = data.get("shortname", data.get("Shortname"))
        if isinstance(shortname, str):
            return {**data, "name": shortname}
    return data
