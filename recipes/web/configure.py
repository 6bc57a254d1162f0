"""web::configure — the web server's configuration, from the node's attributes.

The port is `web.port` when the node gives one, else 8000 plus the node's port
offset (in the sandbox every node shares one host, each on its own port).
"""

from stackops.converge.declare import Run


def web_port(node: dict) -> int:
    """This node's web port."""
    web = node.get("web", {})
    offset = node.get("stackops", {}).get("instance", {}).get("port_offset", 0)
    return int(web.get("port") or int(web.get("port_base", 8000)) + int(offset))


def recipe(run: Run) -> None:
    web = run.node.get("web", {})
    app_layer = run.node.get("stackops", {}).get("layers", {}).get("app", {})
    conf_dir = run.directory("/etc/web", mode=0o755)
    run.template(
        "/etc/web/web.conf",
        source="web.conf.j2",
        variables={
            "port": web_port(run.node),
            "port_base": int(web.get("port_base", 8000)),
            "backends": app_layer.get("instances", {}),
        },
        mode=0o644,
        requires=[conf_dir],
    )
    run.file("/etc/web/motd", content=f"{web.get('greeting', 'hello')}\n", mode=0o644)
