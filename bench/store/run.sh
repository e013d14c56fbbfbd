#!/usr/bin/env bash
# Builds bench_store against a build's libcbir (and Debian's FAISS) and runs it.
#   bench/store/run.sh [--build DIR] [bench_store options]    (see bench/README.md, "Collection")
# The build needs libcbir: cmake --build DIR --target cbir
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
build="$root/build"
if [ "${1:-}" = "--build" ]; then build="$(cd "$2" && pwd)"; shift 2; fi
lib="$build/lib"
[ -e "$lib/libcbir.so" ] || { echo "run.sh: no $lib/libcbir.so (cmake --build $build --target cbir)" >&2; exit 2; }
exe="$build/bench_store"
if [ ! -x "$exe" ] || [ "$root/bench/store/bench_store.cpp" -nt "$exe" ] || [ "$lib/libcbir.so" -nt "$exe" ]; then
  g++ -O2 -std=c++17 -fopenmp "$root/bench/store/bench_store.cpp" -I"$root/include" \
      -L"$lib" -Wl,-rpath,"$lib" -lcbir -lfaiss -lblas -llapack -o "$exe"
fi
exec "$exe" "$@"
