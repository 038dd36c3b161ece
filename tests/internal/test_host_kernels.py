"""NumPy's own CPU kernels (``npgrad._mappings.host``: tanh, arctan, log1p, expm1, exp,
log): NumPy's values, torch's derivatives, and torch's function wherever values
cannot be read.  The rows run only where NumPy has its fast loops (``host.ENABLED``);
these tests switch them on, so that they are tested on every machine, except the
ones about the switch."""

from __future__ import annotations

import os
import subprocess
import sys

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


@pytest.fixture(autouse=True)
def host_kernels_on(request, monkeypatch):
    if "switch" not in request.node.name:
        monkeypatch.setattr(host, "ENABLED", True)


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


@pytest.mark.parametrize("fn, tfn", PAIRS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_switched_off_the_value_is_torchs_function(fn, tfn, dtype, monkeypatch):
    monkeypatch.setattr(host, "ENABLED", False)
    x = torch.tensor(_x(fn, dtype), requires_grad=True)
    y = npgrad.function(fn, name="act", mode="auto")(x)
    assert y.grad_fn is not None and "Host" not in type(y.grad_fn).__name__
    assert torch.equal(y, tfn(x))


def test_the_switch_reads_the_setting_and_warns_of_a_bad_one():
    assert host._enabled("on") is True and host._enabled(" OFF ") is False
    assert host._enabled(None) is host._enabled("auto") is host.numpy_has_fast_loops()
    with pytest.warns(RuntimeWarning, match="NPGRAD_HOST_KERNELS.*'fast'.*'auto' is used"):
        assert host._enabled("fast") is host.numpy_has_fast_loops()


@pytest.mark.parametrize("setting", ["on", "off", "fast"])
def test_the_switch_is_read_when_a_process_starts(setting):
    code = (
        "import warnings, numpy as np, torch, npgrad\n"
        "warnings.simplefilter('always')\n"
        "with warnings.catch_warnings(record=True) as w:\n"
        "    from npgrad._mappings import host\n"
        "x = torch.rand(256, 160, dtype=torch.float64, requires_grad=True)\n"
        "y = npgrad.function(np.tanh, mode='auto')(x)\n"
        "print(host.ENABLED, type(y.grad_fn).__name__, len(w))"
    )
    env = {**os.environ, "NPGRAD_HOST_KERNELS": setting}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    enabled, node, warned = out.stdout.split()
    want = {"on": True, "off": False, "fast": host.numpy_has_fast_loops()}[setting]
    assert enabled == str(want) and ("Host" in node) is want
    assert warned == ("1" if setting == "fast" else "0")


def test_the_switch_follows_numpys_cpu_features_and_build(monkeypatch):
    from numpy._core import _multiarray_umath as umath

    cpu = dict(umath.__cpu_features__)
    monkeypatch.setattr(host.sys, "platform", "linux")
    monkeypatch.setattr(host.platform, "machine", lambda: "x86_64")
    for has, built, want in [
        (True, ("X86_V4",), True),
        (True, (), False),
        (False, ("X86_V4",), False),
        (True, ("AVX512_SKX",), True),  # NumPy 2.0 to 2.3's name
    ]:
        monkeypatch.setattr(umath, "__cpu_features__", {**cpu, "AVX512_SKX": has, "X86_V4": has})
        monkeypatch.setattr(umath, "__cpu_baseline__", ["X86_V2"])
        monkeypatch.setattr(umath, "__cpu_dispatch__", ["X86_V3", *built])
        assert host.numpy_has_fast_loops() is want
    # SVML is linked on x86-64 Linux only: elsewhere NumPy's loops are the slow ones
    monkeypatch.setattr(host.sys, "platform", "darwin")
    assert host.numpy_has_fast_loops() is False


@pytest.mark.parametrize("shape", [(6,), BIG], ids=["torch-route", "host-route"])
def test_expm1s_gradient_keeps_its_digits_in_the_left_tail(shape):
    # d/dx expm1(x) is exp(x); torch's (expm1(x) + 1) loses relative digits left of 0
    # (5e-8 at -20) and is exactly 0 past about -37
    points = np.array([-50.0, -37.5, -20.0, -1e-3, 0.5, 30.0])
    x = np.resize(points, shape)
    g = npgrad.grad(lambda a: np.sum(np.expm1(a)))(x)
    np.testing.assert_allclose(g, np.exp(x), rtol=4e-16, atol=0)
    # the derivative differentiates too: the second derivative is exp(x) as well
    h = npgrad.grad(lambda a: np.sum(npgrad.grad(lambda b: np.sum(np.expm1(b)))(a)))(x)
    np.testing.assert_allclose(h, np.exp(x), rtol=4e-16, atol=0)
    value = npgrad.value_and_grad(lambda a: np.sum(np.expm1(a)))(x)[0]
    np.testing.assert_allclose(value, np.sum(np.expm1(x)), rtol=1e-15)
