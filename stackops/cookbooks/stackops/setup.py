"""stackops::setup — the folders every node needs, and each app's deploy_to layout."""

from stackops.converge.declare import Run
from stackops.cookbooks.apps import apps_of

BASE_FOLDERS = ("/etc/stackops", "/var/lib/stackops", "/var/log/stackops", "/var/run/stackops")


def recipe(run: Run) -> None:
    for folder in BASE_FOLDERS:
        run.directory(folder, mode=0o755)
    for app in apps_of(run.node):
        top = run.directory(app.deploy_to, mode=0o755, owner=app.owner, group=app.group)
        for sub in ("releases", "shared"):
            run.directory(
                f"{app.deploy_to}/{sub}",
                mode=0o755,
                owner=app.owner,
                group=app.group,
                requires=[top],
            )
