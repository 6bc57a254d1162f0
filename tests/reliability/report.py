"""Print the reliability table: `python -m tests.reliability.report` after a pytest run.

One row per check (figures summed over its cases), the figure beside its target;
exit status 1 when a row misses its target or no figure was written.
"""

from __future__ import annotations

import sys

from tests.reliability.figures import figures_dir, read_all, rows


def table() -> tuple[str, bool]:
    """The table's text, and whether every row met its target."""
    found = rows(read_all())
    if not found:
        return f"no reliability figures in {figures_dir()} (run the suite first)", False
    head = ("check", "cases", "figures", "target", "")
    lines = [
        (
            r.check,
            str(r.cases),
            r.figure_text(),
            r.target_text(),
            "ok" if r.ok else "MISSED: " + ", ".join(r.failed_cases[:5]),
        )
        for r in found
    ]
    widths = [max(len(row[i]) for row in [head, *lines]) for i in range(len(head))]
    out = [
        "  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip()
        for row in [head, tuple("-" * w for w in widths), *lines]
    ]
    return "\n".join(out), all(r.ok for r in found)


def main() -> int:
    text, ok = table()
    print(text)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
