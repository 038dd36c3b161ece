"""In-place writes in automatic mode: NumPy's semantics, values and gradients.

Each function runs on NumPy arrays (copies of the inputs: NumPy's own in-place
semantics, views included, give the reference value) and through npgrad; the
gradient is checked against float64 central differences (npgrad.check).
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

import npgrad


def rnn(x, w):
    # an RNN filling its output buffer; each step reads the row the last one wrote
    steps = x.shape[0]
    h = np.zeros_like(x, shape=(steps + 1, w.shape[0]))
    for t in range(steps):
        h[t + 1] = np.tanh(x[t] @ w + h[t] @ w.T)
    return np.sum(h[1:] ** 2)


def histogram(x, w):
    bins = np.array([0, 2, 2, 1, 0, 2, 3, 3, 3])
    counts = np.zeros_like(w, shape=(4,))
    np.add.at(counts, bins, np.concatenate([x[:, 0], x[:4, 1]]) * w[0, 0])
    return np.sum(counts**2)


def masked_clamp(x, w):
    a = x * w[0] - 0.5
    a[a < 0] = 0
    return np.sum(a**2)


def accumulator(x, w):
    s = 0.0  # a Python number: += rebinds it
    t = np.float64(0.0)  # a NumPy scalar: += rebinds it too
    for i in range(x.shape[0]):
        s += np.sum(x[i] * w[i % 3])
        t -= np.sum(x[i] ** 2)
    return s * t


def augmented(x, w):
    a = x * 1.0
    a += x[0]
    a -= 0.5 * x
    a *= x
    a /= x + 1
    a **= 2
    a %= 0.7
    b = a.copy()
    b //= 0.05
    c = x[:3, :3].copy()
    c @= w[:, :3]
    return np.sum(a * x) + np.sum(b * x) + np.sum(c)


def views(x, w):
    a = x.copy()
    row = a[0]
    row[:] = w[0]  # through a view: a changes
    a.T[1, 2] *= 3.0  # through a transpose
    r = a[::-1]
    r[0] -= x[1]  # through a reversed view: the last row of a
    for line in a[1:3]:
        line += 1.0  # iterating yields views, as in NumPy
    before = np.sum(row * x[0])  # computed before the next write: keeps these values
    a[0, 1:] = 0.0  # the earlier view row sees this
    return np.sum(a * x) + before + np.sum(row)


def indexing(x, w):
    a = np.zeros_like(x)
    a[1] = x[0]
    a[:, 1:3] = x[:, ::-1][:, :2] * w[0, 0]
    a[np.array([3, 0, 3])] = x[:3] * 2  # repeated index: the last write wins
    a[np.array([0, 0]), np.array([1, 1])] = np.array([5.0, 7.0]) * x[0, 0]
    a[...] += 0.5
    a[x > 0.8] *= 2.0
    b = np.array([1.0, 2.0, 3.0, 4.0]) * w[0]  # an array made inside from a list
    b[1] = np.sum(x)
    return np.sum(a * x) + np.sum(b**2)


def methods(x, w):
    a = x.copy()
    a.fill(2.0)
    a[0] = x[0]
    a.sort(axis=1)  # sorts in place, the gradient follows the values
    b = x[0].copy()
    b.sort()
    c = x.astype(np.float64)  # a copy, as in NumPy
    c[0] = 0.0
    d = +x  # a new array
    d[1] = 1.0
    e = np.zeros_like(x)
    np.exp(x, out=e)
    np.copyto(e[1], w[0])
    np.copyto(e[2], 0.0, where=x[2] > 0.5)
    f = x[:2].copy()
    f.put([0, 5, -1, 0], w[1, :3])  # flat positions; v repeats; the last write wins
    np.putmask(f, x[:2] > 0.6, w[2, :3])
    return (
        np.sum(f * x[:2])
        + np.sum(a * x)
        + np.sum(b * np.arange(4))
        + np.sum(c * x)
        + np.sum(d * x)
        + np.sum(e)
    )


def ufunc_at(x, w):
    idx = np.array([0, 2, 2, 3])
    a = x[0].copy()
    np.add.at(a, idx, w[0])
    b = x[1].copy()
    np.subtract.at(b, idx, x[2])
    c = x[2].copy()
    np.multiply.at(c, idx, w[1])
    d = x[3].copy()
    np.maximum.at(d, idx, w[2] * 2)
    e = x[0].copy()
    np.minimum.at(e, idx, w[1] / 2)
    return np.sum(a * b) + np.sum(c**2) + np.sum(d * e)


PATTERNS = {
    f.__name__: f
    for f in (rnn, histogram, masked_clamp, accumulator, augmented, views, indexing, methods)
}
PATTERNS["ufunc-at"] = ufunc_at


def _inputs():
    g = torch.Generator().manual_seed(1)
    x = 0.1 + torch.rand(5, 4, generator=g, dtype=torch.float64)
    w = 0.1 + torch.rand(3, 4, generator=g, dtype=torch.float64)
    return x, w


def _reference(fn, x, w):
    return fn(x.detach().numpy().copy(), w.detach().numpy().copy())


@pytest.fixture
def xw():
    x, w = _inputs()
    return x, w


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_writes_give_numpys_value_and_exact_gradients(name, xw):
    fn = PATTERNS[name]
    x, w = xw
    if name == "rnn":
        w = w[:, :3].contiguous()  # a square recurrent matrix
        x = x[:, :3].contiguous()
    want = _reference(fn, x, w)
    op = npgrad.function(fn, name=name)
    got = op(x, w)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12, atol=1e-12)
    assert npgrad.check(op, x, w).ok


def test_the_inputs_are_unchanged_and_a_write_does_not_reach_a_copy(xw):
    x, w = xw
    x0 = x.clone()

    def f(x, w):
        a = x.copy()
        b = a.copy()
        a[0] = 0.0
        return np.sum(b * x) + np.sum(a)

    got = npgrad.function(f, name="copies")(x, w)
    torch.testing.assert_close(x, x0, rtol=0, atol=0)
    np.testing.assert_allclose(got.numpy(), _reference(f, x, w), rtol=1e-12, atol=1e-12)


def _raises(fn, match, exc=npgrad.TraceError):
    x, w = _inputs()
    with pytest.raises(exc, match=match) as e:
        npgrad.function(fn, name="probe")(x, w)
    return str(e.value)


def test_writes_into_the_callers_arrays_are_refused_naming_the_argument():
    def into_view(x, w):
        v = w[0]
        v += 1.0
        return v

    msg = _raises(into_view, r"in-place update \(\+=\).*caller's array \(argument 1 \('w'\)")
    assert "x = x.copy()" in msg
    _raises(lambda x, w: np.add.at(x, [0], 1.0), r"np.add.at.*argument 0 \('x'\)")
    _raises(lambda x, w: x.T.fill(0.0), r"caller's array \(argument 0")
    _raises(lambda x, w: np.copyto(w, 0.0), r"caller's array \(argument 1")
    _raises(lambda x, w: np.reshape(x, -1).__setitem__(0, 1.0), r"caller's array")


def test_traced_values_written_into_numpy_arrays_are_refused():
    def item(x, w):
        buf = np.zeros(3)
        buf[0] = np.sum(x)
        return buf

    def slice_(x, w):
        buf = np.zeros(4)
        buf[:] = x[0]
        return buf

    def zero_d(x, w):
        s = np.array(0.0)  # a 0-d NumPy array: += writes into it, in NumPy too
        s += np.sum(x)
        return s

    for fn in (item, slice_, zero_d):
        msg = _raises(fn, r"writes a traced value into a NumPy array")
        assert "np.zeros_like" in msg
    _raises(lambda x, w: np.add.at(np.zeros(4), [0], x[0, 0]), r"into a NumPy array")


def test_writes_that_npgrad_cannot_follow_are_refused():
    def through_reshape(x, w):
        a = x.copy()
        flat = a.reshape(-1)  # a view or a copy: npgrad does not guess which
        flat[0] = 1.0
        return a

    def into_base_of_alias(x, w):
        a = x.copy()
        t = np.transpose(a)
        a[0] = 1.0
        return t

    def into_base_of_diagonal(x, w):
        a = x.copy()
        d = np.diag(a)  # NumPy: a view of the diagonal, which sees the write below
        a[0, 0] = 1.0
        return d

    def into_base_of_broadcast(x, w):
        a = x.copy()
        b = np.broadcast_to(a, (2, *a.shape))  # a view too
        a[0] = 1.0
        return b

    _raises(through_reshape, r"shares memory with the result of np.reshape")
    _raises(into_base_of_alias, r"shares memory with the result of np.transpose")
    _raises(into_base_of_diagonal, r"shares memory with the result of np.diag")
    _raises(into_base_of_broadcast, r"shares memory with the result of np.broadcast_to")
    _raises(lambda x, w: np.divide.at(x.copy(), [0], 2.0), r"np.true_divide.at|np.divide.at")


def test_copies_numpy_makes_take_writes():
    # flatten always copies, and np.diag of a vector builds a new matrix: writes into
    # them or into their input are NumPy's, followed
    def flatten_then_write(x, w):
        a = x.copy()
        flat = a.flatten()
        a[0] = 1.0
        flat[1] = 2.0
        return np.sum(flat**2) + np.sum(a * w[0, 0])

    def diag_of_vector_then_write(x, w):
        d = np.diag(x[0])
        d[0, 1] = 3.0
        return np.sum(d * w[0, 0])

    for f in (flatten_then_write, diag_of_vector_then_write):
        x, w = np.random.default_rng(0).random((3, 4)), np.array([[1.5]])
        op = npgrad.function(f, mode="auto")
        got = op(torch.tensor(x), torch.tensor(w))
        np.testing.assert_allclose(got.item(), f(x.copy(), w.copy()), rtol=1e-12)
        npgrad.check(op, torch.tensor(x), torch.tensor(w))


def test_numpys_casting_rule_for_in_place_operators():
    def int_plus_float(x, w):
        a = (x > 0.5).astype(np.int64)
        a += 1.5
        return a

    with pytest.raises(TypeError) as e:  # NumPy's UFuncTypeError
        int_plus_float(np.ones((2, 2)), None)
    numpy_type = type(e.value)
    msg = _raises(int_plus_float, "Cannot cast ufunc 'add' output", exc=numpy_type)
    assert "same_kind" in msg

    def int_assign(x, w):
        a = (x > 0.5).astype(np.int64)
        a[0] = 1.5  # assignment casts, as in NumPy
        a += 2
        return np.sum(a * x)

    x, w = _inputs()
    got = npgrad.function(int_assign, name="int-assign")(x, w)
    np.testing.assert_allclose(got.numpy(), _reference(int_assign, x, w), rtol=1e-12)

    def overflow(x, w):
        a = (x > 0.5).astype(np.uint8)
        a[0] = 300
        return x

    with pytest.raises(OverflowError) as e:
        overflow(np.ones((2, 2)), None)
    _raises(overflow, "out of bounds for uint8", exc=type(e.value))


def test_shape_mismatches_raise_numpys_errors():
    def broadcast_out(x, w):
        a = x[0].copy()
        a += x
        return a

    with pytest.raises(ValueError, match="non-broadcastable output") as e:
        broadcast_out(np.ones((5, 4)), None)
    _raises(broadcast_out, "non-broadcastable output", exc=type(e.value))

    def bad_value(x, w):
        a = x.copy()
        a[0] = np.ones(3)
        return a

    with pytest.raises(ValueError, match="could not broadcast"):
        bad_value(np.ones((5, 4)), None)
    _raises(bad_value, "could not broadcast", exc=ValueError)


@pytest.mark.parametrize("name", ["rnn", "masked_clamp", "indexing", "ufunc-at"])
def test_writes_under_torch_compile(name, xw):
    # the opaque route: the forward under no_grad, then a backward that recomputes
    fn = PATTERNS[name]
    x, w = xw
    if name == "rnn":
        x, w = x[:, :3].contiguous(), w[:, :3].contiguous()
    op = npgrad.function(fn, name=f"compiled-{name}")
    xe, we = (v.clone().requires_grad_() for v in (x, w))
    op(xe, we).backward()
    xc, wc = (v.clone().requires_grad_() for v in (x, w))
    out = torch.compile(lambda a, b: op(a, b), backend="eager", fullgraph=True)(xc, wc)
    np.testing.assert_allclose(out.detach().numpy(), _reference(fn, x, w), rtol=1e-12)
    out.backward()
    torch.testing.assert_close(xc.grad, xe.grad)
    torch.testing.assert_close(wc.grad, we.grad)


def test_writes_under_torch_func(xw):
    x, w = xw

    def clamp_rows(x, w):
        a = x * w[0]
        a[a < 0.3] = 0.0  # a mask write with a scalar has no data-dependent shape
        a[0] += 1.0
        return np.sum(a**2)

    op = npgrad.function(clamp_rows, name="func-writes")
    eager = torch.autograd.grad(op(x.requires_grad_(), w), x)[0]
    x = x.detach()
    torch.testing.assert_close(torch.func.grad(op)(x, w), eager)
    batched = torch.func.vmap(op, in_dims=(0, None))(torch.stack([x, x * 0.5]), w)
    for i, scale in enumerate((1.0, 0.5)):
        want = clamp_rows((x * scale).numpy(), w.numpy())
        np.testing.assert_allclose(batched[i].numpy(), want, rtol=1e-12)
