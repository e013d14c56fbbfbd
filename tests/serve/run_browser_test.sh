#!/usr/bin/env bash
# CTest's entry for browser_test.mjs: installs playwright-core (pinned by package-lock.json) with
# npm ci when it is missing, then runs the test on the default model and gallery.
# usage: run_browser_test.sh CBIR_BIN OUT_DIR [MODEL_DIR] [DATA_DIR]; exit 77 = skipped.
# Under CI (CI=true or 1) a missing dependency is a failure, never a skip: CI must run this test.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(cd "$here/../.." && pwd)"
cbir="$1"
out="$2"
model="${3:-$repo/models/tiny-bilingual}"
data="${4:-$repo/examples/data}"

case "${CI:-}" in true|1) export CBIR_NO_SKIP=1 ;; esac
skip() {
  if [ -n "${CBIR_NO_SKIP:-}" ]; then echo "FAIL (CI=$CI, so no skipping): $*"; exit 1; fi
  echo "SKIP: $*"; exit 77
}
command -v node >/dev/null || skip "node is not installed (scripts/setup installs nodejs)"
if [ ! -f "$here/node_modules/playwright-core/package.json" ]; then
  command -v npm >/dev/null || skip "npm is not installed (scripts/setup installs it)"
  (cd "$here" && npm ci --no-audit --no-fund --loglevel=error) ||
    skip "npm ci could not install playwright-core (no access to the npm registry?)"
fi
exec node "$here/browser_test.mjs" --cbir "$cbir" --model "$model" --data "$data" --out "$out"
