"""The AMI an instance launches: its own, its OS's, the stack's default AMI or default OS's.

Resolved when the instance is created or changed (so a name that cannot work is
refused then, never first at start-instance) and again at each launch, so an
instance picks up the newest public image of its OS as OpsWorks did.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from stackops.errors import InvalidInput
from stackops.model.operating_systems import CUSTOM, OPERATING_SYSTEMS, operating_system
from stackops.model.stacks import Stack

if TYPE_CHECKING:
    from stackops.services import Services


def resolve_os_ami(services: Services, os_name: str, architecture: str = "x86_64") -> str:
    """The current public AMI of an OS: its SSM public parameter, or the sandbox's mapping."""
    entry = operating_system(os_name)
    if entry is None:
        raise InvalidInput(f"operating system {CUSTOM!r} needs an AMI: give --ami-id")
    if architecture != "x86_64":
        raise InvalidInput(
            f"architecture {architecture}: AWS publishes {os_name} for x86_64 only; "
            "give --ami-id for another architecture"
        )
    if services.session.target.kind == "sandbox":
        return entry.sandbox_ami
    ami = services.parameters.get_plain(entry.ssm_parameter)
    if not ami:
        raise InvalidInput(
            f"no public AMI for {os_name!r} in {services.region} "
            f"(SSM parameter {entry.ssm_parameter} not found)",
            hint="give --ami-id, or choose another operating system",
        )
    return ami


def instance_ami(
    services: Services,
    stack: Stack,
    *,
    os_name: str | None,
    ami_id: str | None,
    architecture: str = "x86_64",
) -> str:
    """The AMI for an instance: its --ami-id, its --os, the stack's default AMI, default OS."""
    if ami_id:
        return ami_id
    if os_name and os_name != CUSTOM:
        return resolve_os_ami(services, os_name, architecture)
    if stack.default_ami_id:
        return stack.default_ami_id
    if os_name == CUSTOM or stack.default_os == CUSTOM:
        raise InvalidInput(
            "operating system 'Custom' needs --ami-id (or the stack's --default-ami-id)"
        )
    return resolve_os_ami(services, stack.default_os, architecture)


def describe_operating_systems() -> dict[str, object]:
    """OpsWorks's DescribeOperatingSystems answer: the OS names instances may use."""
    return {
        "OperatingSystems": [
            {
                "Name": os.name,
                "Id": os.name,
                "Type": "Linux",
                "ConfigurationManagers": [{"Name": "stackops", "Version": "1"}],
                "ReportedName": os.reported_name,
                "ReportedVersion": os.reported_version,
                "Supported": True,
            }
            for os in OPERATING_SYSTEMS
        ]
    }
