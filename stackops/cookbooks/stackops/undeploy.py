"""stackops::undeploy — stop each app's service and remove its deploy_to."""

from stackops.converge.declare import Run
from stackops.cookbooks.apps import apps_of


def recipe(run: Run) -> None:
    for app in apps_of(run.node):
        stopped = run.service(app.name, action="stop") if app.service else None
        run.directory(app.deploy_to, action="delete", requires=[stopped] if stopped else [])
