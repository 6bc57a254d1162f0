"""db::setup — the database's data folder."""

from stackops.converge.declare import Run


def recipe(run: Run) -> None:
    run.directory("/var/lib/db", mode=0o700)
    run.file("/var/lib/db/README", content="data of the demo database lives here\n", mode=0o644)
