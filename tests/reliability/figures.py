"""Figures the reliability checks measure, one small JSON file per test case.

A test calls `record(check, case, counts, bad=...)` once it has measured; the files
land in `STACKOPS_RELIABILITY_FIGURES` (default `.pytest_cache/reliability/`, beside
the project), whichever pytest worker wrote them, and `python -m tests.reliability.report`
adds them up into one row per check. `counts` holds what was measured; the names in
`bad` are those that must be 0 (the row fails otherwise).
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def figures_dir() -> Path:
    """Where the figures of this run are written and read."""
    given = os.environ.get("STACKOPS_RELIABILITY_FIGURES")
    return Path(given) if given else ROOT / ".pytest_cache" / "reliability"


@dataclass(frozen=True)
class Figure:
    """What one test case measured for one check."""

    check: str
    case: str
    counts: dict[str, int]
    bad: tuple[str, ...] = ()
    order: int = 0

    @property
    def ok(self) -> bool:
        return all(self.counts.get(name, 0) == 0 for name in self.bad)


def record(
    check: str,
    case: str,
    counts: Mapping[str, int],
    *,
    bad: Iterable[str] = (),
    order: int = 0,
) -> Figure:
    """Write one case's figures (replacing an earlier run's of the same case)."""
    figure = Figure(check, case, {k: int(v) for k, v in counts.items()}, tuple(bad), order)
    folder = figures_dir()
    folder.mkdir(parents=True, exist_ok=True)
    name = hashlib.sha1(f"{check}\0{case}".encode()).hexdigest()[:16]
    tmp = folder / f".{name}.tmp"
    tmp.write_text(json.dumps(figure.__dict__))
    tmp.replace(folder / f"{name}.json")
    return figure


def read_all(folder: Path | None = None) -> list[Figure]:
    """Every figure written so far, in no particular order."""
    folder = folder or figures_dir()
    found = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        raw = json.loads(path.read_text())
        found.append(
            Figure(raw["check"], raw["case"], raw["counts"], tuple(raw["bad"]), raw["order"])
        )
    return found


def clear(folder: Path | None = None) -> None:
    """Forget an earlier run's figures."""
    folder = folder or figures_dir()
    for path in folder.glob("*.json") if folder.is_dir() else []:
        path.unlink()


@dataclass
class Row:
    """One check, its cases added up."""

    check: str
    cases: int = 0
    counts: dict[str, int] = field(default_factory=dict)
    bad: tuple[str, ...] = ()
    failed_cases: list[str] = field(default_factory=list)
    order: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed_cases

    def figure_text(self) -> str:
        """What was measured, then (after `;`) what must be 0."""
        info = ", ".join(f"{v} {k}" for k, v in self.counts.items() if k not in self.bad)
        must = ", ".join(f"{self.counts.get(k, 0)} {k}" for k in self.bad)
        return f"{info}; {must}" if info and must else info or must

    def target_text(self) -> str:
        return "0 each after ;" if self.bad else "-"


def rows(figures: Iterable[Figure]) -> list[Row]:
    """One row per check: counts summed over its cases, in the checks' own order."""
    by_check: dict[str, Row] = {}
    for figure in sorted(figures, key=lambda f: (f.order, f.check, f.case)):
        row = by_check.setdefault(figure.check, Row(figure.check, order=figure.order))
        row.cases += 1
        for name, value in figure.counts.items():
            row.counts[name] = row.counts.get(name, 0) + value
        row.bad = tuple(dict.fromkeys((*row.bad, *figure.bad)))
        if not figure.ok:
            row.failed_cases.append(figure.case)
    return list(by_check.values())


def full_run() -> bool:
    """True under `make reliability` (STACKOPS_RELIABILITY=full): the full trial counts."""
    return os.environ.get("STACKOPS_RELIABILITY") == "full"
