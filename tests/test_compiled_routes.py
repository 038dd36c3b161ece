"""The two routes under torch.compile (composite torch ops, opaque custom ops) and the
NumPy-level API's jit."""

from __future__ import annotations

import logging
import warnings

import numpy as np
import pytest
import torch

import npgrad

from .conftest import TOL


@pytest.fixture(autouse=True)
def _fresh_dynamo():
    torch._dynamo.reset()
    yield


# ------------------------------------------------------ the maths, twice
def _mse(x, t):
    return np.mean((x - t) ** 2)


def _charbonnier(x, t):
    return np.mean(np.sqrt((x - t) ** 2 + 1e-6))


def _logistic(w, X, y):
    z = X @ w
    return np.mean(np.logaddexp(0.0, z) - y * z)


def _softmax_ce(z, labels):
    z = z - np.max(z, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(z.shape[0]), labels])


def _torch_logistic(w, X, y):
    z = X @ w
    return (torch.logaddexp(torch.zeros((), dtype=z.dtype), z) - y * z).mean()


def _torch_softmax_ce(z, labels):
    return torch.nn.functional.cross_entropy(z, labels)


def _inputs(name):
    g = torch.Generator().manual_seed(0)
    d = torch.float64
    if name in ("mse", "charbonnier"):
        return [torch.rand(6, 5, generator=g, dtype=d), torch.rand(6, 5, generator=g, dtype=d)]
    if name == "logistic":
        X = torch.randn(20, 4, generator=g, dtype=d)
        return [torch.randn(4, generator=g, dtype=d), X, (torch.rand(20, generator=g) < 0.5).to(d)]
    return [torch.randn(7, 3, generator=g, dtype=d), torch.randint(0, 3, (7,), generator=g)]


CASES = {
    "mse": (_mse, lambda x, t: ((x - t) ** 2).mean()),
    "charbonnier": (_charbonnier, lambda x, t: torch.sqrt((x - t) ** 2 + 1e-6).mean()),
    "logistic": (_logistic, _torch_logistic),
    "softmax-ce-int-labels": (_softmax_ce, _torch_softmax_ce),
}


def _value_and_grads(fn, inputs):
    inputs = [i.detach().clone().requires_grad_(i.is_floating_point()) for i in inputs]
    out = fn(*inputs)
    out.backward()
    return out.detach(), [i.grad for i in inputs if i.is_floating_point()]


@pytest.mark.parametrize("name", list(CASES))
def test_composite_route_matches_torch_maths_and_eager(name):
    numpy_fn, torch_fn = CASES[name]
    op = npgrad.function(numpy_fn, name=name)
    compiled = torch.compile(lambda *a: op(*a) * 3, fullgraph=True, backend="aot_eager")
    inputs = _inputs(name)
    got, got_g = _value_and_grads(compiled, inputs)
    assert op.compiled_route == "composite"
    ref, ref_g = _value_and_grads(lambda *a: torch_fn(*a) * 3, inputs)
    eager, eager_g = _value_and_grads(lambda *a: op(*a) * 3, inputs)
    torch.testing.assert_close(got, ref, **TOL[torch.float64])
    torch.testing.assert_close(got, eager, **TOL[torch.float64])
    assert len(got_g) == len(ref_g)
    for a, b, c in zip(got_g, ref_g, eager_g):
        torch.testing.assert_close(a, b, **TOL[torch.float64])
        torch.testing.assert_close(a, c, **TOL[torch.float64])


def test_composite_gradient_matches_central_differences():
    op = npgrad.function(_charbonnier, name="charbonnier-gradcheck")
    compiled = torch.compile(op, fullgraph=True, backend="aot_eager")
    x, t = _inputs("charbonnier")
    assert torch.autograd.gradcheck(compiled, (x.requires_grad_(), t.requires_grad_()))
    assert op.compiled_route == "composite"


def test_composite_tuple_and_integer_outputs():
    @npgrad.function
    def split(x):
        return np.argmax(x, axis=1), np.tanh(x).sum(axis=0)

    compiled = torch.compile(split, fullgraph=True, backend="aot_eager")
    x = torch.randn(4, 3, dtype=torch.float64, requires_grad=True)
    idx, s = compiled(x)
    assert split.compiled_route == "composite"
    assert idx.dtype == torch.int64 and not idx.requires_grad
    assert torch.equal(idx, x.argmax(1))
    s.sum().backward()
    torch.testing.assert_close(x.grad, 1 - torch.tanh(x.detach()) ** 2, **TOL[torch.float64])


