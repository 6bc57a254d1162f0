"""Protected values of apps live in Parameter Store, never in records, tags or output.

A record keeps the variable's key with `secure: true` and an empty value; the
value sits in a SecureString parameter at `<prefix>/apps/<app id>/env/<KEY>`
(and the source's password or SSH key at `.../source/<field>`), read only when
a recipe runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stackops.model.apps import App
from stackops.model.layers import Layer
from stackops.model.opsworks_values import PROTECTED_ATTRIBUTES
from stackops.model.stacks import Stack
from stackops.source_attributes import cookbook_secret_path
from stackops.store.app_secrets import SOURCE_SECRETS, app_secret_path, secret_paths

if TYPE_CHECKING:
    from stackops.services import Services

__all__ = [
    "app_secret_path",
    "copy_app_secrets",
    "copy_stack_secrets",
    "layer_secret_path",
    "layer_secret_paths",
    "secret_paths",
    "stack_secret_paths",
    "stash_app_secrets",
    "stash_layer_secrets",
    "stash_stack_secrets",
]


def stash_app_secrets(services: Services, app: App) -> App:
    """Move an app's protected values to Parameter Store; return the record to store."""
    env = []
    for var in app.environment:
        if var.secure and isinstance(var.value, str) and var.value:
            services.parameters.put_secret(
                app_secret_path(services, app.app_id, "env", var.key), var.value
            )
            var = var.model_copy(update={"value": ""})
        env.append(var)
    source = app.app_source
    if source is not None:
        blanked = {}
        for name in SOURCE_SECRETS:
            value = getattr(source, name)
            if isinstance(value, str) and value:
                services.parameters.put_secret(
                    app_secret_path(services, app.app_id, "source", name), value
                )
                blanked[name] = ""
        if blanked:
            source = source.model_copy(update=blanked)
    ssl = app.ssl_configuration
    if ssl is not None and isinstance(ssl.private_key, str) and ssl.private_key:
        services.parameters.put_secret(
            app_secret_path(services, app.app_id, "ssl", "private_key"), ssl.private_key
        )
        ssl = ssl.model_copy(update={"private_key": ""})
    return app.model_copy(
        update={"environment": env, "app_source": source, "ssl_configuration": ssl}
    )


def copy_app_secrets(services: Services, source: App, new_app_id: str) -> None:
    """Give a cloned app its own copies of the source app's protected values."""
    old = secret_paths(services, source)
    values = services.parameters.get_many(old)
    prefix = app_secret_path(services, source.app_id)
    for path, value in values.items():
        suffix = path[len(prefix) :]
        services.parameters.put_secret(app_secret_path(services, new_app_id) + suffix, value)


def layer_secret_path(services: Services, layer_id: str, key: str) -> str:
    """Where a protected attribute of a layer (MysqlRootPassword...) is kept."""
    return "/".join([services.names.secret_prefix(), "layers", layer_id, "attributes", key])


def stash_layer_secrets(services: Services, layer: Layer) -> Layer:
    """Move a layer's protected attribute values to Parameter Store; the record keeps a ref."""
    attributes = dict(layer.attributes)
    for key, value in layer.attributes.items():
        if key in PROTECTED_ATTRIBUTES and isinstance(value, str) and value:
            path = layer_secret_path(services, layer.layer_id, key)
            services.parameters.put_secret(path, value)
            attributes[key] = ""  # kept at its own parameter (as an app's secure values)
    return layer.model_copy(update={"attributes": attributes})


def layer_secret_paths(services: Services, layer: Layer) -> list[str]:
    """The parameters stackops made for a layer's protected attributes."""
    return [layer_secret_path(services, layer.layer_id, key) for key in PROTECTED_ATTRIBUTES]


def stash_stack_secrets(services: Services, stack: Stack) -> Stack:
    """Move the cookbook source's password or SSH key to Parameter Store; the record to store."""
    source = stack.custom_cookbooks_source
    if source is None:
        return stack
    blanked = {}
    prefix = services.names.secret_prefix()
    for name in SOURCE_SECRETS:
        value = getattr(source, name)
        if value:
            path = cookbook_secret_path(prefix, stack.stack_id, name)
            services.parameters.put_secret(path, value)
            blanked[name] = ""
    if not blanked:
        return stack
    return stack.model_copy(update={"custom_cookbooks_source": source.model_copy(update=blanked)})


def stack_secret_paths(services: Services, stack_id: str) -> list[str]:
    """Every parameter that may hold a protected value of a stack's cookbook source."""
    prefix = services.names.secret_prefix()
    return [cookbook_secret_path(prefix, stack_id, name) for name in SOURCE_SECRETS]


def copy_stack_secrets(services: Services, source_stack_id: str, new_stack_id: str) -> None:
    """Give a cloned stack its own copies of the cookbook source's protected values."""
    old = stack_secret_paths(services, source_stack_id)
    values = services.parameters.get_many(old)
    for path, new in zip(old, stack_secret_paths(services, new_stack_id), strict=True):
        if path in values:
            services.parameters.put_secret(new, values[path])
