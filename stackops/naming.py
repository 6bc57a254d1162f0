"""Every AWS resource name derives from the namespace, so installations can share an account."""

from __future__ import annotations

import re
from dataclasses import dataclass

from stackops.errors import InvalidInput

_NAMESPACE = re.compile(r"^[a-z][a-z0-9-]{0,29}$")


@dataclass(frozen=True)
class ResourceNames:
    """The names of one installation's AWS resources."""

    namespace: str

    def __post_init__(self) -> None:
        if not _NAMESPACE.match(self.namespace):
            raise InvalidInput(
                f"--namespace {self.namespace!r} is not valid: use 1-30 characters of "
                "lower-case letters, digits and '-', starting with a letter"
            )

    @property
    def table(self) -> str:
        return f"{self.namespace}-state"

    @property
    def queue(self) -> str:
        return f"{self.namespace}-lifecycle"

    @property
    def dead_letter_queue(self) -> str:
        return f"{self.namespace}-lifecycle-dlq"

    @property
    def rule(self) -> str:
        return f"{self.namespace}-instance-events"

    def bucket(self, account: str, region: str) -> str:
        return f"{self.namespace}-artifacts-{account}-{region}"

    def secret_prefix(self) -> str:
        """Parameter Store path under which protected values are kept."""
        return f"/{self.namespace}/secrets"
