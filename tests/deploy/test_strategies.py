"""Deployment strategies with plain data: batching, success rules, tolerance, the registry."""

from __future__ import annotations

import pytest

from stackops.errors import InvalidInput
from stackops.model.strategies import (
    ON_FAILURE_CHOICES,
    STRATEGIES,
    Strategy,
    failure_tolerance,
    get_strategy,
    parse_batch_size,
    parse_max_failures,
    strategy,
)


def ids(n: int) -> list[str]:
    return [f"i-{k}" for k in range(1, n + 1)]


def sizes(batches: list[list[str]]) -> list[int]:
    return [len(batch) for batch in batches]


# -- the registry, walked ------------------------------------------------------


def test_the_four_strategies_of_the_design_are_registered() -> None:
    assert set(STRATEGIES) == {"all_at_once", "rolling", "pilot", "half"}


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_every_strategy_is_well_formed(name: str) -> None:
    entry = STRATEGIES[name]
    assert isinstance(entry, Strategy)
    assert entry.name == name
    assert get_strategy(name) is entry
    assert entry.default_on_failure in ON_FAILURE_CHOICES
    # It says in words how it batches and when it succeeds.
    assert entry.description.strip() and type(entry).__doc__
    assert "Succeeds" in entry.description or "Fails" in entry.description
    assert entry.batches([], None) == []


@pytest.mark.parametrize("name", sorted(STRATEGIES))
@pytest.mark.parametrize("count", [1, 2, 3, 10, 20])
def test_every_strategy_deploys_every_instance_once_in_order(name: str, count: int) -> None:
    entry = STRATEGIES[name]
    batch_size = "2" if entry.uses_batch_size else None
    batches = entry.batches(ids(count), batch_size)
    assert all(batches), "no empty batch"
    assert [i for batch in batches for i in batch] == ids(count)
    # No failure is always a success; all failing never is.
    assert entry.succeeded(count, 0, 0)
    assert not entry.succeeded(count, count, 0)
    assert not entry.should_stop(count, 0, 0)


def test_unknown_strategy_lists_the_valid_ones() -> None:
    with pytest.raises(InvalidInput) as err:
        get_strategy("blue_green")
    assert "'blue_green'" in err.value.message
    for name in STRATEGIES:
        assert name in err.value.message


def test_a_name_registers_once() -> None:
    with pytest.raises(ValueError, match="twice"):
        strategy("rolling", default_on_failure="stop", description="again")(Strategy)
    assert type(STRATEGIES["rolling"]).__name__ == "Rolling"


def test_default_failure_policies() -> None:
    defaults = {name: entry.default_on_failure for name, entry in STRATEGIES.items()}
    assert defaults == {
        "all_at_once": "rollback_all",
        "rolling": "stop",
        "pilot": "rollback_all",
        "half": "rollback_all",
    }


def test_only_half_pauses_and_only_rolling_takes_a_batch_size() -> None:
    assert [n for n, s in STRATEGIES.items() if s.pause_after_first] == ["half"]
    assert [n for n, s in STRATEGIES.items() if s.uses_batch_size] == ["rolling"]


# -- batching --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "count", "batch_size", "expected"),
    [
        ("all_at_once", 1, None, [1]),
        ("all_at_once", 20, None, [20]),
        ("rolling", 20, "30%", [6, 6, 6, 2]),
        ("rolling", 20, None, [1] * 20),
        ("rolling", 5, "2", [2, 2, 1]),
        ("rolling", 5, "5", [5]),
        ("rolling", 3, "10", [3]),
        ("rolling", 3, "10%", [1, 1, 1]),  # 10% of 3 rounds down to 0: at least 1
        ("rolling", 10, "100%", [10]),
        ("rolling", 10, "25%", [2, 2, 2, 2, 2]),
        ("rolling", 1, "50%", [1]),
        ("pilot", 1, None, [1]),
        ("pilot", 2, None, [1, 1]),
        ("pilot", 10, None, [1, 9]),
        ("half", 1, None, [1]),
        ("half", 2, None, [1, 1]),
        ("half", 3, None, [2, 1]),
        ("half", 10, None, [5, 5]),
        ("half", 7, None, [4, 3]),
    ],
)
def test_batch_sizes(name: str, count: int, batch_size: str | None, expected: list[int]) -> None:
    assert sizes(get_strategy(name).batches(ids(count), batch_size)) == expected


def test_batches_keep_the_given_order() -> None:
    assert get_strategy("pilot").batches(["c", "a", "b"], None) == [["c"], ["a", "b"]]
    assert get_strategy("half").batches(("c", "a", "b"), None) == [["c", "a"], ["b"]]
    assert get_strategy("rolling").batches(["c", "a", "b"], "2") == [["c", "a"], ["b"]]


