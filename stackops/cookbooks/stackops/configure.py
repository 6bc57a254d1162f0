"""stackops::configure — /etc/stackops/node.json: the stack's membership and apps.

Mode 0600: an app's environment may hold protected values (they are masked
where `stackops.secret_keys` names them); rewritten whenever a value changes.
"""

import json

from stackops.converge.declare import Run
from stackops.cookbooks.apps import node_summary


def recipe(run: Run) -> None:
    folder = run.directory("/etc/stackops", mode=0o755)
    text = json.dumps(node_summary(run.node), indent=2, sort_keys=True) + "\n"
    run.file("/etc/stackops/node.json", content=text, mode=0o600, requires=[folder])
