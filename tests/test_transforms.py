"""npgrad ops under torch.compile and torch.func."""

from __future__ import annotations

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import npgrad
from npgrad.losses import mse

from .conftest import CUDA, quartic_with_torch_backward


@npgrad.function
def scaled(x, w, kind="one"):
    if kind == "one":
        return x * w
    return x * (2 * w), x.sum()


@scaled.backward
def _scaled_backward(g, x, w, kind, out):
    if kind == "one":
        return g * np.asarray(w, x.dtype)
    return g[0] * np.asarray(2 * w, x.dtype) + g[1]


@npgrad.function
def erf_scipy(x):
    from scipy import special

    return special.erf(x)


@erf_scipy.backward
def _erf_backward(g, x, out):
    return (g * 2 / np.sqrt(np.pi) * np.exp(-(x**2))).astype(x.dtype)


def _grads(fn, *inputs):
    inputs = [i.detach().clone().requires_grad_() for i in inputs]
    out = fn(*inputs)
    out.backward()
    return out.detach(), [i.grad for i in inputs]


# ------------------------------------------------------------- torch.compile
@pytest.fixture(autouse=True)
def _fresh_dynamo():
    torch._dynamo.reset()
    yield


@pytest.mark.parametrize(
    ("backend", "device", "mode"),
    [
        ("aot_eager", "cpu", None),
        ("inductor", "cpu", None),
        # CUDA graphs: npgrad's ops must stay outside them, or a replay would hand
        # back the first call's NumPy results
        pytest.param(
            "inductor",
            "cuda",
            "reduce-overhead",
            id="inductor-cuda-graphs",
            marks=pytest.mark.skipif(not CUDA, reason="no CUDA device here"),
        ),
    ],
)
def test_compile_fullgraph_training_step_matches_eager(backend, device, mode):
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(6, 5), torch.nn.Sigmoid()).to(device)

    def step(x):
        out = model(x)
        return mse(out, x[:, :5])

    compiled = torch.compile(step, fullgraph=True, backend=backend, mode=mode)
    for _ in range(3):  # new inputs each time: a frozen result would show
        x = torch.rand(4, 6, device=device)
        model.zero_grad()
        ref = step(x)
        ref.backward()
        ref_grads = [p.grad.clone() for p in model.parameters()]
        model.zero_grad()
        got = compiled(x)
        got.backward()
        torch.testing.assert_close(got, ref)
        for p, g in zip(model.parameters(), ref_grads):
            torch.testing.assert_close(p.grad, g)


def test_compile_with_scalar_arguments_tuple_outputs_and_scipy():
    def f(x, w):
        a = scaled(x, w).sum()
        b, s = scaled(x, w, "two")
        return a + b.sum() + s + erf_scipy(x).sum()

    compiled = torch.compile(f, fullgraph=True, backend="aot_eager")
    x = torch.randn(5, dtype=torch.float64)
    for w in (2.0, 3.5):  # a changed float recompiles with a dynamic scalar
        ref, ref_g = _grads(lambda x, w=w: f(x, w), x)
        got, got_g = _grads(lambda x, w=w: compiled(x, w), x)
        torch.testing.assert_close(got, ref)
        torch.testing.assert_close(got_g[0], ref_g[0])


@pytest.mark.skipif(not hasattr(torch.Tag, "cudagraph_unsafe"), reason="torch has no such tag")
def test_custom_ops_are_kept_out_of_cuda_graphs():
    # NumPy on the host can be neither captured nor replayed by a CUDA graph
    for op in (torch.ops.npgrad.forward.default, torch.ops.npgrad.backward.default):
        assert torch.Tag.cudagraph_unsafe in op.tags


@pytest.mark.parametrize("loss", ["mse", "mae"], ids=["numpy-backward", "auto"])
@pytest.mark.parametrize("grad", ["no_grad", "no-input-requires-grad"])
def test_compiled_loss_without_gradient(loss, grad):
    from npgrad import losses

    fn = getattr(losses, loss)
    x, t = torch.rand(4, 5), torch.rand(4, 5)
    compiled = torch.compile(fn, fullgraph=True, backend="aot_eager")
    if grad == "no_grad":
        x.requires_grad_()
        with torch.no_grad():
            got = compiled(x, t)
    else:
        got = compiled(x, t)
    assert not got.requires_grad
    torch.testing.assert_close(got, fn(x.detach(), t))


def _halved_l1(x, t):
    return np.mean(np.abs(x - t)) / 2


