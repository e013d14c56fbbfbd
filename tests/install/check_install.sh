#!/usr/bin/env bash
# Installs the build into a scratch prefix, then builds a C99 consumer two ways:
# with pkg-config (cbir.pc) and with CMake's find_package(cbir). Both must link and run.
set -euo pipefail
build="$1"; work="$2"
here="$(cd "$(dirname "$0")" && pwd)"
rm -rf "$work"; mkdir -p "$work"
prefix="$work/prefix"
cmake --install "$build" --prefix "$prefix" >"$work/install.log"
libdir=$(dirname "$(find "$prefix" -name 'libcbir.so' | head -1)")

export PKG_CONFIG_PATH="$libdir/pkgconfig"
cc -std=c99 -pedantic -Wall -Werror "$here/consumer.c" -o "$work/consumer_pc" \
   $(pkg-config --cflags --libs cbir) -Wl,-rpath,"$libdir"
"$work/consumer_pc"

cmake -S "$here/cmake_consumer" -B "$work/cmake_build" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_BUILD_RPATH="$libdir" >"$work/configure.log"
cmake --build "$work/cmake_build" >"$work/build.log"
"$work/cmake_build/consumer"
echo "install_consumers: pkg-config and find_package consumers both work"
