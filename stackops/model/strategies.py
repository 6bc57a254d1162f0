"""Deployment strategies (DESIGN §8): how a deployment splits its instances into batches
and when its outcome counts as a success.

Pure: plain data in, plain data out. Each strategy is registered by name in
`STRATEGIES`; `get_strategy` refuses unknown names with the list of valid ones.
It lives in the model (it imports only `stackops.errors`): the deployment spec
validates names against it, and `stackops.deploy` runs what it describes.

    strategy = get_strategy("rolling")
    strategy.batches(["i-1", "i-2", "i-3"], "2")       # [["i-1", "i-2"], ["i-3"]]
    tolerance = failure_tolerance("10%", 20)           # 2
    strategy.succeeded(total=20, failed=1, tolerance=tolerance)  # True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

from stackops.errors import InvalidInput

OnFailure = Literal["rollback_all", "rollback_failed", "stop"]
ON_FAILURE_CHOICES: tuple[OnFailure, ...] = ("rollback_all", "rollback_failed", "stop")

_AMOUNT = re.compile(r"([0-9]+)(%?)")


@dataclass(frozen=True)
class Amount:
    """A parsed `--batch-size` or `--max-failures`: a count, or a whole percentage."""

    value: int
    percent: bool

    def of(self, total: int) -> int:
        """The count itself, or the percentage of `total` rounded down."""
        return total * self.value // 100 if self.percent else self.value

    def __str__(self) -> str:
        return f"{self.value}%" if self.percent else str(self.value)


def parse_batch_size(text: str) -> Amount:
    """`--batch-size`: a count "N" (N >= 1) or a percentage "N%" (1..100)."""
    amount = _parse_amount(text)
    if amount is None or amount.value < 1 or (amount.percent and amount.value > 100):
        raise InvalidInput(
            f"--batch-size {text!r} is not valid; give a number of instances of at least 1 "
            "(like '2') or a percentage from 1% to 100% (like '30%')"
        )
    return amount


def parse_max_failures(text: str) -> Amount:
    """`--max-failures`: a count "N" (N >= 0) or a percentage "N%" (0..100)."""
    amount = _parse_amount(text)
    if amount is None or (amount.percent and amount.value > 100):
        raise InvalidInput(
            f"--max-failures {text!r} is not valid; give a number of instances of 0 or more "
            "(like '2') or a percentage from 0% to 100% (like '10%')"
        )
    return amount


def _parse_amount(text: str) -> Amount | None:
    match = _AMOUNT.fullmatch(text) if isinstance(text, str) else None
    if match is None:
        return None
    return Amount(int(match.group(1)), bool(match.group(2)))


def failure_tolerance(max_failures: str, total: int) -> int:
    """How many of `total` instances may fail: the count, or the percentage rounded down
    (10% of 20 is 2; 10% of 5 is 0)."""
    return parse_max_failures(max_failures).of(total)


@dataclass(frozen=True)
class Strategy:
    """How a deployment goes through its instances.

    `batches` splits the instances (in the order given) into the batches deployed
    one after another; `succeeded` judges the finished deployment; `should_stop`
    tells the orchestrator, after a batch, that going on cannot end in success.
    `pause_after_first` means the deployment's `pause` flag holds it after the
    first batch until someone continues or aborts it; `uses_batch_size` means
    `--batch-size` applies.
    """

    name: str
    default_on_failure: OnFailure
    description: str
    pause_after_first: bool = False
    uses_batch_size: bool = False

    def batches(self, instance_ids: Sequence[str], batch_size: str | None) -> list[list[str]]:
        """Everything in one batch (no batch for no instances)."""
        return [list(instance_ids)] if instance_ids else []

    def succeeded(self, total: int, failed: int, tolerance: int) -> bool:
        """True when at most `tolerance` of the `total` instances failed."""
        _check_counts(total, failed, tolerance)
        return failed <= tolerance

    def should_stop(self, total: int, failed_so_far: int, tolerance: int) -> bool:
        """True once the failures so far make success impossible."""
        _check_counts(total, failed_so_far, tolerance)
        return not self.succeeded(total, failed_so_far, tolerance)


def _check_counts(total: int, failed: int, tolerance: int) -> None:
    if not 0 <= failed <= total or tolerance < 0:
        raise ValueError(
            f"counts out of range: total={total}, failed={failed}, tolerance={tolerance}"
        )


STRATEGIES: dict[str, Strategy] = {}
"""Every deployment strategy by name."""

S = TypeVar("S", bound=type[Strategy])


def strategy(
    name: str, *, default_on_failure: OnFailure, description: str, **options: bool
) -> Callable[[S], S]:
    """Register one instance of the decorated `Strategy` subclass under `name`."""

    def register(cls: S) -> S:
        if name in STRATEGIES:
            raise ValueError(f"deployment strategy {name!r} is registered twice")
        STRATEGIES[name] = cls(name, default_on_failure, description, **options)
        return cls

    return register


def get_strategy(name: str) -> Strategy:
    """The strategy called `name`; InvalidInput listing the valid names otherwise."""
    found = STRATEGIES.get(name)
    if found is None:
        raise InvalidInput(
            f"unknown deployment strategy {name!r}; valid strategies: {', '.join(STRATEGIES)}"
        )
    return found


@strategy(
    "all_at_once",
    default_on_failure="rollback_all",
    description="Every instance in one batch (a cutover). Succeeds when at most "
    "--max-failures instances failed.",
)
class AllAtOnce(Strategy):
    """One batch with every instance; success: failures <= tolerance."""


@strategy(
    "rolling",
    default_on_failure="stop",
    description="Batches of --batch-size instances (a count, or a percentage of all, at "
    "least 1; default 1), one after another. Succeeds when at most --max-failures "
    "instances failed.",
    uses_batch_size=True,
)
class Rolling(Strategy):
    """Batches as Ansible's `serial` makes them; success: failures <= tolerance."""

    def batches(self, instance_ids: Sequence[str], batch_size: str | None) -> list[list[str]]:
        """Batches of N, or of max(1, P% of all rounded down): 20 at 30% -> 6, 6, 6, 2."""
        ids = list(instance_ids)
        amount = parse_batch_size(batch_size) if batch_size is not None else Amount(1, False)
        size = max(1, amount.of(len(ids)))
        return [ids[start : start + size] for start in range(0, len(ids), size)]


