"""stackops::configure — /etc/stackops/node.json: the stack's membership and apps, no secrets."""

import json

from stackops.converge.declare import Run
from stackops.cookbooks.apps import node_summary


def recipe(run: Run) -> None:
    folder = run.directory("/etc/stackops", mode=0o755)
    text = json.dumps(node_summary(run.node), indent=2, sort_keys=True) + "\n"
    run.file("/etc/stackops/node.json", content=text, mode=0o644, requires=[folder])
