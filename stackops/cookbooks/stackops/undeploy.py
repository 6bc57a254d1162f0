"""stackops::undeploy — stop an app's service and remove its deploy_to.

An undeploy command marks its app (`deploy.<app>.undeploy`); only that app is
removed, the node's other apps are left as they are. With no app marked (a run
of the recipe alone, as in solo), every app of the node is removed.
"""

from stackops.converge.declare import Run
from stackops.cookbooks.apps import apps_of


def recipe(run: Run) -> None:
    apps = apps_of(run.node)
    marked = [app for app in apps if app.undeploy]
    for app in marked or apps:
        stopped = run.service(app.name, action="stop") if app.service else None
        run.directory(app.deploy_to, action="delete", requires=[stopped] if stopped else [])