# the module's name for the op is neither its function's name nor its own
halved_op = npgrad.loss(_halved_l1, name="halved")


def test_copies_and_pickles_of_an_op_run_that_op_under_compile():
    import copy
    import pickle

    from npgrad import losses

    # a copy is the op itself; an op its module names by its function's name is
    # pickled by reference
    assert copy.deepcopy(losses.huber) is losses.huber
    for op in (losses.huber, losses.mse, losses.mse_auto):  # mse = loss(_mse, name="mse")
        assert pickle.loads(pickle.dumps(op)) is op
    crit = pickle.loads(pickle.dumps(npgrad.Loss(losses.huber)))
    assert crit.fn is losses.huber
    # otherwise by value, and registered anew: the compiled route finds ops by
    # registry key, and a key carried to another process would name another op there
    loaded = pickle.loads(pickle.dumps(halved_op))
    assert loaded is not halved_op and loaded.key != halved_op.key
    x, t = torch.ones(4), torch.zeros(4)
    got = torch.compile(lambda a, b: loaded(a, b), fullgraph=True, backend="aot_eager")(3 * x, t)
    torch.testing.assert_close(got, torch.tensor(1.5))


def test_compile_refuses_an_op_whose_output_shape_depends_on_values():
    @npgrad.function
    def positives(x):
        return x[x > 0]

    @positives.backward
    def _(g, x, out):
        gx = np.zeros_like(x)
        gx[x > 0] = g
        return gx

    compiled = torch.compile(lambda a: positives(a).sum(), fullgraph=True, backend="aot_eager")
    with pytest.raises(Exception, match=r"output shapes must\s+follow from its input shapes"):
        compiled(torch.tensor([1.0, -2.0, 3.0]))


def test_compile_with_a_changing_int_argument():
    first = npgrad.function(lambda x, k: x[:, :k] * 2, name="first")
    compiled = torch.compile(lambda a, k: first(a, k).sum(1), backend="aot_eager")
    x = torch.arange(12.0).reshape(3, 4)
    for k in (1, 2, 3):  # Dynamo makes k symbolic after it changes once
        torch.testing.assert_close(compiled(x, k), (x[:, :k] * 2).sum(1))


def test_compile_finds_shapes_where_zeros_fail_and_says_when_nothing_works():
    inv = npgrad.function(lambda a: np.linalg.inv(a), name="inv")  # singular at zero
    a = torch.tensor([[2.0, 1.0], [1.0, 3.0]], dtype=torch.float64)
    compiled = torch.compile(lambda m: inv(m).sum(), fullgraph=True, backend="aot_eager")
    torch.testing.assert_close(compiled(a), torch.linalg.inv(a).sum())

    def picky(x):
        raise ValueError("never on stand-ins")

    never = npgrad.function(picky, name="never")
    compiled = torch.compile(lambda m: never(m), fullgraph=True, backend="aot_eager")
    with pytest.raises(Exception, match="stand-in inputs of the same shapes"):
        compiled(a)


def test_inductor_takes_outputs_in_any_numpy_layout():
    # NumPy keeps a transposed input's layout in x * x; the compiled op returns C order
    sq = npgrad.function(lambda x: x * x, name="sq")
    sq.backward(lambda g, x, out: 2 * x * g)
    x = torch.rand(3, 4, requires_grad=True)
    compiled = torch.compile(lambda a: sq(a.t()) * torch.arange(3.0), backend="inductor")
    got = compiled(x)
    got.sum().backward()
    torch.testing.assert_close(got, x.detach().t() ** 2 * torch.arange(3.0))
    torch.testing.assert_close(x.grad, 2 * x.detach() * torch.arange(3.0)[None, :].t())


# torch's forward-mode AD machinery scripts a helper on first use and warns about it
@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")
def test_forward_mode_through_a_numpy_backward_names_the_op():
    x, t = torch.randn(3, dtype=torch.float64), torch.randn(3, dtype=torch.float64)
    with pytest.raises(npgrad.NpgradError, match="'mse': forward-mode differentiation"):
        torch.func.jacfwd(mse)(x, t)


def test_compiled_backward_computes_only_the_wanted_gradients():
    seen = []

    @npgrad.loss
    def l2(x, t):
        return np.mean((x - t) ** 2)

    @l2.backward
    def _(g, x, t, out, needs_input_grad):
        seen.append(needs_input_grad)
        d = np.float32(2 / x.size) * (x - t) * g
        return d, -d

    compiled = torch.compile(l2, fullgraph=True, backend="aot_eager")
    a, t = torch.randn(4, requires_grad=True), torch.randn(4)
    compiled(a, t).backward()
    assert seen == [(True, False)] and t.grad is None
    t.requires_grad_()
    torch._dynamo.reset()
    torch.compile(l2, fullgraph=True, backend="aot_eager")(a, t).backward()
    assert seen[-1] == (True, True)
    torch.testing.assert_close(t.grad, -a.grad / 2)  # a.grad holds two backwards


