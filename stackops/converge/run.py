"""run_recipes: declare, plan and converge a list of recipes on one node root."""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from stackops.converge.context import ConvergeContext, Fetcher
from stackops.converge.cookbooks import Cookbooks
from stackops.converge.declare import Run
from stackops.converge.engine import converge
from stackops.converge.paths import NodeRoot
from stackops.converge.plan import Plan, build_plan
from stackops.converge.render_memo import MEMO_PATH, RenderMemo
from stackops.converge.report import Report
from stackops.errors import InvalidInput


def plan_recipes(
    recipes: Sequence[str],
    node: Mapping[str, Any],
    root: Path,
    cookbook_paths: Sequence[Path] = (),
    *,
    dry_run: bool = False,
) -> Plan:
    """Declare the resources of `recipes` and order them; nothing on disk changes."""
    if isinstance(recipes, str) or not recipes:
        raise InvalidInput("name at least one recipe, e.g. web::configure")
    if not isinstance(node, Mapping):
        raise InvalidInput(f"node attributes must be a JSON object, not {type(node).__name__}")
    run = Run(node, NodeRoot(root), Cookbooks(cookbook_paths), dry_run=dry_run)
    for name in recipes:
        run.include(name)
    return build_plan(run.recipes, run.resources)


def run_recipes(
    recipes: Sequence[str],
    node: Mapping[str, Any],
    root: Path,
    cookbook_paths: Sequence[Path] = (),
    *,
    dry_run: bool = False,
    timeout: float | None = None,
    fetchers: Mapping[str, Fetcher] | None = None,
    clock: Callable[[], float] = time.monotonic,
) -> Report:
    """Converge `recipes` on the node under `root`; see the package docstring."""
    started = clock()
    plan = plan_recipes(recipes, node, root, cookbook_paths, dry_run=dry_run)
    node_root = NodeRoot(root)
    ctx = ConvergeContext(
        root=node_root,
        node=node,
        dry_run=dry_run,
        clock=clock,
        deadline=None if timeout is None else started + timeout,
        fetchers=dict(fetchers or {}),
        renders=RenderMemo(_memo_file(node_root), node),
    )
    report = converge(plan, ctx, started=started)
    if not dry_run:
        ctx.renders.save()
    return report


def _memo_file(root: NodeRoot) -> Path | None:
    try:
        return root.host_path(MEMO_PATH)
    except InvalidInput:  # a symlink on the way leads out of the root: no memo
        return None
