"""Converge a plan: each resource in order, notifications immediate or delayed, one report.

A failed resource stops the run: what depends on it is skipped, so is the rest;
delayed notifications queued by resources that did change still run (unless their
target depends on the failure), and the report says they ran after the failure.
"""

from __future__ import annotations

from stackops.converge.context import ConvergeContext
from stackops.converge.plan import Plan
from stackops.converge.report import Phase, Report, ResourceResult
from stackops.converge.resource import NoChange, Resource
from stackops.errors import StackopsError


def converge_one(
    resource: Resource,
    action: str,
    ctx: ConvergeContext,
    *,
    phase: Phase = "run",
    notified_by: tuple[str, ...] = (),
    after_failure: bool = False,
) -> ResourceResult:
    """Read, compute the change, apply it unless dry run; never raises for the resource."""
    started = ctx.clock()
    status = "unchanged"
    summary = ""
    diff = error = detail = None
    try:
        ctx.remaining()
        desired = resource.desired(ctx, action)
        current = resource.current(ctx, desired)
        change = resource.change(current, desired)
        if isinstance(change, NoChange):
            summary = change.reason
        else:
            summary, diff = change.summary, change.diff
            if not ctx.dry_run:
                resource.apply(ctx, change)
            status = "changed"
    except StackopsError as exc:
        status, error = "failed", str(exc)
    except OSError as exc:
        status, error = "failed", _os_error(exc)
    except Exception as exc:  # a bug in a resource type: report it, keep the run's report
        import traceback

        status, error = "failed", f"{type(exc).__name__}: {exc}"
        detail = "".join(traceback.format_exception(exc))
    return ResourceResult(
        resource=resource.id,
        type=resource.type_name,
        action=action,
        recipe=resource.origin.recipe,
        declared_at=str(resource.origin),
        status=status,  # type: ignore[arg-type]
        summary=summary,
        seconds=ctx.clock() - started,
        diff=diff,
        error=error,
        detail=detail,
        phase=phase,
        notified_by=notified_by,
        after_failure=after_failure,
    )


def _os_error(exc: OSError) -> str:
    where = f": {exc.filename}" if exc.filename else ""
    text = f"{exc.strerror or exc}{where}"
    if isinstance(exc, PermissionError):
        text += " (run as a user allowed to write there, or converge under --root)"
    return text


def _skipped(resource: Resource, action: str, reason: str, **extra: object) -> ResourceResult:
    return ResourceResult(
        resource=resource.id,
        type=resource.type_name,
        action=action,
        recipe=resource.origin.recipe,
        declared_at=str(resource.origin),
        status="skipped",
        summary=reason,
        **extra,  # type: ignore[arg-type]
    )


def converge(plan: Plan, ctx: ConvergeContext, *, started: float | None = None) -> Report:
    """Converge every resource of `plan` and return the report."""
    started = ctx.clock() if started is None else started
    resources = plan.resources
    results: list[ResourceResult] = []
    notes: list[ResourceResult] = []
    delayed: dict[tuple[int, str], list[str]] = {}  # (target, action) -> notifiers, in order
    failed: int | None = None
    blocked: set[int] = set()
    changed_own: set[int] = set()  # resources that changed in their own turn

    def fail_at(index: int) -> None:
        nonlocal failed, blocked
        if failed is None:
            failed = index
            blocked = plan.dependents(index)

    for index in plan.order:
        resource = resources[index]
        action = resource.scheduled_action(index in plan.targets)
        if failed is not None:
            culprit = resources[failed].id
            reason = (
                f"depends on {culprit}, which failed"
                if index in blocked
                else f"not run: the run stopped when {culprit} failed"
            )
            results.append(_skipped(resource, action, reason))
            continue
        result = converge_one(resource, action, ctx)
        results.append(result)
        if result.status == "failed":
            fail_at(index)
            continue
        if result.status != "changed":
            continue
        changed_own.add(index)
        for note in plan.notifications.get(index, ()):
            target = resources[note.target]
            target_action = target.notify_action()
            if note.timing == "delayed":
                delayed.setdefault((note.target, target_action), []).append(resource.id)
                continue
            outcome = converge_one(
                target, target_action, ctx, phase="immediate", notified_by=(resource.id,)
            )
            notes.append(outcome)
            if outcome.status == "failed":
                fail_at(note.target)
                break

    for (target_index, action), notifiers in delayed.items():
        target = resources[target_index]
        late = failed is not None
        if failed is not None and (target_index in blocked or target_index == failed):
            reason = f"depends on {resources[failed].id}, which failed"
            notes.append(
                _skipped(
                    target,
                    action,
                    reason,
                    phase="delayed",
                    notified_by=tuple(notifiers),
                    after_failure=True,
                )
            )
            continue
        if target_index in changed_own:
            # Its own turn came after every notifier (the graph orders it so) and
            # changed it already: a service started then runs the new state.
            notes.append(
                ResourceResult(
                    resource=target.id,
                    type=target.type_name,
                    action=action,
                    recipe=target.origin.recipe,
                    declared_at=str(target.origin),
                    status="unchanged",
                    summary="not needed: it changed in its own turn, after the notifiers",
                    phase="delayed",
                    notified_by=tuple(notifiers),
                    after_failure=late,
                )
            )
            continue
        outcome = converge_one(
            target,
            action,
            ctx,
            phase="delayed",
            notified_by=tuple(notifiers),
            after_failure=late,
        )
        notes.append(outcome)

    return Report(
        recipes=plan.recipes,
        root=str(ctx.root.path),
        dry_run=ctx.dry_run,
        results=tuple(results),
        notifications=tuple(notes),
        seconds=ctx.clock() - started,
        failed=resources[failed].id if failed is not None else None,
    )
