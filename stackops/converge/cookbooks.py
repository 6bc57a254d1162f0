"""Cookbooks on a search path: `cookbook::recipe` is `<path>/<cookbook>/<recipe>.py`.

The search path is the `--cookbooks` folders, then the project's `recipes/`, then
the built-in cookbook `stackops` shipped in the package. The first folder holding
a cookbook supplies all of it (recipes, templates/, files/): cookbooks shadow
whole, never file by file.
"""

import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType
from typing import Any, NamedTuple

from stackops.errors import InvalidInput, StackopsError

BUILTIN_COOKBOOKS = Path(__file__).resolve().parent.parent / "cookbooks"
_PART = r"[A-Za-z0-9_][A-Za-z0-9_.-]*"
_NAME = re.compile(rf"^({_PART})(?:::({_PART}))?$")


class RecipeError(StackopsError):
    """A recipe raised while declaring its resources; the message names file and line."""


class RecipeSource(NamedTuple):
    """Where recipe `name` lives."""

    name: str
    cookbook: str
    recipe: str
    path: Path
    cookbook_dir: Path
    display: str  # the recipe file as a user would type it (relative to here when below)


def display_path(path: Path) -> str:
    text = str(path)
    try:
        rel = os.path.relpath(text)
    except ValueError:
        return text
    return rel if not rel.startswith("..") else text


def parse_name(name: str) -> tuple[str, str]:
    """('web', 'configure') from 'web::configure'; 'web' alone means 'web::default'."""
    match = _NAME.match(name) if isinstance(name, str) else None
    if match is None:
        raise InvalidInput(
            f"{name!r} is not a recipe name; write cookbook::recipe (e.g. web::configure) "
            "or a cookbook alone for its default recipe"
        )
    return match.group(1), match.group(2) or "default"


def search_path(extra: Sequence[Path] = (), project_dir: Path | None = None) -> list[Path]:
    """`extra` folders, then `<project_dir>/recipes` if it exists, then the built-in one."""
    paths = [Path(p) for p in extra]
    if project_dir is not None and (project_dir / "recipes").is_dir():
        paths.append(project_dir / "recipes")
    paths.append(BUILTIN_COOKBOOKS)
    return paths


def _recipes_in(folder: Path) -> list[str]:
    try:
        names = os.listdir(folder)
    except OSError:
        return []
    return sorted(n[:-3] for n in names if n.endswith(".py") and not n.startswith(("_", ".")))


class RecipeListing(NamedTuple):
    """One recipe found on the search path, for `stackops recipes list`."""

    name: str
    cookbook: str
    path: Path
    shadowed_by: Path | None  # the cookbook folder that hides this one, if any


class Cookbooks:
    """The cookbooks of one run: resolves names and loads each recipe module once."""

    def __init__(self, paths: Sequence[Path]) -> None:
        self.paths = [Path(p) for p in paths]
        self.paths = list(dict.fromkeys(self.paths))  # the same folder twice: search it once
        if BUILTIN_COOKBOOKS not in self.paths:
            self.paths.append(BUILTIN_COOKBOOKS)
        self._modules: dict[Path, Callable[[Any], None]] = {}

    def cookbook_dir(self, cookbook: str) -> Path | None:
        """The first folder on the path holding `cookbook`."""
        for base in self.paths:
            folder = base / cookbook
            if folder.is_dir():
                return folder
        return None

    def resolve(self, name: str) -> RecipeSource:
        """The recipe `name`; InvalidInput listing close matches when there is none."""
        cookbook, recipe = parse_name(name)
        full = f"{cookbook}::{recipe}"
        folder = self.cookbook_dir(cookbook)
        if folder is not None:
            path = folder / f"{recipe}.py"
            if path.is_file():
                return RecipeSource(full, cookbook, recipe, path, folder, display_path(path))
            have = _recipes_in(folder)
            raise InvalidInput(
                f"cookbook {cookbook!r} ({display_path(folder)}) has no recipe {recipe!r}."
                + self._close(full)
                + (f" Its recipes: {', '.join(have)}." if have else " It has no recipes.")
            )
        where = ", ".join(display_path(p) for p in self.paths)
        raise InvalidInput(
            f"no cookbook {cookbook!r} for recipe {name!r} in {where}.{self._close(full)}"
        )

    def _close(self, full: str) -> str:
        import difflib

        known = [listing.name for listing in self.listings() if listing.shadowed_by is None]
        close = difflib.get_close_matches(full, known, n=3, cutoff=0.6)
        return f" Did you mean: {', '.join(close)}?" if close else ""

    def listings(self) -> list[RecipeListing]:
        """Every recipe on the search path, in path order; shadowed cookbooks are marked."""
        seen: dict[str, Path] = {}
        found: list[RecipeListing] = []
        for base in self.paths:
            try:
                entries = sorted(os.scandir(base), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                if entry.name.startswith((".", "_")) or not entry.is_dir():
                    continue
                folder = Path(entry.path)
                recipes = _recipes_in(folder)
                if not recipes:
                    continue
                shadow = seen.get(entry.name)
                seen.setdefault(entry.name, folder)
                for recipe in recipes:
                    found.append(
                        RecipeListing(
                            f"{entry.name}::{recipe}", entry.name, folder / f"{recipe}.py", shadow
                        )
                    )
        return found

    def load(self, source: RecipeSource) -> Callable[[Any], None]:
        """The `recipe(run)` function of a recipe file, compiled once per run."""
        function = self._modules.get(source.path)
        if function is not None:
            return function
        import importlib.util

        module_name = f"stackops_recipe_{source.cookbook}_{source.recipe}".replace(".", "_")
        spec = importlib.util.spec_from_file_location(module_name, source.path)
        assert spec is not None and spec.loader is not None
        module: ModuleType = importlib.util.module_from_spec(spec)
        try:
            spec.loader.exec_module(module)
        except SyntaxError as exc:
            raise InvalidInput(
                f"{display_path(Path(exc.filename or source.path))}:{exc.lineno}: "
                f"syntax error in recipe {source.name}: {exc.msg}"
            ) from None
        except StackopsError:
            raise
        except Exception as exc:
            raise RecipeError(
                f"{recipe_failure_place(exc, source)}: loading recipe {source.name} failed: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        function = getattr(module, "recipe", None)
        if not callable(function):
            raise InvalidInput(
                f"{source.display} defines no function recipe(run); "
                f"a recipe file declares its resources in `def recipe(run):`"
            )
        self._modules[source.path] = function
        return function


def recipe_failure_place(exc: BaseException, source: RecipeSource) -> str:
    """'file:line' of the deepest frame of `exc` inside the recipe's cookbook."""
    place = source.display
    folder = str(source.cookbook_dir) + os.sep
    tb = exc.__traceback__
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.startswith(folder):
            place = f"{display_path(Path(filename))}:{tb.tb_lineno}"
        tb = tb.tb_next
    return place
