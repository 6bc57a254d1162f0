"""lb::configure — the backend list, rewritten from the app layer's online instances.

Runs on every configure (whenever the stack's membership changes), so the list
always names exactly the app servers that are online.
"""

from stackops.converge.declare import Run


def recipe(run: Run) -> None:
    layers = run.node.get("stackops", {}).get("layers", {})
    backends = layers.get("app", {}).get("instances", {})
    conf_dir = run.directory("/etc/lb", mode=0o755)
    run.template(
        "/etc/lb/backends.conf",
        source="backends.conf.j2",
        variables={
            "backends": backends,
            "port_base": int(run.node.get("web", {}).get("port_base", 8000)),
        },
        mode=0o644,
        requires=[conf_dir],
    )
