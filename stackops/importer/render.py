"""The imported stack file as commented YAML, and the import report as text."""

from __future__ import annotations

from typing import Any

import yaml

from stackops.importer.mapping import Entry, Imported

SECTION_NOTES = {
    "layers": "Layers keep their OpsWorks shortnames; custom recipes run after stackops::<event>.",
    "apps": "Apps; a value {ssm: /path} is read from Parameter Store when recipes run.",
    "instances": "Instances by hostname; their layers by shortname.",
}


def _dump(data: dict[str, Any]) -> list[str]:
    return yaml.safe_dump(data, sort_keys=False, default_flow_style=False, width=100).splitlines()


def _comments(notes: list[str], indent: str) -> list[str]:
    return [f"{indent}# {note}" for note in notes]


def stack_file_text(result: Imported, source: str) -> str:
    """The stack file: a header, then stack, layers, apps, instances, each with its notes."""
    name = result.stack.data.get("name", "stack")
    lines = [
        f"# OpsWorks stack {name}, imported by 'stackops import-opsworks {source}'.",
        "# Review the notes (and the report printed with them), fill the parameters named",
        "# {ssm: ...}, then: stackops apply -f THIS_FILE --dry-run, and without --dry-run.",
        "",
        "stack:",
    ]
    lines += _comments(result.stack.notes, "  ")
    lines += ["  " + line for line in _dump(result.stack.data)]
    for section, entries in (
        ("layers", result.layers),
        ("apps", result.apps),
        ("instances", result.instances),
    ):
        lines += ["", f"# {SECTION_NOTES[section]}", f"{section}:" + ("" if entries else " []")]
        for entry in entries:
            lines += _entry(entry)
    return "\n".join(lines) + "\n"


def _entry(entry: Entry) -> list[str]:
    dumped = _dump(entry.data)
    out = _comments(entry.notes, "  ")
    out.append("  - " + dumped[0])
    out += ["    " + line for line in dumped[1:]]
    return out


def report_text(result: Imported, output: str) -> str:
    """What was imported, what was mapped, what needs attention, what to run."""
    parts = [f"wrote {output}", "", "imported:"]
    parts += [f"  {item}" for item in result.imported]
    parts += ["", "mapped:"] + [f"  {item}" for item in result.mapped]
    parts += ["", "needs attention:"]
    parts += [f"  {item}" for item in result.attention] or ["  nothing"]
    if result.recipes:
        parts += ["", "recipes that must exist (recipes/<cookbook>/<recipe>.py, Python):"]
        parts += [f"  {name}" for name in result.recipes]
    if result.parameters:
        parts += ["", "parameters to fill (the values OpsWorks showed as *****FILTERED*****):"]
        parts += [
            f"  aws ssm put-parameter --type SecureString --name {path} --value '...'   # {what}"
            for path, what in result.parameters
        ]
    if result.after_apply:
        parts += ["", "after apply:"] + [f"  {line}" for line in result.after_apply]
    return "\n".join(parts)
