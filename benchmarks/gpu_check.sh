#!/usr/bin/env bash
# The prepared GPU check, for one run with the device tool (see benchmarks/README.md):
#   CUDA tests (dtype/device round trips, the target's gradient, no host copy in auto
#   mode), the founding experiment's bitwise parity on CUDA (numpy and numpy-auto),
#   and `npgrad bench --device cuda` (JSON). Everything lands in $OUT. Worst case about
#   9.5 minutes (the timeouts below); give the device call timeout_s=600.
set -uo pipefail
export PYTHONUNBUFFERED=1
OUT=${OUT:-/tmp/npgrad-gpu}
mkdir -p "$OUT" .devdata/root/MNIST/raw
for f in .devdata/*.gz; do gunzip -c "$f" > ".devdata/root/MNIST/raw/$(basename "$f" .gz)"; done
python3 -m pip install -q --no-deps --no-build-isolation -e . > "$OUT/pip.log" 2>&1 \
  || export PYTHONPATH="$PWD/src"
nvidia-smi --query-gpu=name,driver_version --format=csv,noheader | tee "$OUT/gpu.txt"
python3 -c "import torch, numpy; print('torch', torch.__version__, 'numpy', numpy.__version__)" | tee -a "$OUT/gpu.txt"
export NPGRAD_TEST_DATA="$PWD/.devdata/root"
timeout 180 python3 -m pytest -q -p no:cacheprovider tests/test_cuda.py tests/test_op.py \
  tests/test_losses.py tests/test_experiment.py -k "cuda" 2>&1 | tee "$OUT/pytest-cuda.log"
for impl in numpy numpy-auto; do
  timeout 90 python3 -m npgrad reproduce --data-dir .devdata/root --device cuda --no-plots \
    --loss-impl "$impl" --out "$OUT/repro-$impl" 2>&1 | tail -34 | tee "$OUT/repro-$impl.log"
done
timeout 200 python3 -m npgrad bench --device cuda --data-dir .devdata/root \
  --json "$OUT/bench-cuda.json" --plot "$OUT/bench-cuda.png" 2>&1 | tee "$OUT/bench.log"
