"""The attribute keys OpsWorks accepted on stacks, layers and apps (its *AttributesKeys enums)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from stackops.errors import InvalidInput

STACK_ATTRIBUTE_KEYS = ("Color",)
LAYER_ATTRIBUTE_KEYS = (
    "EcsClusterArn",
    "EnableHaproxyStats",
    "HaproxyStatsUrl",
    "HaproxyStatsUser",
    "HaproxyStatsPassword",
    "HaproxyHealthCheckUrl",
    "HaproxyHealthCheckMethod",
    "MysqlRootPassword",
    "MysqlRootPasswordUbiquitous",
    "GangliaUrl",
    "GangliaUser",
    "GangliaPassword",
    "MemcachedMemory",
    "NodejsVersion",
    "RubyVersion",
    "RubygemsVersion",
    "ManageBundler",
    "BundlerVersion",
    "RailsStack",
    "PassengerVersion",
    "Jvm",
    "JvmVersion",
    "JvmOptions",
    "JavaAppServer",
    "JavaAppServerVersion",
)
APP_ATTRIBUTE_KEYS = ("DocumentRoot", "RailsEnv", "AutoBundleOnDeploy", "AwsFlowRubySettings")


def check_attribute_keys(attributes: Mapping[str, Any], valid: tuple[str, ...]) -> dict[str, Any]:
    """The attributes, when every key is one OpsWorks knew; InvalidInput naming the valid ones."""
    unknown = [key for key in attributes if key not in valid]
    if unknown:
        raise InvalidInput(
            f"unknown attribute {unknown[0]!r}; valid keys: {', '.join(valid)} "
            "(put your own settings in custom_json)"
        )
    return dict(attributes)
