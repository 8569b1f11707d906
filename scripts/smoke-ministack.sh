#!/usr/bin/env bash
# Deployed-topology smoke test: build the four functions for this machine's architecture, start
# ministack (an AWS emulator that runs provided.al2023 Lambdas as local processes, no Docker),
# deploy infra/template.yaml through its CloudFormation (with the SAM transform), and drive one
# run with the in-process fake providers to `completed` through the HTTP API URL.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

venv="${MYLOWARE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/myloware-tools}/ministack"
if [ ! -x "$venv/bin/ministack" ]; then
  echo "installing ministack into $venv" >&2
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check "ministack==1.5.33" aws-sam-translator boto3 pyyaml
fi

case "$(uname -m)" in
  x86_64) arch=--x86_64 ;;
  aarch64 | arm64) arch=--arm64 ;;
  *) echo "unsupported machine $(uname -m)" >&2; exit 1 ;;
esac
# The functions must run on this machine, so they are built for its architecture. By default the
# debug build of the same binaries (cheap after `cargo test`); `--release` builds release zips
# with cargo-lambda instead (another ~7 minutes on 2 cores).
lambda_dir="target/lambda-host"
if [ "${1:-}" = "--release" ]; then
  MYLOWARE_LAMBDA_DIR="$lambda_dir" scripts/build-lambdas.sh "$arch"
else
  cargo build -q --bin api --bin webhook --bin step --bin sweeper
  for f in api webhook step sweeper; do
    mkdir -p "$lambda_dir/$f"
    python3 - "target/debug/$f" "$lambda_dir/$f/bootstrap.zip" <<'PY'
import sys, zipfile
info = zipfile.ZipInfo("bootstrap")
info.external_attr = 0o755 << 16
info.compress_type = zipfile.ZIP_DEFLATED
with zipfile.ZipFile(sys.argv[2], "w", compresslevel=1) as z, open(sys.argv[1], "rb") as b:
    z.writestr(info, b.read())
PY
  done
fi

port="${MINISTACK_PORT:-4599}"
log="$(mktemp -t ministack.XXXXXX.log)"
# Its own process group: ministack leaves Lambda workers behind unless the group is killed.
GATEWAY_PORT="$port" AWS_ENDPOINT_URL="http://127.0.0.1:$port" MINISTACK_HOST=127.0.0.1 \
  setsid "$venv/bin/ministack" >"$log" 2>&1 &
pid=$!
cleanup() { kill -- -"$pid" 2>/dev/null || true; sleep 1; kill -9 -- -"$pid" 2>/dev/null || true; }
trap cleanup EXIT
for _ in $(seq 1 100); do
  curl -fs -m 1 -o /dev/null "http://127.0.0.1:$port/_localstack/health" && break
  sleep 0.2
done

if ! AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_DEFAULT_REGION=us-east-1 \
  "$venv/bin/python" scripts/smoke_ministack.py --endpoint "http://127.0.0.1:$port" \
  --lambda-dir "$lambda_dir" --template infra/template.yaml "--arch=$arch"; then
  echo "--- ministack log (tail)" >&2
  tail -n 80 "$log" >&2
  exit 1
fi
