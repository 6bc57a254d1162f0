"""The agent side of `stackops bootstrap`: the agent's wheels in the artifacts bucket.

Given a folder of wheels (`--agent-wheels DIR`, or one `--build-agent` made),
the plan uploads them with their manifest under `agent/<version>/` unless that
manifest is already there, and points `agent/latest.json` at the version.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from stackops.agent_bundle import (
    LATEST_KEY,
    AgentBundle,
    manifest_key,
    version_prefix,
)
from stackops.aws.s3 import Bucket
from stackops.aws.session import AwsSession
from stackops.errors import NotFound


@dataclass(frozen=True)
class ExistingAgent:
    """The manifest of the bundle's version as uploaded, and the latest version."""

    manifest: bytes | None = None
    latest: str | None = None


@dataclass(frozen=True)
class BuildAgentWheels:
    folder: str

    def describe(self) -> str:
        return f"build the agent's wheels into {self.folder} (pip, from the package index)"


@dataclass(frozen=True)
class UploadAgent:
    bucket: str
    version: str
    files: tuple[tuple[str, str], ...]  # (key, local path)
    manifest: bytes

    def describe(self) -> str:
        where = f"s3://{self.bucket}/{version_prefix(self.version)}"
        return f"upload the stackops agent {self.version} ({len(self.files)} wheels) to {where}"


@dataclass(frozen=True)
class SetLatestAgent:
    bucket: str
    version: str

    def describe(self) -> str:
        return (
            f"make agent {self.version} the one instances install (s3://{self.bucket}/{LATEST_KEY})"
        )


AgentStep = BuildAgentWheels | UploadAgent | SetLatestAgent


def read_agent(bucket: Bucket, version: str | None) -> ExistingAgent:
    """What is uploaded (no writes); `version` is the bundle's, if there is one."""
    if not bucket.exists():
        return ExistingAgent()
    manifest = None
    if version:
        try:
            manifest = bucket.get_object(manifest_key(version))
        except NotFound:
            manifest = None
    try:
        latest = str(json.loads(bucket.get_object(LATEST_KEY))["version"])
    except NotFound:
        latest = None
    return ExistingAgent(manifest, latest)


def plan_agent(bucket: str, bundle: AgentBundle | None, existing: ExistingAgent) -> list[AgentStep]:
    """Upload `bundle` unless its manifest is there, and make it the latest."""
    if bundle is None:
        return []
    steps: list[AgentStep] = []
    manifest = bundle.manifest()
    if existing.manifest != manifest:
        prefix = version_prefix(bundle.version)
        files = tuple((prefix + w.path.name, str(w.path)) for w in bundle.wheels)
        steps.append(UploadAgent(bucket, bundle.version, files, manifest))
    if existing.latest != bundle.version:
        steps.append(SetLatestAgent(bucket, bundle.version))
    return steps


def apply_agent_step(session: AwsSession, step: AgentStep) -> None:
    """Make one agent step's calls (wheels first, the manifest last: it says they are there)."""
    match step:
        case UploadAgent(name, version, files, manifest):
            bucket = Bucket(session, name)
            for key, path in files:
                with open(path, "rb") as wheel:
                    bucket.put_object(key, wheel.read(), content_type="application/zip")
            bucket.put_object(manifest_key(version), manifest, content_type="application/json")
        case SetLatestAgent(name, version):
            body = json.dumps({"version": version}).encode()
            Bucket(session, name).put_object(LATEST_KEY, body, content_type="application/json")
        case BuildAgentWheels():
            pass  # built before planning; in a dry run it is only said