# ------------------------------------------------------ which route
def _run(op, *inputs, backend="aot_eager"):
    compiled = torch.compile(lambda *a: op(*a), fullgraph=True, backend=backend)
    inputs = [i.detach().clone().requires_grad_(i.is_floating_point()) for i in inputs]
    out = compiled(*inputs)
    out.backward()
    return out.detach(), inputs[0].grad


def test_value_dependent_shape_takes_the_opaque_route():
    op = npgrad.loss(lambda x, t: np.sum((x - t)[x > t] ** 2), name="positive-part")
    x, t = torch.randn(5, dtype=torch.float64), torch.zeros(5, dtype=torch.float64)
    out, g = _run(op, x, t)
    assert op.compiled_route == "opaque"
    torch.testing.assert_close(out, torch.where(x > 0, x**2, 0).sum(), **TOL[torch.float64])
    torch.testing.assert_close(g, torch.where(x > 0, 2 * x, 0), **TOL[torch.float64])


def test_a_value_read_as_a_python_number_takes_the_opaque_route():
    def column(x, t):
        k = int(np.argmax(np.sum(t, axis=0)))  # a Python int from the values
        return np.mean((x[:, k] - t[:, k]) ** 2)

    op = npgrad.loss(column)
    x, t = _inputs("mse")
    out, g = _run(op, x, t)
    assert op.compiled_route == "opaque"
    k = int(t.sum(0).argmax())
    torch.testing.assert_close(out, ((x[:, k] - t[:, k]) ** 2).mean(), **TOL[torch.float64])
    ref = torch.zeros_like(x)
    ref[:, k] = 2 * (x[:, k] - t[:, k]) / x.shape[0]
    torch.testing.assert_close(g, ref, **TOL[torch.float64])


def test_random_numbers_take_the_opaque_route_and_keep_their_draws():
    def noisy(x):
        return np.sum(x * np.random.normal(size=x.shape))

    op = npgrad.function(noisy)
    compiled = torch.compile(op, fullgraph=True, backend="aot_eager")
    x = torch.rand(6, dtype=torch.float64, requires_grad=True)
    grads = []
    for _ in range(2):
        x.grad = None
        out = compiled(x)
        out.backward()
        # the gradient is the noise itself: the backward saw the forward's draw
        torch.testing.assert_close(out.detach(), (x.detach() * x.grad).sum(), **TOL[torch.float64])
        grads.append(x.grad.clone())
    assert op.compiled_route == "opaque"
    assert not torch.equal(grads[0], grads[1])  # a fresh draw per call, none baked in


def test_a_captured_generator_takes_the_opaque_route_and_keeps_its_draws():
    rng = np.random.default_rng(7)

    def noisy(x):
        return np.sum(x * rng.normal(size=x.shape))

    op = npgrad.function(noisy, name="captured-generator")
    compiled = torch.compile(op, fullgraph=True, backend="aot_eager")
    x = torch.rand(5, dtype=torch.float64, requires_grad=True)
    expected = np.random.default_rng(7)
    for _ in range(2):
        x.grad = None
        compiled(x).backward()
        # the forward's draw is the gradient, and the probes drew nothing of the user's
        np.testing.assert_allclose(x.grad.numpy(), expected.normal(size=5), rtol=1e-15)
    assert op.compiled_route == "opaque"
    with pytest.raises(npgrad.NpgradError, match="random numbers"):
        npgrad.grad(noisy, jit="strict")(np.ones(5))


def test_a_numpy_mode_op_takes_the_opaque_route():
    op = npgrad.function(lambda x: np.sin(x), name="sin-numpy")
    op.backward(lambda g, x, out: np.cos(x) * g)
    x = torch.rand(4, dtype=torch.float64)
    compiled = torch.compile(lambda a: op(a).sum(), fullgraph=True, backend="aot_eager")
    a = x.clone().requires_grad_()
    compiled(a).backward()
    assert op.compiled_route == "opaque"
    torch.testing.assert_close(a.grad, torch.cos(x), **TOL[torch.float64])


