#!/bin/sh
# LocalStack ready hook: create stackops's AWS side (`stackops bootstrap`) in LocalStack.
#
# LocalStack runs the scripts of /etc/localstack/init/ready.d once its services answer.
# Settings (environment): STACKOPS (the stackops command; found on PATH, or installed
# into a venv from STACKOPS_SOURCE, by default the project mounted at /opt/stackops),
# STACKOPS_ENDPOINT (http://localhost:4566), AWS_DEFAULT_REGION (us-east-1),
# STACKOPS_NAMESPACE (stackops). Safe to run again: bootstrap changes only what differs.
set -eu

endpoint="${STACKOPS_ENDPOINT:-http://localhost:4566}"
region="${AWS_DEFAULT_REGION:-us-east-1}"
namespace="${STACKOPS_NAMESPACE:-stackops}"
export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}"
export AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"

if [ -n "${STACKOPS:-}" ]; then
    stackops="$STACKOPS"
elif command -v stackops >/dev/null 2>&1; then
    stackops="stackops"
else
    venv="${STACKOPS_VENV:-/tmp/stackops-venv}"
    if [ ! -x "$venv/bin/stackops" ]; then
        echo "stackops: installing stackops from ${STACKOPS_SOURCE:-/opt/stackops} into $venv"
        python3 -m venv "$venv"
        "$venv/bin/pip" install --quiet "${STACKOPS_SOURCE:-/opt/stackops}"
    fi
    stackops="$venv/bin/stackops"
fi

echo "stackops: bootstrap of namespace $namespace on $endpoint ($region)"
"$stackops" --endpoint-url "$endpoint" --region "$region" --namespace "$namespace" bootstrap
echo "stackops: ready on $endpoint"
