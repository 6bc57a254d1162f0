"""Who makes each AWS call: the four roles of DESIGN §11 and the `calls` declaration.

Every adapter method (or function) that calls AWS says which IAM actions its
calls need and which roles make them:

    @calls("sqs:ReceiveMessage", roles=(DISPATCHER,))
    def receive(self, ...): ...

`stackops.aws.iam_policy` builds one policy per role from these declarations,
and a test records every call the scenarios make, with the role of the code
path, and holds code and policies to each other (tests/aws/test_iam_coverage.py).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, TypeVar

BOOTSTRAP = "bootstrap"  # creates the AWS side (DESIGN §3): an administrator, once
OPERATOR = "operator"  # the OpsWorks verbs, apply, logs, describe-*
DISPATCHER = "dispatcher"  # the dispatcher, the deployment runner, the scaler, watch
INSTANCE = "instance"  # `stackops agent` on an instance: payloads, reports, secrets, sources
ROLES = (BOOTSTRAP, OPERATOR, DISPATCHER, INSTANCE)

ATTRIBUTE = "__stackops_calls__"
_ACTION = re.compile(r"^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$")

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class Calls:
    """What one adapter method calls: IAM actions, and the roles that make them.

    `implied` actions are checked by AWS during another call without an API call of
    their own (iam:PassRole while RunInstances hands an instance profile over).
    """

    actions: tuple[str, ...]
    roles: tuple[str, ...]
    implied: tuple[str, ...] = ()

    @property
    def granted(self) -> tuple[str, ...]:
        """Every action a policy must hold for this method: its calls' and the implied."""
        return self.actions + self.implied


def calls(*actions: str, roles: Iterable[str], implied: Iterable[str] = ()) -> Callable[[F], F]:
    """Declare the IAM actions a method's AWS calls need and the roles that make them."""
    declared = Calls(tuple(actions), tuple(roles), tuple(implied))
    for action in declared.granted:
        if not _ACTION.match(action):
            raise ValueError(f"{action!r} is not an IAM action (service:Action)")
    unknown = [r for r in declared.roles if r not in ROLES]
    if unknown or not declared.roles:
        raise ValueError(f"roles {unknown or '()'} are not valid; roles: {', '.join(ROLES)}")
    if not declared.actions:
        raise ValueError("declare at least one action")

    def mark(function: F) -> F:
        setattr(function, ATTRIBUTE, declared)
        return function

    return mark


def declared_calls(function: Any) -> Calls | None:
    """The `calls` declaration of a function, if it has one."""
    found = getattr(function, ATTRIBUTE, None)
    return found if isinstance(found, Calls) else None
