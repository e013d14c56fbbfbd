#!/usr/bin/env bash
# Filtered search (bench/README.md, "Filtered search").
#   bench/filter/run.sh [--build DIR] [--n N] [--spec SPEC] [--queries Q] [--dir DIR]
exec "$(dirname "$0")/../c_bench.sh" filter "$@"