def test_a_captured_tensor_that_requires_grad_is_refused():
    w = torch.rand(3, requires_grad=True)
    op = npgrad.function(lambda x: np.sum(x * w), name="captures-w")
    compiled = torch.compile(op, fullgraph=True, backend="aot_eager")
    with pytest.raises(Exception, match="requires grad without receiving it"):
        compiled(torch.rand(3, requires_grad=True))


def test_nonfinite_raise_keeps_the_checked_opaque_route():
    op = npgrad.function(lambda x: np.log(x), name="log-raise", nonfinite="raise")
    compiled = torch.compile(op, fullgraph=True, backend="aot_eager")
    torch.testing.assert_close(compiled(torch.ones(3)), torch.zeros(3))
    assert op.compiled_route == "opaque"
    with pytest.raises(FloatingPointError, match="not finite"):
        compiled(torch.zeros(3))


def test_the_route_is_logged(caplog):
    op = npgrad.function(_mse, name="logged-mse")
    with caplog.at_level(logging.DEBUG, logger="npgrad"):
        torch.compile(op, fullgraph=True, backend="aot_eager")(*_inputs("mse"))
    assert any(
        "'logged-mse'" in r.getMessage() and "composite route" in r.getMessage()
        for r in caplog.records
    )


def test_inductor_training_step_with_an_automatic_mode_loss_matches_eager():
    loss = npgrad.loss(_charbonnier, name="charbonnier-step")

    def make():
        torch.manual_seed(0)
        model = torch.nn.Sequential(torch.nn.Linear(6, 8), torch.nn.Tanh(), torch.nn.Linear(8, 6))
        return model, torch.optim.Adam(model.parameters(), lr=1e-2)

    def step(model, opt, x):
        value = loss(model(x), x)
        opt.zero_grad()
        value.backward()
        opt.step()
        return value.detach()

    (m1, o1), (m2, o2) = make(), make()
    forward = torch.compile(lambda x: loss(m2(x), x), fullgraph=True, backend="inductor")
    g = torch.Generator().manual_seed(1)
    for _ in range(3):
        x = torch.rand(16, 6, generator=g)
        ref = step(m1, o1, x)
        value = forward(x)
        o2.zero_grad()
        value.backward()
        o2.step()
        torch.testing.assert_close(value.detach(), ref)
    assert loss.compiled_route == "composite"
    for p, q in zip(m1.parameters(), m2.parameters()):
        torch.testing.assert_close(p, q)


# ------------------------------------------------------ npgrad.grad(f, jit=True)
def _mlp_loss(p, x, y):
    h = np.tanh(x @ p["W1"] + p["b1"])
    z = h @ p["W2"]
    z = z - np.max(z, axis=1, keepdims=True)
    logp = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    return -np.mean(logp[np.arange(x.shape[0]), y])


def _assert_trees_close(a, b):
    if isinstance(a, dict):
        assert a.keys() == b.keys()
        for k in a:
            _assert_trees_close(a[k], b[k])
    elif isinstance(a, (tuple, list)):
        assert type(a) is type(b) and len(a) == len(b)
        for u, v in zip(a, b):
            _assert_trees_close(u, v)
    else:
        assert type(a) is type(b) and np.shape(a) == np.shape(b)
        np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


def test_jit_value_and_grad_matches_eager_and_the_torch_maths():
    rng = np.random.default_rng(0)
    p = {"W1": rng.normal(size=(4, 5)), "b1": np.zeros(5), "W2": rng.normal(size=(5, 3))}
    x, y = rng.normal(size=(6, 4)), rng.integers(0, 3, size=6)
    jitted = npgrad.value_and_grad(_mlp_loss, jit="strict")
    for scale in (1.0, 2.0):  # new values, one signature: the kernel reads its inputs
        args = ({k: v * scale for k, v in p.items()}, x, y)
        got = jitted(*args)
        _assert_trees_close(got, npgrad.value_and_grad(_mlp_loss)(*args))
        tp = {k: torch.tensor(v, requires_grad=True) for k, v in args[0].items()}
        logits = torch.tanh(torch.tensor(x) @ tp["W1"] + tp["b1"]) @ tp["W2"]
        ref = torch.nn.functional.cross_entropy(logits, torch.tensor(y))
        ref.backward()
        np.testing.assert_allclose(got[0], ref.item(), rtol=1e-12)
        for k in p:
            np.testing.assert_allclose(got[1][k], tp[k].grad.numpy(), rtol=1e-10, atol=1e-12)


