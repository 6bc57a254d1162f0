"""web::configure — the web server's configuration, from the node's attributes."""

from stackops.converge.declare import Run


def recipe(run: Run) -> None:
    web = run.node["web"]
    app_layer = run.node.get("stackops", {}).get("layers", {}).get("app", {})
    conf_dir = run.directory("/etc/web", mode=0o755)
    run.template(
        "/etc/web/web.conf",
        source="web.conf.j2",
        variables={"port": web["port"], "backends": app_layer.get("instances", {})},
        mode=0o644,
        requires=[conf_dir],
    )
    run.file("/etc/web/motd", content=f"{web.get('greeting', 'hello')}\n", mode=0o644)
