"""The operating systems an instance may name (OpsWorks's `Os`), and where their AMIs come from.

On AWS an OS name resolves to the latest public AMI through its SSM public
parameter; in the sandbox, where no such parameter exists, through the fixed
AMI ids below (moto accepts any AMI id). `Custom` means the instance or the
stack names its AMI. Names OpsWorks had whose images AWS no longer publishes
are refused with the names that work.
"""

from __future__ import annotations

from dataclasses import dataclass

from stackops.errors import InvalidInput

CUSTOM = "Custom"


@dataclass(frozen=True)
class OperatingSystem:
    """One OS name, its SSM public parameter (x86_64) and its AMI in the sandbox."""

    name: str
    ssm_parameter: str
    sandbox_ami: str
    reported_name: str
    reported_version: str


OPERATING_SYSTEMS: tuple[OperatingSystem, ...] = (
    OperatingSystem(
        "Amazon Linux 2023",
        "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64",
        "ami-0a2023a1b2c3d4e5f",
        "Amazon Linux",
        "2023",
    ),
    OperatingSystem(
        "Amazon Linux 2",
        "/aws/service/ami-amazon-linux-latest/amzn2-ami-hvm-x86_64-gp2",
        "ami-0a0002a1b2c3d4e5f",
        "Amazon Linux",
        "2",
    ),
    OperatingSystem(
        "Ubuntu 20.04 LTS",
        "/aws/service/canonical/ubuntu/server/20.04/stable/current/amd64/hvm/ebs-gp2/ami-id",
        "ami-0b2004a1b2c3d4e5f",
        "Ubuntu",
        "20.04",
    ),
    OperatingSystem(
        "Ubuntu 22.04 LTS",
        "/aws/service/canonical/ubuntu/server/22.04/stable/current/amd64/hvm/ebs-gp2/ami-id",
        "ami-0b2204a1b2c3d4e5f",
        "Ubuntu",
        "22.04",
    ),
    OperatingSystem(
        "Ubuntu 24.04 LTS",
        "/aws/service/canonical/ubuntu/server/24.04/stable/current/amd64/hvm/ebs-gp3/ami-id",
        "ami-0b2404a1b2c3d4e5f",
        "Ubuntu",
        "24.04",
    ),
)
BY_NAME = {os.name: os for os in OPERATING_SYSTEMS}


def operating_system(name: str | None) -> OperatingSystem | None:
    """The catalog entry of an OS name; None for `Custom`; InvalidInput for any other name."""
    if name == CUSTOM:
        return None
    found = BY_NAME.get(name or "")
    if found is None:
        retired = name and name.startswith(
            ("Amazon Linux", "Ubuntu", "CentOS", "Red Hat", "Microsoft")
        )
        what = (
            f"operating system {name!r} is not available: AWS publishes no current AMI for it"
            if retired
            else f"unknown operating system {name!r}"
        )
        names = ", ".join(f"'{os.name}'" for os in OPERATING_SYSTEMS)
        raise InvalidInput(f"{what}; choose one of {names}, or '{CUSTOM}' with --ami-id")
    return found


def check_os_name(name: str | None, ami_id: str | None, where: str) -> None:
    """Refuse an OS name that cannot work: unknown, retired, or Custom without an AMI."""
    if name is None:
        return
    try:
        operating_system(name)
    except InvalidInput as exc:
        raise InvalidInput(f"{where}: {exc.message}", hint=exc.hint) from None
    if name == CUSTOM and not ami_id:
        raise InvalidInput(f"{where}: 'Custom' needs an AMI: give --ami-id (or a stack default)")
