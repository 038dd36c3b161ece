"""Automatic mode: plain NumPy code gets exact gradients, or an honest error."""

from __future__ import annotations

import re

import numpy as np
import pytest
import scipy.signal as sg
import scipy.special as sp
import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode

import npgrad

from .conftest import REPO, TOL

# NumPy expressions on x (shape (3, 4), values in (0.2, 1.2)) and y (shape (4,)):
# auto mode must give NumPy's own value and a gradient that passes npgrad.check
EXPRESSIONS = {
    "arith": lambda x, y: np.sum((x * 2 - y) / (1 + x) ** 1.5),
    "ufuncs": lambda x, y: np.sum(np.exp(-x) + np.log1p(x) + np.sqrt(x) + np.tanh(y)),
    "trig": lambda x, y: np.sum(np.sin(x) * np.cos(y) + np.arctan2(x, y + 2)),
    "minmax": lambda x, y: np.sum(np.maximum(x, 0.7) + np.minimum(x, y) + np.clip(x, 0.3, 0.9)),
    "reductions": lambda x, y: np.mean(x, axis=0) @ y + np.max(x, axis=1).sum() + x.std(),
    "var-prod": lambda x, y: np.var(x, axis=1, ddof=1).sum() + np.prod(x[0]),
    "matmul": lambda x, y: np.sum(x @ y) + np.dot(x, y).sum() + np.einsum("ij,j->", x, y),
    "shapes": lambda x, y: np.sum(
        x.T.reshape(2, 6)[:, ::2] * np.expand_dims(y[:3], 0) + np.squeeze(x[:1]).sum()
    ),
    "stack-concat": lambda x, y: (
        np.sum(np.concatenate([x, y[None]], 0) ** 2) + np.stack([y, y * 2]).sum()
    ),
    "indexing": lambda x, y: x[1, 2] + x[x > 0.5].sum() + x[[0, 2], 1:3].sum() + x[..., -1].sum(),
    "reverse": lambda x, y: np.sum(x[::-1, ::2] * np.arange(1, 3)) + y[::-1] @ y,
    "where": lambda x, y: np.sum(np.where(x > 0.6, x**2, -x)),
    "sort-cumsum": lambda x, y: np.sum(np.sort(x, axis=1) * np.arange(4)) + np.cumsum(y).sum(),
    "take-along": lambda x, y: (
        np.sum(np.take_along_axis(x, np.array([[0], [3], [1]]), axis=1))
        + np.sum(np.take_along_axis(x, np.array([[-1, 0, 0]]), axis=1) * np.arange(3))
        + np.sum(np.take_along_axis(x, np.array([0, 11, -1]), axis=None) ** 2)
    ),
    "norm": lambda x, y: np.linalg.norm(x) + np.linalg.norm(y, 1) + np.linalg.norm(x, axis=1).sum(),
    "fft": lambda x, y: np.sum(np.abs(np.fft.rfft(x, axis=1))) + np.sum(np.fft.fft(y).real),
    "scipy": lambda x, y: np.sum(sp.xlogy(x, x) + sp.expit(y) + sp.erf(x) + sp.gammaln(x + 1)),
    "logsumexp-by-hand": lambda x, y: np.sum(np.log(np.sum(np.exp(x - x.max()), axis=1))),
    "pad-roll": lambda x, y: np.sum(np.pad(x, 1) ** 2 * 2) + np.sum(np.roll(y, 1) * y),
    "methods": lambda x, y: (
        x.sum(axis=1).dot(x.mean(axis=1)) + x.clip(0.4, 1).max() + x.astype(np.float64).ravel()[3]
    ),
    "int-data": lambda x, y: np.sum(x[np.arange(3), np.array([0, 3, 2])]) * len(y) / x.shape[1],
    "median-quantile": lambda x, y: np.median(y) + np.quantile(x, 0.25),
    "diff-tri": lambda x, y: np.sum(np.diff(x, axis=1) ** 2) + np.triu(x[:, :3]).sum(),
    "list-operands": lambda x, y: (
        np.sum(x * [1.0, 2.0, 3.0, 4.0] + np.maximum(x, [0.3, 0.5, 0.7, 0.9]))
        + np.sum([y[0], 2.0] * y[:2])
        + np.sum(x[:2, :1] * [[y[1]], [3]])
    ),
    "step-functions": lambda x, y: (
        np.sum(x // 0.3 * x + 1.0 // x + np.heaviside(x - 0.7, 0.5) * x)
        + np.sum(np.heaviside(np.array([-1.0, 0.0, 2.0]), y[:3]) * y[:3])
    ),
    "numpy-indexing-rules": lambda x, y: (
        np.sum(x.reshape(3, 2, 2)[0, :, [1, 0]] * np.array([[1.0, 2.0], [3.0, 4.0]]))
        + np.sum(x[np.array([2, 0], np.uint8)] * y)
        + np.sum(x[np.broadcast_to(y > 0.6, x.shape)])
        + np.sum(x[[]])
        + np.sum(x[np.arange(3), np.argmax(x > 0.6, axis=1)])
        + np.sum(np.squeeze(x[:1], axis=0) * y)
    ),
    "numpy-orders-and-types": lambda x, y: (
        np.sum(np.ravel(x, order="F") * np.arange(12))
        + np.sum(x.T.flatten("K") * np.arange(12))
        + np.sum(np.sum(x) * np.ones(4, dtype=np.float32) * y)
        + np.sum(np.sign(x - 0.7) * x)
        + np.sum(x * np.round(np.arange(4) * 13, -1))
    ),
    "numpy-numbers-first": lambda x, y: (
        np.sum(7.0 % (x + 1)) + np.sum(np.fmod(7.0, x + 1)) + np.sum(divmod(x, 0.3)[1])
    ),
    "solve-tensordot": lambda x, y: (
        np.sum(
            np.linalg.solve(
                np.stack([np.eye(2) * 3 + x[:2, :2]] * 3) * [[[1.0]], [[2.0]], [[3.0]]], x[1:3, 2:4]
            )
        )
        + np.sum(np.tensordot(x, y, axes=(1, 0)))
    ),
    "negative-steps-and-nonzero": lambda x, y: (
        np.sum(x[..., ::-1] * np.arange(4))
        + np.sum(x[None, ::-2, 1:] * y[1:])
        + np.sum(x[[0, 2], ::-1] * y)
        + np.sum(x[x > 0.5][::-1] * np.arange(int(np.count_nonzero(x > 0.5))))
        + np.sum(x[np.nonzero(x > 0.6)])
        + np.sum(y[np.flatnonzero(y > 0.5)])
        + np.sum(x[tuple(np.argwhere(x > 0.7).T)])
    ),
    "split-indices": lambda x, y: np.sum(np.split(x, np.array([1, 3]), axis=1)[1] ** 2),
    "float64-constants": lambda x, y: (
        np.sum(x * np.array([1.0, 2.0, 3.0, 4.0])) * np.mean(x > 0.5)
        + np.sum(np.arange(4) / 2.0 * y)
        + np.linalg.norm(np.arange(3)) * np.sum(np.where(x > 0.5, 1.0, 0.0) * x)
        + np.sum(np.clip(np.arange(4), 0.5, 2.5) * y)
    ),
}


def _inputs():
    g = torch.Generator().manual_seed(0)
    x = 0.2 + torch.rand(3, 4, generator=g, dtype=torch.float64)
    y = 0.2 + torch.rand(4, generator=g, dtype=torch.float64)
    return x, y


@pytest.mark.parametrize("name", sorted(EXPRESSIONS))
def test_expression_value_and_gradient(name, device):
    expr = EXPRESSIONS[name]
    op = npgrad.function(expr, name=name)
    x, y = _inputs()
    want = expr(x.numpy(), y.numpy())
    if device == "cpu":
        got = op(x, y)
        np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)
        assert npgrad.check(op, x, y, atol=1e-6, rtol=1e-5).ok
        return
    # elsewhere: NumPy's value, and the gradient the CPU run gives (checked above),
    # with every constant the code makes meeting the inputs on their device
    xd, yd = (v.to(device).requires_grad_() for v in (x, y))
    got = op(xd, yd)
    assert got.device == xd.device
    torch.testing.assert_close(got.cpu(), torch.as_tensor(want), **TOL[torch.float64])
    got.backward()
    xc, yc = (v.clone().requires_grad_() for v in (x, y))
    op(xc, yc).backward()
    for on_device, on_cpu in ((xd, xc), (yd, yc)):
        if on_cpu.grad is None:  # an input used for its shape only
            assert on_device.grad is None
        else:
            torch.testing.assert_close(on_device.grad.cpu(), on_cpu.grad, **TOL[torch.float64])


