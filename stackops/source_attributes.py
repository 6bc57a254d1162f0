"""Where code comes from, as node attributes: cookbook and app sources with secret refs.

A source's protected fields (`ssh_key`, `password`) are kept in Parameter Store
(`stackops.api.secrets`); a record holds "" where one was stored. In node
attributes they become secret refs `{"ssm": "<path>"}`, resolved on the
instance just before a run and masked in whatever the run reports.
"""

from __future__ import annotations

from typing import Any

from stackops.model.sources import Source
from stackops.model.stacks import Stack

SOURCE_SECRETS = ("password", "ssh_key")


def app_source_secret_path(secret_prefix: str, app_id: str, field: str) -> str:
    """The parameter holding an app source's protected field."""
    return f"{secret_prefix.rstrip('/')}/apps/{app_id}/source/{field}"


def cookbook_secret_path(secret_prefix: str, stack_id: str, field: str) -> str:
    """The parameter holding a stack's cookbook source's protected field."""
    return f"{secret_prefix.rstrip('/')}/stacks/{stack_id}/cookbooks/{field}"


def source_secret_refs(source: Source | None, path_of: Any) -> dict[str, Any]:
    """`{"ssh_key": {"ssm": path}}` for each protected field stored for `source`."""
    if source is None:
        return {}
    return {name: {"ssm": path_of(name)} for name in SOURCE_SECRETS if getattr(source, name) == ""}


def custom_cookbooks_attributes(stack: Stack, secret_prefix: str) -> dict[str, Any]:
    """`{"custom_cookbooks": {...}}` for a node's `stackops` attributes when the stack uses
    custom cookbooks (OpsWorks's UseCustomCookbooks and CustomCookbooksSource); else {}."""
    source = stack.custom_cookbooks_source
    if not stack.use_custom_cookbooks or source is None:
        return {}
    refs = source_secret_refs(
        source, lambda field: cookbook_secret_path(secret_prefix, stack.stack_id, field)
    )
    found = {"type": source.type.value, "url": source.url, "revision": source.revision, **refs}
    return {"custom_cookbooks": found}
