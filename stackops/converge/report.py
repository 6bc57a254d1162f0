"""The run report: every resource changed, unchanged, skipped or failed, with times and diffs."""

from typing import Any, Literal, NamedTuple

Status = Literal["changed", "unchanged", "skipped", "failed"]
Phase = Literal["run", "immediate", "delayed"]
STATUSES: tuple[Status, ...] = ("changed", "unchanged", "failed", "skipped")


class ResourceResult(NamedTuple):
    """What happened to one resource (or one notification of it)."""

    resource: str
    type: str
    action: str
    recipe: str
    declared_at: str
    status: Status
    summary: str  # the change, or why nothing changed, or why it was skipped
    seconds: float = 0.0
    diff: str | None = None
    error: str | None = None
    detail: str | None = None  # a traceback, for errors that are bugs rather than mistakes
    phase: Phase = "run"
    notified_by: tuple[str, ...] = ()
    after_failure: bool = False  # a delayed notification run although the run had failed

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "resource": self.resource,
            "type": self.type,
            "action": self.action,
            "recipe": self.recipe,
            "declared_at": self.declared_at,
            "status": self.status,
            "summary": self.summary,
            "seconds": round(self.seconds, 6),
            "diff": self.diff,
            "error": self.error,
        }
        if self.detail:
            data["detail"] = self.detail
        if self.phase != "run":
            data["phase"] = self.phase
            data["notified_by"] = list(self.notified_by)
            data["after_failure"] = self.after_failure
        return data


class Report(NamedTuple):
    """The outcome of one run of recipes on one node."""

    recipes: tuple[str, ...]
    root: str
    dry_run: bool
    results: tuple[ResourceResult, ...]  # one per resource, in converge order
    notifications: tuple[ResourceResult, ...] = ()  # in the order they ran
    seconds: float = 0.0
    failed: str | None = None  # the resource that stopped the run

    @property
    def counts(self) -> dict[str, int]:
        """How many resources ended in each status."""
        counts = dict.fromkeys(STATUSES, 0)
        for result in self.results:
            counts[result.status] += 1
        return counts

    @property
    def ok(self) -> bool:
        """True when no resource and no notification failed."""
        return self.failed is None and all(n.status != "failed" for n in self.notifications)

    @property
    def changed(self) -> bool:
        return self.counts["changed"] > 0 or any(n.status == "changed" for n in self.notifications)

    def summary_line(self) -> str:
        """E.g. '121 resources: 0 changed, 121 unchanged in 0.03 s'."""
        c = self.counts
        total = len(self.results)
        changed = f"{c['changed']} would change" if self.dry_run else f"{c['changed']} changed"
        parts = [changed, f"{c['unchanged']} unchanged"]
        parts += [f"{c[s]} {s}" for s in ("failed", "skipped") if c[s]]
        noun = "resource" if total == 1 else "resources"
        line = f"{total} {noun}: {', '.join(parts)} in {self.seconds:.2f} s"
        if self.notifications:
            line += "; notifications: " + self._notification_counts()
        if self.dry_run:
            line += " (dry run: nothing was changed)"
        return line

    def _notification_counts(self) -> str:
        """E.g. '1 ran, 1 not needed' ('would run' in a dry run)."""
        notes = self.notifications
        acted = sum(1 for n in notes if n.status in ("changed", "failed"))
        parts = [f"{acted} {'would run' if self.dry_run else 'ran'}"]
        idle = sum(1 for n in notes if n.status == "unchanged")
        skipped = sum(1 for n in notes if n.status == "skipped")
        late = sum(1 for n in notes if n.after_failure and n.status in ("changed", "failed"))
        if idle:
            parts.append(f"{idle} not needed")
        if skipped:
            parts.append(f"{skipped} skipped")
        if late:
            parts.append(f"{late} after the failure")
        return ", ".join(parts)

    def failure_line(self) -> str | None:
        """One line naming what failed, for the error message; None when all went well."""
        failures = [r for r in (*self.results, *self.notifications) if r.status == "failed"]
        if not failures:
            return None
        first = failures[0]
        more = f" (and {len(failures) - 1} more)" if len(failures) > 1 else ""
        return f"{first.resource} failed: {(first.error or '').splitlines()[0]}{more}"

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON-able data (the command's log)."""
        return {
            "ok": self.ok,
            "dry_run": self.dry_run,
            "root": self.root,
            "recipes": list(self.recipes),
            "seconds": round(self.seconds, 6),
            "summary": {"resources": len(self.results), **self.counts},
            "summary_line": self.summary_line(),
            "failed": self.failed,
            "resources": [r.to_dict() for r in self.results],
            "notifications": [n.to_dict() for n in self.notifications],
        }


MARKS = {"changed": "+", "unchanged": "=", "skipped": "-", "failed": "!"}


def format_text(report: Report, *, verbose: bool = False) -> str:
    """The report for a human: what changed (with diffs), failed or was skipped; a summary."""
    lines: list[str] = []
    shown = [r for r in report.results if verbose or r.status != "unchanged"]
    for result in shown:
        lines.extend(_result_lines(result, report.dry_run))
    if report.notifications:
        lines.append("notifications:")
        for note in report.notifications:
            lines.extend(_result_lines(note, report.dry_run))
    lines.append(report.summary_line())
    return "\n".join(lines)


def _result_lines(result: ResourceResult, dry_run: bool) -> list[str]:
    mark = "~" if dry_run and result.status == "changed" else MARKS[result.status]
    head = f"{mark} {result.resource}"
    if result.phase != "run":
        head += f" [{result.action}, {result.phase}, by {', '.join(result.notified_by)}]"
        if result.after_failure:
            head += " (after the failure)"
    lines = [f"{head}: {result.summary}" if result.summary else head]
    if result.diff:
        lines.extend("    " + line for line in result.diff.splitlines())
    if result.error:
        lines.append(f"    error ({result.declared_at}): " + result.error.splitlines()[0])
        lines.extend("    " + line for line in result.error.splitlines()[1:])
    return lines