def _raises(fn, match, *args):
    op = npgrad.function(fn, name="probe")
    args = args or (torch.rand(3, requires_grad=True),)
    with pytest.raises(npgrad.TraceError, match=match) as e:
        op(*args)
    assert "'probe'" in str(e.value)
    return str(e.value)


def test_np_asarray_is_refused():
    msg = _raises(lambda x: np.asarray(x).sum(), "converting a traced array to a NumPy array")
    assert "register a backward" in msg and "mode='numeric'" in msg


def test_float_and_item_are_refused():
    _raises(lambda x: float(x.sum()) * x, r"float\(\) on a floating traced array")
    _raises(lambda x: x.sum().item() * x, r"\.item\(\) on a floating traced array")


def test_writes_into_the_callers_arrays_are_refused():
    # writes into arrays the function makes are followed (tests/test_inplace.py); the
    # caller's tensors, and views of them, are never changed
    def write(x):
        x[0] = 0
        return x

    def augmented(x):
        x -= 1
        return x

    msg = _raises(write, r"writes into the caller's array \(argument 0 \('x'\)")
    assert "x = x.copy()" in msg
    _raises(augmented, r"in-place update \(-=\).*caller's array")
    _raises(lambda x: np.exp(x, out=x), r"out=.*caller's array")
    _raises(lambda x: x[1:].sort(), r"sort.*caller's array")