def test_jit_grad_jacobian_and_hessian_match_eager():
    def f(x, c):
        return np.sum(np.sin(x) * x**2) * c

    x = np.array([0.3, -1.2, 2.0])
    for transform in (npgrad.grad, npgrad.jacobian, npgrad.hessian):
        _assert_trees_close(transform(f, jit="strict")(x, 1.5), transform(f)(x, 1.5))
    both = npgrad.grad(f, argnums=(1, 0), jit="strict")(x, 1.5)
    _assert_trees_close(both, npgrad.grad(f, argnums=(1, 0))(x, 1.5))
    ref = np.sum((2 * x * np.sin(x) + x**2 * np.cos(x)) * 1.5)
    np.testing.assert_allclose(npgrad.grad(lambda t: f(t, 1.5).sum(), jit="strict")(x).sum(), ref)


def test_jit_results_never_alias_the_callers_arrays():
    x, t = np.array([1.0, 2.0]), np.array([3.0, 5.0])
    jitted = npgrad.grad(lambda a, b: np.sum(a * b), jit="strict")
    for _ in range(2):  # the first call compiles, the second takes the quick path
        g = jitted(x, t)  # the gradient is b
        np.testing.assert_array_equal(g, t)
        assert not np.may_share_memory(g, t)


def test_jit_takes_any_memory_layout():
    def f(a, b):
        return np.sum(np.sin(a) @ b)

    rng = np.random.default_rng(1)
    a, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 2))
    jitted = npgrad.value_and_grad(f, jit="strict")
    for layout in (lambda m: m, np.asfortranarray, lambda m: m.T.copy().T):
        la, lb = layout(a), layout(b)
        _assert_trees_close(jitted(la, lb), npgrad.value_and_grad(f)(a, b))


@pytest.mark.parametrize(
    "f",
    [
        pytest.param(lambda x: np.sum(x[x > 0] ** 2), id="value-dependent-shape"),
        pytest.param(lambda x: np.sum(x**2) if np.sum(x) > 0 else np.sum(x), id="branch"),
    ],
)
def test_jit_says_why_it_falls_back_in_the_users_terms(f):
    # torch's reason names its internals (GuardOnDataDependentSymNode, aten.nonzero)
    x = np.array([1.0, -2.0, 3.0])
    with pytest.raises(npgrad.NpgradError, match="depends on the values") as e:
        npgrad.grad(f, jit="strict")(x)
    assert "DataDependent" not in str(e.value) and "aten." not in str(e.value)
    with pytest.warns(npgrad.JitFallbackWarning, match="depends on the values"):
        np.testing.assert_array_equal(npgrad.grad(f, jit=True)(x), npgrad.grad(f)(x))


def test_jit_falls_back_once_with_a_warning_and_strict_raises():
    def column(x):
        k = int(np.argmax(x))  # a Python int from the values: no kernel can hold it
        return x[k] ** 2

    def noisy(x):
        return np.sum(x * np.random.normal(size=x.shape))

    x = np.array([1.0, 3.0, 2.0])
    jitted = npgrad.grad(column, jit=True)
    with pytest.warns(npgrad.JitFallbackWarning, match="jit could not compile") as record:
        g1 = jitted(x)
        g2 = jitted(x + 1)
    assert len(record) == 1
    np.testing.assert_array_equal(g1, [0.0, 6.0, 0.0])
    np.testing.assert_array_equal(g2, [0.0, 8.0, 0.0])
    with pytest.raises(npgrad.NpgradError, match="jit could not compile"):
        npgrad.grad(column, jit="strict")(x)
    with pytest.raises(npgrad.NpgradError, match="random numbers"):
        npgrad.grad(noisy, jit="strict")(x)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", npgrad.JitFallbackWarning)
        state = np.random.get_state()
        g = npgrad.grad(noisy, jit=True)(x)
        np.random.set_state(state)
        np.testing.assert_array_equal(g, np.random.normal(size=3))  # the user's stream
    with pytest.raises(ValueError, match="jit must be"):
        npgrad.grad(column, jit="yes")


