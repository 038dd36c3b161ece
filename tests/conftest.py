"""Shared fixtures: the data root, devices, dtypes and the tolerance table."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

REPO = Path(__file__).resolve().parents[1]
DATA_ROOT = Path(os.environ.get("NPGRAD_TEST_DATA", REPO.parent / "shared" / "data"))

# One table of tolerances per dtype, for comparisons against torch's own ops
TOL = {
    torch.float16: dict(atol=2e-3, rtol=2e-3),
    torch.bfloat16: dict(atol=2e-2, rtol=2e-2),
    torch.float32: dict(atol=1e-6, rtol=1e-5),
    torch.float64: dict(atol=1e-12, rtol=1e-10),
}
# a float32 computation against NumPy's float64 one (sums of a few dozen terms)
FLOAT32_VS_FLOAT64 = dict(atol=1e-4, rtol=1e-4)

CUDA = torch.cuda.is_available()
DEVICES = [
    pytest.param("cpu", id="cpu"),
    pytest.param(
        "cuda", id="cuda", marks=pytest.mark.skipif(not CUDA, reason="no CUDA device here")
    ),
]
FLOAT_DTYPES = [
    pytest.param(d, id=str(d).removeprefix("torch."))
    for d in (torch.float16, torch.bfloat16, torch.float32, torch.float64)
]


def have_mnist() -> bool:
    raw = DATA_ROOT / "MNIST" / "raw"
    return all((raw / f).is_file() for f in ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"))


needs_mnist = pytest.mark.skipif(not have_mnist(), reason=f"MNIST not found under {DATA_ROOT}")


def quartic_with_torch_backward():
    """sum(x**4) in NumPy, with its backward written in torch ops (twice differentiable)."""
    import numpy as np

    import npgrad

    @npgrad.loss
    def quartic(x):
        return np.sum(x**4)

    @quartic.backward(torch_ops=True)
    def _(g, x, out):
        return 4 * x**3 * g

    return quartic


@pytest.fixture(params=DEVICES)
def device(request) -> str:
    return request.param


@pytest.fixture(params=FLOAT_DTYPES)
def dtype(request) -> torch.dtype:
    return request.param