def test_unmapped_functions_are_named():
    msg = _raises(lambda x: np.histogramdd(x), r"no torch mapping for numpy.histogramdd")
    assert "test_trace" in msg  # the caller is named
    _raises(lambda x: sg.detrend(x), r"scipy.signal.*detrend")
    _raises(lambda x: sp.zeta(x, 2.0), r"no torch mapping for the ufunc '_?zeta'")


def test_index_out_of_range_is_refused():
    # as NumPy and torch's own indexing refuse it; torch.take_along_dim would wrap it
    for pick in (
        lambda x: np.take_along_axis(x, np.array([[0], [5]]), axis=1),
        lambda x: np.take(x, np.array([9])),
        lambda x: x[np.arange(2), np.array([1, 4])],
    ):
        with pytest.raises(IndexError, match="out of (bounds|range)"):
            npgrad.function(pick, name="pick")(torch.rand(2, 4, requires_grad=True))


def _weighted_nll(logp, y):
    w = np.array([1.0, 2.0, 3.0])  # NumPy constants indexed by traced integer labels
    onehot = np.eye(3)[y]
    return -np.mean(w[y] * np.sum(onehot * logp, axis=1))


def test_numpy_constants_indexed_by_integer_labels():
    logp = torch.randn(5, 3, dtype=torch.float64).log_softmax(1).requires_grad_()
    y = torch.tensor([0, 2, 1, 2, 0])
    got = npgrad.function(_weighted_nll, name="wnll")(logp, y)
    ref_logp = logp.detach().clone().requires_grad_()
    want = F.nll_loss(ref_logp, y, weight=torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64))
    want = want * torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64)[y].sum() / len(y)
    torch.testing.assert_close(got, want, **TOL[torch.float64])
    got.backward()
    want.backward()
    torch.testing.assert_close(logp.grad, ref_logp.grad, **TOL[torch.float64])
    assert y.tolist() == [0, 2, 1, 2, 0]  # the caller's labels are untouched

    def ignore_index(logp, y):
        labels = np.array(y)  # the function's own copy, to edit
        keep = labels != -100
        labels[~keep] = 0
        return -np.sum(logp[np.arange(len(labels)), labels] * keep) / np.sum(keep)

    y = torch.tensor([0, -100, 2])
    got = npgrad.function(ignore_index, name="ii")(logp[:3], y)
    torch.testing.assert_close(got, F.nll_loss(logp[:3].detach(), y), **TOL[torch.float64])
    assert y.tolist() == [0, -100, 2]
    # under torch.func the labels have no values to hand to NumPy: a clear error
    op = npgrad.function(_weighted_nll, name="wnll")
    with pytest.raises(npgrad.TraceError, match="impossible under torch.func"):
        torch.func.grad(op)(logp.detach(), y)


