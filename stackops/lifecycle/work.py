"""The pieces of work events ask for, and the effects their handlers return.

A closed set of frozen dataclasses, matched by class (`match work: case StateWork():`),
never by a kind string. Each names the message it came from, so settling a batch
knows which message each outcome belongs to. Effects say what a handler did once it
decided again under the instance's lease: the dispatcher turns them into what
happens to each message (see `stackops.lifecycle.settle`).
"""

from __future__ import annotations

from dataclasses import dataclass

from stackops.lifecycle.events import LifecycleAction


# -- work ------------------------------------------------------------------------------
@dataclass(frozen=True)
class StateWork:
    """EC2 says an instance changed state: set it up, shut it down, heal it, or note it."""

    message_id: str
    event_id: str
    instance_id: str
    ec2_instance_id: str
    state: str


@dataclass(frozen=True)
class LaunchWork:
    """An Auto Scaling group waits for an instance it launched to be set up.

    `instance_id` is None for an instance not yet tagged: it is adopted into the layer
    whose `auto_scaling_group` the action names.
    """

    message_id: str
    event_id: str
    action: LifecycleAction
    instance_id: str | None


@dataclass(frozen=True)
class TerminateWork:
    """An Auto Scaling group waits for an instance it ends to be shut down."""

    message_id: str
    event_id: str
    action: LifecycleAction
    instance_id: str


@dataclass(frozen=True)
class StopWork:
    """stop-instance: shutdown recipes (unless forced), then EC2 stops it."""

    message_id: str
    event_id: str
    instance_id: str
    force: bool


@dataclass(frozen=True)
class StartWork:
    """Set an instance up if EC2 runs it and it is not online (a boot left unfinished)."""

    message_id: str
    event_id: str
    instance_id: str


@dataclass(frozen=True)
class ConfigureWork:
    """Run an instance's queued configure (see `stackops.lifecycle.coalesce`)."""

    message_id: str
    stack_id: str
    instance_id: str
    command_id: str


@dataclass(frozen=True)
class DeploymentWork:
    """Run (or resume) a stored deployment."""

    message_id: str
    event_id: str
    deployment_id: str


Work = (
    StateWork | LaunchWork | TerminateWork | StopWork | StartWork | ConfigureWork | DeploymentWork
)
InstanceWork = StateWork | LaunchWork | TerminateWork | StopWork | StartWork | ConfigureWork


def event_id_of(work: Work) -> str | None:
    """The event a piece of work claims; None for configure (its slot is its claim)."""
    match work:
        case ConfigureWork():
            return None
        case _:
            return work.event_id


def where(work: Work) -> str:
    """A short name of what the work is about, for logs."""
    match work:
        case DeploymentWork():
            return f"deployment {work.deployment_id}"
        case LaunchWork() if work.instance_id is None:
            return f"EC2 instance {work.action.ec2_instance_id}"
        case _:
            return f"instance {work.instance_id}"


# -- effects -------------------------------------------------------------------------------
@dataclass(frozen=True)
class Done:
    """The work is done and recorded; `changed` names a stack whose online members changed."""

    changed: str | None = None
    note: str = ""


@dataclass(frozen=True)
class Skipped:
    """Decided again under the lease: nothing to do (a repeat, or overtaken by events)."""

    reason: str


@dataclass(frozen=True)
class Gone:
    """What the work names does not exist (only "not found" means this)."""

    reason: str


@dataclass(frozen=True)
class Busy:
    """Another run holds the instance (or the deployment): try again a little later."""

    reason: str


@dataclass(frozen=True)
class Retry:
    """Not done, nothing recorded that did not happen: AWS was unavailable, or it failed."""

    reason: str


Effect = Done | Skipped | Gone | Busy | Retry
