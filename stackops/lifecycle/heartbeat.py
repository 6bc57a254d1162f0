"""While a batch's work runs: messages kept invisible, event claims and leases kept alive.

Everything is renewed for the visibility timeout actually in use, every third of it,
so a dispatcher that dies lets go of all three at about the same moment: its
messages come back, its claims and leases have run out, and the next dispatcher
takes the work over.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING

from stackops.store.leases import LeaseKeeper

if TYPE_CHECKING:
    from stackops.aws.sqs import Queue
    from stackops.store.leases import EventClaims, Leases

log = logging.getLogger("stackops.dispatch")


class Heartbeat:
    """Renews a batch's messages, claims and (through its keeper) leases until stopped."""

    def __init__(
        self,
        *,
        queue: Queue,
        claims: EventClaims,
        leases: Leases,
        owner: str,
        seconds: int,
        receipt_handles: Iterable[str],
        event_ids: Iterable[str],
    ) -> None:
        self._queue = queue
        self._claims = claims
        self._owner = owner
        self._seconds = seconds
        self._handles = list(dict.fromkeys(receipt_handles))
        self._event_ids = list(dict.fromkeys(event_ids))
        self.keeper = LeaseKeeper(leases, seconds)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self.beats = 0

    def __enter__(self) -> Heartbeat:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def beat(self) -> None:
        """Renew everything once (the thread does this every third of the timeout)."""
        self.beats += 1
        for handle in self._handles:
            try:
                self._queue.change_visibility(handle, self._seconds)
            except Exception:  # the message may be gone already
                log.debug("could not extend a message's visibility", exc_info=True)
        self.keeper.renew()
        for event_id in self._event_ids:
            try:
                self._claims.claim(event_id, self._owner, self._seconds)
            except Exception:
                log.debug("could not renew the claim of %s", event_id, exc_info=True)

    def _run(self) -> None:
        interval = max(self._seconds / 3, 0.2)
        while not self._stop.wait(interval):
            self.beat()
