#!/usr/bin/env bash
# Builds bench/NAME/bench_NAME.c against a build's libcbir (when missing or older than its
# sources) and runs it with the remaining arguments, from the repository root.
#   bench/c_bench.sh NAME [--build DIR] [ARGS...]
set -euo pipefail
name="$1"; shift
root="$(cd "$(dirname "$0")/.." && pwd)"
build="$root/build"
if [ "${1:-}" = "--build" ]; then build="$(cd "$2" && pwd)"; shift 2; fi
lib="$build/lib"
[ -e "$lib/libcbir.so" ] || { echo "$name: no $lib/libcbir.so (cmake --build $build --target cbir)" >&2; exit 2; }
src="$root/bench/$name/bench_$name.c"
exe="$build/bench_$name"
if [ ! -x "$exe" ] || [ "$src" -nt "$exe" ] || [ "$lib/libcbir.so" -nt "$exe" ]; then
  gcc -O2 -std=c99 -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE "$src" -I"$root/include" \
      -L"$lib" -Wl,-rpath,"$lib" -lcbir -lm -o "$exe"
fi
cd "$root"
exec "$exe" "$@"
