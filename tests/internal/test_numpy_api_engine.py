"""``npgrad.grad``'s backward calls autograd's engine directly where
``torch.autograd.grad`` would do nothing else: the same gradients, and
``torch.autograd.grad`` wherever it would do more."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import npgrad
from npgrad import _backward_passes


class _Counting:
    def __init__(self, engine):
        self.engine, self.calls = engine, 0

    def run_backward(self, *args):
        self.calls += 1
        return self.engine.run_backward(*args)


@pytest.fixture
def counted(monkeypatch):
    engine = _Counting(_backward_passes.ENGINE)
    monkeypatch.setattr(_backward_passes, "ENGINE", engine)
    return engine


def _f(x, y, unused):
    return np.sum(np.tanh(x) * y) + np.mean(y**2)


CASES = [
    pytest.param(np.float64, id="float64"),
    pytest.param(np.float32, id="float32"),
]


@pytest.mark.parametrize("dtype", CASES)
def test_the_direct_call_gives_torch_autograd_grads_answer(dtype, counted, monkeypatch):
    rng = np.random.default_rng(0)
    x, y, unused = (rng.normal(size=(5, 3)).astype(dtype) for _ in range(3))
    value, grads = npgrad.value_and_grad(_f, argnums=(0, 1, 2))(x, y, unused)
    assert counted.calls == 1
    monkeypatch.setattr(_backward_passes, "ENGINE", None)  # torch.autograd.grad's way
    ref_value, ref = npgrad.value_and_grad(_f, argnums=(0, 1, 2))(x, y, unused)
    assert value == ref_value
    for g, r in zip(grads, ref):
        assert g.dtype == r.dtype == dtype
        np.testing.assert_array_equal(g, r)
    np.testing.assert_array_equal(grads[2], np.zeros_like(unused))  # no path: zeros


def test_second_derivatives_and_vjps_keep_torch_autograd_grad(counted):
    x = np.linspace(-1.0, 1.0, 4)
    h = npgrad.hessian(lambda a: np.sum(np.sin(a) ** 3))(x)
    value, vjp = npgrad.vjp(np.sin, x)
    (g,) = vjp(np.ones(4))
    assert counted.calls == 0  # create_graph or a cotangent: torch.autograd.grad
    s, c = np.sin(x), np.cos(x)
    np.testing.assert_allclose(np.diag(h), 6 * s * c**2 - 3 * s**3, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(g, c, rtol=1e-12)


def test_where_torch_autograd_grad_does_more_it_runs(counted, monkeypatch):
    x = np.linspace(-1.0, 1.0, 6)
    # a torch.func level set (npgrad's own guard; torch refuses requires_grad_ there)
    monkeypatch.setattr(_backward_passes, "LEVEL", lambda: 1)
    np.testing.assert_allclose(npgrad.grad(lambda a: np.sum(a**3))(x), 3 * x**2, rtol=1e-12)
    assert counted.calls == 0
    monkeypatch.undo()

    class Seen(torch.overrides.TorchFunctionMode):
        calls = 0

        def __torch_function__(self, func, types, args=(), kwargs=None):
            Seen.calls += func is torch.autograd.grad
            return func(*args, **(kwargs or {}))

    with Seen():  # a torch function mode sees torch.autograd.grad's call, as before
        npgrad.grad(lambda a: np.sum(a**3))(x)
    assert Seen.calls == 1 and counted.calls == 0
    t = torch.zeros((), dtype=torch.float64)
    sub = torch.nn.Parameter(torch.zeros(2))  # a subclass: __torch_function__ to honour
    assert not _backward_passes.plain(torch.zeros(3), [t])  # not a scalar
    assert not _backward_passes.plain(t, [sub])
    assert _backward_passes.plain(t, [t])
