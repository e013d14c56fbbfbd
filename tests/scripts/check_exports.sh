#!/usr/bin/env bash
# The shared library must export only cbir_* symbols (convention 12 of cbir.h).
set -euo pipefail
lib="$1"
bad=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVWiu]$/ {print $3}' | grep -v '^cbir_' || true)
count=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVWiu]$/' | grep -c ' cbir_' || true)
if [ -n "$bad" ]; then
  echo "libcbir exports symbols outside the cbir_ namespace:"; echo "$bad" | head -50; exit 1
fi
[ "$count" -gt 0 ] || { echo "libcbir exports no cbir_ symbols at all"; exit 1; }
echo "exported_symbols: $count cbir_* symbols, nothing else"
