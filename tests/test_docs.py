"""The docs live in the project and stay true: generated parts current, links inside the repo."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path
from types import ModuleType

import pytest

REPO = Path(__file__).resolve().parents[1]
DOCS = ("architecture.md", "attributes.md", "recipes.md", "cli.md")


def _generator() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_docs", REPO / "scripts" / "gen_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


GEN = _generator()


@pytest.mark.parametrize("path", sorted(GEN.expected_docs()), ids=lambda p: p.name)
def test_generated_docs_are_current(path: Path) -> None:
    expected = GEN.expected_docs()[path]
    assert path.read_text() == expected, (
        f"{path.relative_to(REPO)} is stale (a command, a resource type or the node "
        f"attributes changed): regenerate it with `{GEN.REGENERATE}`"
    )


def test_cli_doc_has_every_command_and_its_options() -> None:
    from stackops.cli.main import COMMANDS

    text = (REPO / "docs" / "cli.md").read_text()
    for name in COMMANDS:
        assert f"\n## stackops {name}\n" in text, name
    assert "`--stack-ids ID`" in text
    assert "_STACKOPS_COMPLETE=bash_source stackops" in text


def test_recipes_doc_has_every_resource_type_and_keyword() -> None:
    from stackops.converge.resources import RESOURCE_TYPES

    text = (REPO / "docs" / "recipes.md").read_text()
    for cls in RESOURCE_TYPES:
        section = text.split(f"\n### {cls.type_name}\n", 1)[1].split("\n### ", 1)[0]
        for keyword in cls.keywords:
            if keyword not in GEN.COMMON_KEYWORDS:
                assert f"`{keyword}=`" in section, (cls.type_name, keyword)


def test_a_stale_part_is_caught(tmp_path: Path) -> None:
    """The check compares the whole generated part: one changed line makes it differ."""
    text = (REPO / "docs" / "recipes.md").read_text()
    edited = text.replace("| `keep=` | int | `5` |", "| `keep=` | int | `3` |")
    assert edited != text
    assert GEN.with_generated(edited, GEN.render_resources(), "recipes.md") == text


LINK = re.compile(r"\]\(([^)#\s]+)(?:#[^)]*)?\)")


@pytest.mark.parametrize("name", ["README.md", *(f"docs/{d}" for d in DOCS)])
def test_links_stay_inside_the_repository(name: str) -> None:
    """The README and the docs send a reader to files of this repository, which exist."""
    path = REPO / name
    text = path.read_text()
    assert "shared/DESIGN.md" not in text
    for target in LINK.findall(text):
        if target.startswith(("http://", "https://", "mailto:")):
            continue
        resolved = (path.parent / target).resolve()
        assert resolved.is_relative_to(REPO), f"{name} links outside the repository: {target}"
        assert resolved.exists(), f"{name} links to {target}, which does not exist"


def test_readme_links_every_doc_and_keeps_the_two_commands_at_its_top() -> None:
    text = (REPO / "README.md").read_text()
    for doc in DOCS:
        assert f"(docs/{doc})" in text, doc
    top = text.split("\n## ", 2)[:2]
    assert top[1].startswith("Two commands")
    assert "make demo" in top[1] and "make test" in top[1]
