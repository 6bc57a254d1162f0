"""The only part of stackops that imports boto3: a session factory and one adapter per service.

Each adapter module declares `ACTIONS`, the IAM actions it calls; the policy that
`stackops bootstrap --print-iam-policy` prints is assembled from them.
"""
