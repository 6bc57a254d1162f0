"""The OpsWorks verbs as functions: each takes the Services and typed input, returns the
response in OpsWorks's shape. The CLI parses options, calls one of these, renders."""