def test_jit_of_a_value_dependent_shape_warns_and_runs_eagerly():
    # inductor itself refuses x[x > 0]: one warning and the eager answer, not its error
    def f(x):
        return np.sum(x[x > 0] ** 2)

    x = np.array([1.0, -2.0, 0.5])
    with pytest.warns(npgrad.JitFallbackWarning, match="could not compile"):
        got = npgrad.grad(f, jit=True)(x)
    np.testing.assert_array_equal(got, npgrad.grad(f)(x))
    with pytest.raises(npgrad.NpgradError, match="could not compile"):
        npgrad.grad(f, jit="strict")(x)


@pytest.mark.parametrize("fullgraph", [True, False], ids=["fullgraph", "breaks allowed"])
def test_compiled_vmap_of_an_automatic_op_decomposes_into_torch_ops(fullgraph):
    # the composite node had no batching rule: "Batching rule not implemented for
    # npgrad::auto" under torch.compile(torch.func.vmap(op), fullgraph=True)
    op = npgrad.function(lambda x: np.sum(np.tanh(x) ** 2), name="sq", mode="auto")
    x = torch.randn(6, 5, dtype=torch.float64)
    want = torch.func.vmap(op)(x)
    got = torch.compile(torch.func.vmap(op), fullgraph=fullgraph)(x)
    torch.testing.assert_close(got, want, **TOL[torch.float64])
    torch.testing.assert_close(want, (torch.tanh(x) ** 2).sum(1), **TOL[torch.float64])
    leaf = x.clone().requires_grad_()  # and autograd through the compiled vmap
    torch.compile(torch.func.vmap(op), fullgraph=fullgraph)(leaf).sum().backward()
    torch.testing.assert_close(
        leaf.grad, 2 * torch.tanh(x) / torch.cosh(x) ** 2, **TOL[torch.float64]
    )
    grads = torch.compile(torch.func.vmap(torch.func.grad(op)), fullgraph=fullgraph)(x)
    torch.testing.assert_close(grads, 2 * torch.tanh(x) / torch.cosh(x) ** 2, **TOL[torch.float64])


@pytest.mark.parametrize("mode", ["numpy", "numeric"])
def test_compiled_func_transforms_of_a_host_op_run_it_eagerly(mode):
    # without fullgraph, Dynamo falls back frame by frame around a torch.func
    # transform of an opaque op; it compiled the bridge's frames one by one and
    # followed the user's NumPy code with its own NumPy tracing (an AssertionError
    # from np.nditer), though eager torch.func runs it
    op = npgrad.function(lambda x: x**3, name=f"cube_{mode}", mode=mode)
    if mode == "numpy":
        op.backward(lambda g, x, out: 3 * x**2 * g)
    x = torch.rand(6, dtype=torch.float64) + 0.5
    tol = TOL[torch.float64] if mode == "numpy" else dict(atol=1e-6, rtol=1e-6)
    got = torch.compile(torch.func.grad(lambda v: op(v).sum()))(x)
    torch.testing.assert_close(got, 3 * x**2, **tol)
    rows = torch.compile(torch.func.vmap(op))(x.reshape(3, 2))
    torch.testing.assert_close(rows, x.reshape(3, 2) ** 3, **TOL[torch.float64])
    jac = torch.compile(torch.func.jacrev(op))(x)
    torch.testing.assert_close(jac, torch.diag(3 * x**2), **tol)


def test_compiled_vmap_of_an_opaque_op_with_a_gradient_falls_back_to_eager():
    # a signature on the opaque route (it computes from a captured array) has no
    # batching rule: Dynamo runs it eagerly, and the gradient is right
    captured = np.arange(5.0)
    op = npgrad.function(lambda x: np.sum(x * (captured * 2)), name="cap", mode="auto")
    x = torch.randn(6, 5, dtype=torch.float64, requires_grad=True)
    torch.compile(torch.func.vmap(op))(x).sum().backward()
    torch.testing.assert_close(
        x.grad, torch.tensor(captured * 2).expand(6, 5), **TOL[torch.float64]
    )


_SCALE = 2.0


def _scaled_mse(x, t):
    return _SCALE * np.mean((x - t) ** 2)


