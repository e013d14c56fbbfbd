#!/usr/bin/env bash
# The CUDA path, checked on a machine with an NVIDIA GPU and a current PyTorch from pip (its
# LibTorch is what cbir builds against there), from the repository root:
#
#   tools/gpu/check.sh OUT_DIR [DEBS_DIR] [GOLDEN_DIR]
#
# 1. tools/export on that torch: its pytest suite (the --half test runs only with CUDA) and
#    make_test_models.py (which adds an --half bundle when CUDA is visible);
# 2. cbir built against that LibTorch (CBIR_WITH_CUDA), its other dependencies unpacked from
#    Debian 12 .debs in DEBS_DIR (tools/gpu/unpack_debs.sh) when the machine lacks them;
# 3. the model tests with CBIR_TEST_DEVICE=cuda:0 (parity with Python, batches 1/3/8, fp32/fp16/
#    bf16 against the CPU, auto and absent devices, C API with per-item statuses), and the
#    parity test again on the CPU;
# 4. if DEBS_DIR/../models113 holds bundles made by Debian's torch 1.13, the parity test on them;
# 5. tools/gpu/bench_gpu.py: full-size ViT-B-16 images/s and text latency, cbir vs Python.
# Logs go to OUT_DIR (a summary on stdout); torch-2.x tiny bundles to OUT_DIR/bundles_torch2.tgz.
set -uo pipefail
out=$(mkdir -p "$1" && cd "$1" && pwd)
debs=$(cd "${2:-.gpu/debs}" 2>/dev/null && pwd || true)
golden=$(cd "${3:-.gpu/golden}" 2>/dev/null && pwd || true)
root=$(pwd)
work=/tmp/cbir-gpu
build=$work/build models=$work/models deps=$work/deps
mkdir -p "$work"
failed=()
t_start=$(date +%s)
say() { echo "[$(( $(date +%s) - t_start ))s] $*"; }
# run NAME LOG CMD...: runs CMD with its output in LOG, says how it ended.
run() {
  local name=$1 logf=$2; shift 2
  say "$name: start"
  if "$@" >>"$logf" 2>&1; then say "$name: ok"; else say "$name: FAILED (rc $?, see $(basename "$logf"))"; failed+=("$name"); return 1; fi
}

say "machine: $(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>&1)"
say "python: $(command -v python3), $(python3 -c 'import torch, sys; print("torch", torch.__version__, "cuda", torch.version.cuda, "available", torch.cuda.is_available(), "python", sys.version.split()[0])' 2>&1)"
if ! command -v nvcc >/dev/null; then
  for d in /usr/local/cuda/bin /usr/local/cuda-*/bin; do [ -x "$d/nvcc" ] && export PATH=$d:$PATH && break; done
fi
say "nvcc: $(command -v nvcc) $(nvcc --version 2>/dev/null | tail -1); cmake $(cmake --version | head -1); $(c++ --version | head -1)"

export OMP_NUM_THREADS=2  # the Python jobs share 16 cores with the compiler
export CBIR_GOLDEN_DIR=${golden:-/nonexistent}
( run make_test_models "$out/python.log" python3 tools/export/make_test_models.py "$models" \
      --golden "${golden:-none}"; echo $? > "$work/models.rc" ) &
models_job=$!
( run export_pytest "$out/pytest.log" python3 -m pytest -q -rs -p no:cacheprovider \
      -n 4 tools/export/tests; echo $? > "$work/pytest.rc" ) &
pytest_job=$!

if [ -n "$debs" ]; then
  run unpack_debs "$out/build.log" tools/gpu/unpack_debs.sh "$debs" "$deps" && source "$deps/env.sh"
fi
torch_prefix=$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')
run configure "$out/build.log" cmake -S "$root" -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
  "-DCMAKE_PREFIX_PATH=$deps/usr;$torch_prefix" -DCMAKE_CUDA_ARCHITECTURES=90 \
  -DCMAKE_POLICY_VERSION_MINIMUM=3.5 -DCBIR_PYTHON="$(command -v python3)"
grep -E "cbir: LibTorch|CUDA detected|Caffe2" "$out/build.log" | head -5
run build "$out/build.log" cmake --build "$build" -j 12 --target cbir test_model_bundle \
  test_model_parity test_model_capi -- -k 0
bin=$build/tests
[ -x "$bin/test_model_parity" ] || bin=$(dirname "$(find "$build" -name test_model_parity -type f | head -1)")

wait $models_job
[ "$(cat "$work/models.rc" 2>/dev/null)" = 0 ] || failed+=(make_test_models)
export CBIR_TEST_MODELS=$models
unset OMP_NUM_THREADS
cxx=$out/cxx_tests.log
for t in test_model_bundle test_model_parity test_model_capi; do
  echo "### $t on cuda:0" >>"$cxx"
  run "$t cuda:0" "$cxx" env CBIR_TEST_DEVICE=cuda:0 "$bin/$t"
done
echo "### test_model_parity on the CPU" >>"$cxx"
run "test_model_parity cpu" "$cxx" env CBIR_TEST_DEVICE= "$bin/test_model_parity"
grep -E "^cuda (fp32|fp16|bf16)" "$cxx"
grep -E "^(All tests passed|test cases:)" "$cxx"

if [ -n "$debs" ] && [ -f "$debs/../models113/index.json" ]; then
  old=$work/models113
  rm -rf "$old" && cp -r "$debs/../models113" "$old"
  sed -i "s#\"rgb\": \"[^\"]*/golden/#\"rgb\": \"$golden/#" "$old"/*/reference.json
  echo "### torch 1.13 bundles, test_model_parity on cuda:0 and on the CPU" >>"$cxx"
  run "torch-1.13 bundles cuda:0" "$cxx" env CBIR_TEST_MODELS="$old" CBIR_TEST_DEVICE=cuda:0 \
      "$bin/test_model_parity"
  run "torch-1.13 bundles cpu" "$cxx" env CBIR_TEST_MODELS="$old" CBIR_TEST_DEVICE= \
      "$bin/test_model_parity"
fi
tar czf "$out/bundles_torch2.tgz" -C "$models" index.json cnclip-vit cnclip-rn cnclip-vit-fp16 \
  dinov2-reg-mean_all 2>/dev/null

if [ -f "$build/lib/libcbir.so" ]; then
  cc -std=c99 -O2 bench/model/bench_model.c -Iinclude -L"$build/lib" -lcbir \
     -Wl,-rpath,"$build/lib" -o "$work/bench_model" &&
  run bench "$out/bench.log" python3 tools/gpu/bench_gpu.py "$work/bench" "$work/bench_model" \
      --golden "${golden:-none}" && sed -n '/^| side/,$p' "$out/bench.log"
fi

wait $pytest_job
[ "$(cat "$work/pytest.rc" 2>/dev/null)" = 0 ] || failed+=(export_pytest)
tail -3 "$out/pytest.log"
say "done; failed: ${failed[*]:-none}"
