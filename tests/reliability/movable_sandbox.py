"""The sandbox's moto server and stackops, on one clock a test moves forward.

`python -m tests.reliability.movable_sandbox HOST PORT CLOCK_FILE` serves moto as
`stackops sandbox up` does, except that SQS reads the time as the real time plus
the seconds written in CLOCK_FILE: a kill -9 trial lets the visibility timeout of
the dead dispatcher's messages run out without waiting it out (300 s by default).
`python -m tests.reliability.movable_sandbox stackops CLOCK_FILE ARGS...` runs
`stackops ARGS...` with stackops's clock (the records' times, leases and claims)
moved by the same seconds, and `moved_datetime` does the same in the test's own
process. Only the test moves the clock (`Shift`), and only forward, so every party
sees one time that never goes back: messages, claims and leases expire together,
and records are ordered as they were made.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, tzinfo
from pathlib import Path
from typing import Any


def _offset(path: Path) -> float:
    try:
        return float(path.read_text() or 0)
    except (OSError, ValueError):
        return 0.0


def _shifted(real: Callable[..., float], path: Path, scale: float) -> Callable[..., float]:
    def now(*args: Any) -> float:
        return real(*args) + _offset(path) * scale

    return now


def serve(host: str, port: int, clock_file: Path) -> None:
    """Serve moto with SQS's clock moved by the file's seconds (read at every call)."""
    import moto.sqs.models as sqs

    sqs.unix_time = _shifted(sqs.unix_time, clock_file, 1.0)  # type: ignore[assignment]
    sqs.unix_time_millis = _shifted(sqs.unix_time_millis, clock_file, 1000.0)  # type: ignore[assignment]
    from stackops.sandbox import _serve

    _serve(host, port, None)


def moved_datetime(path: Path) -> type[datetime]:
    """A `datetime` whose `now()` is the real time plus the file's seconds."""

    class Moved(datetime):
        @classmethod
        def now(cls, tz: tzinfo | None = None) -> datetime:  # type: ignore[override]
            return datetime.now(tz) + timedelta(seconds=_offset(path))

    return Moved


def run_stackops(clock_file: Path, args: list[str]) -> None:
    """`stackops ARGS...` with stackops's clock (Services' default) moved by the file."""
    import stackops.services
    from stackops.cli.main import main

    stackops.services.datetime = moved_datetime(clock_file)  # type: ignore[misc]
    main(args)


@dataclass
class Shift:
    """Time passing for every party of a trial at once: SQS and stackops (the file)."""

    clock_file: Path
    total: float = field(default=0.0)

    def advance(self, seconds: float) -> None:
        self.total += seconds
        tmp = self.clock_file.with_suffix(".tmp")
        tmp.write_text(str(self.total))
        tmp.replace(self.clock_file)


if __name__ == "__main__":
    if sys.argv[1] == "stackops":
        run_stackops(Path(sys.argv[2]), sys.argv[3:])
    else:
        serve(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]))
