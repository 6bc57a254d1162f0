"""State in the DynamoDB table: records, commands, leases and event claims.

Item layout (one table, see `stackops.aws.dynamodb.TABLE_SHAPE`):
  record      pk "<kind>#<id>"          sk "<kind>"     gsi1pk "stack#<stack id>" (or "stacks")
  command     pk "command#<id>"         sk "command"    gsi1pk "instance#<instance id>"
  configure   pk "configure#<instance>" sk "pending"    the newest queued configure of an instance
  membership  pk "stack#<id>"           sk "membership" a counter bumped when online members change
  lease       pk "lease#<name>"         sk "lease"      owner and expiry (conditional writes)
  event       pk "event#<id>"           sk "event"      an event id claimed or done (expiry checked)
  deployment  pk "deployment#<id>"      sk "deployment" gsi1pk "deployments#<stack id>"
"""

from stackops.store.commands import CommandLog
from stackops.store.deployments import DeploymentLog
from stackops.store.leases import EventClaims, Leases
from stackops.store.records import StackContents, Store, natural_key

__all__ = [
    "CommandLog",
    "DeploymentLog",
    "EventClaims",
    "Leases",
    "StackContents",
    "Store",
    "natural_key",
]
