"""NumPy's own CPU kernels (``npgrad._mappings.host``: tanh, arctan, log1p, expm1, exp,
log): NumPy's values, torch's derivatives, and torch's function wherever values
cannot be read."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import npgrad
from npgrad._mappings import host

from ..conftest import TOL

# each function on its domain: (low, high) of a uniform draw, or None for 2 * normal
PAIRS = [
    pytest.param(np.tanh, torch.tanh, id="tanh"),
    pytest.param(np.arctan, torch.atan, id="arctan"),
    pytest.param(np.log1p, torch.log1p, id="log1p"),
    pytest.param(np.expm1, torch.expm1, id="expm1"),
    pytest.param(np.exp, torch.exp, id="exp"),
    pytest.param(np.log, torch.log, id="log"),
]
_DOMAIN = {np.log1p: (-0.9, 3.0), np.log: (0.1, 3.0), np.exp: (-2.0, 2.0), np.expm1: (-2.0, 2.0)}
DTYPES = [pytest.param(d, id=np.dtype(d).name) for d in (np.float32, np.float64)]
# torch's forward-mode decompositions load through torch.jit.script, which warns
JIT_WARNING = pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")
BIG = (256, 160)  # above every row's threshold (exp and log: four times HOST_MIN)
assert BIG[0] * BIG[1] >= 4 * host.HOST_MIN


def _x(fn, dtype, shape=BIG, seed=0):
    rng = np.random.default_rng(seed)
    lo_hi = _DOMAIN.get(fn)
    x = rng.normal(size=shape) * 2 if lo_hi is None else rng.uniform(*lo_hi, size=shape)
    return x.astype(dtype)


def _loss(fn):
    return lambda a: np.sum(fn(a) ** 2)


@pytest.mark.parametrize("fn, tfn", PAIRS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_the_value_is_numpys_and_the_gradient_torchs(fn, tfn, dtype):
    x = _x(fn, dtype)
    op = npgrad.function(fn, name="act", mode="auto")
    xt = torch.tensor(x, requires_grad=True)
    y = op(xt)
    assert np.array_equal(y.detach().numpy(), fn(x))  # NumPy's kernel, bit for bit
    (g,) = torch.autograd.grad((y**2).sum(), xt)
    xr = torch.tensor(x, requires_grad=True)
    (gr,) = torch.autograd.grad((tfn(xr) ** 2).sum(), xr)
    torch.testing.assert_close(g, gr, **TOL[gr.dtype])


@pytest.mark.parametrize("fn, tfn", PAIRS)
def test_second_derivatives_match_torchs(fn, tfn):
    x, v = _x(fn, np.float64), _x(fn, np.float64, seed=1)
    hv = npgrad.hvp(_loss(fn))(x, v)
    xt = torch.tensor(x, requires_grad=True)
    (g,) = torch.autograd.grad((tfn(xt) ** 2).sum(), xt, create_graph=True)
    (ref,) = torch.autograd.grad(g, xt, torch.tensor(v))
    np.testing.assert_allclose(hv, ref.numpy(), **TOL[torch.float64])


@pytest.mark.parametrize("fn, tfn", PAIRS)
def test_the_gradient_matches_float64_central_differences(fn, tfn):
    x = _x(fn, np.float64)
    g = npgrad.grad(_loss(fn))(x)
    rng = np.random.default_rng(1)
    for _ in range(5):
        d = rng.normal(size=x.shape)
        h = 1e-6
        fd = (_loss(fn)(x + h * d) - _loss(fn)(x - h * d)) / (2 * h)
        assert abs(np.sum(g * d) - fd) <= 1e-6 * max(1.0, abs(fd))


@JIT_WARNING
@pytest.mark.parametrize("fn, tfn", PAIRS)
def test_where_values_cannot_be_read_torchs_function_runs(fn, tfn):
    x = torch.tensor(_x(fn, np.float64))
    op = npgrad.function(fn, name="act", mode="auto")
    # torch.func: vmap, jvp and grad see torch's function (and its derivative)
    torch.testing.assert_close(torch.func.vmap(op)(x), tfn(x), **TOL[x.dtype])
    t = torch.ones_like(x)
    _, tangent = torch.func.jvp(op, (x,), (t,))
    _, ref = torch.func.jvp(tfn, (x,), (t,))
    torch.testing.assert_close(tangent, ref, **TOL[x.dtype])


@JIT_WARNING
@pytest.mark.parametrize("fn, tfn", PAIRS)
def test_forward_mode_ad_keeps_the_tangent(fn, tfn):
    import torch.autograd.forward_ad as fwad

    x, v = torch.tensor(_x(fn, np.float64)), torch.tensor(_x(fn, np.float64, seed=1))
    op = npgrad.function(fn, name="act", mode="auto")
    with fwad.dual_level():
        tangent = fwad.unpack_dual(op(fwad.make_dual(x, v))).tangent
    assert tangent is not None  # a host value would have dropped it
    _, ref = torch.func.jvp(tfn, (x,), (v,))
    torch.testing.assert_close(tangent, ref, **TOL[x.dtype])


@pytest.mark.parametrize("fn, tfn", PAIRS)
def test_small_half_and_strided_arrays(fn, tfn):
    op = npgrad.function(fn, name="act", mode="auto")
    small = torch.tensor(_x(fn, np.float64, (16,)))
    torch.testing.assert_close(op(small), tfn(small), **TOL[small.dtype])
    half = torch.tensor(_x(fn, np.float32)).to(torch.bfloat16)
    torch.testing.assert_close(op(half), tfn(half), **TOL[torch.bfloat16])
    strided = torch.tensor(_x(fn, np.float32, (512, 160))).t()[::2]  # transposed, stepped
    assert np.array_equal(op(strided).numpy(), fn(strided.numpy()))


def test_no_numpy_warning_escapes_and_nonfinite_values_meet_the_policy():
    x = _x(np.tanh, np.float64)
    x[0, 0] = np.nan
    with np.errstate(all="raise"):  # the user's NumPy error state is not the row's
        op = npgrad.function(np.tanh, name="act", mode="auto", nonfinite="ignore")
        assert torch.isnan(op(torch.tensor(x))[0, 0])
    strict = npgrad.function(np.tanh, name="act", mode="auto", nonfinite="raise")
    with pytest.raises(FloatingPointError, match="act"):
        strict(torch.tensor(x, requires_grad=True))


@pytest.mark.parametrize("fn, tfn", PAIRS)
def test_an_in_place_write_into_the_output_is_allowed_or_refused_as_torch(fn, tfn):
    # torch keeps the output for tanh, expm1 and exp, the input for the others: a
    # write into the output after the forward is refused, or not, alike at any size
    def outcome(f, x):
        x = x.clone().requires_grad_()
        y = f(x)
        y.mul_(2)
        try:
            y.sum().backward()
        except RuntimeError as e:
            assert "inplace operation" in str(e)
            return "refused"
        return x.grad

    op = npgrad.function(fn, name="act", mode="auto")
    x = torch.tensor(_x(fn, np.float64))
    ours, theirs = outcome(op, x), outcome(tfn, x)
    if isinstance(theirs, str):
        assert ours == theirs
    else:
        torch.testing.assert_close(ours, theirs, **TOL[x.dtype])
