"""What every resource gets while converging: the root, the node, and the run's tools."""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from stackops.converge.paths import NodeRoot
from stackops.converge.render_memo import RenderMemo
from stackops.converge.templates import TemplateRenderer
from stackops.errors import StackopsError

# (source URL, destination file) -> None: downloads one artifact.
Fetcher = Callable[[str, Path], None]


class RunTimedOut(StackopsError):
    """The run's time budget ran out."""


def current_umask() -> int:
    """The process umask (read once per run: reading it means setting it)."""
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


class ConvergeContext:
    """One run's explicit state; nothing about a run lives in a global.

    (A plain class: the dataclasses module costs ~1 ms of every `stackops solo`.)
    """

    def __init__(
        self,
        *,
        root: NodeRoot,
        node: Mapping[str, Any],
        dry_run: bool,
        clock: Callable[[], float],
        deadline: float | None = None,
        fetchers: Mapping[str, Fetcher] | None = None,
        templates: TemplateRenderer | None = None,
        renders: RenderMemo | None = None,
        umask: int | None = None,
    ) -> None:
        self.root = root
        self.node = node
        self.dry_run = dry_run
        self.clock = clock
        self.deadline = deadline
        self.fetchers: Mapping[str, Fetcher] = fetchers if fetchers is not None else {}
        self.templates = templates if templates is not None else TemplateRenderer()
        self.renders = renders if renders is not None else RenderMemo(None, {})
        self.umask = umask if umask is not None else current_umask()

    def __repr__(self) -> str:
        return f"ConvergeContext(root={self.root!r}, dry_run={self.dry_run})"

    def remaining(self) -> float | None:
        """Seconds left before the deadline (None without one); RunTimedOut when none left."""
        if self.deadline is None:
            return None
        left = self.deadline - self.clock()
        if left <= 0:
            raise RunTimedOut("the run's time budget ran out")
        return left

    def command_env(self, env: Mapping[str, str] | None) -> dict[str, str]:
        """The environment of a command or service: ours, STACKOPS_ROOT, then `env`."""
        merged = dict(os.environ)
        merged["STACKOPS_ROOT"] = str(self.root.path)
        if env:
            merged.update({str(k): str(v) for k, v in env.items()})
        return merged
