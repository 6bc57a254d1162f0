"""A value kept in Parameter Store: `{"ssm": "/path/to/param"}`, read only when recipes run.

Fields that hold secrets (a secure environment value, a source's password or
SSH key, a protected layer attribute) take either the value itself, which the
verbs move to Parameter Store, or such a reference to a parameter the user
keeps (what `import-opsworks` writes for OpsWorks's `*****FILTERED*****`).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field
from pydantic_core import PydanticCustomError

from stackops.model import validation as v
from stackops.model.fields import TEXT_MAX
from stackops.model.text import check_text

SSM_NAME_PATTERN = r"[A-Za-z0-9_.\-/]{1,2048}"


class SecretRef(BaseModel):
    """A reference to a Parameter Store parameter holding a secret."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    ssm: str = Field(pattern=SSM_NAME_PATTERN)


def is_ref(value: Any) -> bool:
    """True for a SecretRef or its plain form `{"ssm": "..."}`."""
    return isinstance(value, SecretRef) or (
        isinstance(value, dict) and set(value) == {"ssm"} and isinstance(value["ssm"], str)
    )


def _text_or_ref(value: Any) -> Any:
    """Make a ref of `{"ssm": ...}`; anything else is left to the str check (one error)."""
    if isinstance(value, dict):
        if set(value) != {"ssm"} or not isinstance(value["ssm"], str):
            raise ValueError('a value kept in Parameter Store is written {"ssm": "/param/name"}')
        return SecretRef(ssm=value["ssm"])
    if isinstance(value, str):  # checked here, so a bad value gives one error, not one per type
        if len(value) > TEXT_MAX:
            raise ValueError(f"the value is longer than {TEXT_MAX} characters")
        return v.as_value_error(check_text, value, "the value")
    if value is not None and not isinstance(value, SecretRef):
        raise PydanticCustomError("string_type", "Input should be a valid string")
    return value


SecretText = Annotated[str | SecretRef, BeforeValidator(_text_or_ref)]
"""A secret given as its value or as a reference to the parameter that holds it."""
