"""State in the DynamoDB table: records, commands, leases and event claims.

Item layout (one table, see `stackops.aws.dynamodb.TABLE_SHAPE`):
  record      pk "<kind>#<id>"          sk "<kind>"     gsi1pk "stack#<stack id>" (or "stacks")
  command     pk "command#<id>"         sk "command"    gsi1pk "instance#<instance id>"
  configure   pk "configure#<instance>" sk "pending"    the newest queued configure of an instance
  membership  pk "stack#<id>"           sk "membership" a counter bumped when online members change
  lease       pk "lease#<name>"         sk "lease"      owner and expiry (conditional writes)
  event       pk "event#<id>"           sk "event"      an event id claimed or done (expiry checked)
  deployment  pk "deployment#<id>"      sk "deployment" gsi1pk "deployments#<stack id>"
  in flight   pk "inflight#<kind>#<id>" sk "inflight"   gsi1pk "inflight": runs under way
  action      pk "action#<token>"       sk "action"     an Auto Scaling action's outcome, once
  adoption    pk "adopt#<ec2 id>"       sk "adopt"      the stackops id an ASG instance was given
"""

from stackops.store.actions import ActionLog, ActionOutcome
from stackops.store.commands import CommandLog, Slot
from stackops.store.deployments import DeploymentLog
from stackops.store.inflight import InFlight, InFlightIndex
from stackops.store.leases import (
    Claim,
    EventClaims,
    LeaseBusy,
    LeaseKeeper,
    Leases,
    deployment_lease_name,
    instance_lease,
    instance_lease_name,
)
from stackops.store.records import StackContents, Store, natural_key

__all__ = [
    "ActionLog",
    "ActionOutcome",
    "Claim",
    "CommandLog",
    "DeploymentLog",
    "EventClaims",
    "InFlight",
    "InFlightIndex",
    "LeaseBusy",
    "LeaseKeeper",
    "Leases",
    "Slot",
    "StackContents",
    "Store",
    "deployment_lease_name",
    "instance_lease",
    "instance_lease_name",
    "natural_key",
]
