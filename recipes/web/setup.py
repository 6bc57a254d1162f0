"""web::setup — folders the web role needs, created once when an instance boots."""

from stackops.converge.declare import Run


def recipe(run: Run) -> None:
    run.directory("/etc/web", mode=0o755)
    run.directory("/var/log/web", mode=0o755)
