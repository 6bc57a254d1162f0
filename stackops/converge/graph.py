"""Ordering resources: a dependency graph, declaration order as the tie-break, no cycles."""

from __future__ import annotations

import heapq
from collections.abc import Iterable, Sequence

from stackops.errors import InvalidInput


class CycleError(InvalidInput):
    """The dependencies loop; `members` are the resources on the loop, in order."""

    def __init__(self, members: list[str]) -> None:
        self.members = members
        loop = " -> ".join([*members, members[0]])
        super().__init__(
            f"dependency cycle: {loop}",
            hint="remove one of these requires=/notifies=/subscribes= links",
        )


def successors_of(count: int, edges: Iterable[tuple[int, int]]) -> list[list[int]]:
    """Adjacency lists (each sorted, no duplicates) of a graph of `count` nodes."""
    successors: list[set[int]] = [set() for _ in range(count)]
    for before, after in edges:
        successors[before].add(after)
    return [sorted(s) for s in successors]


def order(labels: Sequence[str], edges: Iterable[tuple[int, int]]) -> list[int]:
    """Node indices in an order where every edge (a, b) has a before b.

    Among nodes that are free to go, the lowest index (declared first) goes first.
    A cycle raises CycleError naming its members.
    """
    count = len(labels)
    successors = successors_of(count, edges)
    indegree = [0] * count
    for targets in successors:
        for target in targets:
            indegree[target] += 1
    ready = [i for i in range(count) if indegree[i] == 0]
    heapq.heapify(ready)
    result: list[int] = []
    while ready:
        node = heapq.heappop(ready)
        result.append(node)
        for target in successors[node]:
            indegree[target] -= 1
            if indegree[target] == 0:
                heapq.heappush(ready, target)
    if len(result) < count:
        left = {i for i in range(count) if indegree[i] > 0}
        raise CycleError([labels[i] for i in find_cycle(successors, left)])
    return result


def find_cycle(successors: Sequence[Sequence[int]], nodes: set[int]) -> list[int]:
    """One cycle among `nodes`, the nodes Kahn's walk could not free, in edge order.

    Each of them has a predecessor among them, so walking predecessors must loop.
    """
    predecessors: dict[int, int] = {}
    for node in sorted(nodes):
        for target in successors[node]:
            if target in nodes and target not in predecessors:
                predecessors[target] = node
    path: list[int] = []
    position: dict[int, int] = {}
    node = min(nodes)
    while node not in position:
        position[node] = len(path)
        path.append(node)
        node = predecessors[node]
    loop = path[position[node] :]
    loop.reverse()
    first = loop.index(min(loop))
    return loop[first:] + loop[:first]


def descendants(successors: Sequence[Sequence[int]], start: int) -> set[int]:
    """Every node reachable from `start` (not `start` itself unless on a cycle)."""
    seen: set[int] = set()
    todo = list(successors[start])
    while todo:
        node = todo.pop()
        if node not in seen:
            seen.add(node)
            todo.extend(successors[node])
    return seen
