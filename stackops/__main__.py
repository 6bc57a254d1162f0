"""`python -m stackops` runs the CLI."""

from stackops.cli.main import main

main()