def test_numpy_errors_where_torch_would_go_on():
    x = torch.rand(3, 4, dtype=torch.float64, requires_grad=True)
    cases = [
        (lambda a: np.squeeze(a, axis=0), ValueError, "size not equal to one"),
        (lambda a: a[np.array([0.0, 1.0])], IndexError, "integer"),
        (lambda a: a * (1.0 if bool(a > 0.5) else 2.0), ValueError, "ambiguous"),
        (lambda a: np.linalg.solve(np.stack([np.eye(3)] * 2) + a[:2, :3, None], a[:2, :3]),
         ValueError, r"np\.linalg\.solve: .*Incompatible shapes"),
    ]  # fmt: skip
    for fn, error, match in cases:
        with pytest.raises(error, match=match):
            npgrad.function(fn, name="probe")(x)
    with pytest.raises(np.exceptions.AxisError, match="axis 2 is out of bounds"):
        npgrad.function(lambda a: np.take_along_axis(a, np.array([[1]]), axis=2))(x)
    labels = torch.tensor([1, 2, 3], dtype=torch.int8)
    with pytest.raises(OverflowError, match="Python integer 200 out of bounds for int8"):
        npgrad.function(lambda y: y + 200, name="probe")(labels)
    _raises(lambda a: a.fill(0) or a, r"writes into the caller.s array")
    _raises(lambda a: a.copy().resize(2) or a, r"an in-place method")
    _raises(lambda a: a * round(np.sum(a)), r"round\(\) on a floating traced array")


def test_values_that_need_no_gradient_work():
    @npgrad.loss
    def nll(logp, labels):
        n = labels.shape[0]
        idx = np.arange(n)
        first = int(labels[0])  # an integer value leaves the graph harmlessly
        return -np.sum(logp[idx, labels]) / n + 0 * first

    logp = torch.randn(4, 3, dtype=torch.float64).log_softmax(1).requires_grad_()
    labels = torch.tensor([2, 0, 1, 1])
    out = nll(logp, labels)
    ref = torch.nn.functional.nll_loss(logp, labels)
    torch.testing.assert_close(out, ref)
    assert npgrad.check(nll, logp, labels).ok


def test_auto_mode_under_compile_vmap_and_grad():
    from npgrad.losses import focal, mse_auto

    torch._dynamo.reset()
    x, t = torch.rand(4, 5, dtype=torch.float64), torch.rand(4, 5, dtype=torch.float64)
    scipy_loss = npgrad.loss(lambda a, b: np.mean(sp.xlogy(a, b) + (a - b) ** 2), name="sx")

    def f(a, b):
        return mse_auto(a, b) + scipy_loss(a, b) + focal(a, (b > 0.5).long())

    compiled = torch.compile(f, fullgraph=True, backend="aot_eager")
    a1 = x.clone().requires_grad_()
    a2 = x.clone().requires_grad_()
    ref, got = f(a1, t), compiled(a2, t)
    torch.testing.assert_close(got, ref)
    ref.backward()
    got.backward()
    torch.testing.assert_close(a2.grad, a1.grad)
    torch.testing.assert_close(torch.func.vmap(mse_auto)(x, t), ((x - t) ** 2).mean(dim=1))
    torch.testing.assert_close(torch.func.grad(mse_auto)(x, t), 2 * (x - t) / x.numel())


@pytest.mark.parametrize("kwargs", [{}, {"k": 2}], ids=["fast-route", "general-route"])
def test_an_op_never_returns_its_input_tensor_itself(kwargs):
    ident = npgrad.function(lambda x, k=1: (x, x * k), name="ident")
    x = torch.ones(3, requires_grad=True)
    same, scaled = ident(x, **kwargs)
    assert same is not x and same._base is x  # a view, like torch's own view ops
    (same.sum() + scaled.sum()).backward()
    assert torch.equal(x.grad, torch.full((3,), 1.0 + kwargs.get("k", 1)))
    alone = npgrad.function(lambda x: x, name="alone")
    assert alone(x) is not x


def test_auto_mode_keeps_the_device_and_records_torch_ops():
    from npgrad.losses import mse_auto

    x = torch.rand(3, requires_grad=True)
    out = mse_auto(x, torch.zeros(3))
    # autograd recorded torch's own ops (here fused into mse_loss): no bridge node
    assert type(out.grad_fn).__name__ == "MseLossBackward0"
    assert out.device == x.device


