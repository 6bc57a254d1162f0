"""The sandbox's moto server, with an SQS clock a test moves forward.

`python -m tests.reliability.movable_sandbox HOST PORT CLOCK_FILE` serves moto as
`stackops sandbox up` does, except that SQS reads the time as the real time plus
the seconds written in CLOCK_FILE: a kill -9 trial lets the visibility timeout of
the dead dispatcher's messages run out without waiting it out (300 s by default).
Only the test moves it forward, together with the clock of the dispatcher it
restarts (`Shift`), so leases, claims and messages expire together as they would.
"""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass, field
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


@dataclass
class Shift:
    """Time passing for SQS (the server's file) and for one dispatcher's clock at once."""

    clock_file: Path
    clock: Any  # tests.lifecycle.conftest.Clock
    sqs_total: float = field(default=0.0)

    def advance(self, seconds: float) -> None:
        self.clock.advance(seconds)
        self.sqs_total += seconds
        tmp = self.clock_file.with_suffix(".tmp")
        tmp.write_text(str(self.sqs_total))
        tmp.replace(self.clock_file)


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), Path(sys.argv[3]))
