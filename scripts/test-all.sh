#!/usr/bin/env bash
# Run every check and test: formatting, clippy (-D warnings), the SAM template's lints, all unit,
# integration and LocalStack tests, the release builds of the Lambda functions, and the bench's
# AWS scenarios on a release build. Starts LocalStack itself (installing it on first use, outside
# the repo) unless one is already answering, and stops what it started.
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
builds=""
cleanup() {
  if [ -n "$builds" ]; then kill -- "-$builds" 2>/dev/null || true; fi
  if [ -n "$started" ]; then EMULATOR="$started" localstack/stop.sh >&2; fi
}
trap cleanup EXIT
export AWS_EMULATOR="${started:-localstack}"

stage() { echo "== $(date -u +%T) $*" >&2; }

stage "cargo fmt --check"
cargo fmt --all -- --check
stage "cargo clippy --all-targets -D warnings"
cargo clippy --workspace --all-targets -- -D warnings
stage "infra: cfn-lint and sam validate --lint"
scripts/check-infra.sh
stage "cargo test --workspace: build"
cargo test --workspace --no-run
# The release builds (the arm64 Lambda zips, then this machine's release bench and functions) go
# in the background once the tests are built, niced: the CPU the tests leave idle (they mostly
# wait on I/O) builds them. Each profile has its own build directory lock, so nothing waits.
# (Started with the checks instead, they slowed clippy and the test build more than they gained.)
builds_log="$(mktemp)"
stage "release builds start in the background (their output is printed when they end)"
set -m
(
  nice -n 19 scripts/build-lambdas.sh
  nice -n 19 cargo build -q --release --bin bench --bin api --bin webhook --bin step --bin sweeper --bin render
) > "$builds_log" 2>&1 &
builds=$!
set +m

stage "cargo test --workspace: run"
cargo test --workspace -- --skip survive_crashes
stage "chaos tests (their per-fault-point tables are printed)"
# --workspace, not -p: the same feature set as the run above, so nothing is compiled again.
cargo test --workspace --test chaos_embedded --test aws_chaos -- --nocapture
stage "deployed-topology smoke test (the template in ministack)"
scripts/smoke-ministack.sh
stage "waiting for the release builds"
status=0
wait "$builds" || status=$?
builds=""
cat "$builds_log" >&2
rm -f "$builds_log"
[ "$status" = 0 ] || { echo "release builds failed ($status)" >&2; exit "$status"; }
stage "bench on the release build: AWS requests per operation, cold starts, media, render, latency"
sync # what the builds wrote goes to disk now, not while cold starts are timed
# Figures, not checks: it must only run. The embedded W1/W2 figures, side by side with Restate,
# come from scripts/bench-peers.sh (.ci/run runs it after this, with LocalStack stopped).
"${CARGO_TARGET_DIR:-target}/release/bench" --quick --only aws_calls,cold_start,media,render,latency
stage "done"
