#!/usr/bin/env bash
# The prepared GPU check, for one run with the device tool (see benchmarks/README.md):
#   CUDA tests (dtype/device round trips, the target's gradient, no host copy in auto
#   mode, CUDA graphs), the founding experiment's bitwise parity on CUDA (numpy and
#   numpy-auto), and `npgrad bench --device cuda` (JSON and plot).
# The device tool brings back at most 8 files from $OUT, so exactly 8 are written there:
#   gpu.txt pytest-cuda.log repro.log report-numpy.json report-numpy-auto.json
#   bench.log bench-cuda.json bench-cuda.png
# Worst case about 8.5 minutes (the timeouts below); give the call timeout_s=600.
set -uo pipefail
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/npgrad-gpu}
WORK=$(mktemp -d)  # MNIST unpacked and the runs' other files: outside the tree and $OUT
mkdir -p "$OUT" "$WORK/root/MNIST/raw"
for f in .devdata/*-ubyte.gz; do gunzip -c "$f" > "$WORK/root/MNIST/raw/$(basename "$f" .gz)"; done
{
  nvidia-smi --query-gpu=name,driver_version --format=csv,noheader
  python3 -c "import torch, numpy; print('torch', torch.__version__, 'numpy', numpy.__version__)"
  python3 -m pip install -q --no-deps --no-build-isolation -e . > "$WORK/pip.log" 2>&1 \
    && echo "npgrad installed" || { echo "pip failed, using PYTHONPATH:"; tail -5 "$WORK/pip.log"; }
} 2>&1 | tee "$OUT/gpu.txt"
python3 -c "import npgrad" 2>/dev/null || export PYTHONPATH="$PWD/src"
export NPGRAD_TEST_DATA="$WORK/root"
# -W default: a warning new in this torch/NumPy is shown, not turned into a failure
timeout 150 python3 -m pytest -q -p no:cacheprovider -W default -rs tests/test_cuda.py \
  tests/test_op.py tests/test_losses.py tests/test_trace.py tests/test_transforms.py \
  tests/test_experiment.py tests/test_numpy_api.py tests/test_scipy_functions.py \
  tests/test_inplace.py tests/internal/test_records.py -k "cuda" \
  2>&1 | tee "$OUT/pytest-cuda.log"
for impl in numpy numpy-auto; do
  timeout 75 python3 -m npgrad reproduce --data-dir "$WORK/root" --device cuda --no-plots \
    --loss-impl "$impl" --out "$WORK/repro-$impl" 2>&1 | tail -34 | tee -a "$OUT/repro.log"
  cp "$WORK/repro-$impl/report.json" "$OUT/report-$impl.json" 2>/dev/null
done
timeout 200 python3 -m npgrad bench --device cuda --data-dir "$WORK/root" \
  --json "$OUT/bench-cuda.json" --plot "$OUT/bench-cuda.png" 2>&1 | tee "$OUT/bench.log"
ls "$OUT"
