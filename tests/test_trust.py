"""Regression tests for silent wrong answers found by demanding users (one test per case,
named after it); each failed, or answered wrongly, on the code before the fix."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import npgrad

from .conftest import TOL


def _huber(x, t, delta=1.0):
    a = np.abs(x - t)
    return np.mean(np.where(a <= delta, 0.5 * a**2, delta * (a - 0.5 * delta)))


# ---------------------------------------------------------------- argument binding
def test_backward_keyword_arguments_are_bound_by_name():
    h = npgrad.loss(_huber, name="huber_kw")

    @h.backward
    def _(g, x, t, out, delta=1.0):
        d = x - t
        gx = np.clip(d, -delta, delta) * (g / d.size)
        return gx, -gx

    g = torch.Generator().manual_seed(0)
    x = (2 * torch.randn(6, 3, generator=g, dtype=torch.float64)).requires_grad_()
    t = torch.randn(6, 3, generator=g, dtype=torch.float64)
    h(x, t, delta=0.5).backward()
    x_ref = x.detach().clone().requires_grad_()
    F.huber_loss(x_ref, t, delta=0.5).backward()
    torch.testing.assert_close(x.grad, x_ref.grad, **TOL[torch.float64])
    assert npgrad.check(h, x, t, delta=0.5).ok


def test_a_backward_that_cannot_be_matched_is_refused_at_registration():
    h = npgrad.loss(_huber, name="huber_bad")
    with pytest.raises(npgrad.NpgradError, match=r"def _\(g, x, t, out, delta=1.0"):

        @h.backward
        def _(g, a, b, out, scale=1.0):
            return g * a, -g * b


def test_tensors_inside_containers_get_their_gradients():
    # np.stack of the list's tensors: a NumPy function reading the container itself
    f = npgrad.loss(
        lambda x, ws: np.mean((x @ ws[0] + ws[1]) ** 2) + np.sum(np.stack(ws[1:]) * 0),
        name="layers",
    )
    g = torch.Generator().manual_seed(1)
    x = torch.randn(5, 3, generator=g, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 2, generator=g, dtype=torch.float64, requires_grad=True)
    b = torch.randn(2, generator=g, dtype=torch.float64, requires_grad=True)
    f(x, [w, b]).backward()
    refs = [v.detach().clone().requires_grad_() for v in (x, w, b)]
    ((refs[0] @ refs[1] + refs[2]) ** 2).mean().backward()
    for got, ref in zip((x, w, b), refs):
        torch.testing.assert_close(got.grad, ref.grad, **TOL[torch.float64])


def test_tensors_inside_containers_in_numpy_mode_are_refused_by_name():
    f = npgrad.function(lambda x, ws: x * ws[0], name="scaled")
    f.backward(lambda g, x, ws, out: g)
    with pytest.raises(TypeError, match=r"argument 'ws' holds a tensor inside a list \(ws\[0\]\)"):
        f(torch.ones(2), [torch.ones(2, requires_grad=True)])


# ---------------------------------------------------------------------- aliasing
def test_a_residual_that_is_the_output_is_not_changed_by_the_backward():
    f = npgrad.function(lambda x: x * 2.0, name="twice")

    @f.def_fwd
    def _(x):
        y = x * 2.0
        return y, [y]  # the output itself, saved

    @f.backward
    def _(g, x, out, residuals=None):
        y = residuals.pop() if residuals else x * 2.0
        y *= g  # the losses.mse pattern: the residual's memory becomes the gradient
        return y

    x = torch.tensor([1.0, 2.0], requires_grad=True)
    out = f(x)
    out.backward(torch.tensor([3.0, 5.0]))
    torch.testing.assert_close(out.detach(), torch.tensor([2.0, 4.0]))


def test_a_gradient_buffer_the_backward_keeps_does_not_corrupt_accumulation():
    buf = np.zeros(3, dtype=np.float32)
    f = npgrad.function(lambda x: x * 2, name="buffered")

    @f.backward
    def _(g, x, out):
        np.multiply(g, 2, out=buf)  # the same memory every step
        return buf

    x = torch.ones(3, requires_grad=True)
    for _ in range(3):
        f(x).sum().backward()
    torch.testing.assert_close(x.grad, torch.full((3,), 6.0))


# ------------------------------------------------------------- recompute paths
def test_compiled_automatic_mode_sees_the_forwards_random_numbers():
    f = npgrad.loss(lambda x: np.mean((x + np.random.normal(size=x.shape)) ** 2), name="noisy")

    def run(fn):
        np.random.seed(0)
        x = torch.ones(5, requires_grad=True)
        y = fn(x)
        y.backward()
        return y.detach(), x.grad, np.random.rand()

    eager = run(f)
    compiled = run(torch.compile(lambda a: f(a), backend="aot_eager", fullgraph=True))
    torch.testing.assert_close(compiled[0], eager[0])
    torch.testing.assert_close(compiled[1], eager[1])
    assert compiled[2] == eager[2]  # the user's stream is where eager left it


def test_compiled_automatic_mode_refuses_a_captured_tensor_that_requires_grad():
    w = torch.ones(3, requires_grad=True)
    f = npgrad.loss(lambda x: np.sum(x * w), name="captured")
    compiled = torch.compile(lambda a: f(a), backend="aot_eager", fullgraph=True)
    with pytest.raises(Exception, match="requires grad without receiving it as an argument"):
        compiled(torch.ones(3, requires_grad=True))


def test_check_runs_the_recompute_branch():
    f = npgrad.loss(lambda x: np.sum(x**2), name="sq")
    f.def_fwd(lambda x: (np.sum(x**2), [2 * x]))

    @f.backward
    def _(g, x, out, residuals=None):
        return (residuals.pop() if residuals else 3 * x) * g  # wrong only when recomputing

    report = npgrad.check(f, torch.Size([3]), raise_on_fail=False)
    assert [(r.name, r.ok) for r in report.inputs] == [("x", True), ("x (recompute)", False)]


def test_check_differentiates_only_what_is_asked():
    f = npgrad.function(lambda x, w: x * w, name="weighted")
    f.backward(lambda g, x, w, out: (g * w, None))  # no gradient for the weights
    x = torch.rand(4, dtype=torch.float64, requires_grad=True)
    w = torch.rand(4, dtype=torch.float64)
    assert [r.name for r in npgrad.check(f, x, w).inputs] == ["x"]
    assert [r.name for r in npgrad.check(f, x.detach(), w, wrt="x").inputs] == ["x"]


def test_check_takes_wrt_as_positions_too():
    f = npgrad.function(lambda x, w: np.sum(np.exp(x) * w), name="ew")
    shapes = (torch.Size([3]), torch.Size([2, 1]))
    assert [r.name for r in npgrad.check(f, *shapes, wrt=1).inputs] == ["value", "w"]
    assert [r.name for r in npgrad.check(f, *shapes, wrt=(-2, "w")).inputs] == ["value", "x", "w"]
    with pytest.raises(ValueError, match=r"npgrad.check: wrt=2 is no position .* 'ew'"):
        npgrad.check(f, *shapes, wrt=2)
    with pytest.raises(TypeError, match=r"npgrad.check: wrt takes parameter names or positions"):
        npgrad.check(f, *shapes, wrt=[1.0])


def test_check_of_an_automatic_op_compares_with_the_plain_numpy_function():
    # differences run through the mapping itself cannot see a mapping wrong in value
    # and gradient alike: the check runs the function on plain arrays too
    calls = []

    def fn(x):
        calls.append(type(x).__name__)
        return np.sum(np.sin(x) * 2)

    op = npgrad.function(fn, name="twice-sin")
    report = npgrad.check(op, torch.Size([3]))
    assert [r.name for r in report.inputs] == ["value", "x"] and report.ok
    assert "plain float64 arrays" in str(report)
    assert "ndarray" in calls and "TracedArray" in calls  # both runs happened


# -------------------------------------------------------------------- dtype policy
def test_a_float64_gradient_for_a_float32_input_is_cast_like_autograd():
    f = npgrad.function(lambda x: x * 3, name="thrice")
    f.backward(lambda g, x, out: (3 * g).astype(np.float64))
    x = torch.ones(2, requires_grad=True)
    f(x).sum().backward()
    assert x.grad.dtype == torch.float32
    torch.testing.assert_close(x.grad, torch.full((2,), 3.0))


def test_autocast_promotion_does_not_depend_on_argument_order():
    mse = npgrad.losses.mse_auto
    p = torch.rand(4, 3).bfloat16().requires_grad_()
    t = torch.rand(4, 3)
    assert mse(p, t).dtype == mse(t, p).dtype == torch.float32


def test_unsigned_integer_arrays_keep_numpys_dtype():
    f = npgrad.function(lambda x, d: x * (d.dtype == np.uint16) + np.sum(d + d), name="depth")
    d = torch.tensor([1, 2], dtype=torch.uint16)
    torch.testing.assert_close(f(torch.ones(2), d), torch.full((2,), 7.0))
    g = npgrad.function(lambda x, d: (x, d.astype(np.uint64) + np.uint64(2**63)), name="big")
    g.backward(lambda gr, x, d, out: (gr[0], None))
    big = g(torch.ones(2), d)[1]
    assert big.dtype == torch.uint64 and big.numpy()[0] == np.uint64(2**63 + 1)


def test_numeric_mode_suits_a_forward_that_computes_in_float32():
    f = npgrad.function(lambda x: np.sum(np.sin(x.astype(np.float32))), mode="numeric")
    x = torch.linspace(0.1, 2.0, 8, dtype=torch.float64, requires_grad=True)
    f(x).backward()
    want = torch.cos(x.detach())
    assert float((x.grad - want).abs().max() / want.abs().max()) < 1e-3


def test_numeric_mode_suits_a_forward_that_computes_in_float32_but_returns_float64():
    # float64 out (np.float64, or a float64 constant joining in), float32 inside: the
    # output's dtype hides the precision, and a float64-sized step was rounded away
    f = npgrad.function(
        lambda x: np.float64(np.sum(np.sin(x.astype(np.float32)))), name="f32in", mode="numeric"
    )
    for dtype in (torch.float32, torch.float64):
        x = torch.linspace(0.1, 2.0, 8, dtype=dtype, requires_grad=True)
        f(x).backward()
        want = torch.cos(x.detach().double())
        assert float((x.grad.double() - want).abs().max() / want.abs().max()) < 1e-3


def test_numeric_mode_finds_float32_use_input_by_input():
    # x is used in float32, w in float64: each gets the step its own precision needs
    def f(x, w):
        return np.float64(np.sum(np.sin(x.astype(np.float32)))) + np.sum(np.sin(w))

    op = npgrad.function(f, name="mixed", mode="numeric")
    x = torch.linspace(0.1, 2.0, 6, dtype=torch.float64, requires_grad=True)
    w = torch.linspace(-1.0, 1.0, 5, dtype=torch.float64, requires_grad=True)
    op(x, w).backward()
    want_x, want_w = torch.cos(x.detach()), torch.cos(w.detach())
    assert float((x.grad - want_x).abs().max() / want_x.abs().max()) < 1e-3
    torch.testing.assert_close(w.grad, want_w, atol=1e-8, rtol=1e-8)


def _draws(source: str):
    """A forward whose value changes from call to call, and where the change comes from."""
    rng, legacy, buf, calls = np.random.default_rng(0), np.random.RandomState(0), np.zeros(3), []
    if source == "np.random":
        return lambda x: np.sum(x**2 + 1e-3 * np.random.standard_normal(x.shape))
    if source == "Generator":
        return lambda x: np.sum(x**2 + 1e-3 * rng.standard_normal(x.shape))
    if source == "RandomState":
        return lambda x: np.sum(x**2) * legacy.uniform(0.999, 1.001)
    if source == "kept buffer":  # the same array every call, holding new draws

        def kept(x):
            np.add(x**2, 1e-3 * rng.standard_normal(x.shape), out=buf)
            return buf

        return kept
    assert source == "a counter"
    return lambda x: np.sum(x**2) + 1e-6 * len(calls.append(0) or calls)


@pytest.mark.parametrize(
    "source", ["np.random", "Generator", "RandomState", "kept buffer", "a counter"]
)
def test_numeric_mode_refuses_a_forward_that_is_not_deterministic(source):
    f = npgrad.function(_draws(source), name="noisy", mode="numeric")
    x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    y = f(x)
    with pytest.raises(npgrad.NpgradError, match="'noisy': mode='numeric' needs a deterministic"):
        y.sum().backward()
    assert x.grad is None


def test_numeric_mode_takes_random_numbers_seeded_inside_the_forward():
    # the way out the error names: the same draws on every call, whose gradient is 2x
    def seeded(x):
        return np.sum(x**2 + np.random.default_rng(0).standard_normal(x.shape))

    x = torch.tensor([0.5, -1.0, 2.0], dtype=torch.float64, requires_grad=True)
    npgrad.function(seeded, mode="numeric")(x).backward()
    torch.testing.assert_close(x.grad, 2 * x.detach(), atol=1e-6, rtol=1e-6)


def test_numeric_mode_does_not_let_the_forward_move_its_input():
    def centred(x):
        y = np.asarray(x, dtype=np.float64)  # x itself when x is float64: numeric's arrays
        y -= y.mean()
        return np.sum(y**2 * np.arange(1, y.size + 1))

    f = npgrad.function(centred, name="centred", mode="numeric")
    x = torch.tensor([1.0, 2.0, 4.0], requires_grad=True)  # float32: the forward copies
    y = f(x)
    with pytest.raises(ValueError, match="read-only") as err:
        y.backward()
    assert any("mode='numeric'" in n and "centred" not in n for n in err.value.__notes__)
    assert any("npgrad op 'centred'" in n for n in err.value.__notes__)
    # the copy the note suggests gives torch's gradient
    copied = npgrad.function(lambda x: centred(x.astype(np.float64)), name="copied", mode="numeric")
    x.grad = None
    copied(x).backward()
    ref = x.detach().double().requires_grad_()
    c = ref - ref.mean()
    (c**2 * torch.arange(1, 4)).sum().backward()
    torch.testing.assert_close(x.grad.double(), ref.grad, atol=1e-3, rtol=1e-3)


# ---------------------------------------------------------------- masked branches
def test_non_finite_gradients_meet_the_nonfinite_policy():
    f = npgrad.function(lambda x: np.sqrt(x), name="root", nonfinite="raise")

    @f.backward
    def _(g, x, out):
        with np.errstate(divide="ignore"):
            return g / (2 * out)

    with pytest.raises(FloatingPointError, match="the gradient for 'x' is not finite"):
        f(torch.tensor([0.0, 1.0], requires_grad=True)).sum().backward()


def _big_gradient(case: str, dtype, order: str) -> np.ndarray:
    """A gradient large enough for the sum-first finiteness test (SUM_TEST_SIZE)."""
    big = np.finfo(dtype).max / 2  # finite, but any two of them overflow a sum
    a = np.full((160, 130), 0.25, dtype=dtype, order=order)
    flat = a.ravel(order="K")  # a view in memory order, either layout
    if case in ("nan", "+inf", "-inf"):
        flat[12345] = {"nan": np.nan, "+inf": np.inf, "-inf": -np.inf}[case]
    elif case == "nan first":
        flat[0] = np.nan
    elif case == "-inf last":
        flat[-1] = -np.inf
    elif case == "+inf and -inf":  # the sum is nan, not inf
        flat[7], flat[9000] = np.inf, -np.inf
    elif case == "overflowing finite":
        flat[:] = big
    elif case == "overflowing with a nan":
        flat[:] = big
        flat[20000] = np.nan
    elif case == "negative zeros":
        flat[:] = -0.0
    return a


@pytest.mark.parametrize(
    "case",
    [
        "nan",
        "+inf",
        "-inf",
        "nan first",
        "-inf last",
        "+inf and -inf",
        "overflowing finite",
        "overflowing with a nan",
        "negative zeros",
    ],
)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("order", ["C", "F"])
def test_a_large_gradient_is_reported_exactly_when_an_element_is_not_finite(case, dtype, order):
    grad = _big_gradient(case, dtype, order)
    assert grad.size >= 16384 and grad.flags[f"{order}_CONTIGUOUS"]
    f = npgrad.function(lambda x: x * 1.0, name="bigrad", nonfinite="raise")

    @f.backward
    def _(g, x, out):
        return grad.copy(order="K")  # fresh, in the layout asked for

    x = torch.zeros(grad.shape, dtype=torch.float64 if dtype is np.float64 else torch.float32)
    x.requires_grad_()
    if np.isfinite(grad).all():  # the reference: NumPy's elementwise test
        f(x).sum().backward()
        np.testing.assert_array_equal(x.grad.numpy(), grad)
    else:
        with pytest.raises(FloatingPointError, match="the gradient for 'x' is not finite"):
            f(x).sum().backward()


def test_a_target_array_of_another_shape_is_refused():
    with pytest.raises(ValueError, match=r"argument 't' has shape \(8,\)"):
        npgrad.losses.mse_auto(torch.zeros(8, 1), np.zeros(8))


# ------------------------------------------------------------ crashes of the wrong kind
def test_negative_strides_come_back():
    f = npgrad.function(lambda x: np.sort(x)[::-1], name="descending")
    f.backward(lambda g, x, out: np.cumsum(g[::-1])[::-1] * 0 + g[np.argsort(np.argsort(-x))])
    x = torch.tensor([2.0, 3.0, 1.0], requires_grad=True)
    out = f(x)
    torch.testing.assert_close(out, torch.tensor([3.0, 2.0, 1.0]))
    out.backward(torch.tensor([1.0, 2.0, 3.0]))
    torch.testing.assert_close(x.grad, torch.tensor([2.0, 1.0, 3.0]))


def test_a_constant_automatic_loss_has_a_zero_gradient():
    f = npgrad.loss(lambda p, t: np.mean(p[t > 0]) if np.any(t > 0) else 0.0, name="masked")
    x = torch.rand(4, requires_grad=True)
    f(x, torch.zeros(4)).backward()
    torch.testing.assert_close(x.grad, torch.zeros(4))


def test_an_op_with_a_backward_composes_inside_automatic_mode():
    cube = npgrad.function(lambda x: x**3, name="cube")
    cube.backward(lambda g, x, out: 3 * x**2 * g)
    f = npgrad.loss(lambda x: np.sum(np.sin(cube(x))), name="outer")
    x = torch.tensor([0.5, 1.0], requires_grad=True)
    f(x).backward()
    torch.testing.assert_close(x.grad, 3 * x.detach() ** 2 * torch.cos(x.detach() ** 3))


def test_the_trace_error_points_at_a_function_that_exists():
    f = npgrad.function(lambda x: np.intersect1d(x, x), name="uniq")
    with pytest.raises(npgrad.TraceError, match=r"npgrad\.supported\(\)") as e:
        f(torch.ones(3))
    assert "npgrad.supported()" in str(e.value)
    assert "numpy.mean" in npgrad.supported()


def test_loss_module_tensor_options_are_buffers():
    crit = npgrad.Loss(npgrad.losses.cross_entropy, weight=torch.tensor([1.0, 2.0, 3.0]))
    assert "weight" in crit.state_dict()
    assert crit.double().weight.dtype == torch.float64


def test_tensors_inside_a_dict_keyword_argument_get_their_gradients():
    f = npgrad.loss(lambda x, *, params: np.mean((x * params["w"]) ** 2), name="dict_kw")
    x = torch.rand(4, dtype=torch.float64, requires_grad=True)
    w = torch.rand(4, dtype=torch.float64, requires_grad=True)
    f(x, params={"w": w}).backward()
    xr, wr = (v.detach().clone().requires_grad_() for v in (x, w))
    ((xr * wr) ** 2).mean().backward()
    torch.testing.assert_close(w.grad, wr.grad, **TOL[torch.float64])
    torch.testing.assert_close(x.grad, xr.grad, **TOL[torch.float64])


def test_a_backward_returning_none_for_a_wanted_gradient_is_refused():
    f = npgrad.loss(lambda x, y: np.sum(x * y), name="dot")
    f.backward(lambda g, x, y, out: (g * y, None))
    x, y = torch.randn(3, requires_grad=True), torch.randn(3, requires_grad=True)
    with pytest.raises(npgrad.BackwardError, match=r"returned None for 'y'"):
        f(x, y).backward()


def test_depth_map_reductions_on_uint16_give_numpys_values():
    d = np.random.default_rng(0).integers(0, 65535, (2, 8, 8)).astype(np.uint16)
    f = npgrad.function(
        lambda x, d: (x, np.max(d), np.min(d, axis=0), np.argmax(d), np.clip(d, 10, 60000)),
        name="depth",
    )
    _, dmax, dmin, arg, clipped = f(torch.ones(1), torch.from_numpy(d))
    assert dmax.dtype == torch.uint16 and int(dmax) == d.max()
    np.testing.assert_array_equal(dmin.numpy(), d.min(axis=0))
    assert int(arg) == d.argmax()
    np.testing.assert_array_equal(clipped.numpy(), np.clip(d, 10, 60000))


@pytest.mark.parametrize("name", ["view", "tobytes", "base", "data", "strides", "flags"])
def test_an_ndarray_attribute_automatic_mode_lacks_is_a_trace_error_naming_it(name):
    def fn(x):
        value = getattr(x, name)
        if callable(value):
            value()
        return np.sum(x)

    op = npgrad.function(fn, name="attr")
    with pytest.raises(npgrad.TraceError, match=rf"op 'attr'.*ndarray\.{name}"):
        op(torch.ones(3, requires_grad=True))


def test_hasattr_on_a_traced_array_is_false_for_an_attribute_it_lacks():
    seen = []

    def fn(x):
        seen.append((hasattr(x, "strides"), getattr(x, "base", "absent"), hasattr(x, "view")))
        return np.sum(x)

    npgrad.function(fn, name="probe")(torch.ones(3, requires_grad=True))
    assert seen == [(False, "absent", True)]


def test_numeric_mode_gradients_meet_the_nonfinite_policy():
    # central differences across log's edge at 0 give nan for the smallest input
    op = npgrad.function(np.log, mode="numeric", nonfinite="raise", name="lg")
    x = torch.tensor([1e-9, 1e-4], dtype=torch.float64, requires_grad=True)
    with np.errstate(invalid="ignore"):
        y = op(x).sum()
        with pytest.raises(FloatingPointError, match=r"'lg': the gradient for 'x' .* not finite"):
            y.backward()


# torch's forward-mode AD machinery scripts a helper on first use and warns about it
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")
def test_forward_mode_on_a_numeric_op_names_what_it_lacks():
    op = npgrad.function(np.sin, mode="numeric", name="ns")
    x = torch.ones(2, dtype=torch.float64)
    with pytest.raises(npgrad.NpgradError, match=r"'ns'.*only a vector-Jacobian product"):
        torch.func.jacfwd(op)(x)


def test_a_scipy_function_behind_scipys_decorator_is_named_with_the_way_out():
    import scipy.linalg

    a = np.array([[2.0, 0.3], [0.3, 1.5]])
    # (a function npgrad has no row for)
    with pytest.raises(
        npgrad.TraceError,
        match=r"\(in scipy\.linalg\.fractional_matrix_power\).*@npgrad.implements",
    ):
        npgrad.grad(lambda m: np.sum(scipy.linalg.fractional_matrix_power(m, 0.5)))(a)


def test_an_array_built_from_traced_values_points_at_np_stack():
    a = np.array([1.0, 2.0])
    with pytest.raises(npgrad.TraceError, match=r"np\.array\(\[a, b\]\) of several: np\.stack"):
        npgrad.grad(lambda p: np.sum(np.array([p[0], p[1] * 2])))(a)


def test_a_deferred_difference_does_not_read_a_target_written_after_it():
    # np.broadcast_to gives a read-only view of a buffer the function then overwrites
    row = np.array([1.0, 2.0, 3.0])

    def f(x):
        d = x - np.broadcast_to(row, (2, 3))
        row[:] = 0.0
        return np.mean(d**2)

    x = np.full((2, 3), 5.0)
    value, grad = npgrad.value_and_grad(f)(x)
    d = x - np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(value, np.mean(d**2))
    np.testing.assert_allclose(grad, 2 * d / d.size)


def test_a_keyword_input_returned_as_itself_is_an_alias_of_the_caller():
    def f(x):
        y = np.real(val=x)
        y[0] = 5.0  # NumPy writes into x: npgrad refuses to write into the caller's
        return np.sum(x)

    with pytest.raises(npgrad.TraceError, match="writes into the caller's array"):
        npgrad.function(f, name="kw")(torch.ones(2, dtype=torch.float64, requires_grad=True))


def test_a_uint64_right_shift_is_refused_not_sign_extended():
    k = torch.from_numpy(np.array([2**63, 12], dtype=np.uint64))
    op = npgrad.function(lambda x, k: x * (k >> 1), name="shift")
    with pytest.raises(npgrad.TraceError, match=r"np.right_shift of uint64 arrays"):
        op(torch.ones(2, dtype=torch.float64, requires_grad=True), k)


@pytest.mark.parametrize(
    "kw", [dict(rcond=0.1), dict(rtol=0.01), {}], ids=["rcond", "rtol", "default"]
)
def test_pinv_with_a_cutoff_has_the_truncated_pseudo_inverses_gradient(kw):
    rng = np.random.default_rng(0)
    u, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    v, _ = np.linalg.qr(rng.normal(size=(3, 3)))
    a = u @ np.diag([1.0, 0.3, 0.05]) @ v.T  # 0.05 is dropped by rcond=0.1
    w = np.arange(9.0).reshape(3, 3)

    def f(m):
        return np.sum(np.linalg.pinv(m, **kw) * w)

    grad = npgrad.grad(f)(a)
    fd = np.empty(9)
    for j in range(9):
        e = np.zeros(9)
        e[j] = 1e-6
        fd[j] = (f(a + e.reshape(3, 3)) - f(a - e.reshape(3, 3))) / 2e-6
    np.testing.assert_allclose(grad.ravel(), fd, rtol=1e-5, atol=1e-6 * np.abs(fd).max())


def test_check_refuses_a_function_that_gives_two_values_at_one_point():
    op = npgrad.function(lambda x: np.sum(x * np.random.rand(3)), name="noisy")
    with pytest.raises(ValueError, match=r"'noisy' gives two values at one point"):
        npgrad.check(op, torch.Size([3]))


@pytest.mark.parametrize("mode", ["reflect", "edge", "wrap"])
def test_pad_wider_than_the_axis_follows_numpy(mode):
    x = np.array([1.0, 2.0, 3.0])
    w = np.arange(17.0)
    value, grad = npgrad.value_and_grad(lambda v: np.sum(np.pad(v, 7, mode=mode) * w))(x)
    assert value == np.sum(np.pad(x, 7, mode=mode) * w)
    expected = [np.sum(w[np.pad(np.eye(3)[j], 7, mode=mode) == 1]) for j in range(3)]
    np.testing.assert_allclose(grad, expected)


def test_a_quantile_method_torch_lacks_is_a_trace_error_naming_it():
    with pytest.raises(npgrad.TraceError, match=r"np.quantile\(method='weibull'\)"):
        npgrad.grad(lambda v: np.quantile(v**3, 0.3, method="weibull"))(np.arange(8.0))


@pytest.mark.parametrize("fn", [lambda x: x & 1, lambda x: x >> 1], ids=["and", "shift"])
def test_a_bitwise_ufunc_of_floats_is_numpys_type_error(fn):
    with pytest.raises(TypeError, match=r"is not supported for floating inputs"):
        npgrad.grad(lambda v: np.sum(fn(v)))(np.ones(3))
    with pytest.raises(TypeError):
        fn(np.ones(3))  # NumPy's own answer


SUBCLASSED = {
    "masked": (lambda: np.ma.array([1.0, 2.0, 3.0], mask=[0, 1, 0]), "mask is not followed"),
    "matrix": (lambda: np.matrix([[1.0, 2.0], [3.0, 4.0]]), "matrix products"),
}


@pytest.mark.filterwarnings("ignore:the matrix subclass:PendingDeprecationWarning")
@pytest.mark.parametrize("make, words", list(SUBCLASSED.values()), ids=list(SUBCLASSED))
def test_ndarray_subclasses_with_their_own_meaning_are_refused(make, words):
    # a masked array's mask and a matrix's * and ** were dropped: np.sum(x ** 2) of
    # the masked [1, --, 3] was 14 (NumPy: 10), of the matrix 30 (NumPy: 54)
    a = make()
    with pytest.raises(TypeError, match=f"argument 0 \\(x\\) is .*{words}"):
        npgrad.value_and_grad(lambda x: np.sum(x**2))(a)
    captured = npgrad.function(lambda x: np.sum(x * a), name="cap", mode="auto")
    with pytest.raises(npgrad.TraceError, match=words):
        captured(torch.ones(a.shape, dtype=torch.float64))


def test_a_memmap_is_an_array_as_any_other(tmp_path):
    m = np.memmap(tmp_path / "m.dat", dtype=np.float64, mode="w+", shape=(3,))
    m[:] = [1.0, 2.0, 3.0]
    np.testing.assert_array_equal(npgrad.grad(lambda x: np.sum(x**2))(m), 2 * np.asarray(m))
    op = npgrad.function(lambda x: np.sum(x * m), name="cap", mode="auto")
    assert float(op(torch.ones(3, dtype=torch.float64))) == 6.0


TIED = {
    "swap": np.array([[0.0, 1.0], [1.0, 0.0]]),
    "signs": np.diag([2.0, -2.0, 1.0]),
}


@pytest.mark.parametrize("a", list(TIED.values()), ids=list(TIED))
def test_hermitian_svd_orders_tied_magnitudes_as_numpy(a):
    want = np.linalg.svd(a, hermitian=True)
    op = npgrad.function(lambda m: np.linalg.svd(m, hermitian=True), name="svd", mode="auto")
    for got, ref in zip(op(torch.tensor(a)), want):
        np.testing.assert_allclose(got.numpy(), ref, atol=1e-12)
    with pytest.raises(np.linalg.LinAlgError, match="must be square"):
        npgrad.grad(lambda m: np.sum(np.linalg.pinv(m, hermitian=True)))(np.ones((3, 2)))


def test_zero_d_transposes_are_the_array():
    x = torch.tensor(3.0, dtype=torch.float64)
    for f in (lambda a: a.T, lambda a: np.transpose(a, ()), lambda a: a.transpose()):
        assert float(npgrad.function(lambda a, f=f: f(a) * 2, name="t", mode="auto")(x)) == 6.0


# ---------------------------------------------------------------- residuals
def _exp_changing_its_residual():
    @npgrad.function
    def exp(x):
        return np.exp(x)

    @exp.def_fwd
    def _(x):
        e = np.exp(x)
        return e, e

    @exp.backward
    def _(g, x, out, residuals=None):
        e = np.exp(x) if residuals is None else residuals
        e *= g  # in place: the residual is the backward's to use up
        return e

    return exp


def test_a_backward_changing_its_residual_in_place_leaves_later_passes_right():
    x = torch.tensor([0.0, 1.0], dtype=torch.float64)
    jac = torch.autograd.functional.jacobian(_exp_changing_its_residual(), x)  # a pass per row
    torch.testing.assert_close(jac, torch.diag(torch.exp(x)), **TOL[torch.float64])
    x.requires_grad_()
    y = _exp_changing_its_residual()(x).sum()
    y.backward(retain_graph=True)
    first = x.grad.clone()
    y.backward()  # the second pass recomputes: residuals are None for it
    torch.testing.assert_close(x.grad, 2 * first, **TOL[torch.float64])
    torch.testing.assert_close(first, torch.exp(x.detach()), **TOL[torch.float64])


def test_batched_gradients_into_a_numpy_backward_are_refused_with_what_to_do():
    x = torch.rand(3, dtype=torch.float64, requires_grad=True)
    t = torch.zeros(3, dtype=torch.float64)
    with pytest.raises(npgrad.NpgradError, match=r"op 'mse': a NumPy backward cannot take batched"):
        torch.autograd.functional.jacobian(npgrad.losses.mse, (x, t), vectorize=True)
    # one at a time, and torch.func's own rules, give the gradient
    (gx, _) = torch.autograd.functional.jacobian(npgrad.losses.mse, (x, t))
    torch.testing.assert_close(gx, 2 * x.detach() / 3, **TOL[torch.float64])
    torch.testing.assert_close(torch.func.jacrev(npgrad.losses.mse)(x, t), gx, **TOL[torch.float64])


def _squared_with_a_torch_backward():
    op = npgrad.function(lambda x: x**2, name="squared-torch-backward")

    @op.backward(torch_ops=True)
    def _(g, x, out):
        return 2 * x * g

    return op


def test_batched_gradients_through_a_torch_ops_backward():
    # the backward is torch ops, which batch; the finiteness check of its gradient
    # read values, which a batch has not (torch's raw "Batching rule not implemented")
    op = _squared_with_a_torch_backward()
    x = torch.rand(3, dtype=torch.float64, requires_grad=True)
    want = torch.diag(2 * x.detach())
    jac = torch.autograd.functional.jacobian(op, x, vectorize=True)
    torch.testing.assert_close(jac, want, **TOL[torch.float64])
    cot = torch.tensor([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0]], dtype=torch.float64)
    (rows,) = torch.autograd.grad(op(x), x, cot, is_grads_batched=True)
    torch.testing.assert_close(rows, cot * 2 * x.detach(), **TOL[torch.float64])


@pytest.mark.parametrize("dtype", [np.uint8, np.int8, np.int16, np.int32], ids=lambda d: d.__name__)
def test_np_take_with_narrow_integer_labels(dtype):
    z = np.random.default_rng(1).normal(size=(4, 3))
    labels = np.array([0, 2, 1], dtype=dtype)
    g = npgrad.grad(lambda z: np.sum(np.take(z, labels, axis=1) ** 2))(z)
    want = np.zeros_like(z)
    for j in labels.astype(np.int64):
        want[:, j] += 2 * z[:, j]
    np.testing.assert_allclose(g, want, rtol=1e-15)


def test_np_full_like_with_a_traced_fill_value_keeps_its_gradient():
    x = np.array([1.0, 2.0, 3.0])
    value, g = npgrad.value_and_grad(lambda x: np.sum(np.full_like(x, x[1] ** 2) * x))(x)
    assert value == np.sum(np.full_like(x, 4.0) * x)
    np.testing.assert_allclose(g, [4.0, 4.0 + 2 * 2.0 * np.sum(x), 4.0], rtol=1e-15)


def test_np_full_like_refuses_a_fill_value_that_does_not_broadcast_to_its_shape():
    x = np.array([1.0, 2.0, 3.0])
    with pytest.raises(
        ValueError, match=r"could not broadcast input array from shape \(3, 1\) into shape \(3,\)"
    ):
        npgrad.grad(lambda x: np.sum(np.full_like(x, x.reshape(3, 1))))(x)
