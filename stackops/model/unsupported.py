"""OpsWorks settings stackops refuses, each with the message naming what is not supported.

A refused field is still a field of the spec, so that the verb's option exists
(`--chef-configuration`), an imported or hand-written stack file gets the same
message with its file:line, and its empty value (what OpsWorks answered for a
stack that never used the feature: `[]`, `{}`, `{"Enabled": false}`) passes.
Anything else is refused with one of the messages below.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator

UNSUPPORTED: dict[str, str] = {
    "chef_configuration": (
        "Chef (ChefConfiguration, Berkshelf) is not supported: stackops runs its own Python "
        "recipes; leave it out"
    ),
    "volume_configurations": (
        "OpsWorks EBS volumes and RAID arrays (VolumeConfigurations) are not supported: "
        "instances have their root volume only; create and mount volumes in a setup recipe"
    ),
    "cloud_watch_logs_configuration": (
        "the OpsWorks CloudWatch Logs agent (CloudWatchLogsConfiguration) is not supported: "
        "install a log shipper from the layer's setup recipes"
    ),
    "block_device_mappings": (
        "instance block device mappings (BlockDeviceMappings) are not supported: instances "
        "launch with their AMI's root volume"
    ),
}
"""Field name -> why it is refused. The README's "Not supported" list is this table."""


def is_unset(value: Any) -> bool:
    """True for the values meaning "not used": None, empty, false, or `Enabled: false`."""
    if value is None or value is False or value == [] or value == {} or value == "":
        return True
    if isinstance(value, Mapping):
        enabled = value.get("Enabled", value.get("enabled"))
        others = set(value) - {"Enabled", "enabled", "LogStreams", "log_streams"}
        streams = value.get("LogStreams", value.get("log_streams")) or []
        off = enabled is False or (isinstance(enabled, str) and enabled.lower() == "false")
        return off and not others and not streams
    return False


def _refuse(field: str) -> Any:
    def check(value: Any) -> None:
        if not is_unset(value):
            raise ValueError(UNSUPPORTED[field])
        return None

    return BeforeValidator(check)


ChefConfiguration = Annotated[Any, _refuse("chef_configuration")]
VolumeConfigurations = Annotated[Any, _refuse("volume_configurations")]
CloudWatchLogsConfiguration = Annotated[Any, _refuse("cloud_watch_logs_configuration")]
BlockDeviceMappings = Annotated[Any, _refuse("block_device_mappings")]
