"""The recipe engine: idempotent resources in a dependency graph, dry run, cookbooks.

The API the CLI (`stackops solo`), the lifecycle dispatcher and deployments call:

    from stackops.converge import run_recipes

    report = run_recipes(
        ["web::configure", "web::deploy"],   # cookbook::recipe names
        node,                                # node attributes (DESIGN §5), a dict
        Path(".stackops/nodes/i-0abc"),      # root: every node path resolves under it
        [Path("recipes")],                   # cookbook folders; the built-in one is added
        dry_run=False,                       # True: compute and report, change nothing
        timeout=600.0,                       # whole-run budget in seconds, or None
        fetchers={"s3": my_s3_fetch},        # optional: scheme -> (url, dest file) -> None
    )
    report.ok              # False when a resource or notification failed
    report.summary_line()  # '121 resources: 0 changed, 121 unchanged in 0.03 s'
    report.to_dict()       # JSON-able: per resource status, summary, diff, seconds
    format_text(report)    # the human report `stackops solo` prints

`run_recipes` raises `InvalidInput` (exit 2) before touching anything when a
recipe is unknown (listing close matches), a declaration is invalid (naming
file:line and the valid keywords) or the dependencies loop (naming the cycle);
`RecipeError` when recipe code raises. A failing resource does not raise: the
report says what failed, what was skipped, and which notifications ran anyway.

`plan_recipes(...)` returns the ordered plan alone; `search_path(extra, project)`
builds the cookbook path the CLI uses (extra, then ./recipes, then built-in).
Without fetchers, s3:// sources use a default boto3 client (imported only then)
and http(s):// sources use urllib. A run that renders templates keeps digests of
their inputs and output in <root>/var/lib/stackops/rendered-templates.json, so a
run that changes nothing does not even load Jinja2 (see render_memo).
"""

from __future__ import annotations

from stackops.converge.cookbooks import Cookbooks, search_path
from stackops.converge.report import Report, ResourceResult, format_text
from stackops.converge.run import plan_recipes, run_recipes

__all__ = [
    "Cookbooks",
    "Report",
    "ResourceResult",
    "format_text",
    "plan_recipes",
    "run_recipes",
    "search_path",
]
