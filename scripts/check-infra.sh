#!/usr/bin/env bash
# Lint the SAM template: cfn-lint and `sam validate --lint`. The tools live in a virtualenv outside
# the repo (created on first use), so they neither need nor disturb system Python packages.
# The template's parity with the code is a cargo test (tests/tests/template_parity.rs).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

tools="${MYLOWARE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/myloware-tools}"
if [ ! -x "$tools/bin/sam" ] || [ ! -x "$tools/bin/cfn-lint" ]; then
  echo "installing cfn-lint and aws-sam-cli into $tools" >&2
  python3 -m venv "$tools"
  "$tools/bin/pip" install -q --disable-pip-version-check "cfn-lint==1.58.0" "aws-sam-cli==1.170.0"
fi
export SAM_CLI_TELEMETRY=0 AWS_REGION="${AWS_REGION:-us-east-1}" AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
echo "== cfn-lint infra/template.yaml" >&2
"$tools/bin/cfn-lint" infra/template.yaml
echo "== sam validate --lint" >&2
"$tools/bin/sam" validate --lint -t infra/template.yaml >&2
