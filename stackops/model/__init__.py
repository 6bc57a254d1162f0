"""The stackops model: specs and records of stacks, layers, apps and instances.

Pure: no AWS, no boto3; of stackops it imports only `stackops.errors`.

Names are loaded on first use (PEP 562), so the pure checks of user input
(`stackops.model.jsontext`, `stackops.model.text`) stay importable without
pydantic: `stackops solo` reads its node JSON with them and starts fast.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from stackops.model import validation
    from stackops.model.apps import App, AppSpec, DataSource, EnvironmentVariable
    from stackops.model.base import FILTERED
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
    from stackops.model.health import HealthCheckSpec
    from stackops.model.instances import Instance, InstanceSpec
    from stackops.model.layers import (
        STACKOPS_DEFAULT_RECIPES,
        Layer,
        LayerSpec,
        LifecycleEventConfiguration,
        Recipes,
        ShutdownEventConfiguration,
    )
    from stackops.model.sources import Source
    from stackops.model.stacks import Stack, StackConfigurationManager, StackSpec, summarize

_MODULES = (
    "stackops.model.stacks",
    "stackops.model.layers",
    "stackops.model.apps",
    "stackops.model.instances",
    "stackops.model.sources",
    "stackops.model.base",
    "stackops.model.enums",
    "stackops.model.health",
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
    "HealthCheckSpec",
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


def __getattr__(name: str) -> Any:
    """Import the submodule that holds `name` when it is first asked for."""
    if name == "validation":
        return importlib.import_module("stackops.model.validation")
    if name in __all__:
        for module_name in _MODULES:
            module = importlib.import_module(module_name)
            if hasattr(module, name):
                return getattr(module, name)
    raise AttributeError(f"module 'stackops.model' has no attribute {name!r}")
