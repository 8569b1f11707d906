#!/usr/bin/env bash
# Run every check and test: formatting, clippy (-D warnings), the SAM template's lints, all unit,
# integration and LocalStack tests, and the release builds of the Lambda functions. Starts LocalStack itself (installing it on first use, outside the repo) unless
# one is already answering, and stops what it started.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export AWS_ACCESS_KEY_ID="${AWS_ACCESS_KEY_ID:-test}" AWS_SECRET_ACCESS_KEY="${AWS_SECRET_ACCESS_KEY:-test}"
export AWS_REGION="${AWS_REGION:-us-east-1}" AWS_DEFAULT_REGION="${AWS_DEFAULT_REGION:-us-east-1}"
export AWS_ENDPOINT_URL="${AWS_ENDPOINT_URL:-http://127.0.0.1:4566}"

started=""
if ! curl -fs -m 2 -o /dev/null "$AWS_ENDPOINT_URL/_localstack/health" 2>/dev/null; then
  if localstack/start.sh >/dev/null; then
    started=localstack
  else
    echo "LocalStack did not come up; falling back to moto (no StartMessageMoveTask)" >&2
    EMULATOR=moto localstack/start.sh >/dev/null
    started=moto
  fi
fi
cleanup() { if [ -n "$started" ]; then EMULATOR="$started" localstack/stop.sh >&2; fi; }
trap cleanup EXIT
export AWS_EMULATOR="${started:-localstack}"

echo "== cargo fmt --check" >&2
cargo fmt --all -- --check
echo "== cargo clippy --all-targets -D warnings" >&2
cargo clippy --workspace --all-targets -- -D warnings
echo "== infra: cfn-lint and sam validate --lint" >&2
scripts/check-infra.sh
echo "== cargo test --workspace" >&2
cargo test --workspace -- --skip survive_crashes
echo "== chaos tests (their per-fault-point tables are printed)" >&2
# --workspace, not -p: the same feature set as the run above, so nothing is compiled again.
cargo test --workspace --test chaos_embedded --test aws_chaos -- --nocapture
echo "== deployed-topology smoke test (the template in ministack)" >&2
scripts/smoke-ministack.sh
echo "== bench, quick mode (figures not checked: it must only run)" >&2
# The cold-start scenario starts the five functions' binaries (the smoke test built four).
cargo build -q --bin api --bin webhook --bin step --bin sweeper --bin render
# Built by `cargo test --workspace` above (a package's binaries are built for its integration
# tests), with the same features: running it directly compiles nothing again.
"${CARGO_TARGET_DIR:-target}/debug/bench" --quick
echo "== Lambda builds (arm64 zips)" >&2
scripts/build-lambdas.sh
