"""A plan: the declared resources, their order, and who notifies whom. Pure data."""

from collections.abc import Mapping, Sequence
from typing import NamedTuple

from stackops.converge.graph import descendants, order, successors_of
from stackops.converge.resource import Resource, Timing, Trigger
from stackops.errors import InvalidInput


class Notification(NamedTuple):
    """When resource `source` changes, resource `target` is notified with `timing`."""

    source: int
    target: int
    timing: Timing


class Plan(NamedTuple):
    """What a run will converge, in which order; indices are declaration positions."""

    recipes: tuple[str, ...]
    resources: tuple[Resource, ...]
    order: tuple[int, ...]
    successors: tuple[tuple[int, ...], ...]
    notifications: Mapping[int, tuple[Notification, ...]]
    targets: frozenset[int]

    def dependents(self, index: int) -> set[int]:
        """Resources that come after `index` because of it, directly or not."""
        return descendants(self.successors, index)


def _settings(resource: Resource) -> dict[str, object]:
    """What a resource asks for, without its links to other resources."""
    links = ("requires", "notifies", "subscribes")
    return {k: getattr(resource, k) for k in resource.keywords if k not in links}


def build_plan(recipes: Sequence[str], resources: Sequence[Resource]) -> Plan:
    """Resolve references, order the resources (refusing cycles), index notifications."""
    index = {id(resource): i for i, resource in enumerate(resources)}
    by_name: dict[str, int] = {}
    for i, resource in enumerate(resources):
        first = resources[by_name.setdefault(resource.id, i)]
        if first is not resource and _settings(first) != _settings(resource):
            raise InvalidInput(
                f"{resource.origin}: {resource.id} is declared again with other settings "
                f"than at {first.origin}; declare it once (give one of them another name)"
            )

    def resolve(owner: Resource, keyword: str, ref: Resource | Trigger | str) -> tuple[int, Timing]:
        timing: Timing = "delayed"
        if isinstance(ref, Trigger):
            ref, timing = ref.target, ref.timing
        if isinstance(ref, Resource):
            found = index.get(id(ref))
            if found is None:
                raise InvalidInput(
                    f"{owner.origin}: {owner.id}: {keyword}= names {ref.id}, "
                    "which was not declared in this run"
                )
            return found, timing
        found = by_name.get(ref)
        if found is None:
            import difflib

            close = difflib.get_close_matches(ref, by_name, n=3)
            hint = f" Did you mean: {', '.join(close)}?" if close else ""
            raise InvalidInput(
                f"{owner.origin}: {owner.id}: {keyword}= names {ref!r}, "
                f"no resource of this run.{hint} References read 'type[name]'."
            )
        return found, timing

    edges: list[tuple[int, int]] = []
    notifications: dict[int, list[Notification]] = {}
    for i, resource in enumerate(resources):
        for ref in resource.requires:
            edges.append((resolve(resource, "requires", ref)[0], i))
        for ref in resource.notifies:
            target, timing = resolve(resource, "notifies", ref)
            edges.append((i, target))
            notifications.setdefault(i, []).append(Notification(i, target, timing))
        for ref in resource.subscribes:
            source, timing = resolve(resource, "subscribes", ref)
            edges.append((source, i))
            notifications.setdefault(source, []).append(Notification(source, i, timing))
    labels = [r.id for r in resources]
    ordered = order(labels, edges)
    successors = successors_of(len(resources), edges)
    return Plan(
        recipes=tuple(recipes),
        resources=tuple(resources),
        order=tuple(ordered),
        successors=tuple(tuple(s) for s in successors),
        notifications={k: tuple(v) for k, v in notifications.items()},
        targets=frozenset(n.target for ns in notifications.values() for n in ns),
    )
