"""Property-based fuzzing: every mix of shapes, dtypes and arguments gives a correct
result or one of npgrad's clear errors, never a crash of another kind."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import npgrad
from npgrad.losses import mse

from .conftest import TOL

FLOATS = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
DTYPES = FLOATS + [torch.int64, torch.bool]
shapes = st.lists(st.integers(0, 4), min_size=0, max_size=3).map(tuple)


def _tensor(shape, dtype, seed, requires_grad):
    g = torch.Generator().manual_seed(seed)
    if dtype == torch.bool:
        return torch.randint(0, 2, shape, generator=g).bool()
    if dtype == torch.int64:
        return torch.randint(-3, 4, shape, generator=g)
    return torch.randn(shape, generator=g).to(dtype).requires_grad_(requires_grad)


def _tol(*dtypes):
    floats = [d for d in dtypes if d in FLOATS] or [torch.float64]
    loosest = max(floats, key=lambda d: TOL[d]["rtol"])
    return TOL[loosest]


CLEAR = (ValueError, TypeError, npgrad.NpgradError)


def _broadcastable(a, b):
    try:
        np.broadcast_shapes(a, b)
        return True
    except ValueError:
        return False


@settings(max_examples=80, deadline=None)
@given(
    sx=shapes,
    st_=shapes,
    dx=st.sampled_from(DTYPES),
    dt=st.sampled_from(DTYPES),
    rx=st.booleans(),
    rt=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_mse_any_mix(sx, st_, dx, dt, rx, rt, seed):
    x = _tensor(sx, dx, seed, rx)
    t = _tensor(st_, dt, seed + 1, rt)
    floats = [s for s, d in ((sx, dx), (st_, dt)) if d in FLOATS]
    refusable = 0 in sx or 0 in st_ or (len(floats) == 2 and sx != st_)
    try:
        out = mse(x, t)
    except CLEAR as e:
        named = "'mse'" in str(e) or any("'mse'" in n for n in getattr(e, "__notes__", []))
        assert named, f"the error does not name the op: {e!r}"
        if not refusable:
            # only NumPy itself may refuse the rest: bool subtraction, unbroadcastable shapes
            numpy_refuses = (dx == dt == torch.bool) or not _broadcastable(sx, st_)
            assert numpy_refuses, f"unexpected refusal: {e}"
        return
    assert not refusable, "mse accepted inputs it must refuse"
    ref = np.mean((x.detach().double().numpy() - t.detach().double().numpy()) ** 2)
    assert out.shape == ()
    floats = [d for d in (dx, dt) if d in FLOATS]
    if floats:
        # torch's promotion over the floating inputs, whatever their order (autocast)
        want = floats[0] if len(floats) == 1 else torch.promote_types(*floats)
        assert out.dtype == want
    torch.testing.assert_close(out.double(), torch.tensor(ref, dtype=torch.float64), **_tol(dx, dt))
    if out.requires_grad:
        out.backward()
        # the reference gradient: torch autograd in float64 on the same values
        x64 = x.detach().double().requires_grad_()
        t64 = t.detach().double().requires_grad_()
        ((x64 - t64) ** 2).mean().backward()
        for v, ref_grad in ((x, x64.grad), (t, t64.grad)):
            if v.requires_grad:
                assert v.grad is not None and v.grad.dtype == v.dtype and v.grad.shape == v.shape
                torch.testing.assert_close(v.grad.double(), ref_grad, **_tol(v.dtype))


@npgrad.function
def affine(x, w, *, shift=0.0):
    return x * w + shift


@affine.backward
def _affine_backward(g, x, w, out, *, shift):
    gx = g * w if np.ndim(w) else g * np.asarray(w, dtype=g.dtype)
    gw = np.sum(g * x, axis=tuple(range(g.ndim - np.ndim(w)))) if np.ndim(w) else None
    gx = np.sum(gx, axis=tuple(range(gx.ndim - x.ndim))) if gx.ndim > x.ndim else gx
    return gx.astype(x.dtype), None if gw is None else gw.astype(w.dtype)


@settings(max_examples=60, deadline=None)
@given(
    shape=st.lists(st.integers(1, 4), min_size=1, max_size=3).map(tuple),
    dtype=st.sampled_from(FLOATS),
    w_kind=st.sampled_from(["float", "int", "tensor"]),
    shift=st.floats(-2, 2),
    seed=st.integers(0, 2**16),
)
def test_function_with_scalar_and_tensor_arguments(shape, dtype, w_kind, shift, seed):
    x = _tensor(shape, dtype, seed, True)
    w = {"float": 1.5, "int": 2, "tensor": _tensor(shape[-1:], dtype, seed + 7, True)}[w_kind]
    try:
        y = affine(x, w, shift=shift)
    except CLEAR as e:
        pytest.fail(f"refused a valid call: {e}")
    rx = x.detach().double().requires_grad_()
    rw = w.detach().double().requires_grad_() if isinstance(w, torch.Tensor) else w
    ref = rx * rw + shift
    assert y.dtype == dtype and y.shape == x.shape
    torch.testing.assert_close(y.double(), ref.detach(), **TOL[dtype])
    y.double().sum().backward()
    ref.sum().backward()
    torch.testing.assert_close(x.grad.double(), rx.grad, **TOL[dtype])
    if isinstance(w, torch.Tensor):
        # w's gradient sums over the batch: the tolerance grows with the row count
        tol = {k: v * x[..., 0].numel() for k, v in TOL[dtype].items()}
        torch.testing.assert_close(w.grad.double(), rw.grad, **tol)
