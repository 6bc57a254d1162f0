"""The instance status machine: what an EC2 state change means for a stackops instance.

Pure: given the recorded status and what EC2 reports, decide the status to
record now and the activity to run. Whether stackops itself asked for a stop
is the instance's `stop_requested` flag (set by stop-instance before EC2 hears
of it, cleared by start-instance), so a stop from outside is told apart and
can be healed whatever statuses it went through.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from stackops.model.enums import InstanceStatus as S

Run = Literal["boot", "shutdown"]

# Statuses from which a running EC2 instance means "set it up now". booting and
# running_setup are here because the dispatcher decides again under the instance's
# lease: finding one of them then means the dispatcher that began the setup died.
BOOTABLE = frozenset(
    {
        S.requested,
        S.pending,
        S.booting,
        S.running_setup,
        S.stopped,
        S.start_failed,
        S.stop_failed,
        S.terminated,
        S.connection_lost,
    }
)
# Statuses stackops sets itself on the way down.
GOING_DOWN = frozenset({S.stopping, S.shutting_down, S.terminating})
DOWN = frozenset({S.stopped, S.terminated})


@dataclass(frozen=True)
class Decision:
    """The status to record (None: leave it), the activity to run, and whether to heal."""

    status: S | None = None
    run: Run | None = None
    heal: bool = False
    reason: str = ""

    @property
    def is_noop(self) -> bool:
        return self.status is None and self.run is None and not self.heal


def on_ec2_state(
    status: S, ec2_state: str, *, auto_healing: bool, stop_requested: bool = False
) -> Decision:
    """Decide what EC2 state `ec2_state` means for an instance recorded as `status`.

    `stop_requested` says stackops asked for the stop (stop-instance, stop-stack, an
    Auto Scaling terminate action); any other stop is from outside: its shutdown
    recipes run on the first of `stopping`/`stopped` that arrives (events may come in
    any order), and auto-healing starts the instance again.
    """
    match ec2_state:
        case "pending":
            if status in (S.requested, S.stopped, S.start_failed):
                return Decision(S.pending, reason="EC2 is starting it")
        case "running":
            if status is S.rebooting:
                return Decision(S.online, reason="back from a reboot")
            if status in BOOTABLE:
                return Decision(S.booting, "boot", reason="EC2 runs it: setup, then deploy")
        case "stopping" | "shutting-down":
            if not stop_requested and status not in GOING_DOWN | DOWN:
                going = S.stopping if ec2_state == "stopping" else S.shutting_down
                return Decision(going, "shutdown", reason="stopped outside stackops")
        case "stopped" | "terminated":
            final = S.stopped if ec2_state == "stopped" else S.terminated
            if status is final:
                return Decision(reason=f"already {final}")
            outside = not stop_requested
            heal = outside and auto_healing
            # Its shutdown runs once whichever of stopping/stopped is delivered first.
            run: Run | None = "shutdown" if outside and status not in GOING_DOWN | DOWN else None
            why = "stopped outside stackops" if outside else "as asked"
            why += ", shutdown recipes" if run else ""
            return Decision(final, run, heal, why + (", auto-healing" if heal else ""))
    return Decision(reason=f"nothing to do: {status} and EC2 {ec2_state}")


# Where an EC2 state puts an instance: up, down (stopped, may start again) or gone.
PHASE = {
    "pending": "up",
    "running": "up",
    "stopping": "down",
    "stopped": "down",
    "shutting-down": "gone",
    "terminated": "gone",
}


def is_stale(reported: str, now: str) -> bool:
    """Whether an EC2 state reported by an event is overtaken by the state EC2 has now.

    An event that says "running" about an instance stopped since, or "stopped" about
    one running again (auto-healing started it), is history: acting on it would set
    up a stopped instance or heal a running one twice. Delivered in any order, only
    the events that agree with EC2 now are acted on.
    """
    then, current = PHASE.get(reported, "gone"), PHASE.get(now, "gone")
    match then:
        case "up":
            return current != "up"
        case "down":
            return current == "up"
        case _:
            return current != "gone"


def is_member(status: S) -> bool:
    """Whether an instance counts in its layers' membership (OpsWorks: online only)."""
    return status is S.online
