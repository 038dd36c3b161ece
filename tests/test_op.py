"""The bridge: values, gradients, devices, dtypes, argument handling and errors."""

from __future__ import annotations

import sys

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import npgrad
from npgrad.losses import mse

from .conftest import TOL, quartic_with_torch_backward


def _pair(device, dtype, shape=(8, 4), seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(shape, generator=g).to(device=device, dtype=dtype).requires_grad_()
    t = torch.randn(shape, generator=g).to(device=device, dtype=dtype).requires_grad_()
    return x, t


def _clone(*ts):
    return [t.detach().clone().requires_grad_() for t in ts]


def test_mse_matches_torch_value_and_both_gradients(device, dtype):
    x, t = _pair(device, dtype)
    rx, rt = _clone(x, t)
    out = mse(x, t)
    ref = F.mse_loss(rx, rt)
    assert out.dtype == dtype and out.device == x.device and out.shape == ()
    torch.testing.assert_close(out, ref, **TOL[dtype])
    out.backward()
    ref.backward()
    assert x.grad is not None and t.grad is not None, "every input that requires grad gets one"
    assert x.grad.dtype == dtype and x.grad.device == x.device
    torch.testing.assert_close(x.grad, rx.grad, **TOL[dtype])
    torch.testing.assert_close(t.grad, rt.grad, **TOL[dtype])


@pytest.mark.parametrize("scale", [1.0, 3.0], ids=["g=1", "g=3"])
def test_mse_gradient_is_bitwise_atens_in_float32(scale):
    x, t = _pair("cpu", torch.float32, (256, 784))
    rx, rt = _clone(x, t)
    ours, theirs = mse(x, t) * scale, F.mse_loss(rx, rt) * scale
    # the first backward uses the forward's residual, the second recomputes it
    for _ in range(2):
        ours.backward(retain_graph=True)
        theirs.backward(retain_graph=True)
        assert torch.equal(x.grad, rx.grad) and torch.equal(t.grad, rt.grad)


def test_residual_forward_runs_only_when_a_backward_can_follow():
    calls = []

    @npgrad.loss
    def sq(x):
        calls.append("plain")
        return np.sum(x**2)

    @sq.def_fwd
    def _(x):
        calls.append("residual")
        return np.sum(x**2), [x * 2]

    sq.backward(lambda g, x, out, residuals=None: (residuals or [2 * x])[0] * g)
    x = torch.ones(3, requires_grad=True)
    with torch.no_grad():
        sq(x)
    sq(x.detach())
    sq(x).backward()
    assert calls == ["plain", "plain", "residual"]
    assert torch.equal(x.grad, torch.full((3,), 2.0))


def test_mse_backward_passes_gradient_check():
    assert npgrad.check(mse, torch.Size([5, 3]), torch.Size([5, 3])).ok


def test_cpu_arrays_share_memory_with_tensors():
    seen = {}

    @npgrad.function
    def ident_plus(x):
        seen["ptr"] = x.__array_interface__["data"][0]
        return x + 1

    @ident_plus.backward
    def _(g, x, out):
        return g

    x = torch.randn(4, 3)
    out = ident_plus(x)
    assert seen["ptr"] == x.data_ptr(), "the CPU forward must see the tensor's own memory"
    assert out.data_ptr() != x.data_ptr()


def test_lazily_negated_input_is_read_with_its_sign():
    z = torch.tensor([[1 + 2j, 3 - 4j], [0.5 - 1j, -2 + 0.25j]], dtype=torch.complex64)
    x = z.conj().imag  # a real tensor whose negation is a flag, not yet applied
    assert x.is_neg()
    t = torch.zeros(2, 2)
    torch.testing.assert_close(mse(x, t), F.mse_loss(x.resolve_neg(), t))


def test_output_never_aliases_an_input():
    @npgrad.function(mode="numpy")
    def same(x):
        return x

    same.backward(lambda g, x, out: g)
    x = torch.randn(3, requires_grad=True)
    y = same(x)
    assert y.data_ptr() != x.data_ptr()
    y.sum().backward()
    assert torch.equal(x.grad, torch.ones(3))


def test_non_tensor_arguments_pass_through():
    got = {}

    @npgrad.function
    def scale(x, factor, *, label="?", opts=None):
        got.update(factor=factor, label=label, opts=opts)
        return x * factor

    @scale.backward
    def _(g, x, factor, out, *, label, opts):
        return g * np.asarray(factor, dtype=x.dtype)

    x = torch.randn(5, dtype=torch.float64, requires_grad=True)
    opts = {"a": [1, 2]}
    y = scale(x, 3, label="L", opts=opts)
    assert got == {"factor": 3, "label": "L", "opts": opts} and got["opts"] is opts
    y.sum().backward()
    torch.testing.assert_close(x.grad, torch.full((5,), 3.0, dtype=torch.float64))


def test_tuple_outputs_and_integer_outputs():
    @npgrad.function
    def stats(x):
        return x.sum(), x * 2, np.argmax(x)

    @stats.backward
    def _(g, x, out):
        gs, gd, _ = g
        return gs + 2 * gd

    x = torch.randn(6, dtype=torch.float64, requires_grad=True)
    s, d, i = stats(x)
    assert i.dtype == torch.int64 and not i.requires_grad and int(i) == int(x.argmax())
    (s * 3 + d.sum()).backward()
    torch.testing.assert_close(x.grad, torch.full((6,), 5.0, dtype=torch.float64))


class _Scaler:
    def __init__(self, scale):
        self.scale = scale

    @npgrad.function
    def scaled(self, x):
        return x * self.scale

    @scaled.backward
    def _(g, self, x, out):
        return g * self.scale


def test_a_decorated_method_binds_its_instance():
    x = torch.ones(2, dtype=torch.float64, requires_grad=True)
    out = _Scaler(3.0).scaled(x)
    torch.testing.assert_close(out, 3 * x.detach())
    out.sum().backward()
    torch.testing.assert_close(x.grad, torch.full_like(x, 3.0))
    assert _Scaler.scaled.name == "scaled"  # looked up on the class: the op itself


def test_an_op_kept_as_a_class_attribute_is_not_bound():
    # only a function whose first parameter is "self" is a method
    class Net(torch.nn.Module):
        criterion = mse

        def forward(self, x, t):
            return self.criterion(x, t)

    x, t = torch.rand(4, 3), torch.rand(4, 3)
    torch.testing.assert_close(Net()(x, t), F.mse_loss(x, t), **TOL[torch.float32])


def test_integer_and_bool_inputs_are_data():
    @npgrad.loss(broadcast=True)
    def masked_nll(logp, labels, mask):
        picked = np.take_along_axis(logp, labels[:, None], axis=1)[:, 0]
        return -np.sum(picked * mask) / max(mask.sum(), 1)

    @masked_nll.backward
    def _(g, logp, labels, mask, out):
        grad = np.zeros_like(logp)
        grad[np.arange(len(labels)), labels] = -mask.astype(logp.dtype) / max(mask.sum(), 1)
        return grad * g, None, None

    logp = torch.randn(5, 3, dtype=torch.float64).log_softmax(1).requires_grad_()
    labels = torch.tensor([0, 2, 1, 1, 0])
    mask = torch.tensor([True, True, False, True, True])
    rl = logp.detach().clone().requires_grad_()
    out = masked_nll(logp, labels, mask)
    ref = F.nll_loss(rl[mask], labels[mask])
    torch.testing.assert_close(out, ref)
    out.backward()
    ref.backward()
    torch.testing.assert_close(logp.grad, rl.grad)


def test_numpy_result_of_another_dtype_is_cast_back():
    @npgrad.function
    def f(x):
        return x.astype(np.float64) * 2  # leaks float64 unless cast back

    f.backward(lambda g, x, out: (g * 2).astype(x.dtype))
    x = torch.ones(3, dtype=torch.float32, requires_grad=True)
    y = f(x)
    assert y.dtype == torch.float32
    y.sum().backward()
    assert x.grad.dtype == torch.float32


def test_module_wrapper_only_calls_the_function():
    crit = npgrad.Loss(mse)
    x, t = _pair("cpu", torch.float64)
    assert torch.equal(crit(x, t), mse(x, t))
    assert "mse" in repr(crit)
    assert list(crit.parameters()) == []


# ------------------------------------------------------------------ errors
def _bad_backward(result):
    @npgrad.loss
    def sq(x, t):
        return np.mean((x - t) ** 2)

    sq.backward(lambda g, x, t, out: result(x))
    return sq


@pytest.mark.parametrize(
    ("result", "match"),
    [
        pytest.param(lambda x: (x,), r"must return 2 gradient\(s\).*\(x, t\), got 1", id="count"),
        pytest.param(lambda x: (x[:1], None), r"gradient for 'x' has shape \(1, 3\)", id="shape"),
        pytest.param(
            lambda x: (x.astype(np.int64), None),
            r"'x' has dtype int64; expected a real floating array",
            id="dtype",
        ),
        pytest.param(lambda x: 3.0, r"must return 2 gradient", id="not-a-tuple"),
        pytest.param(
            lambda x: (torch.from_numpy(x.copy()), None),
            r"'x' must be a NumPy array, got Tensor .*torch_ops=True",
            id="tensor",
        ),
        pytest.param(lambda x: ("oops", None), r"'x' must be a NumPy array, got str", id="str"),
        pytest.param(
            lambda x: (x.tolist(), None), r"'x' must be a NumPy array, got list", id="list"
        ),
    ],
)
def test_backward_mistakes_are_named(result, match):
    sq = _bad_backward(result)
    x = torch.randn(4, 3, requires_grad=True)
    with pytest.raises(npgrad.BackwardError, match=match) as e:
        sq(x, torch.randn(4, 3)).backward()
    assert "'sq'" in str(e.value)


def test_def_fwd_must_return_a_pair():
    @npgrad.function
    def sq(x):
        return x * x

    @sq.def_fwd
    def _(x):
        return x * x  # the residuals forgotten: two rows must not unpack as a pair

    sq.backward(lambda g, x, out, residuals: 2 * x * g)
    with pytest.raises(TypeError, match=r"'sq': the @def_fwd forward must return \(output, "):
        sq(torch.tensor([3.0, 4.0], requires_grad=True))


@pytest.mark.parametrize("policy", ["raise", "warn"])
def test_half_precision_overflow_on_the_way_back_is_not_finite(policy):
    big = npgrad.loss(lambda x: np.sum(x) * np.float32(1e6), name="big", nonfinite=policy)
    big.backward(lambda g, x, out: np.full_like(x, 1e6) * g)
    x = torch.ones(4, dtype=torch.float16, requires_grad=True)  # 4e6 > float16's 65504
    if policy == "raise":
        with pytest.raises(FloatingPointError, match=r"'big': output 0 \(in torch.float16\)"):
            big(x)
    else:
        with pytest.warns(RuntimeWarning, match="not finite"):
            big(x)


def test_a_ufunc_or_a_partial_is_a_function():
    import functools

    x = torch.rand(3, dtype=torch.float64, requires_grad=True)
    sin = npgrad.function(np.sin)
    sin(x).sum().backward()
    torch.testing.assert_close(x.grad, torch.cos(x.detach()))
    scaled = npgrad.function(functools.partial(np.multiply, 2.0), mode="numpy")
    with pytest.raises(npgrad.NpgradError, match="mode='numpy' needs a backward"):
        scaled(x)
    scaled.backward(lambda g, a, out: 2.0 * g)
    x.grad = None
    scaled(x).sum().backward()
    torch.testing.assert_close(x.grad, torch.full_like(x, 2.0))


def test_a_number_is_a_gradient_for_a_0d_input():
    half = npgrad.function(lambda x: x / 2, name="half")
    half.backward(lambda g, x, out: float(g) / 2)
    x = torch.tensor(3.0, requires_grad=True)
    half(x).backward()
    assert x.grad.dtype == torch.float32 and float(x.grad) == 0.5


def test_unbroadcast_sums_arrays_and_tensors_back_to_shape():
    g = np.arange(12.0).reshape(4, 3)
    np.testing.assert_array_equal(npgrad.unbroadcast(g, (1, 3)), g.sum(0, keepdims=True))
    np.testing.assert_array_equal(npgrad.unbroadcast(g, 3), g.sum(0))
    assert npgrad.unbroadcast(g, ()) == g.sum()
    for bad in ((4,), (2, 3), (5, 4, 3, 1)):
        with pytest.raises(ValueError, match=r"npgrad.unbroadcast: a gradient of shape \(4, 3\)"):
            npgrad.unbroadcast(g, bad)
    # in a torch_ops backward the sum stays a differentiable tensor
    t = torch.from_numpy(g).requires_grad_()
    r = npgrad.unbroadcast(t * 2, (4, 1))
    assert isinstance(r, torch.Tensor) and r.requires_grad
    torch.testing.assert_close(r, torch.from_numpy(2 * g.sum(1, keepdims=True)))


def test_shape_mismatch_refused_unless_broadcast():
    x, t = torch.randn(8, 4), torch.randn(8, 1)
    with pytest.raises(ValueError, match=r"argument 't' has shape \(8, 1\) but 'x' has shape"):
        mse(x, t)
    bmse = npgrad.loss(
        lambda x, t: np.mean((x - t) ** 2), name="bmse", broadcast=True, mode="numeric"
    )
    x, t = x.double(), t.double()
    ref = F.mse_loss(*torch.broadcast_tensors(x, t))
    torch.testing.assert_close(bmse(x, t), ref)


def test_empty_batch_is_refused():
    with pytest.raises(ValueError, match=r"'mse': argument 'x' is empty"):
        mse(torch.zeros(0, 4), torch.zeros(0, 4))


def test_mixed_devices_are_refused():
    with pytest.raises(ValueError, match=r"argument 't' is on meta but 'x' is on cpu"):
        mse(torch.zeros(2), torch.zeros(2, device="meta"))


def test_numpy_arguments_alone_give_the_numpy_functions_result():
    # a plain call (as autograd's primitives take), or a constant inside npgrad.grad
    out = mse(np.zeros(2), np.array([1.0, 3.0]))
    assert type(out) is np.float64 and out == 5.0


def test_loss_must_be_scalar():
    bad = npgrad.loss(lambda x: x * 2, name="notscalar", mode="numeric")
    with pytest.raises(ValueError, match=r"'notscalar': the loss must be a scalar"):
        bad(torch.ones(3))


@pytest.mark.parametrize("policy", ["raise", "warn", "ignore"])
def test_nonfinite_policy(policy):
    f = npgrad.loss(lambda x: np.log(x).sum(), name="logsum", nonfinite=policy, mode="numeric")
    x = torch.tensor([0.0, 1.0])
    if policy == "raise":
        with pytest.raises(FloatingPointError, match="'logsum': output 0 is not finite"):
            with np.errstate(divide="ignore"):
                f(x)
    elif policy == "warn":
        with pytest.warns(RuntimeWarning, match="not finite"), np.errstate(divide="ignore"):
            assert f(x).isinf()
    else:
        with np.errstate(divide="ignore"):
            assert f(x).isinf()


@pytest.mark.parametrize("mode", ["numpy", "auto-fast", "auto-general", "numeric"])
def test_nonfinite_warning_points_at_the_callers_line(mode):
    def logsum(x, k=1):
        return np.log(x).sum() * k

    f = npgrad.loss(logsum, mode={"numpy": None, "numeric": "numeric"}.get(mode, "auto"))
    if mode == "numpy":
        f.backward(lambda g, x, out, k=1: g * k / x)
    x = torch.tensor([0.0, 1.0])
    kwargs = {"k": 1} if mode == "auto-general" else {}  # a keyword takes the general route
    with pytest.warns(RuntimeWarning, match="not finite") as rec, np.errstate(divide="ignore"):
        line = sys._getframe().f_lineno + 1
        f(x, **kwargs)
    assert (rec[0].filename, rec[0].lineno) == (__file__, line)


def test_numeric_size_warning_points_at_the_backward_call():
    f = npgrad.function(lambda x: x * 2, name="big", mode="numeric")
    x = torch.zeros(4097, requires_grad=True)
    y = f(x).sum()
    with pytest.warns(UserWarning, match="finite differences") as rec:
        line = sys._getframe().f_lineno + 1
        y.backward()
    assert (rec[0].filename, rec[0].lineno) == (__file__, line)


def test_user_exception_names_the_op():
    @npgrad.function(mode="numpy")
    def boom(x):
        raise KeyError("inner")

    boom.backward(lambda g, x, out: g)
    with pytest.raises(KeyError, match="inner") as e:
        boom(torch.ones(1))
    assert any("npgrad op 'boom'" in n for n in e.value.__notes__)


def test_numpy_mode_without_backward():
    f = npgrad.function(lambda x: x, name="nobwd", mode="numpy")
    with pytest.raises(npgrad.NpgradError, match="mode='numpy' needs a backward"):
        f(torch.ones(2))


def test_bad_options_are_refused():
    with pytest.raises(ValueError, match="nonfinite must be one of"):
        npgrad.function(lambda x: x, nonfinite="maybe")
    with pytest.raises(ValueError, match="mode must be one of"):
        npgrad.function(lambda x: x, mode="magic")
    with pytest.raises(TypeError, match="expected a callable"):
        npgrad.function(3)


# --------------------------------------------------------- gradient checking
def test_check_reports_and_raises_on_a_wrong_backward():
    @npgrad.loss
    def cube(x):
        return np.sum(x**3)

    @cube.backward
    def _(g, x, out):
        return 2 * x**2 * g  # wrong: should be 3 x^2

    with pytest.raises(npgrad.GradcheckError) as e:
        npgrad.check(cube, torch.Size([4]))
    text = str(e.value)
    assert "gradient check of cube" in text and "FAIL" in text and "max abs err" in text
    report = npgrad.check(cube, torch.Size([4]), raise_on_fail=False)
    assert not report.ok and report.inputs[0].name == "x" and report.inputs[0].max_abs_err > 0.1


def test_check_works_on_plain_torch_functions():
    assert npgrad.check(lambda a, b: (a * b).sin(), torch.Size([3]), torch.Size([3])).ok


def test_check_refuses_a_function_that_returns_no_tensor():
    with pytest.raises(TypeError, match=r"'<lambda>' must return a tensor .* got float 3.0"):
        npgrad.check(lambda a: 3.0, torch.Size([3]))
    # an op returning a constant gives a tensor with no graph: a zero gradient, checked
    assert npgrad.check(npgrad.function(lambda a: 3.0, name="three"), torch.Size([3])).ok
    with pytest.raises(npgrad.GradcheckError):  # and a zero gradient cannot pass for sin's
        npgrad.check(lambda a: torch.sin(a).detach() + 0 * torch.sin(a.detach()), torch.Size([3]))


def test_check_handles_non_contiguous_and_keyword_tensors():
    assert npgrad.check(lambda a: (a * a).sum(), torch.randn(3, 4, dtype=torch.float64).T).ok

    @npgrad.function
    def scaled(x, **kw):
        return np.sum(x * kw["w"])

    @scaled.backward
    def _(g, x, out, **kw):
        return g * kw["w"], np.zeros_like(x)  # wrong on purpose for w

    report = npgrad.check(scaled, torch.Size([3]), w=torch.Size([3]), raise_on_fail=False)
    assert [r.name for r in report.inputs] == ["x", "w"]
    assert report.inputs[0].ok and not report.inputs[1].ok


def test_numeric_mode_matches_torch(device):
    f = npgrad.function(lambda x, w: np.tanh(x) * w, name="tanhw", mode="numeric")
    x, w = _pair(device, torch.float64, (3, 2))
    rx, rw = _clone(x, w)
    out = f(x, w)
    assert out.device == x.device and out.dtype == x.dtype
    out.sum().backward()
    (rx.tanh() * rw).sum().backward()
    torch.testing.assert_close(x.grad, rx.grad, atol=1e-7, rtol=1e-6)
    torch.testing.assert_close(w.grad, rw.grad, atol=1e-7, rtol=1e-6)


# -------------------------------------------------------------- second order
def test_second_order_through_numpy_backward_raises():
    x = torch.randn(3, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(mse(x, torch.zeros(3, dtype=torch.float64)), x, create_graph=True)
    with pytest.raises(npgrad.NpgradError, match="second-order gradient cannot flow"):
        g.sum().backward()


def test_second_order_with_torch_backward_is_right():
    quartic = quartic_with_torch_backward()
    x = torch.randn(4, dtype=torch.float64, requires_grad=True)
    (g,) = torch.autograd.grad(quartic(x), x, create_graph=True)
    (h,) = torch.autograd.grad(g.sum(), x)
    torch.testing.assert_close(h, 12 * x.detach() ** 2)


# ------------------------------------------------- residuals and needs_input_grad
def test_residuals_and_needs_input_grad_reach_the_backward():
    seen = {}

    @npgrad.loss
    def sq(x, t):
        return np.sum((x - t) ** 2)

    @sq.def_fwd
    def _(x, t):
        d = x - t
        return np.sum(d**2), d

    @sq.backward
    def _(g, x, t, out, *, needs_input_grad, residuals):
        seen["needs"], seen["res"] = needs_input_grad, residuals
        d = residuals if residuals is not None else x - t
        return (2 * d * g if needs_input_grad[0] else None), (
            -2 * d * g if needs_input_grad[1] else None
        )

    x, t = _pair("cpu", torch.float64)
    t.requires_grad_(False)
    sq(x, t).backward()
    assert seen["needs"] == (True, False)
    np.testing.assert_array_equal(seen["res"], (x - t).detach().numpy())
    torch.testing.assert_close(x.grad, 2 * (x - t).detach())
    assert npgrad.check(sq, x, t).ok


def test_mse_residual_survives_repeated_backwards():
    x, t = _pair("cpu", torch.float32)
    loss = mse(x, t)
    loss.backward(retain_graph=True)
    first = x.grad.clone()
    loss.backward(retain_graph=True)
    loss.backward()
    torch.testing.assert_close(x.grad, 3 * first)


# ----------------------------------------------------- memory ownership (review)
def test_popped_residual_that_is_the_output_is_copied_into_the_gradient():
    @npgrad.function
    def ex(x):
        return np.exp(x)

    @ex.def_fwd
    def _(x):
        y = np.exp(x)
        return y, [y]  # exp's natural residual: its own output

    @ex.backward
    def _(g, x, out, *, residuals=None):
        y = residuals.pop() if residuals else np.exp(x)
        return y if np.all(g == 1) else y * g  # skips multiplying by 1, as mse does

    x = torch.zeros(3, requires_grad=True)
    out = ex(x)
    (gx,) = torch.autograd.grad(out, x, torch.ones(3))
    gx.mul_(10)
    assert torch.equal(out, torch.ones(3))


def test_a_gradient_viewing_another_gradient_is_copied():
    @npgrad.function
    def f(x, y):
        return x[:, 0] + y

    @f.backward
    def _(g, x, y, out):
        d = np.array(g)
        return d[:, None], d  # x's gradient views y's

    x, y = torch.zeros(3, 1, requires_grad=True), torch.zeros(3, requires_grad=True)
    gx, gy = torch.autograd.grad(f(x, y).sum(), (x, y))
    gy.mul_(5)
    assert torch.equal(gx, torch.ones(3, 1))


def test_read_only_or_input_backed_outputs_are_copied():
    @npgrad.function(mode="numeric")
    def frozen(x):
        r = np.exp(x)
        r.flags.writeable = False
        return r

    y = frozen(torch.zeros(3))  # torch's non-writable-array warning would fail here
    y.add_(1)
    assert torch.equal(y, torch.full((3,), 2.0))
    buffer = np.zeros(3, np.float32)
    x = torch.from_numpy(buffer)
    lookup = npgrad.function(lambda x: buffer, name="lookup", mode="numeric")
    lookup(x).add_(1)
    assert torch.equal(x, torch.zeros(3))


def test_empty_later_argument_of_a_broadcasting_loss_is_refused():
    for mode in ("auto", "numeric"):
        f = npgrad.loss(lambda x, t: np.mean((x - t) ** 2), broadcast=True, mode=mode, name="b")
        with pytest.raises(ValueError, match="argument 't' is empty"):
            f(torch.ones(1), torch.ones(0))


def test_non_finite_check_comes_before_the_scalar_check_on_every_dtype():
    f = npgrad.loss(lambda x: x / 0.0, mode="numeric", nonfinite="raise", name="div0")
    for dtype in (torch.float32, torch.float16):
        with np.errstate(divide="ignore"), pytest.raises(FloatingPointError):
            f(torch.ones(2, dtype=dtype))


def test_one_array_returned_for_two_inputs_gives_independent_gradients():
    @npgrad.function
    def add(x, y):
        return np.sum(x + y)

    @add.backward
    def _(g, x, y, out):
        same = np.full_like(x, g)
        return same, same

    x, y = _pair("cpu", torch.float64, (3,))
    add(x, y).backward()
    add(x, y).backward()
    assert x.grad.data_ptr() != y.grad.data_ptr()
    torch.testing.assert_close(x.grad, torch.full((3,), 2.0, dtype=torch.float64))
    torch.testing.assert_close(y.grad, torch.full((3,), 2.0, dtype=torch.float64))


def test_user_code_cannot_write_into_the_callers_tensor():
    @npgrad.function(mode="numpy")
    def shift(x):
        x -= x.max()
        return x

    shift.backward(lambda g, x, out: g)
    x = torch.arange(3.0)
    with pytest.raises(ValueError, match="read-only"):
        shift(x)
    assert torch.equal(x, torch.arange(3.0))


CONSTANT_CALLS = {
    "positional": (lambda a: np.ones_like(a), lambda op, x: op(x)),
    "keyword": (lambda a, k=1.0: np.ones_like(a) * k, lambda op, x: op(x, k=1.0)),
    "in a dict": (lambda p: np.ones_like(p["w"]), lambda op, x: op({"w": x})),
}


@pytest.mark.parametrize("fn, call", list(CONSTANT_CALLS.values()), ids=list(CONSTANT_CALLS))
def test_a_result_that_does_not_depend_on_the_inputs_has_a_zero_gradient(fn, call):
    # every route connects it to the inputs, so that backward() works (the positional
    # call's quick route returned a tensor without history)
    op = npgrad.function(fn, name="const", mode="auto")
    x = torch.rand(3, dtype=torch.float64, requires_grad=True)
    y = call(op, x)
    assert y.requires_grad
    y.sum().backward()
    torch.testing.assert_close(x.grad, torch.zeros_like(x))
    with torch.no_grad():
        assert not call(op, x).requires_grad


@pytest.mark.parametrize("fn, call", list(CONSTANT_CALLS.values()), ids=list(CONSTANT_CALLS))
def test_a_constant_result_under_torch_func_has_a_zero_derivative(fn, call):
    # torch.func refuses the zero-gradient Function: a constant is its own business
    op = npgrad.function(fn, name="const", mode="auto")
    x = torch.rand(3, dtype=torch.float64)
    g = torch.func.grad(lambda t: call(op, t).sum() + (t**2).sum())(x)
    torch.testing.assert_close(g, 2 * x)
    torch.testing.assert_close(
        torch.func.jacrev(lambda t: call(op, t))(x), torch.zeros(3, 3, dtype=torch.float64)
    )
