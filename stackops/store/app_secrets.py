"""Where an app's protected values live in Parameter Store, and forgetting an app.

Below the verbs and the deployment runner alike: delete-app (through its undeploy
deployment, which the runner finishes) and the verbs use the same one way to drop
an app's record and its protected values.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stackops.model.secret_ref import SecretRef
from stackops.source_attributes import SOURCE_SECRETS

if TYPE_CHECKING:
    from stackops.model.apps import App
    from stackops.services import Services


def app_secret_path(services: Services, app_id: str, *parts: str) -> str:
    """Where one protected value of an app is kept."""
    return "/".join([services.names.secret_prefix(), "apps", app_id, *parts])


def secret_paths(services: Services, app: App) -> list[str]:
    """Every parameter that may hold a protected value of `app`."""
    paths = [
        app_secret_path(services, app.app_id, "env", v.key)
        for v in app.environment
        if v.secure and not isinstance(v.value, SecretRef)
    ]
    paths += [app_secret_path(services, app.app_id, "source", n) for n in SOURCE_SECRETS]
    paths.append(app_secret_path(services, app.app_id, "ssl", "private_key"))
    return paths


def forget_app(services: Services, app: App) -> None:
    """Remove an app's record and protected values."""
    services.parameters.delete_many(secret_paths(services, app))
    services.store.delete(app)
