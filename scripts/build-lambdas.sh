#!/usr/bin/env bash
# Build the Lambda functions (api, webhook, step, sweeper, render) as `bootstrap` zips with
# cargo-lambda, for arm64 by default (`--x86_64` for the other architecture), and print each
# binary's size. They use the `lambda-release` profile (built for size: opt-level "s", fat LTO,
# one codegen unit; see Cargo.toml). cargo-lambda and zig come from PyPI into a virtualenv
# outside the repo.
# Output: target/lambda/<function>/bootstrap.zip (what `sam deploy` / `sam build` upload), or
# under $MYLOWARE_LAMBDA_DIR.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

arch_flag=--arm64 target=aarch64-unknown-linux-gnu
if [ "${1:-}" = "--x86_64" ]; then arch_flag=--x86-64 target=x86_64-unknown-linux-gnu; fi
functions=(api webhook step sweeper render)

tools="${MYLOWARE_TOOLS_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/myloware-tools}"
if [ ! -x "$tools/bin/cargo-lambda" ]; then
  echo "installing cargo-lambda (with zig) into $tools" >&2
  [ -x "$tools/bin/pip" ] || python3 -m venv "$tools"
  "$tools/bin/pip" install -q --disable-pip-version-check "cargo-lambda==1.9.2"
fi
export PATH="$tools/bin:$PATH"
rustup target add "$target" >/dev/null 2>&1 || true

bins=()
for f in "${functions[@]}"; do bins+=(--bin "$f"); done
started=$(date +%s)
lambda_dir="${MYLOWARE_LAMBDA_DIR:-target/lambda}"
cargo lambda build --profile lambda-release "$arch_flag" --output-format zip --lambda-dir "$lambda_dir" "${bins[@]}" >&2
echo "built ${#functions[@]} functions for $target in $(( $(date +%s) - started )) s"
printf '%-8s %12s %12s\n' function bootstrap zip
for f in "${functions[@]}"; do
  zip="$lambda_dir/$f/bootstrap.zip"
  [ -f "$zip" ] || { echo "missing $zip" >&2; exit 1; }
  size=$(python3 -c 'import sys, zipfile; print(zipfile.ZipFile(sys.argv[1]).getinfo("bootstrap").file_size)' "$zip")
  printf '%-8s %12s %12s\n' "$f" "$size" "$(stat -c %s "$zip")"
done
