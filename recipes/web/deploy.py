"""web::deploy — a static site served by a supervised `python3 -m http.server`.

The server restarts when its page or the configuration written by web::configure
changes; `stackops solo ... stackops::shutdown` stops it.
"""

from stackops.converge.declare import Run


def recipe(run: Run) -> None:
    web = run.node["web"]
    run.include("web::configure")
    site = run.directory("/srv/web/site", mode=0o755)
    page = run.file("/srv/web/site/index.html", source="index.html", requires=[site])
    run.link("/srv/web/current", to="/srv/web/site", requires=[site])
    run.execute(
        ["/bin/sh", "-c", "date -u > .deployed-at"],
        name="record the first deploy",
        cwd="/srv/web",
        creates="/srv/web/.deployed-at",
        requires=[site],
    )
    run.service(
        "web",
        command=[
            "python3",
            "-m",
            "http.server",
            str(web["port"]),
            "--bind",
            web.get("address", "127.0.0.1"),
        ],
        cwd="/srv/web/current",
        subscribes=[page, "template[/etc/web/web.conf]"],
    )