def test_compile_refuses_unsupported_argument_types():
    compiled = torch.compile(lambda x: scaled(x, {1.0}), fullgraph=True, backend="aot_eager")
    with pytest.raises(Exception, match="under torch.compile, arguments must be tensors"):
        compiled(torch.ones(2))
    keyed = torch.compile(lambda x: scaled(x, {1: 1.0}), fullgraph=True, backend="aot_eager")
    with pytest.raises(Exception, match="a dict argument's keys must be strings; got a key"):
        keyed(torch.ones(2))


# ---------------------------------------------------------------- torch.func
def test_func_grad_and_vjp():
    x, t = torch.randn(4, 3, dtype=torch.float64), torch.randn(4, 3, dtype=torch.float64)
    gx, gt = torch.func.grad(mse, argnums=(0, 1))(x, t)
    rx, rt = torch.func.grad(F.mse_loss, argnums=(0, 1))(x, t)
    torch.testing.assert_close(gx, rx)
    torch.testing.assert_close(gt, rt)
    out, vjp = torch.func.vjp(lambda a: scaled(a, 3.0), x)
    (v,) = vjp(torch.ones_like(out))
    torch.testing.assert_close(v, torch.full_like(x, 3.0))


def test_func_vmap_loop_fallback_and_batched():
    x, t = torch.randn(5, 4, 3, dtype=torch.float64), torch.randn(5, 4, 3, dtype=torch.float64)
    ref = torch.stack([F.mse_loss(a, b) for a, b in zip(x, t)])
    torch.testing.assert_close(torch.func.vmap(mse)(x, t), ref)
    # in_dims with an unbatched target
    ref2 = torch.stack([F.mse_loss(a, t[0]) for a in x])
    torch.testing.assert_close(torch.func.vmap(mse, in_dims=(0, None))(x, t[0]), ref2)

    calls = []

    @npgrad.function(batched=True)
    def rowsum(v):
        calls.append(v.shape)
        return v.sum(axis=-1)

    @rowsum.backward
    def _(g, v, out):
        return np.broadcast_to(g[..., None], v.shape).copy()

    y = torch.func.vmap(rowsum)(x)
    torch.testing.assert_close(y, x.sum(-1))
    assert calls == [(5, 4, 3)], "a batch-aware function is called once with the batch"


def test_func_grad_of_vmap_and_vmap_of_grad():
    x, t = torch.randn(3, 4, dtype=torch.float64), torch.randn(3, 4, dtype=torch.float64)
    g1 = torch.func.grad(lambda a: torch.func.vmap(mse)(a, t).sum())(x)
    r1 = torch.func.grad(lambda a: torch.func.vmap(F.mse_loss)(a, t).sum())(x)
    torch.testing.assert_close(g1, r1)
    g2 = torch.func.vmap(torch.func.grad(mse))(x, t)
    r2 = torch.func.vmap(torch.func.grad(F.mse_loss))(x, t)
    torch.testing.assert_close(g2, r2)


def test_func_second_order_through_numpy_raises():
    x = torch.randn(3, dtype=torch.float64)
    t = torch.zeros(3, dtype=torch.float64)
    hess = torch.func.grad(lambda a: torch.func.grad(mse)(a, t).sum())
    with pytest.raises(npgrad.NpgradError, match="second-order gradient cannot flow"):
        hess(x)


def test_compiled_second_order_raises_instead_of_a_silent_result():
    x = torch.randn(3, dtype=torch.float64, requires_grad=True)
    compiled = torch.compile(lambda a: mse(a, torch.zeros_like(a)), fullgraph=True)
    (g,) = torch.autograd.grad(compiled(x), x, create_graph=True)
    # torch's own refusal (aot_autograd has no double backward), not a wrong number
    with pytest.raises(RuntimeError, match="double backward"):
        g.sum().backward()


