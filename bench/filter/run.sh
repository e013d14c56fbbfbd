#!/usr/bin/env bash
# Builds bench_filter against a build's libcbir and runs it (bench/README.md, "Filtered search").
#   bench/filter/run.sh [--build DIR] [--n N] [--spec SPEC] [--queries Q] [--dir DIR]
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$root/build"
if [ "${1:-}" = "--build" ]; then build="$(cd "$2" && pwd)"; shift 2; fi
lib="$build/lib"
[ -e "$lib/libcbir.so" ] || { echo "run.sh: no $lib/libcbir.so (cmake --build $build --target cbir)" >&2; exit 2; }
exe="$build/bench_filter"
if [ ! -x "$exe" ] || [ "$root/bench/filter/bench_filter.c" -nt "$exe" ] || [ "$lib/libcbir.so" -nt "$exe" ]; then
  gcc -O2 -std=c99 -D_POSIX_C_SOURCE=200809L "$root/bench/filter/bench_filter.c" -I"$root/include" \
      -L"$lib" -Wl,-rpath,"$lib" -lcbir -lm -o "$exe"
fi
cd "$root"
exec "$exe" "$@"
