#!/usr/bin/env bash
# The GPU check (issue 22): one script for a machine with one NVIDIA GPU, under 8 minutes.
#   1. the test suite on the device (KT_TEST_DEVICE, default cuda): every parity test with its fixtures on the GPU,
#      TF32 off, and torch.cuda.set_sync_debug_mode("error") around every forward and backward (tests/conftest.py);
#   2. the model benchmarks (benchmarks/bench_gpu.py): ResNet50 / MobileNetV2 / EfficientNetB0, batch 1/8/64, fp32
#      and AMP, kerastorch vs torch.nn twins, CUDA-event timings.
# Writes tests.log, table.md and summary.md into $OUT_DIR (default $OUT, else benchmarks/gpu_check_out).
# Smoke run on a CPU machine (same steps, a test subset and small images):
#   KT_TEST_DEVICE=cpu bash benchmarks/gpu_check.sh
set -uo pipefail
cd "$(dirname "$0")/.."
DEV=${KT_TEST_DEVICE:-cuda}
OUT_DIR=${OUT_DIR:-${OUT:-benchmarks/gpu_check_out}}
PY=${PYTHON:-$( [ -x .venv/bin/python ] && echo .venv/bin/python || echo python3 )}
mkdir -p "$OUT_DIR"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}" PYTHONUNBUFFERED=1 KT_TEST_DEVICE="$DEV"

if [ "$DEV" = cpu ]; then
    TESTS=${TESTS:-"tests/torch_integration/test_device_path.py tests/core"}
    BENCH_ARGS=${BENCH_ARGS:-"--models MobileNetV2 --size 32 --batches 1 2 --reps 2"}
    TEST_BUDGET=${TEST_BUDGET:-300}
else
    TESTS=${TESTS:-tests}
    BENCH_ARGS=${BENCH_ARGS:-"--size 224 --batches 1 8 64 --reps 30"}
    TEST_BUDGET=${TEST_BUDGET:-270}
fi
XDIST=$("$PY" -c "import xdist" 2>/dev/null && echo "-n 8" || echo "")

"$PY" -c "import torch; print('torch', torch.__version__, '| cuda:', torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else '')"
start=$(date +%s)
# shellcheck disable=SC2086
timeout "$TEST_BUDGET" "$PY" -m pytest -q -p no:cacheprovider $XDIST $TESTS 2>&1 | tee "$OUT_DIR/tests.log" | tail -n 40
test_rc=${PIPESTATUS[0]}
mid=$(date +%s)
# shellcheck disable=SC2086
timeout 240 "$PY" benchmarks/bench_gpu.py --device "$DEV" --out "$OUT_DIR/table.md" $BENCH_ARGS
bench_rc=$?
end=$(date +%s)

{
    echo "# GPU check on $DEV"
    echo
    echo "- tests ($TESTS): exit $test_rc in $((mid - start)) s: $(grep -E '[0-9]+ (passed|failed)' "$OUT_DIR/tests.log" | tail -n 1)"
    echo "- benchmarks: exit $bench_rc in $((end - mid)) s"
    echo
    [ -f "$OUT_DIR/table.md" ] && cat "$OUT_DIR/table.md"
} > "$OUT_DIR/summary.md"
cat "$OUT_DIR/summary.md"
[ "$test_rc" = 0 ] && [ "$bench_rc" = 0 ]
