"""The built-in resource types; importing this package registers them all.

Each module registers its types on `stackops.converge.resource.RESOURCE_TYPES`
with the `resource_type` decorator. Heavy standard modules (tarfile, urllib,
subprocess, hashlib) are imported by the types only when they act.
"""

from __future__ import annotations

from stackops.converge.resource import RESOURCE_TYPES, ResourceRegistry
from stackops.converge.resources import archive, execute, files, package, release, service

__all__ = [
    "RESOURCE_TYPES",
    "ResourceRegistry",
    "archive",
    "execute",
    "files",
    "package",
    "release",
    "service",
]
