"""Walk the executor registry; the request, payload and secret helpers with plain data."""

from __future__ import annotations

import inspect
import json
import re

import pytest

from stackops.aws.iam_policy import declared_actions
from stackops.errors import InvalidInput
from stackops.executors import (
    EXECUTORS,
    MASK,
    LocalExecutor,
    RunRequest,
    SsmExecutor,
    get_executor,
    redact,
    redact_data,
    resolve_secret_refs,
)
from stackops.executors.payload import parse_payload, payload_bytes
from stackops.secrets import secret_refs

ACTION = re.compile(r"^[a-z0-9-]+:[A-Z][A-Za-z0-9]+$")


def test_the_registry_holds_the_executors_of_the_design() -> None:
    assert EXECUTORS.names() == ["local", "ssm"]
    assert get_executor("local") is LocalExecutor and get_executor("ssm") is SsmExecutor


@pytest.mark.parametrize("entry", list(EXECUTORS), ids=lambda e: e.name)
def test_every_executor_is_complete(entry) -> None:
    cls = entry.factory
    assert cls.name == entry.name
    assert entry.summary, "an executor says what it is in its docstring"
    run = inspect.signature(cls.run)
    assert list(run.parameters) == ["self", "request"]
    assert run.return_annotation in ("RunResult", "RunResult")
    policy = set(declared_actions())
    for action in entry.actions:
        assert ACTION.match(action), action
        assert action in policy, f"{entry.name}: {action} is declared by no adapter"


def test_an_unknown_executor_lists_the_valid_ones() -> None:
    with pytest.raises(
        InvalidInput, match=r"no executor 'sssm'\. Did you mean: ssm\? Valid: local, ssm"
    ):
        get_executor("sssm")


def test_a_payload_round_trips_and_may_carry_a_resolved_node() -> None:
    request = RunRequest("c-1", "i-1", ("a::b",), {"k": {"ssm": "/p"}}, ("cb",), 5.0, "/r", True)
    assert parse_payload(payload_bytes(request), "x") == request
    resolved = json.loads(payload_bytes(request, {"k": "v"}))
    assert resolved["node"] == {"k": "v"}


def test_secret_refs_resolve_and_values_are_masked_everywhere() -> None:
    node = {"a": [{"ssm": "/x"}, {"ssm": "/y", "other": 1}], "b": {"c": {"ssm": "/x"}}}
    assert secret_refs(node) == {"a[0]": "/x", "b.c": "/x"}
    asked: list[list[str]] = []

    def lookup(names: list[str]) -> dict[str, str]:
        asked.append(names)
        return {"/x": 'line one is long\nquote"d'}

    resolved, secrets = resolve_secret_refs(node, lookup)
    assert asked == [["/x"]]
    assert resolved["a"][0] == resolved["b"]["c"] == 'line one is long\nquote"d'
    assert resolved["a"][1] == {"ssm": "/y", "other": 1}  # not a ref: two keys
    assert secrets == ('line one is long\nquote"d',)
    text = 'x line one is long\nquote"d y / "line one is long\\nquote\\"d" / +line one is long'
    assert redact(text, secrets) == f'x {MASK} y / "{MASK}" / +{MASK}'
    data = {"diff": ["+line one is long"], MASK: 1, "n": 3}
    assert redact_data(data, secrets) == {"diff": [f"+{MASK}"], MASK: 1, "n": 3}
    assert redact("abc", ("",)) == "abc"
