"""Graph ordering and plans, with plain data."""

from __future__ import annotations

from pathlib import Path

import pytest

from stackops.converge.graph import CycleError, descendants, order, successors_of
from stackops.converge.plan import build_plan
from stackops.converge.resource import Origin
from stackops.converge.resources.files import Directory, File
from stackops.converge.resources.service import Service

ORIGIN = Origin("t::t", "t.py", 1, Path("."))


def labels(n: int) -> list[str]:
    return [f"r{i}" for i in range(n)]


def test_no_edges_keeps_declaration_order() -> None:
    assert order(labels(4), []) == [0, 1, 2, 3]


def test_edges_move_only_what_they_must() -> None:
    # r0 requires r3: r3 first, everything else keeps its place.
    assert order(labels(4), [(3, 0)]) == [1, 2, 3, 0]
    assert order(labels(5), [(4, 1), (2, 0)]) == [2, 0, 3, 4, 1]


def test_cycle_is_refused_naming_its_members_in_order() -> None:
    with pytest.raises(CycleError) as info:
        order(labels(5), [(1, 2), (2, 3), (3, 1), (0, 4)])
    assert info.value.members == ["r1", "r2", "r3"]
    assert "r1 -> r2 -> r3 -> r1" in str(info.value)
    assert info.value.exit_code == 2


def test_cycle_with_nodes_downstream_still_names_the_loop() -> None:
    # r2 and r3 wait behind the loop r0 <-> r1 without being on it.
    with pytest.raises(CycleError) as info:
        order(labels(4), [(0, 1), (1, 0), (1, 2), (2, 3)])
    assert info.value.members == ["r0", "r1"]


def test_self_dependency_is_a_cycle() -> None:
    with pytest.raises(CycleError) as info:
        order(labels(2), [(1, 1)])
    assert info.value.members == ["r1"]


def test_descendants() -> None:
    succ = successors_of(5, [(0, 1), (1, 2), (3, 4)])
    assert descendants(succ, 0) == {1, 2}
    assert descendants(succ, 2) == set()


def test_plan_orders_notifies_and_subscribes_and_indexes_notifications() -> None:
    conf = File(name="/etc/web.conf", origin=ORIGIN, content="x")
    svc = Service(name="web", origin=ORIGIN, command=["true"])
    folder = Directory(name="/etc", origin=ORIGIN)
    # declared: service, file, folder; the file requires the folder; the service subscribes.
    svc.subscribes = (conf.immediately,)
    conf.requires = (folder,)
    plan = build_plan(["t::t"], [svc, conf, folder])
    assert [plan.resources[i].id for i in plan.order] == [
        "directory[/etc]",
        "file[/etc/web.conf]",
        "service[web]",
    ]
    (note,) = plan.notifications[1]
    assert (note.source, note.target, note.timing) == (1, 0, "immediate")
    assert plan.targets == frozenset({0})
    assert plan.dependents(2) == {0, 1}


def test_plan_resolves_string_references_and_refuses_unknown_ones() -> None:
    folder = Directory(name="/etc", origin=ORIGIN)
    conf = File(name="/etc/a", origin=ORIGIN, requires=["directory[/etc]"])
    plan = build_plan([], [conf, folder])
    assert plan.order == (1, 0)
    bad = File(name="/etc/b", origin=ORIGIN, requires=["directory[/ect]"])
    with pytest.raises(Exception, match=r"directory\[/ect\].*Did you mean: directory\[/etc\]"):
        build_plan([], [folder, bad])


def test_a_resource_declared_twice_must_agree_with_itself() -> None:
    same = [Directory(name="/srv", origin=ORIGIN), Directory(name="/srv", origin=ORIGIN)]
    assert build_plan([], same).order == (0, 1)
    clash = [
        File(name="/f", origin=ORIGIN, content="a"),
        File(name="/f", origin=ORIGIN, content="b"),
    ]
    with pytest.raises(Exception, match=r"file\[/f\] is declared again with other settings"):
        build_plan([], clash)
