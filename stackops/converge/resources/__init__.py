"""The built-in resource types, registered on `RESOURCE_TYPES` by name.

Each module registers its types with the `resource_type` decorator. A module is
imported when a run first declares one of its types (or when the registry is
walked), so a recipe of files and templates never loads what archives, services
or packages need (subprocess, sockets, tarfile, urllib).
"""

from __future__ import annotations

from stackops.converge.resource import RESOURCE_TYPES, ResourceRegistry

# type name -> the module that registers it (tests/converge/test_converge_registry.py
# holds each name to its module).
RESOURCE_TYPES.locate(
    {
        "directory": "stackops.converge.resources.files",
        "file": "stackops.converge.resources.files",
        "template": "stackops.converge.resources.files",
        "link": "stackops.converge.resources.links",
        "execute": "stackops.converge.resources.execute",
        "archive": "stackops.converge.resources.archive",
        "release": "stackops.converge.resources.release",
        "service": "stackops.converge.resources.service",
        "package": "stackops.converge.resources.package",
    }
)

__all__ = ["RESOURCE_TYPES", "ResourceRegistry"]
