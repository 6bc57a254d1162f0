"""stackops::shutdown — stop every service the recipes started on this node.

Services started by the engine leave a pid file in /var/run/stackops/; each one
found there is stopped (a service that is not running is left alone).
"""

import re

from stackops.converge.declare import Run

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]{0,127}$")


def recipe(run: Run) -> None:
    folder = run.path("/var/run/stackops")
    names = sorted(p.stem for p in folder.glob("*.pid")) if folder.is_dir() else []
    for name in names:
        if _NAME.match(name):
            run.service(name, action="stop")
