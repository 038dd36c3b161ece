"""Regressions for the rules that had drifted apart before the registry (commit
847991f): each test here fails there.  Public API only, so the same file runs
against that tree (``PYTHONPATH=<old>/src``)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import npgrad


def _x():
    return torch.rand(3, 4, dtype=torch.float64, generator=torch.Generator().manual_seed(0))


OUT_CALLS = {
    "cumsum": lambda x, b: np.cumsum(x, out=b),
    "var": lambda x, b: np.var(x, out=b),
    "std": lambda x, b: np.std(x, out=b),
    "argmax": lambda x, b: np.argmax(x, out=b),
    "concatenate": lambda x, b: np.concatenate([x, x], out=b),
    "stack": lambda x, b: np.stack([x, x], out=b),
    "take": lambda x, b: np.take(x, [0, 1], out=b),
    "dot": lambda x, b: np.dot(x, x.T, out=b),
    "outer": lambda x, b: np.outer(x, x, out=b),
    "round": lambda x, b: np.round(x, 1, out=b),
    "quantile": lambda x, b: np.quantile(x, 0.5, out=b),
    "trace": lambda x, b: np.trace(x, out=b),
}


@pytest.mark.parametrize("name", sorted(OUT_CALLS))
def test_out_is_refused_not_ignored(name):
    def fn(x):
        return OUT_CALLS[name](x, np.zeros(1))

    with pytest.raises(npgrad.TraceError, match=rf"np\.{name}\(\.\.\., out="):
        npgrad.function(fn, name=f"drift_out_{name}")(_x())


DTYPE_CALLS = {
    "var": lambda x: np.var(x, dtype=np.float32),
    "std": lambda x: np.std(x, dtype=np.float32),
    "concatenate": lambda x: np.concatenate([x, x], dtype=np.float32),
}


@pytest.mark.parametrize("name", sorted(DTYPE_CALLS))
def test_dtype_keyword_is_honoured(name):
    seen = []

    def fn(x):
        y = DTYPE_CALLS[name](x)
        seen.append(y.dtype)
        return y

    npgrad.function(fn, name=f"drift_dtype_{name}")(_x())
    assert seen == [DTYPE_CALLS[name](_x().numpy()).dtype]


_I = np.arange(12).reshape(4, 3)  # int64, beside float32 arrays: NumPy gives float64
MIXED = {
    "dot": lambda x: np.dot(x, _I),
    "concatenate": lambda x: np.concatenate([x.reshape(-1), _I.reshape(-1)]),
    "einsum": lambda x: np.einsum("ij,jk->ik", x, _I),
}


@pytest.mark.parametrize("name", sorted(MIXED))
def test_int64_with_float32_promotes_to_float64(name):
    seen = []

    def fn(x):
        y = MIXED[name](x)
        seen.append(y.dtype)
        return y

    x = _x().float()
    npgrad.function(fn, name=f"drift_mixed_{name}")(x)
    assert seen == [MIXED[name](x.numpy()).dtype] == [np.dtype(np.float64)]


METHODS = {
    "argsort": lambda x: x.argsort(axis=0),
    "conjugate": lambda x: x.conjugate(),
    "mT": lambda x: x.mT,
}


@pytest.mark.parametrize("name", sorted(METHODS))
def test_methods_of_the_list(name):
    x = _x()
    got = npgrad.function(METHODS[name], name=f"drift_method_{name}")(x)
    np.testing.assert_array_equal(got.numpy(), METHODS[name](x.numpy()))
    # and the published list (generated from the registry) names it
    assert f"ndarray.{name}" in npgrad.supported()
