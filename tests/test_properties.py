"""Property-based: every signature (positional, defaults, keyword-only, *args, **kwargs,
nested containers), called every way, through every route (eager, torch.func,
torch.compile) and mode gives the gradient of float64 central differences, or a clear
error naming the op."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

import npgrad

from .conftest import TOL


# the maths of every case: L(a, b) = scale * sum(a * b) + sum(b ** 2)
def _value(a, b, scale):
    return scale * np.sum(a * b) + np.sum(b**2)


def _grads(g, a, b, scale):
    return g * scale * b, g * (scale * a + 2 * b)


@dataclass(frozen=True)
class Signature:
    """A forward of one shape of signature, its backward bound the documented way, and
    the ways to call it with tensors ``a``, ``b`` and a number ``scale``."""

    forward: Callable
    backward: Callable | None  # None: numpy mode cannot take this signature
    calls: dict[str, Callable]  # call style -> f(op, a, b, scale) -> loss


def _positional():
    def fwd(a, b, scale):
        return _value(a, b, scale)

    def bwd(g, a, b, scale, out):
        return _grads(g, a, b, scale)

    return Signature(fwd, bwd, {"positional": lambda f, a, b, s: f(a, b, s)})


def _default():
    def fwd(a, b, scale=1.0):
        return _value(a, b, scale)

    def bwd(g, a, b, out, scale=1.0):  # out before the defaults, as users write it
        return _grads(g, a, b, scale)

    return Signature(
        fwd,
        bwd,
        {
            "given-positionally": lambda f, a, b, s: f(a, b, s),
            "given-by-keyword": lambda f, a, b, s: f(a, b, scale=s),
            "omitted": lambda f, a, b, s: f(a, b),
        },
    )


def _keyword_only():
    def fwd(a, *, b, scale=1.0):
        return _value(a, b, scale)

    def bwd(g, a, *, b, out, scale=1.0, needs_input_grad=None):
        return _grads(g, a, b, scale)

    return Signature(
        fwd,
        bwd,
        {
            "keywords": lambda f, a, b, s: f(a, b=b, scale=s),
            "keyword-omitted": lambda f, a, b, s: f(a, b=b),
        },
    )


def _var_positional():
    def fwd(a, *rest):
        return _value(a, rest[0], rest[1])

    def bwd(g, a, *rest, out):
        return _grads(g, a, rest[0], rest[1])

    return Signature(fwd, bwd, {"star-args": lambda f, a, b, s: f(a, b, s)})


def _var_keyword():
    def fwd(a, **kw):
        return _value(a, kw["b"], kw["scale"])

    def bwd(g, a, out, **kw):
        return _grads(g, a, kw["b"], kw["scale"])

    return Signature(fwd, bwd, {"star-kwargs": lambda f, a, b, s: f(a, b=b, scale=s)})


def _nested_list():
    def fwd(a, bs, scale):
        return _value(a, bs[0], scale)

    return Signature(fwd, None, {"list": lambda f, a, b, s: f(a, [b], s)})


def _nested_dict():
    def fwd(a, d):
        return _value(a, d["inner"][0], d["scale"])

    return Signature(fwd, None, {"dict": lambda f, a, b, s: f(a, {"inner": (b,), "scale": s})})


SIGNATURES = {
    "positional": _positional,
    "default": _default,
    "keyword-only": _keyword_only,
    "var-positional": _var_positional,
    "var-keyword": _var_keyword,
    "nested-list": _nested_list,
    "nested-dict": _nested_dict,
}
MODES = ["auto", "numpy", "numeric"]
CLEAR = (TypeError, ValueError, npgrad.NpgradError)


def _make(sig: Signature, mode: str, name: str) -> npgrad.Function:
    op = npgrad.loss(sig.forward, name=name, mode=mode, broadcast=True)
    if mode == "numpy":
        op.backward(sig.backward)
    return op


def _central(a: np.ndarray, b: np.ndarray, scale: float) -> tuple[np.ndarray, np.ndarray]:
    """float64 central differences of the maths itself (an independent reference)."""
    out = []
    for which in (0, 1):
        x = [a.copy(), b.copy()]
        flat = x[which].reshape(-1)
        grad = np.empty_like(flat)
        for i in range(flat.size):
            orig = flat[i]
            flat[i] = orig + 1e-6
            plus = _value(x[0], x[1], scale)
            flat[i] = orig - 1e-6
            minus = _value(x[0], x[1], scale)
            flat[i] = orig
            grad[i] = (plus - minus) / 2e-6
        out.append(grad.reshape(x[which].shape))
    return out[0], out[1]


def _route_grads(route: str, call: Callable, a: torch.Tensor, b: torch.Tensor):
    if route == "eager":
        a, b = a.clone().requires_grad_(), b.clone().requires_grad_()
        call(a, b).backward()
        return a.grad, b.grad
    if route == "torch.func":
        return torch.func.grad(call, argnums=(0, 1))(a, b)
    compiled = torch.compile(call, backend="aot_eager", fullgraph=True)
    a, b = a.clone().requires_grad_(), b.clone().requires_grad_()
    compiled(a, b).backward()
    return a.grad, b.grad


def _check_case(sig_name, style, mode, route, shape, scale, seed):
    sig = SIGNATURES[sig_name]()
    op = _make_or_refuse(sig, mode, f"{sig_name}-{mode}")
    if op is None:
        return
    g = torch.Generator().manual_seed(seed)
    a, b = (torch.randn(shape, generator=g, dtype=torch.float64) for _ in range(2))
    call_style = sig.calls[style]
    used_scale = 1.0 if style.endswith("omitted") else scale

    def call(x, y):
        return call_style(op, x, y, scale)

    # torch.compile wraps an error raised while it traces (Dynamo's Unsupported)
    clear = CLEAR + ((torch._dynamo.exc.Unsupported,) if route == "torch.compile" else ())
    try:
        ga, gb = _route_grads(route, call, a, b)
    except clear as e:
        text = str(e) + " ".join(getattr(e, "__notes__", []))
        assert "npgrad" in text, f"an error that names neither npgrad nor the op: {e!r}"
        # only these may be refused: a tensor inside a container outside automatic mode,
        # and routes other than eager (compile takes no containers)
        nested = sig_name.startswith("nested")
        assert route != "eager" or (nested and mode != "auto"), f"eager {mode} refused: {e}"
        return
    want_a, want_b = _central(a.numpy(), b.numpy(), used_scale)
    tol = dict(atol=1e-5, rtol=1e-5) if mode == "numeric" else dict(atol=1e-6, rtol=1e-6)
    assert tol["rtol"] >= TOL[torch.float64]["rtol"]
    torch.testing.assert_close(ga, torch.as_tensor(want_a), **tol)
    torch.testing.assert_close(gb, torch.as_tensor(want_b), **tol)


def _make_or_refuse(sig: Signature, mode: str, name: str):
    if mode == "numpy" and sig.backward is None:
        # a tensor inside a container: numpy mode must refuse it by name when called
        op = npgrad.loss(sig.forward, name=name, mode="numpy", broadcast=True)
        op.backward(lambda g, *args, **kwargs: None)
        a = torch.ones(2, dtype=torch.float64)
        style = next(iter(sig.calls.values()))
        with pytest.raises(TypeError, match=r"holds a tensor inside a"):
            style(op, a, a, 2.0)
        return None
    return _make(sig, mode, name)


CASES = [(s, style) for s, make in SIGNATURES.items() for style in make().calls]
shapes = st.sampled_from([(3,), (2, 3)])
scales = st.floats(-2.0, 2.0, allow_nan=False).filter(lambda v: abs(v) > 0.1)


@settings(max_examples=60, deadline=None)
@given(
    case=st.sampled_from(CASES),
    mode=st.sampled_from(MODES),
    route=st.sampled_from(["eager", "torch.func"]),
    shape=shapes,
    scale=scales,
    seed=st.integers(0, 2**16),
)
def test_every_signature_mode_and_eager_route(case, mode, route, shape, scale, seed):
    _check_case(*case, mode, route, shape, scale, seed)


# torch.compile compiles each new function: fewer examples, every signature and mode
@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("case", CASES, ids=[f"{s}-{style}" for s, style in CASES])
def test_every_signature_and_mode_under_torch_compile(case, mode):
    torch._dynamo.reset()  # one code object compiled for every case: not a recompile loop
    _check_case(*case, mode, "torch.compile", (3,), 1.5, 0)