@pytest.mark.parametrize("name", sorted(STRATEGIES))
def test_no_instances_no_batches(name: str) -> None:
    assert get_strategy(name).batches([], "2" if name == "rolling" else None) == []


def test_rolling_refuses_a_bad_batch_size() -> None:
    with pytest.raises(InvalidInput, match="--batch-size"):
        get_strategy("rolling").batches(ids(3), "0")


# -- parsing --batch-size and --max-failures --------------------------------------


@pytest.mark.parametrize(
    ("text", "value", "percent"),
    [("1", 1, False), ("25", 25, False), ("05", 5, False), ("1%", 1, True), ("100%", 100, True)],
)
def test_batch_size_parses(text: str, value: int, percent: bool) -> None:
    amount = parse_batch_size(text)
    assert (amount.value, amount.percent) == (value, percent)
    assert str(amount) == (f"{value}%" if percent else str(value))


@pytest.mark.parametrize("text", ["0", "0%", "101%", "-1", "1.5", "10 %", "", "%", "a", "½", "٣"])
def test_batch_size_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_batch_size(text)
    assert err.value.message.startswith(f"--batch-size {text!r} is not valid")
    assert "'30%'" in err.value.message


@pytest.mark.parametrize("text", ["0", "3", "0%", "10%", "100%"])
def test_max_failures_parses(text: str) -> None:
    assert str(parse_max_failures(text)) == text


@pytest.mark.parametrize("text", ["-1", "101%", "1.5%", "ten", ""])
def test_max_failures_refused(text: str) -> None:
    with pytest.raises(InvalidInput) as err:
        parse_max_failures(text)
    assert err.value.message.startswith(f"--max-failures {text!r} is not valid")
    assert "0%" in err.value.message and "100%" in err.value.message


@pytest.mark.parametrize(
    ("max_failures", "total", "tolerance"),
    [
        ("0", 20, 0),
        ("2", 20, 2),
        ("30", 20, 30),  # a count may exceed the instances: nothing fails the deployment
        ("10%", 20, 2),
        ("10%", 5, 0),
        ("10%", 19, 1),
        ("50%", 3, 1),
        ("100%", 7, 7),
        ("0%", 7, 0),
        ("10%", 0, 0),
    ],
)
def test_failure_tolerance(max_failures: str, total: int, tolerance: int) -> None:
    assert failure_tolerance(max_failures, total) == tolerance


def test_failure_tolerance_refuses_bad_input() -> None:
    with pytest.raises(InvalidInput, match="--max-failures"):
        failure_tolerance("two", 5)


# -- success rules ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "total", "failed", "tolerance", "ok"),
    [
        ("all_at_once", 5, 0, 0, True),
        ("all_at_once", 5, 1, 0, False),
        ("all_at_once", 5, 2, 2, True),
        ("all_at_once", 5, 3, 2, False),
        ("rolling", 20, 2, 2, True),
        ("rolling", 20, 3, 2, False),
        ("pilot", 10, 1, 0, False),
        ("pilot", 10, 1, 1, True),
        ("pilot", 1, 1, 1, True),
        # half: at least half must succeed, whatever the tolerance.
        ("half", 4, 2, 0, True),
        ("half", 4, 3, 10, False),
        ("half", 5, 2, 0, True),
        ("half", 5, 3, 5, False),
        ("half", 1, 1, 1, False),
        ("half", 1, 0, 0, True),
        ("half", 2, 1, 0, True),
        ("half", 3, 2, 3, False),
        ("half", 0, 0, 0, True),
    ],
)
def test_success_rules(name: str, total: int, failed: int, tolerance: int, ok: bool) -> None:
    assert get_strategy(name).succeeded(total, failed, tolerance) is ok


@pytest.mark.parametrize(
    ("name", "total", "failed_so_far", "tolerance", "stop"),
    [
        ("rolling", 20, 0, 0, False),
        ("rolling", 20, 1, 0, True),
        ("rolling", 20, 2, 2, False),
        ("rolling", 20, 3, 2, True),
        ("pilot", 10, 1, 0, True),
        ("all_at_once", 10, 1, 1, False),
        ("half", 10, 5, 0, False),  # the other five may still all succeed
        ("half", 10, 6, 0, True),  # at most four can succeed now
        ("half", 3, 1, 0, False),
        ("half", 3, 2, 9, True),
    ],
)
def test_should_stop(name: str, total: int, failed_so_far: int, tolerance: int, stop: bool) -> None:
    assert get_strategy(name).should_stop(total, failed_so_far, tolerance) is stop


@pytest.mark.parametrize(("total", "failed", "tolerance"), [(3, 4, 0), (3, -1, 0), (3, 0, -1)])
def test_counts_out_of_range_are_a_bug(total: int, failed: int, tolerance: int) -> None:
    with pytest.raises(ValueError, match="out of range"):
        get_strategy("all_at_once").succeeded(total, failed, tolerance)
