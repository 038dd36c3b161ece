"""Values an automatic-mode function reads from outside its arguments (a closure,
a global, a default) are never frozen into a compiled graph or a jit kernel: a
captured number rebound, an array rebound or written in place, gives the new answer,
as eagerly. References: the same formula written in torch / by hand."""

from __future__ import annotations

import warnings

import numpy as np
import torch

import npgrad

SCALE = 1.0
WEIGHTS = np.ones(3)
EPS = 1e-3  # a module constant that never changes


def _x() -> torch.Tensor:
    return torch.tensor([1.0, 2.0, 3.0], dtype=torch.float64, requires_grad=True)


def _value_and_grad(fn, x):
    y = fn(x)
    (g,) = torch.autograd.grad(y, x)
    return y.detach(), g


def _torch_reference(scale, w, x):
    """The loss sum(scale * x**2 * w) and its gradient 2 * scale * x * w, in torch."""
    w = torch.as_tensor(np.array(w), dtype=torch.float64)
    xd = x.detach()
    return torch.sum(scale * xd**2 * w), 2 * scale * xd * w


def _check(compiled, scale, w, x):
    y, g = _value_and_grad(compiled, x)
    ry, rg = _torch_reference(scale, w, x)
    torch.testing.assert_close(y, ry)
    torch.testing.assert_close(g, rg)


def test_compiled_global_number_and_array_rebound():
    global SCALE, WEIGHTS
    SCALE, WEIGHTS = 1.0, np.ones(3)
    op = npgrad.function(lambda x: np.sum(SCALE * x**2 * WEIGHTS), name="glob")
    cs = torch.compile(lambda x: op(x), fullgraph=True)
    x = _x()
    _check(cs, 1.0, np.ones(3), x)
    assert op.compiled_route == "composite"
    SCALE = 5.0
    _check(cs, 5.0, np.ones(3), x)
    WEIGHTS = np.full(3, 2.0)
    _check(cs, 5.0, np.full(3, 2.0), x)
    SCALE, WEIGHTS = 1.0, np.ones(3)


def test_compiled_closure_number_array_and_in_place_write():
    scale, w = 1.0, np.ones(3)
    op = npgrad.function(lambda x: np.sum(scale * x**2 * w), name="closure")
    cs = torch.compile(lambda x: op(x), fullgraph=True)
    x = _x()
    _check(cs, 1.0, np.ones(3), x)
    assert op.compiled_route == "composite"
    w[:] = [2.0, 3.0, 4.0]  # in place: the composite graph reads it at run time
    _check(cs, 1.0, [2.0, 3.0, 4.0], x)
    assert op.compiled_route == "composite"
    scale = 5.0
    _check(cs, 5.0, [2.0, 3.0, 4.0], x)
    w = np.full(3, 7.0)  # noqa: F841 - read through the closure
    _check(cs, 5.0, np.full(3, 7.0), x)
    scale = -2.5  # noqa: F841
    _check(cs, -2.5, np.full(3, 7.0), x)


def test_compiled_default_argument_written_in_place():
    def f(x, w=np.ones(3)):  # noqa: B008 - the captured default is the point
        return np.sum(x**2 * w)

    op = npgrad.function(f, name="default")
    cs = torch.compile(lambda x: op(x), fullgraph=True)
    x = _x()
    _check(cs, 1.0, np.ones(3), x)
    f.__defaults__[0][:] = 3.0
    _check(cs, 1.0, np.full(3, 3.0), x)


def test_compiled_numpy_scalar_rebound():
    k = np.float32(2.0)
    op = npgrad.function(lambda x: np.sum(k * x**2), name="npscalar")
    cs = torch.compile(lambda x: op(x), fullgraph=True)
    x = _x()
    _check(cs, 2.0, np.ones(3), x)
    k = np.float32(3.0)  # noqa: F841
    _check(cs, 3.0, np.ones(3), x)


def test_an_unchanging_module_constant_keeps_the_composite_route():
    op = npgrad.function(lambda x: np.sum(np.sqrt(x**2 + EPS**2)), name="eps")
    cs = torch.compile(lambda x: op(x), fullgraph=True)
    x = _x()
    for _ in range(3):
        y, g = _value_and_grad(cs, x)
        xd = x.detach()
        torch.testing.assert_close(y, torch.sum(torch.sqrt(xd**2 + EPS**2)))
        torch.testing.assert_close(g, xd / torch.sqrt(xd**2 + EPS**2))
    assert op.compiled_route == "composite"


def _grad_reference(scale, w, x):
    return 2 * scale * x * np.asarray(w, dtype=float)