def first_then_rest(instance_ids: Sequence[str], first: int) -> list[list[str]]:
    """Two batches, the first `first` instances then the rest, leaving out an empty one."""
    ids = list(instance_ids)
    return [batch for batch in (ids[:first], ids[first:]) if batch]


@strategy(
    "pilot",
    default_on_failure="rollback_all",
    description="The first instance alone (health-checked), then all the rest in one batch. "
    "Succeeds when at most --max-failures instances failed.",
)
class Pilot(Strategy):
    """The first instance, then the rest; success: failures <= tolerance."""

    def batches(self, instance_ids: Sequence[str], batch_size: str | None) -> list[list[str]]:
        """[first], then [the rest] (no second batch for one instance)."""
        return first_then_rest(instance_ids, 1)


@strategy(
    "half",
    default_on_failure="rollback_all",
    description="Half the instances (rounded up), health-checked, optionally paused "
    "(--pause) for people to try it, then the rest. Fails when fewer than half of all "
    "instances succeeded, whatever --max-failures says (CodeDeploy's half at a time).",
    pause_after_first=True,
)
class Half(Strategy):
    """ceil(T/2) instances, then the rest; success: at least half of all succeeded."""

    def batches(self, instance_ids: Sequence[str], batch_size: str | None) -> list[list[str]]:
        """[the first ceil(T/2)], then [the rest]."""
        return first_then_rest(instance_ids, (len(instance_ids) + 1) // 2)

    def succeeded(self, total: int, failed: int, tolerance: int) -> bool:
        """True when at least half of `total` succeeded; `tolerance` plays no part."""
        _check_counts(total, failed, tolerance)
        return (total - failed) * 2 >= total
