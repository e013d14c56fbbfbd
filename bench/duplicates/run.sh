#!/usr/bin/env bash
# Near-duplicate groups (bench/README.md, "Duplicate groups").
#   bench/duplicates/run.sh [--build DIR] [--n N] [--spec SPEC] [--dir DIR]
exec "$(dirname "$0")/../c_bench.sh" duplicates "$@"
