"""`Run`, what a recipe sees: the node attributes, the root, one method per resource type.

A recipe only declares; nothing touches the node until every recipe of the run
has declared its resources and the plan is built.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from stackops.converge.cookbooks import Cookbooks, RecipeError, RecipeSource, recipe_failure_place
from stackops.converge.paths import NodeRoot
from stackops.converge.resource import DeclarationError, Origin, Resource
from stackops.converge.resources import RESOURCE_TYPES
from stackops.errors import InvalidInput, StackopsError


class Run:
    """The object passed to `recipe(run)`.

    `run.node` is the node attributes; `run.root` the host folder paths resolve
    under; `run.path("/etc/x")` the host path of a node path; `run.dry_run` tells
    a dry run. Each resource method returns the resource, which `requires=`,
    `notifies=` and `subscribes=` of other resources may name (`.immediately`
    for an immediate notification).
    """

    def __init__(
        self, node: Mapping[str, Any], root: NodeRoot, cookbooks: Cookbooks, *, dry_run: bool
    ) -> None:
        self.node = node
        self.dry_run = dry_run
        self.resources: list[Resource] = []
        self._root = root
        self._cookbooks = cookbooks
        self._stack: list[RecipeSource] = []
        self._included: list[str] = []

    @property
    def root(self) -> Path:
        return self._root.path

    @property
    def recipes(self) -> list[str]:
        """The recipes included so far, in order."""
        return list(self._included)

    def path(self, node_path: str) -> Path:
        """The host path of a node path under this run's root."""
        return self._root.host_path(node_path)

    def include(self, name: str) -> None:
        """Declare the resources of recipe `name` here, once per run."""
        source = self._cookbooks.resolve(name)
        if source.name in self._included:
            return
        self._included.append(source.name)
        function = self._cookbooks.load(source)
        self._stack.append(source)
        try:
            function(self)
        except StackopsError:
            raise
        except Exception as exc:
            raise RecipeError(
                f"{recipe_failure_place(exc, source)}: recipe {source.name} failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        finally:
            self._stack.pop()

    # -- declaring ------------------------------------------------------------
    def declare(self, type_name: str, name: str, **options: Any) -> Resource:
        """Declare a resource of any registered type (the typed methods call this)."""
        cls = RESOURCE_TYPES.get(type_name)
        origin = self._origin()
        label = f"{origin}: {type_name}[{name}]"
        if "name" in options:
            raise InvalidInput(f"{label}: the first argument is the name; name= is not a keyword")
        if not isinstance(name, str) or not name:
            raise InvalidInput(f"{origin}: {type_name}: the first argument names the resource")
        try:
            resource = cls(name=name, origin=origin, **options)
        except (DeclarationError, InvalidInput) as exc:
            raise InvalidInput(f"{label}: {exc}") from None
        self.resources.append(resource)
        return resource

    def _origin(self) -> Origin:
        if not self._stack:
            return Origin("(api)", "(api)", 0, Path.cwd())
        source = self._stack[-1]
        filename = str(source.path)
        frame = sys._getframe(1)
        line = 0
        while frame is not None:
            if frame.f_code.co_filename == filename:
                line = frame.f_lineno
                break
            frame = frame.f_back  # type: ignore[assignment]
        return Origin(source.name, source.display, line, source.cookbook_dir)

    def directory(self, path: str, **options: Any) -> Resource:
        """A folder: mode=, owner=, group=, action='create'|'delete'."""
        return self.declare("directory", path, **options)

    def file(self, path: str, **options: Any) -> Resource:
        """A file: content= or source= (files/), mode=, owner=, group=, sensitive=, action=."""
        return self.declare("file", path, **options)

    def template(self, path: str, **options: Any) -> Resource:
        """A file from a Jinja2 template: source= (templates/), variables=, mode=, sensitive=."""
        return self.declare("template", path, **options)

    def link(self, path: str, **options: Any) -> Resource:
        """A symlink: to=, action='create'|'delete'."""
        return self.declare("link", path, **options)

    def execute(self, command: Sequence[str] | str, **options: Any) -> Resource:
        """A command (argv): creates=, only_if=, not_if=, cwd=, env=, timeout=, shell=, name=."""
        name = options.pop("name", None)
        if name is None:
            name = command if isinstance(command, str) else _joined(command)
        return self.declare("execute", name, command=command, **options)

    def archive(self, path: str, **options: Any) -> Resource:
        """A folder unpacked from source= (path, http(s), s3), checksum=, strip_components=."""
        return self.declare("archive", path, **options)

    def release(self, deploy_to: str, **options: Any) -> Resource:
        """An app release: release=, source=, checksum=, shared=, keep=, migrate=."""
        return self.declare("release", deploy_to, **options)

    def package(self, name: str, **options: Any) -> Resource:
        """OS packages: packages=[...] installed when missing, or action="upgrade"."""
        return self.declare("package", name, **options)

    def service(self, name: str, **options: Any) -> Resource:
        """A supervised process: command=, action=, cwd=, env=, reload_signal=, provider=."""
        return self.declare("service", name, **options)


def _joined(command: Sequence[str]) -> str:
    import shlex

    try:
        return shlex.join(command)
    except TypeError:
        return repr(command)