def test_deferred_difference_is_computed_like_the_unfused_path():
    x, t = torch.rand(3, 4, dtype=torch.float64), torch.rand(3, 4, dtype=torch.float64)
    reads = npgrad.function(lambda a, b: np.mean((a - b) ** 2, axis=1) + ((a - b) ** 2)[:, 0])
    torch.testing.assert_close(reads(x, t), ((x - t) ** 2).mean(1) + ((x - t) ** 2)[:, 0])
    l1 = npgrad.function(lambda a, b: np.sum(np.abs(a - b)), name="l1sum")
    torch.testing.assert_close(l1(x, t), (x - t).abs().sum())
    assert npgrad.check(l1, x, t).ok


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_a_difference_with_a_numpy_target_fuses_and_keeps_the_target_s_values(dtype):
    rng = np.random.default_rng(0)
    x, t = rng.random((5, 3)).astype(dtype), rng.random((5, 3)).astype(dtype)

    def f(x, t):
        value = np.mean((x - t) ** 2) + np.sum(np.abs(t - x))
        t[...] = 0  # written after use: the loss saw (and its backward sees) the old values
        return value

    seen = []
    with _Recorder(seen):
        value, g = npgrad.value_and_grad(f)(x, t.copy())
    assert {"aten.mse_loss.default", "aten.mse_loss_backward.default"} <= set(seen)
    d = x.astype(np.float64) - t
    tol = 1e-6 if dtype is np.float32 else 1e-12
    np.testing.assert_allclose(value, np.mean(d**2) + np.sum(np.abs(d)), rtol=tol)
    np.testing.assert_allclose(g, 2 * d / d.size + np.sign(d), rtol=tol, atol=tol)
    assert g.dtype == dtype


class _Recorder(TorchDispatchMode):
    def __init__(self, seen):
        super().__init__()
        self.seen = seen

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        self.seen.append(str(func))
        return func(*args, **(kwargs or {}))


def test_supported_list_is_published_and_current():
    names = npgrad.supported()
    assert len(names) >= 150
    assert {"numpy.mean", "numpy.fft.rfft", "scipy.special.xlogy", "ndarray.__matmul__"} <= set(
        names
    )
    doc = (REPO / "docs" / "supported.md").read_text()
    assert f"{len(names)} names" in doc, "regenerate with: python -m npgrad._supported"
    listed = re.findall(r"^- `([^`]+)`$", doc, flags=re.M)
    assert listed == names, "regenerate with: python -m npgrad._supported"


def test_unfollowable_scipy_routine_under_compile_is_named():
    torch._dynamo.reset()
    op = npgrad.loss(lambda a: np.sum(sg.detrend(a)), name="lse")
    compiled = torch.compile(lambda a: op(a) * 2, fullgraph=True, backend="aot_eager")
    # Dynamo wraps the TraceError raised while it traces; its text names op and call
    msg = (
        r"npgrad op .{1,2}lse.*\(in scipy\.signal\._signaltools\.detrend\) would drop the gradient"
    )
    with pytest.raises(Exception, match=msg):
        compiled(torch.rand(5, requires_grad=True))


def test_numeric_mode_warns_above_its_size():
    f = npgrad.function(lambda a: np.sum(a * a), name="big", mode="numeric")
    x = torch.rand(5000, dtype=torch.float64, requires_grad=True)
    with pytest.warns(UserWarning, match="mode='numeric' differentiates 5000 elements"):
        f(x).backward()
    torch.testing.assert_close(x.grad, 2 * x.detach(), atol=1e-6, rtol=1e-6)