def test_compile_and_func_with_a_torch_ops_backward():
    quartic = quartic_with_torch_backward()
    x = torch.randn(5, dtype=torch.float64)
    compiled = torch.compile(lambda a: quartic(a) * 2, fullgraph=True, backend="aot_eager")
    got, got_g = _grads(compiled, x)
    torch.testing.assert_close(got_g[0], 8 * x**3)
    torch.testing.assert_close(torch.func.grad(quartic)(x), 4 * x**3)
    # second order through a torch backward works under torch.func too
    torch.testing.assert_close(
        torch.func.grad(lambda a: torch.func.grad(quartic)(a).sum())(x), 12 * x**2
    )


def test_vmap_of_grad_of_a_batched_function():
    @npgrad.function(batched=True)
    def rowcube(x):
        return np.sum(x**3, axis=-1)

    @rowcube.backward
    def _(g, x, out):
        return np.asarray(g)[..., None] * 3 * x**2

    x = torch.randn(5, 3, dtype=torch.float64)
    torch.testing.assert_close(torch.func.vmap(torch.func.grad(rowcube))(x), 3 * x**2)


def test_batched_loss_gives_one_value_per_sample_under_vmap():
    # the forward sees the whole batch and returns one scalar loss per sample
    @npgrad.loss(batched=True)
    def rowmse(x, t):
        return np.mean((x - t) ** 2, axis=-1)

    @rowmse.backward
    def _(g, x, t, out):
        d = 2 * (x - t) / x.shape[-1] * np.expand_dims(g, -1)
        return d, -d

    x, t = torch.randn(5, 4, dtype=torch.float64), torch.randn(5, 4, dtype=torch.float64)
    vmap, grad = torch.func.vmap, torch.func.grad
    torch.testing.assert_close(vmap(rowmse)(x, t), vmap(F.mse_loss)(x, t))
    torch.testing.assert_close(vmap(grad(rowmse))(x, t), vmap(grad(F.mse_loss))(x, t))
    torch.testing.assert_close(vmap(vmap(rowmse))(x[None], t[None]), vmap(F.mse_loss)(x, t)[None])
    with pytest.raises(ValueError, match="the loss must be a scalar"):
        rowmse(x, t)  # outside vmap a loss is still one scalar


def test_compiled_auto_function_returning_a_view_of_its_input():
    flat = npgrad.function(lambda x: x.reshape(-1), name="flat")
    x = torch.randn(3, 2)
    compiled = torch.compile(lambda a: flat(a) * 1, fullgraph=True, backend="aot_eager")
    torch.testing.assert_close(compiled(x), x.reshape(-1))


def test_compile_refuses_the_key_separator_in_strings():
    compiled = torch.compile(
        lambda x: scaled(x, 2.0, "a\x1fb"), fullgraph=True, backend="aot_eager"
    )
    with pytest.raises(Exception, match="may not contain the character"):
        compiled(torch.ones(2))


def test_compile_shape_inference_tolerates_non_finite_values_on_zeros():
    logsum = npgrad.function(lambda x: np.log(x), name="log", nonfinite="raise")
    compiled = torch.compile(lambda a: logsum(a).sum(), fullgraph=True, backend="aot_eager")
    x = torch.rand(4, dtype=torch.float64) + 0.5
    torch.testing.assert_close(compiled(x), x.log().sum())
    assert logsum.nonfinite == "raise"
    with pytest.raises(FloatingPointError, match="'log': output 0 is not finite"):
        with np.errstate(divide="ignore"):
            compiled(torch.zeros(4, dtype=torch.float64))


def _masked_sum(x):
    return np.sum(x[x > 0.5] ** 2)


def _int_read(x, k):
    return np.sum(x[: int(k[0])])


def _branch(x):
    if np.all(x > 0):
        return np.sum(x)
    return np.sum(-x)


@pytest.mark.parametrize(
    "f, batched",
    [(_masked_sum, 1), (_int_read, 2), (_branch, 1)],
    ids=["boolean-mask", "int-of-an-array", "if-on-an-array"],
)
def test_vmap_of_code_reading_values_names_the_op_and_the_line(f, batched):
    x = torch.rand(4, 3, dtype=torch.float64)
    args = (x, torch.tensor([[2], [3], [1], [2]]))[:batched]
    op = npgrad.function(f, name=f"reads-{f.__name__}")
    for i in range(4):  # per example the same code runs (values read eagerly)
        op(*(a[i] for a in args))
    with pytest.raises(npgrad.TraceError) as e:
        torch.func.vmap(op)(*args)
    msg = str(e.value)
    assert f"npgrad op 'reads-{f.__name__}'" in msg and "under torch.func.vmap" in msg
    assert f"{__name__}.{f.__name__}, line " in msg and "once per example" in msg
