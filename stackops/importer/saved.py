"""What a user saved before OpsWorks shut down: the JSON answers of its describe verbs.

Files are recognised by their content (the answer's top-level key), so any names
work; the README suggests `describe-stacks.json`, `describe-layers.json` and so on.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from stackops.errors import InvalidInput

# answer key -> the verb that answers it
ANSWERS = {
    "Stacks": "describe-stacks",
    "Layers": "describe-layers",
    "Apps": "describe-apps",
    "Instances": "describe-instances",
    "ElasticLoadBalancers": "describe-elastic-load-balancers",
    "ElasticIps": "describe-elastic-ips",
    "TimeBasedAutoScalingConfigurations": "describe-time-based-auto-scaling",
    "LoadBasedAutoScalingConfigurations": "describe-load-based-auto-scaling",
}
REQUIRED = ("Stacks", "Layers", "Apps", "Instances")


@dataclass
class SavedStack:
    """The saved answers, each a list of OpsWorks objects, and the files they came from."""

    items: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    files: dict[str, list[str]] = field(default_factory=dict)

    def get(self, key: str) -> list[dict[str, Any]]:
        return self.items.get(key, [])


def read_saved(folder: Path) -> SavedStack:
    """Read every *.json in `folder`; InvalidInput naming a file that is not an answer."""
    if not folder.is_dir():
        raise InvalidInput(f"{folder}: not a folder of saved 'aws opsworks describe-*' answers")
    saved = SavedStack()
    for path in sorted(folder.glob("*.json")):
        try:
            data = json.loads(path.read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise InvalidInput(f"{path}: not a JSON answer ({exc})") from None
        keys = [k for k in data if k in ANSWERS] if isinstance(data, dict) else []
        if not keys:
            raise InvalidInput(
                f"{path}: not the answer of one of {', '.join(sorted(set(ANSWERS.values())))} "
                f"(expected a top-level key among {', '.join(ANSWERS)})"
            )
        for key in keys:
            if not isinstance(data[key], list) or not all(isinstance(i, dict) for i in data[key]):
                raise InvalidInput(f"{path}: {key} must be a list of objects")
            saved.items.setdefault(key, []).extend(data[key])
            saved.files.setdefault(key, []).append(path.name)
    missing = [ANSWERS[k] for k in REQUIRED if k not in saved.items]
    if missing:
        raise InvalidInput(
            f"{folder}: no saved answer of {', '.join(missing)}",
            hint="save them with: "
            + "; ".join(f"aws opsworks {v} ... > {folder}/{v}.json" for v in missing),
        )
    return saved