# NumPy semantics that torch spells differently; each value must equal NumPy's
SEMANTICS = {
    "int-plus-float": lambda x, v, i: x * (i + 0.1),
    "int-pow-float": lambda x, v, i: x + np.abs(i) ** 0.5,
    "clip-int-float": lambda x, v, i: x + np.clip(i, -1.5, 2.5),
    "maximum-int-float": lambda x, v, i: x + np.maximum(i, 0.5),
    "where-int-float": lambda x, v, i: x + np.where(i > 1, i, 0.5),
    "bool-minus-int": lambda x, v, i: x + ((i > 1) - 1),
    "norm-matrix-ord1": lambda x, v, i: np.linalg.norm(x, ord=1),
    "norm-matrix-inf": lambda x, v, i: np.linalg.norm(x, ord=np.inf),
    "norm-matrix-2": lambda x, v, i: np.linalg.norm(x, ord=2),
    "norm-fro-nuc": lambda x, v, i: np.linalg.norm(x, "fro") + np.linalg.norm(x, "nuc"),
    "norm-axis-tuple1": lambda x, v, i: np.linalg.norm(x, axis=(1,)),
    "pad-edge-leading": lambda x, v, i: np.pad(x, ((2, 1), (0, 0)), mode="edge"),
    "pad-wrap-both": lambda x, v, i: np.pad(x, ((1, 0), (0, 2)), mode="wrap"),
    "pad-constant-pairs": lambda x, v, i: np.pad(x, 1, constant_values=(1.0, 2.0)),
    "sum-axis-empty": lambda x, v, i: np.sum(x, axis=()) + np.var(x, axis=()),
    "diff-prepend": lambda x, v, i: np.diff(v, prepend=0.0, append=v[-1]),
    "add-reduce": lambda x, v, i: np.add.reduce(x) + np.maximum.reduce(x),
    "take-negative": lambda x, v, i: np.take(x, [0, 2], axis=-1).sum() + np.take(x, [-1], axis=0),
    "median-int": lambda x, v, i: x + np.median(i) + np.quantile(i, 0.25),
    "quantile-axes": lambda x, v, i: np.quantile(x, 0.3, axis=(0, 1)) + np.median(x, axis=(0, 1)),
    "quantile-axes-keep": lambda x, v, i: np.quantile(x, 0.3, axis=(0,), keepdims=True),
    "zeros-like-shape": lambda x, v, i: v[:2] + np.zeros_like(v, shape=(2,)),
    "count-keepdims": lambda x, v, i: x * np.count_nonzero(i, axis=0, keepdims=True),
    "list-arguments": lambda x, v, i: (
        np.flip(x, [0]).sum() + np.tile(x, [2, 1]).sum() + np.repeat(x, [1, 2, 3], axis=0).sum()
    ),
    "hstack-scalars": lambda x, v, i: np.hstack([v[0], v[1], v[2:4]]),
    "round-int": lambda x, v, i: x + np.round(i),
    "int64-index-reverse": lambda x, v, i: x[np.int64(1), ::-1],
}


@pytest.mark.parametrize("name", sorted(SEMANTICS))
def test_numpy_semantics(name):
    expr = SEMANTICS[name]
    g = torch.Generator().manual_seed(1)
    x = torch.rand(3, 4, generator=g, dtype=torch.float64) + 0.1
    v = torch.rand(7, generator=g, dtype=torch.float64)
    i = torch.randint(-2, 4, (3, 4), generator=g)
    want = np.asarray(expr(x.numpy(), v.numpy(), i.numpy()))
    got = npgrad.function(expr, name=name)(x, v, i)
    assert tuple(got.shape) == want.shape
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)


def test_unequal_split_and_unknown_options_are_refused():
    with pytest.raises(ValueError, match="equal division"):
        npgrad.function(lambda v: np.split(v, 3)[0])(torch.rand(7))
    _raises(lambda x: np.nanvar(x, where=np.ones(x.shape, bool)), r"where= is not supported")
    _raises(
        lambda x: np.choose([0, 1], [x[:2], x[:2]], mode="wrap"),
        r"the option mode= is not supported",
    )


def test_each_thread_traces_on_its_own_device():
    # nn.DataParallel traces on several devices at once, one thread each; 'meta'
    # stands in for a second device, and the events force the interleaving
    import threading

    a_inside, b_inside, a_done = threading.Event(), threading.Event(), threading.Event()

    def on_cpu(x):
        a_inside.set()
        assert b_inside.wait(10)  # the other thread is now inside its own traced call
        return x * np.array([1.0, 2.0])  # a constant, made where this call's tensors are

    def on_meta(x):
        b_inside.set()
        a_done.wait(10)
        return x * np.array([3.0, 4.0])

    results = {}

    def other():
        a_inside.wait(10)
        results["meta"] = npgrad.function(on_meta, name="b")(torch.ones(2, device="meta"))

    thread = threading.Thread(target=other)
    thread.start()
    try:
        got = npgrad.function(on_cpu, name="a")(torch.ones(2, dtype=torch.float64))
    finally:
        a_done.set()
        thread.join()
    torch.testing.assert_close(got, torch.tensor([1.0, 2.0], dtype=torch.float64))
    assert results["meta"].device.type == "meta" and results["meta"].shape == (2,)


