"""The stackops model: specs and records of stacks, layers, apps and instances.

Pure: no AWS, no boto3; of stackops it imports only `stackops.errors`.
"""

from __future__ import annotations

from stackops.model import validation
from stackops.model.enums import (
    AppType,
    Architecture,
    AutoScalingType,
    DeploymentCommandName,
    HostnameTheme,
    InstanceStatus,
    LayerType,
    RootDeviceType,
    SourceType,
    VirtualizationType,
)
from stackops.model.resources import (
    FILTERED,
    STACKOPS_DEFAULT_RECIPES,
    App,
    AppSpec,
    DataSource,
    EnvironmentVariable,
    Instance,
    InstanceSpec,
    Layer,
    LayerSpec,
    LifecycleEventConfiguration,
    Recipes,
    ShutdownEventConfiguration,
    Source,
    Stack,
    StackConfigurationManager,
    StackSpec,
    summarize,
)

__all__ = [
    "FILTERED",
    "STACKOPS_DEFAULT_RECIPES",
    "App",
    "AppSpec",
    "AppType",
    "Architecture",
    "AutoScalingType",
    "DataSource",
    "DeploymentCommandName",
    "EnvironmentVariable",
    "HostnameTheme",
    "Instance",
    "InstanceSpec",
    "InstanceStatus",
    "Layer",
    "LayerSpec",
    "LayerType",
    "LifecycleEventConfiguration",
    "Recipes",
    "RootDeviceType",
    "ShutdownEventConfiguration",
    "Source",
    "SourceType",
    "Stack",
    "StackConfigurationManager",
    "StackSpec",
    "VirtualizationType",
    "summarize",
    "validation",
]
