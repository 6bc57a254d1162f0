"""`stackops import-opsworks`: a stack file from the answers saved before OpsWorks shut down.

`saved` reads the folder, `mapping` turns OpsWorks's shapes into the stack file's
(pure, with a report), `render` writes commented YAML. The result is checked by the
stack file's own parser before it is written, so `apply` accepts it as is.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from stackops.importer.mapping import Imported, map_saved
from stackops.importer.render import report_text, stack_file_text
from stackops.importer.saved import read_saved
from stackops.model.apps import derive_shortname
from stackops.model.stackfile import parse_stack_file


@dataclass(frozen=True)
class ImportResult:
    """The file written and the report to print."""

    path: Path
    report: str
    imported: Imported


def import_opsworks(
    folder: Path,
    output: Path | None = None,
    *,
    stack_id: str | None = None,
    adopt_instances: bool = False,
) -> ImportResult:
    """Write the stack file for the saved stack in `folder`; nothing is written if it fails."""
    result = map_saved(read_saved(folder), stack_id, adopt=adopt_instances)
    name = derive_shortname(str(result.stack.data.get("name", ""))) or "imported"
    path = output or Path("stacks") / f"{name}.yaml"
    text = stack_file_text(result, str(folder))
    parse_stack_file(text, str(path))  # what apply will read; refuse now rather than then
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    tmp.replace(path)
    return ImportResult(path, report_text(result, str(path)), result)