# torch's quantile, FFT and linear-algebra kernels take float and double only: for half
# precision automatic mode computes these in float32 and casts back
HALF_FALLBACKS = {
    "median-quantile": lambda x: np.median(x) + np.quantile(x, 0.25, axis=0).sum(),
    "linalg": lambda x: (
        np.linalg.det(x)
        + np.sum(np.linalg.inv(x))
        + np.linalg.slogdet(x)[1]
        + np.sum(np.linalg.solve(x, x[:, 0]))
        + np.sum(np.linalg.cholesky(x @ x.T))
    ),
    "fft": lambda x: np.sum(np.abs(np.fft.rfft(x, axis=1))) + np.sum(np.fft.fft(x).real),
}


@pytest.mark.parametrize("name", sorted(HALF_FALLBACKS))
@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16], ids=["float16", "bfloat16"])
def test_half_precision_where_torch_has_no_half_kernel(name, dtype):
    fn = HALF_FALLBACKS[name]
    g = torch.Generator().manual_seed(0)
    x = (2 * torch.eye(4) + 0.3 * torch.rand(4, 4, generator=g)).to(dtype).requires_grad_()
    got = npgrad.function(fn, name=name)(x)
    assert got.dtype == dtype
    got.backward()
    assert x.grad.dtype == dtype
    # the reference: float64 on the same (rounded) values, through the float64 route
    # that npgrad.check covers above
    ref_x = x.detach().double().requires_grad_()
    want = npgrad.function(fn, name=name)(ref_x)
    want.backward()
    torch.testing.assert_close(got, want.to(dtype), **TOL[dtype])
    scale = ref_x.grad.abs().max()
    torch.testing.assert_close(x.grad.double() / scale, ref_x.grad / scale, **TOL[dtype])


# torch's forward-mode AD machinery scripts a helper on first use and warns about it
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")
# linearize's make_fx keeps the closed-over x as a constant, pure torch code alike
@pytest.mark.filterwarnings("ignore:Attempted to insert a get_attr Node:UserWarning")
def test_auto_mode_under_linearize_and_make_fx():
    # the default finiteness check must not read values while make_fx traces
    from torch.fx.experimental.proxy_tensor import make_fx

    x = torch.randn(3, 4, dtype=torch.float64)
    w = torch.randn(4, 2, dtype=torch.float64)
    op = npgrad.function(lambda a, b: np.tanh(a @ b), name="tanhmm")
    _, jvp_fn = torch.func.linearize(lambda b: op(x, b), w)
    t = torch.ones_like(w)
    want = torch.func.jvp(lambda b: torch.tanh(x @ b), (w,), (t,))[1]
    torch.testing.assert_close(jvp_fn(t), want, **TOL[torch.float64])
    traced = make_fx(lambda a, b: op(a, b))(x, w)
    torch.testing.assert_close(traced(x, w), torch.tanh(x @ w), **TOL[torch.float64])


@pytest.mark.parametrize(
    "expr",
    [
        lambda a: np.exp(a),  # int8: float16, NumPy's smallest float that holds it
        lambda a: np.sqrt(a > 1),  # bool: float16
        lambda a: np.log(a.astype(np.int16)),  # int16: float32
        lambda a: a / a,  # division: float64 whatever the integer
        lambda a: np.sum(a.astype(np.int32), dtype=np.int32),  # torch would give int64
        lambda a: (a > 1) + True,  # bool stays bool
    ],
    ids=["exp-int8", "sqrt-bool", "log-int16", "divide-int8", "sum-dtype", "bool-plus-true"],
)
def test_integer_and_bool_inputs_get_numpys_result_dtype(expr):
    a = torch.tensor([1, 2, 3], dtype=torch.int8)
    want = expr(a.numpy())
    got = npgrad.function(expr, name="probe")(a)
    assert got.dtype == torch.from_numpy(np.asarray(want)).dtype
    np.testing.assert_allclose(got.double().numpy(), np.asarray(want, dtype=np.float64))