def test_jit_global_number_array_rebound_and_in_place_write():
    global SCALE, WEIGHTS
    SCALE, WEIGHTS = 1.0, np.ones(3)
    g = npgrad.grad(lambda v: np.sum(SCALE * v**2 * WEIGHTS), jit="strict")
    x = np.array([1.0, 2.0, 3.0])
    for _ in range(2):  # the second call takes the fast path
        np.testing.assert_allclose(g(x), _grad_reference(1.0, np.ones(3), x))
    SCALE = 5.0
    np.testing.assert_allclose(g(x), _grad_reference(5.0, np.ones(3), x))
    WEIGHTS[:] = 2.0
    np.testing.assert_allclose(g(x), _grad_reference(5.0, np.full(3, 2.0), x))
    WEIGHTS = np.array([1.0, -1.0, 0.5])
    np.testing.assert_allclose(g(x), _grad_reference(5.0, [1.0, -1.0, 0.5], x))
    SCALE, WEIGHTS = 1.0, np.ones(3)


def test_jit_closure_values_in_value_and_grad():
    scale, buf = 1.0, np.ones(3)
    vg = npgrad.value_and_grad(lambda v: np.sum(scale * v**2 * buf), jit="strict")
    x = np.array([1.0, 2.0, 3.0])
    value, grad = vg(x)
    np.testing.assert_allclose(value, 14.0)
    np.testing.assert_allclose(grad, _grad_reference(1.0, buf, x))
    buf[:] = 2.0
    scale = 5.0  # noqa: F841
    value, grad = vg(x)
    np.testing.assert_allclose(value, 140.0)
    np.testing.assert_allclose(grad, _grad_reference(5.0, np.full(3, 2.0), x))


def test_jit_a_number_changing_every_call_runs_eagerly_with_one_warning():
    scale = 0.0
    g = npgrad.grad(lambda v: np.sum(scale * v**2), jit=True)
    x = np.array([1.0, 2.0])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for i in range(12):
            scale = float(i)
            np.testing.assert_allclose(g(x), 2 * scale * x)
    fallbacks = [w for w in caught if issubclass(w.category, npgrad.JitFallbackWarning)]
    assert len(fallbacks) == 1
    assert "numbers it captures" in str(fallbacks[0].message)


def test_eager_and_torch_func_read_current_values():
    scale, w = 1.0, np.ones(3)
    op = npgrad.function(lambda x: np.sum(scale * x**2 * w), name="eager")
    x = _x()
    _check(op, 1.0, np.ones(3), x)
    w[:] = 2.0
    scale = 3.0  # noqa: F841
    _check(op, 3.0, np.full(3, 2.0), x)
    g = torch.func.grad(op)(x.detach())
    torch.testing.assert_close(g, _torch_reference(3.0, np.full(3, 2.0), x)[1])


class _Config:
    def __init__(self) -> None:
        self.scale = 1.0
        self.weights = np.ones(3)


def test_compiled_attributes_of_a_captured_object():
    cfg = _Config()
    op = npgrad.function(lambda x: np.sum(cfg.scale * x**2 * cfg.weights), name="attrs")
    cs = torch.compile(lambda x: op(x), fullgraph=True)
    x = _x()
    _check(cs, 1.0, np.ones(3), x)
    cfg.weights[:] = 2.0
    _check(cs, 1.0, np.full(3, 2.0), x)
    cfg.scale, cfg.weights = 4.0, np.array([1.0, 0.0, -1.0])
    _check(cs, 4.0, [1.0, 0.0, -1.0], x)


def test_jit_attributes_of_a_captured_object():
    cfg = _Config()
    g = npgrad.grad(lambda v: np.sum(cfg.scale * v**2 * cfg.weights), jit="strict")
    x = np.array([1.0, 2.0, 3.0])
    np.testing.assert_allclose(g(x), _grad_reference(1.0, np.ones(3), x))
    cfg.weights[:] = 2.0
    np.testing.assert_allclose(g(x), _grad_reference(1.0, np.full(3, 2.0), x))
    cfg.scale = 3.0
    np.testing.assert_allclose(g(x), _grad_reference(3.0, np.full(3, 2.0), x))


def test_a_captured_string_array_still_compiles():
    labels = np.array(["a", "b", "c"])

    def f(x):
        assert labels.shape == (3,)
        return np.sum(x**2)

    op = npgrad.function(f, name="labels")
    cs = torch.compile(lambda x: op(x), fullgraph=True)
    x = _x()
    _check(cs, 1.0, np.ones(3), x)
    assert op.compiled_route == "composite"


def test_compiled_captured_bool_and_int_rebound():
    square, power = True, 2
    op = npgrad.function(
        lambda x: np.sum(x**power * 1.0) if square else np.sum(3.0 * x), name="flag"
    )
    cs = torch.compile(lambda x: op(x), fullgraph=True)
    x = _x()
    _check(cs, 1.0, np.ones(3), x)
    square = False  # noqa: F841
    y, g = _value_and_grad(cs, x)
    torch.testing.assert_close(y, 3.0 * x.detach().sum())
    torch.testing.assert_close(g, torch.full((3,), 3.0, dtype=torch.float64))
    square, power = True, 3  # noqa: F841
    y, g = _value_and_grad(cs, x)
    torch.testing.assert_close(y, (x.detach() ** 3).sum())
    torch.testing.assert_close(g, 3 * x.detach() ** 2)
