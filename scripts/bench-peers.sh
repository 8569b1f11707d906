#!/usr/bin/env bash
# Side by side on this machine, minutes apart: our engine on the embedded backend and Restate,
# both with the peer bench's workloads (W1: 200 runs x 10 durable no-op steps, 50 in flight, 100
# warm-up runs, median of 3 reps; W2: 100 sequential runs waiting for one external completion),
# then one table with the ratio and each target met or missed. Restate is installed by the peer
# bench's setup.sh on first use (npm, and its Rust service built with cargo: about 2 minutes).
#   scripts/bench-peers.sh   (PEER_BENCH: the peer bench, default scripts/peer-bench, a copy of the
#                             team's ../shared/peer-bench so that CI has it on a fresh clone;
#                             PEERS: its scratch dir, default /tmp/peers;
#                             PEER_MAX_WAIT: seconds to wait for an idle machine, default 120)
# Figures only: nothing here is asserted. Takes about 2 minutes once both are built. CI runs it
# (.ci/run) after the tests, with LocalStack stopped.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
PEER_BENCH="${PEER_BENCH:-$ROOT/scripts/peer-bench}"
export PEERS="${PEERS:-/tmp/peers}"
[ -f "$PEER_BENCH/run_peer.py" ] || { echo "no peer bench at $PEER_BENCH (set PEER_BENCH)" >&2; exit 2; }
if [ ! -x "$PEERS/restate/svc-rs/target/release/peer-bench-restate-svc" ] || [ ! -x "$PEERS/venv/bin/python" ]; then
  echo "== installing the peers ($PEER_BENCH/setup.sh, a few minutes)" >&2
  "$PEER_BENCH/setup.sh" >&2
fi
command -v strace >/dev/null || { echo "strace is needed to count fsync calls" >&2; exit 2; }
echo "== building the bench (release)" >&2
(cd "$ROOT" && cargo build -q --release -p myloware-tests --bin bench)
BENCH="$ROOT/target/release/bench"
OUT="$(mktemp -d)"
trap 'rm -rf "$OUT"' EXIT
stamp="$(date -u +%Y-%m-%dT%H:%MZ)"

# Whatever the builds left in the page cache is written out first, not during the measurements.
sync
echo "== myloware embedded: W1 and W2" >&2
"$BENCH" --only embedded --json | grep '^{' > "$OUT/ours.json"
echo "== myloware embedded: one W1 rep under strace (fsync calls)" >&2
strace -f -c -e trace=fsync,fdatasync,sync_file_range,syncfs,msync -o "$OUT/ours-strace.txt" \
  "$BENCH" --w1-once --runs 200 > "$OUT/ours-once.json"
echo "== Restate: W1, W2 and one W1 rep under strace (peer bench)" >&2
"$PEERS/venv/bin/python" "$PEER_BENCH/run_peer.py" restate --tag myloware-side-by-side \
  --max-wait "${PEER_MAX_WAIT:-120}" \
  --out "$OUT/restate.json" > "$OUT/restate.log" 2>&1 \
  || { cat "$OUT/restate.log" >&2; exit 1; }

"$PEERS/venv/bin/python" - "$OUT" "$stamp" <<'PY'
import json, os, sys
out, stamp = sys.argv[1], sys.argv[2]
ours = json.load(open(f"{out}/ours.json"))
once = json.load(open(f"{out}/ours-once.json"))
rs = json.load(open(f"{out}/restate.json"))

def syncs(path):
    n = 0
    for line in open(path):
        p = line.split()
        if len(p) >= 5 and p[-1] in ("fsync", "fdatasync", "sync_file_range", "syncfs", "msync"):
            n += int(p[3])
    return n

