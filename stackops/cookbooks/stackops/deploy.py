"""stackops::deploy — each app of node["deploy"] with a release in this run: a release
switched in, its service restarted.

Only the apps given a `release` are deployed (a deployment gives one to its own
app, the boot to every app of the node); the node's other apps are left as they
are. releases/<release> is unpacked from the app's artifact (scm_type s3,
archive or local), shared folders are linked in, the migration runs if asked,
`current` switches atomically and keep_releases are kept. The app's environment
goes to <deploy_to>/shared/app.env (mode 0600, hidden from reports; keys must be
variable names, values are quoted). An app with a `service` (command, env,
reload_signal, port) is kept running from `current`, restarted when the release
or environment changes, and up only once verified (see the service resource).
With `switch_back` set, the release must already be on the node: `current`
switches back to it (rollback).
"""

from stackops.converge.declare import Run
from stackops.cookbooks.apps import apps_of
from stackops.errors import InvalidInput


def recipe(run: Run) -> None:
    run.include("stackops::setup")
    apps = apps_of(run.node)
    chosen = [app for app in apps if app.release is not None]
    if apps and not chosen:
        names = ", ".join(f"deploy.{app.name}.release" for app in apps)
        raise InvalidInput(f"node attribute {names}: a deploy needs a release id for its app")
    for app in chosen:
        owner = {"owner": app.owner, "group": app.group}
        env_file = run.file(
            app.env_file, content=app.env_text(), mode=0o600, sensitive=True, **owner
        )
        release = run.release(
            app.deploy_to,
            release=app.release,
            source=None if app.switch_back else app.source,
            checksum=app.checksum,
            strip_components=app.strip_components,
            shared=list(app.shared),
            keep=app.keep,
            migrate=list(app.migrate) if app.migrate else None,
            env=app.environment,
            requires=[env_file],
            **owner,
        )
        if app.service is not None:
            run.service(
                app.name,
                command=list(app.service.command),
                cwd=f"{app.deploy_to}/current",
                env={**app.environment, **app.service.env},
                reload_signal=app.service.reload_signal,
                port=app.service.port,
                subscribes=[release],
            )