def test_new_globals_beside_a_captured_number_cause_no_recompiles():
    # a training script binds names as it runs; the op reads one global number (and
    # the attribute name "mean", which is no global): Dynamo must guard that number,
    # not the whole module's namespace, or each new name costs a compile
    global _SCALE
    from torch._dynamo.testing import CompileCounter

    counter = CompileCounter()
    op = npgrad.function(_scaled_mse, name="scaled")
    fn = torch.compile(op, backend=counter, fullgraph=True)
    x = torch.rand(4, 3, dtype=torch.float64, requires_grad=True)
    t = torch.rand(4, 3, dtype=torch.float64)
    names = [f"_bound_while_training_{i}" for i in range(4)]
    try:
        for i, name in enumerate(names):
            globals()[name] = i
            fn(x, t).backward()
        assert counter.frame_count == 1
        _SCALE = 3.0  # a new value of the number it reads: seen, never stale
        torch.testing.assert_close(fn(x, t), 3.0 * torch.mean((x - t) ** 2))
    finally:
        _SCALE = 2.0
        for name in names:
            globals().pop(name, None)


# ------------------------------------------- parameters inside containers
def _tiny_net(p, x, y):
    h = np.tanh(x @ p["W"][0] + p["b"])
    return np.mean((h @ p["W"][1] - y) ** 2) * p["scale"]


def _tiny_net_torch(p, x, y):
    h = torch.tanh(x @ p["W"][0] + p["b"])
    return torch.mean((h @ p["W"][1] - y) ** 2) * p["scale"]


def _net_params(scale=2.0):
    g = torch.Generator().manual_seed(1)
    d = torch.float64
    W = [torch.randn(3, 4, generator=g, dtype=d), torch.randn(4, 2, generator=g, dtype=d)]
    b = torch.randn(4, generator=g, dtype=d)
    return {"W": [w.requires_grad_() for w in W], "b": b.requires_grad_(), "scale": scale}


@pytest.mark.parametrize("backend", ["aot_eager", "inductor"])
def test_parameters_in_dicts_and_lists_compile_on_the_composite_route(backend):
    op = npgrad.function(_tiny_net, name="net-in-containers")
    fn = torch.compile(op, fullgraph=True, backend=backend)
    g = torch.Generator().manual_seed(2)
    x = torch.randn(5, 3, generator=g, dtype=torch.float64)
    y = torch.randn(5, 2, generator=g, dtype=torch.float64)
    for scale in (2.0, 0.5):  # a number inside a container is read at each call
        p = _net_params(scale)
        leaves = [*p["W"], p["b"]]
        got = torch.autograd.grad(fn(p, x, y), leaves)
        want = torch.autograd.grad(_tiny_net_torch(p, x, y), leaves)
        for a, b in zip(got, want):
            torch.testing.assert_close(a, b, **TOL[torch.float64])
    assert op.compiled_route == "composite"


def test_a_container_with_a_value_dependent_shape_takes_the_opaque_route():
    def f(p, x):
        h = x @ p["W"]
        return np.sum(h[h[:, 0] > 0] ** 2)

    op = npgrad.function(f, name="masked-in-a-dict")
    g = torch.Generator().manual_seed(3)
    W = torch.randn(3, 4, generator=g, dtype=torch.float64, requires_grad=True)
    x = torch.randn(6, 3, generator=g, dtype=torch.float64)
    got = torch.autograd.grad(
        torch.compile(op, fullgraph=True, backend="aot_eager")({"W": W}, x), W
    )
    h = x @ W
    want = torch.autograd.grad(torch.sum(h[h[:, 0] > 0] ** 2), W)
    torch.testing.assert_close(got, want, **TOL[torch.float64])
    assert op.compiled_route == "opaque"


def test_a_new_container_structure_is_a_new_graph_never_a_stale_one():
    def f(params, x):
        return sum(np.sum(x @ w) for w in params)

    op = npgrad.function(f, name="list-of-params")
    fn = torch.compile(op, fullgraph=True, backend="aot_eager")
    x = torch.ones(2, 3, dtype=torch.float64)
    for n in (1, 2, 3):
        ws = [torch.full((3, 1), float(i + 1), dtype=torch.float64) for i in range(n)]
        torch.testing.assert_close(
            fn(ws, x), torch.tensor(6.0 * sum(range(1, n + 1)), dtype=torch.float64)
        )
        torch.testing.assert_close(fn(tuple(ws), x), fn(ws, x))