our_steps = once["runs"] * once["steps_per_run"]
our_fsync = syncs(f"{out}/ours-strace.txt") / our_steps
rs_calls = sum(rs.get("fsync_calls_one_w1_rep", {}).values())
rs_fsync = rs_calls / (rs["w1"]["summary"]["R"] * rs["w1"]["summary"]["K"])
w1o, w1r = ours["synced"]["steps_per_sec"], rs["w1"]["summary"]["steps_per_s_median"]
w2 = ours["callbacks"]
w2r = rs["w2"]["resolve_returned_to_result"]
rows = [
    ("W1 steps/s (durable, median of 3)", f"{w1o:,.0f}", f"{w1r:,.0f}", f"{w1o / w1r:.2f}x"),
    ("W1 steps/s, ours with synchronous=NORMAL", f"{ours['kill9_safe']['steps_per_sec']:,.0f}", "", ""),
    ("W1 run p50 / p99 ms", f"{ours['synced']['run_latency_p50_ms']:.1f} / {ours['synced']['run_latency_p99_ms']:.1f}",
     f"{rs['w1']['summary']['p50_ms_median']:.1f} / {rs['w1']['summary']['p99_ms_median']:.1f}", ""),
    ("fsync calls per step (strace, one W1 rep)", f"{our_fsync:.3f}", f"{rs_fsync:.3f}", ""),
    ("W2 completion -> next checkpoint p50 ms", f"{w2['callback_to_checkpoint_p50_ms']:.3f}", f"{w2r['p50_ms']:.3f}",
     f"{w2r['p50_ms'] / max(w2['callback_to_checkpoint_p50_ms'], 1e-9):.2f}x faster"),
    ("W2 p99 ms", f"{w2['callback_to_checkpoint_p99_ms']:.3f}", f"{w2r['p99_ms']:.3f}", ""),
]
# The disk at the time (the peer bench's probe: 4 KiB append + fdatasync, 200 times, just before
# Restate's run and after it): the floor under every durable step, and what W2 moves with.
probe = lambda k: rs["machine"][k]["fdatasync"]
before, after = probe("disk_sync_probe_before_start"), probe("disk_sync_probe_at_end")

pkg = f"{os.environ['PEERS']}/restate/node_modules/@restatedev/restate-server/package.json"
version = json.load(open(pkg)).get("version", "?") if os.path.exists(pkg) else "?"
print(f"\nSide by side on this machine ({stamp}; Restate {version} via the peer bench, "
      f"{rs['machine']['busy_pct_of_one_core_before_start']}% of one core busy before it started)")
head = ("figure", "myloware embedded", "Restate", "ratio")
w = [max(len(str(r[i])) for r in rows + [head]) for i in range(4)]
fmt = lambda r: "  " + "  ".join(str(c).ljust(w[i]) if i == 0 else str(c).rjust(w[i]) for i, c in enumerate(r))
print(fmt(head)); print("  " + "  ".join("-" * x for x in w))
for r in rows: print(fmt(r))
print(f"\n  the disk, 4 KiB append + fdatasync (peer bench probe, before / after Restate's run): "
      f"p50 {before['p50_ms']:.2f} / {after['p50_ms']:.2f} ms, p99 {before['p99_ms']:.2f} / {after['p99_ms']:.2f} ms")
targets = [
    ("W1 >= 2x Restate's", f"{w1o:,.0f} vs {2 * w1r:,.0f}", w1o >= 2 * w1r),
    ("W1 >= 6,000 steps/s (where Restate >= 3,000)", f"{w1o:,.0f} (Restate {w1r:,.0f})",
     w1o >= 6000 or w1r < 3000),
    ("fsyncs per step <= 0.2", f"{our_fsync:.3f}", our_fsync <= 0.2),
    ("W2 p50 <= 0.5 ms", f"{w2['callback_to_checkpoint_p50_ms']:.3f}", w2["callback_to_checkpoint_p50_ms"] <= 0.5),
    ("W2 p99 <= 1.5 ms", f"{w2['callback_to_checkpoint_p99_ms']:.3f}", w2["callback_to_checkpoint_p99_ms"] <= 1.5),
]
print(f"\n  {'target':<45}  {'measured':<24} ")
for name, got, ok in targets:
    print(f"  {name:<45}  {got:<24} {'met' if ok else 'MISSED'}")
PY
