"""A node's CPU, memory and load, measured on this host and shaped as CloudWatch data.

Load-based scaling compares these, averaged over a layer's online instances,
with the layer's thresholds. `stackops agent metrics` publishes them (namespace
`stackops`, dimensions StackId / LayerId / InstanceId, one series per layer of
the instance); on AWS, a CloudWatch agent publishing the same names and
dimensions does as well.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from stackops.aws.cloudwatch import Datum, MetricId
from stackops.model.autoscaling import METRICS

NAMESPACE = "stackops"
UNITS = {"CPUUtilization": "Percent", "MemoryUtilization": "Percent", "LoadAverage": "None"}


def metric_id(stack_id: str, layer_id: str, instance_id: str, metric: str) -> MetricId:
    """The CloudWatch series of one instance's metric as one of its layers sees it."""
    dimensions = (("StackId", stack_id), ("LayerId", layer_id), ("InstanceId", instance_id))
    return MetricId(NAMESPACE, metric, dimensions)


@dataclass(frozen=True)
class NodeFigures:
    """CPU and memory in percent, load as the 1-minute load average; None: not known."""

    cpu: float | None = None
    memory: float | None = None
    load: float | None = None

    def by_metric(self) -> dict[str, float]:
        """Metric name -> value, for the figures that are known."""
        values = {"cpu_threshold": self.cpu, "memory_threshold": self.memory}
        values["load_threshold"] = self.load
        return {METRICS[k]: round(v, 2) for k, v in values.items() if v is not None}


def cpu_busy_percent(before: str, after: str) -> float | None:
    """Busy CPU share between two readings of /proc/stat's first line ("cpu  u n s i ...")."""
    first = [int(x) for x in before.split()[1:]]
    second = [int(x) for x in after.split()[1:]]
    if len(first) < 4 or len(first) != len(second):
        return None
    deltas = [b - a for a, b in zip(first, second, strict=True)]
    total = sum(deltas[:8])  # guest times are already counted in user and nice
    idle = deltas[3] + (deltas[4] if len(deltas) > 4 else 0)  # idle + iowait
    return 100.0 * (total - idle) / total if total > 0 else None


def memory_used_percent(meminfo: str) -> float | None:
    """Used memory share from /proc/meminfo (MemTotal less MemAvailable)."""
    fields: dict[str, int] = {}
    for line in meminfo.splitlines():
        name, _, rest = line.partition(":")
        parts = rest.split()
        if parts and parts[0].isdigit():
            fields[name.strip()] = int(parts[0])
    total, available = fields.get("MemTotal"), fields.get("MemAvailable")
    if not total or available is None:
        return None
    return 100.0 * (total - available) / total


def measure(sample_seconds: float = 0.5, proc: Path = Path("/proc")) -> NodeFigures:
    """This host's figures (None for what it cannot tell, e.g. without /proc)."""

    def first_line(path: Path) -> str | None:
        try:
            return path.read_text().splitlines()[0]
        except (OSError, IndexError):
            return None

    cpu = None
    before = first_line(proc / "stat")
    if before is not None:
        time.sleep(sample_seconds)
        after = first_line(proc / "stat")
        cpu = cpu_busy_percent(before, after) if after else None
    try:
        memory = memory_used_percent((proc / "meminfo").read_text())
    except OSError:
        memory = None
    try:
        load: float | None = os.getloadavg()[0]
    except OSError:
        load = None
    return NodeFigures(cpu, memory, load)


def node_data(
    stack_id: str, layer_ids: list[str], instance_id: str, figures: NodeFigures, at: datetime
) -> list[Datum]:
    """The CloudWatch data of one node's figures: one series per layer of the instance."""
    return [
        Datum(metric_id(stack_id, layer_id, instance_id, metric), value, at, UNITS[metric])
        for layer_id in layer_ids
        for metric, value in figures.by_metric().items()
    ]
