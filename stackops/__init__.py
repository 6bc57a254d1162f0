"""stackops: the OpsWorks Stacks model on plain AWS parts."""

__version__ = "0.1.0"
