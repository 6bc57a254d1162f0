"""OpsWorks values the specs check at the door, and the forms answers show them in.

Each type refuses, with the reason, a value stackops cannot honour (a pinned
OpsWorks agent, a Chef configuration manager, OpsWorks's own security groups,
paravirtual instances, an OS with no current AMI, attribute keys OpsWorks did
not have); `to_api` uses the rest to answer as OpsWorks did (protected
attributes filtered, times to the second).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

from pydantic import AfterValidator

from stackops.model import validation as v
from stackops.model.attribute_keys import (
    APP_ATTRIBUTE_KEYS,
    LAYER_ATTRIBUTE_KEYS,
    STACK_ATTRIBUTE_KEYS,
    check_attribute_keys,
)
from stackops.model.enums import VirtualizationType
from stackops.model.fields import Line, Text
from stackops.model.operating_systems import operating_system
from stackops.model.secret_ref import SecretRef, SecretText

FILTERED = "*****FILTERED*****"
PROTECTED_ATTRIBUTES = frozenset({"MysqlRootPassword", "HaproxyStatsPassword", "GangliaPassword"})
"""Layer attributes OpsWorks answered as FILTERED; stackops keeps them in Parameter Store."""
TIME_KEYS = frozenset({"CreatedAt", "AcknowledgedAt", "CompletedAt"})


# -- checks at the door ----------------------------------------------------------------------
def _agent_version(value: str) -> str:
    if value != "LATEST" and not _STACKOPS_VERSION.match(value):
        raise ValueError(
            f"agent version {value!r}: pinned OpsWorks agent versions are not supported; "
            "give LATEST or a stackops version that bootstrap uploaded (like 0.1.0)"
        )
    return value


_STACKOPS_VERSION = re.compile(r"^\d+(\.\d+){1,3}((a|b|rc|\.dev|\.post)\d+)?$")


def _stackops_manager(name: str) -> str:
    if name != "stackops":
        raise ValueError(
            f"configuration manager {name!r} is not supported: stackops runs its own Python "
            "recipes (Name 'stackops'); Chef cookbooks must be rewritten as stackops recipes"
        )
    return name


def _no_opsworks_groups(value: bool) -> bool:
    if value:
        raise ValueError(
            "OpsWorks's built-in security groups (UseOpsworksSecurityGroups) are not "
            "created by stackops; give each layer --custom-security-group-ids"
        )
    return value


def _hvm(value: VirtualizationType) -> VirtualizationType:
    if value is VirtualizationType.paravirtual:
        raise ValueError(
            "paravirtual instances are not supported: current EC2 instance types run hvm AMIs"
        )
    return value


def _os_name(value: str) -> str:
    v.as_value_error(operating_system, value)
    return value


def _layer_attributes(value: dict[str, Any]) -> dict[str, Any]:
    for key, item in value.items():
        if isinstance(item, SecretRef) and key not in PROTECTED_ATTRIBUTES:
            raise ValueError(
                f"{key}: only {', '.join(sorted(PROTECTED_ATTRIBUTES))} may be kept in "
                "Parameter Store ({ssm: ...}); give the value itself"
            )
    return v.as_value_error(check_attribute_keys, value, LAYER_ATTRIBUTE_KEYS)


def _keys(valid: tuple[str, ...]) -> AfterValidator:
    return AfterValidator(lambda value: v.as_value_error(check_attribute_keys, value, valid))


AgentVersion = Annotated[Line, AfterValidator(_agent_version)]
ConfigurationManagerName = Annotated[Line, AfterValidator(_stackops_manager)]
NoOpsWorksSecurityGroups = Annotated[bool, AfterValidator(_no_opsworks_groups)]
HvmOnly = Annotated[VirtualizationType, AfterValidator(_hvm)]
OsName = Annotated[Line, AfterValidator(_os_name)]
StackAttributes = Annotated[dict[str, Text | None], _keys(STACK_ATTRIBUTE_KEYS)]
AppAttributes = Annotated[dict[str, Text | None], _keys(APP_ATTRIBUTE_KEYS)]
LayerAttributes = Annotated[dict[str, SecretText | None], AfterValidator(_layer_attributes)]
"""Protected ones (MysqlRootPassword...) go to Parameter Store, or are given as {ssm: ...}."""
DataSourceType = Literal[
    "AutoSelectOpsworksMysqlInstance", "OpsworksMysqlInstance", "RdsDbInstance", "None"
]


# -- answers -----------------------------------------------------------------------------------
def filter_protected_attributes(attributes: dict[str, Any]) -> dict[str, Any]:
    """Attributes with every protected value that is set shown as FILTERED."""
    return {
        key: FILTERED if key in PROTECTED_ATTRIBUTES and value is not None else value
        for key, value in attributes.items()
    }


def opsworks_time(value: str) -> str:
    """A recorded time as OpsWorks wrote it: UTC, to the second (`2026-01-01T00:00:00+00:00`)."""
    moment = datetime.fromisoformat(value)
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00")


def answer_form(data: dict[str, Any]) -> dict[str, Any]:
    """An answer's times, protected attributes and SSL key as OpsWorks showed them."""
    for key in TIME_KEYS & data.keys():
        data[key] = opsworks_time(data[key])
    if isinstance(data.get("Attributes"), dict):
        data["Attributes"] = filter_protected_attributes(data["Attributes"])
    if data.get("SslConfiguration", {}).get("PrivateKey") is not None:
        data["SslConfiguration"] = {**data["SslConfiguration"], "PrivateKey": FILTERED}
    return data
