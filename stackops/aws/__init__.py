"""The only part of stackops that imports boto3: a session factory and one adapter per service.

Each adapter method declares with `@calls` the IAM actions it calls and the roles that
make them; the policies `stackops bootstrap --print-iam-policy` prints are assembled from them.
"""
