"""lb::setup — the load balancer's folders."""

from stackops.converge.declare import Run


def recipe(run: Run) -> None:
    run.directory("/etc/lb", mode=0o755)
