"""web::deploy — serve the app over HTTP with a supervised `python3 -m http.server`.

In a stack, the built-in stackops::deploy has already switched the `web` app's
release in; this serves `<deploy_to>/current`. Alone (solo, no app), it serves
the cookbook's own page. The server restarts when the release, its page or the
configuration written by web::configure changes; stackops::shutdown stops it.
"""

from stackops.converge.declare import Run


def recipe(run: Run) -> None:
    node = run.node
    web = node.get("web", {})
    offset = node.get("stackops", {}).get("instance", {}).get("port_offset", 0)
    port = int(web.get("port") or int(web.get("port_base", 8000)) + int(offset))
    address = node.get("stackops", {}).get("instance", {}).get("address")
    run.include("web::configure")
    app = node.get("deploy", {}).get("web")
    if app:
        deploy_to = app.get("deploy_to", "/srv/www/web")
        serve = f"{deploy_to}/current"
        # Restart on a new release of web; a run deploying another app leaves it serving.
        watched = [f"release[{deploy_to}]"] if app.get("release") else []
    else:
        site = run.directory("/srv/web/site", mode=0o755)
        page = run.file("/srv/web/site/index.html", source="index.html", requires=[site])
        run.link("/srv/web/current", to="/srv/web/site", requires=[site])
        serve, watched = "/srv/web/current", [page]
    run.service(
        "web",
        command=[
            "python3",
            "-m",
            "http.server",
            str(port),
            "--bind",
            web.get("address") or address or "127.0.0.1",
        ],
        cwd=serve,
        port=port,  # up only once it listens there (a stale process on the port fails it)
        subscribes=[*watched, "template[/etc/web/web.conf]"],
    )
