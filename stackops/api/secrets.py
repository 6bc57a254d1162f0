"""Protected values of apps live in Parameter Store, never in records, tags or output.

A record keeps the variable's key with `secure: true` and an empty value; the
value sits in a SecureString parameter at `<prefix>/apps/<app id>/env/<KEY>`
(and the source's password or SSH key at `.../source/<field>`), read only when
a recipe runs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stackops.model.resources import App
from stackops.store.app_secrets import SOURCE_SECRETS, app_secret_path, secret_paths

if TYPE_CHECKING:
    from stackops.services import Services

__all__ = ["app_secret_path", "copy_app_secrets", "secret_paths", "stash_app_secrets"]


def stash_app_secrets(services: Services, app: App) -> App:
    """Move an app's protected values to Parameter Store; return the record to store."""
    env = []
    for var in app.environment:
        if var.secure and var.value:
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
            if value:
                services.parameters.put_secret(
                    app_secret_path(services, app.app_id, "source", name), value
                )
                blanked[name] = ""
        if blanked:
            source = source.model_copy(update=blanked)
    return app.model_copy(update={"environment": env, "app_source": source})


def copy_app_secrets(services: Services, source: App, new_app_id: str) -> None:
    """Give a cloned app its own copies of the source app's protected values."""
    old = secret_paths(services, source)
    values = services.parameters.get_many(old)
    prefix = app_secret_path(services, source.app_id)
    for path, value in values.items():
        suffix = path[len(prefix) :]
        services.parameters.put_secret(app_secret_path(services, new_app_id) + suffix, value)
