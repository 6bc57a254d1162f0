"""Names stackops shares with AWS on the wire, defined once.

The EC2 tag keys that tie an EC2 instance to its stackops records, and the
EventBridge sources and detail-types of the events stackops consumes (EC2,
Auto Scaling, the watcher, its own requests) and emits (its three state-change
events, as OpsWorks had). Everything that reads or writes them imports them
from here; this module imports nothing.
"""

from __future__ import annotations

from typing import Final

# -- EC2 tags put on every instance stackops launches, starts or adopts ------------------
TAG_STACK: Final = "stackops:stack-id"
TAG_INSTANCE: Final = "stackops:instance-id"
TAG_LAYERS: Final = "stackops:layer-ids"
TAG_NAMESPACE: Final = "stackops:namespace"  # on the resources bootstrap creates
TAG_ALLOCATED_FOR: Final = "stackops:allocated-for"  # an Elastic IP stackops allocated

# -- event sources ------------------------------------------------------------------------
SOURCE_EC2: Final = "aws.ec2"
SOURCE_WATCHER: Final = "stackops.watcher"  # `stackops watch`, for platforms without events
SOURCE_AUTOSCALING: Final = "aws.autoscaling"
SOURCE_INTERNAL: Final = "stackops.internal"  # requests stackops sends to its own queue
SOURCE_STACKOPS: Final = "stackops"  # what stackops publishes for users' rules

# -- detail-types consumed ------------------------------------------------------------------
STATE_CHANGE: Final = "EC2 Instance State-change Notification"
LAUNCH_ACTION: Final = "EC2 Instance-launch Lifecycle Action"
TERMINATE_ACTION: Final = "EC2 Instance-terminate Lifecycle Action"
INSTANCE_COMMAND: Final = "Instance Command"
CONFIGURE_REQUEST: Final = "Configure Request"
DEPLOYMENT_REQUEST: Final = "Deployment Request"

# -- detail-types published (source `stackops`) ---------------------------------------------
INSTANCE_STATE: Final = "Instance State Change"
COMMAND_STATE: Final = "Command State Change"
DEPLOYMENT_STATE: Final = "Deployment State Change"

# -- Auto Scaling lifecycle hook vocabulary -------------------------------------------------
LAUNCHING: Final = "autoscaling:EC2_INSTANCE_LAUNCHING"
TERMINATING: Final = "autoscaling:EC2_INSTANCE_TERMINATING"
TEST_NOTIFICATION: Final = "autoscaling:TEST_NOTIFICATION"
WARM_POOL: Final = "WarmPool"  # a hook's Origin or Destination: the group's warm pool
GROUP: Final = "AutoScalingGroup"
