"""The gradient check behind the HIPS autograd harness (benchmarks/hips_autograd_suite.py).

``check_grads(fun, argnum, modes=, order=)(*args, **kwargs)`` has the calling
convention of ``autograd.test_util.check_grads``; every call is one *check*, recorded
in ``RESULTS`` (never raised, so that a test's later checks still run).  The
derivatives come from a *backend* (``npgrad`` or ``autograd``) and are compared with
float64 central differences of the same function along random directions:

- ``rev``: <v, VJP(u)> against <u, (f(x + eps/2 v) - f(x - eps/2 v)) / eps>;
- ``fwd``: <JVP(v), w> against <numeric JVP(v), w>.  npgrad has no forward mode: its
  JVP is J v taken as the VJP of the (linear) map u -> VJP(u), both npgrad's;
- ``order`` > 1: the same check of the function (x, v) -> JVP(v) or (x, u) -> VJP(u),
  differentiated by the same backend (nested).

The tolerance is autograd's own (step 1e-6, absolute or relative 1e-6), so that both
backends face the same test.  A check passes only if every sub-check passes; the
first one that does not gives its kind: ``wrong`` (a value that differs, or a
gradient of another shape), ``clear`` (a ``npgrad.TraceError`` or another error whose
message names npgrad), ``crash`` (any other error).  A function that fails on plain
values already (no derivative asked) with an error not naming npgrad is ``autograd
only``: the test calls autograd's own API, which plain NumPy/SciPy lack (in autograd
mode such a failure is a crash).  A check whose inputs or result
are complex is ``complex`` (skipped and counted apart).  Written for this harness;
nothing here is taken from HIPS autograd.
"""

from __future__ import annotations

import itertools
import traceback
from collections.abc import Callable
from typing import Any

import numpy as np

EPS = 1e-6
TOL = 1e-6

RESULTS: list[dict] = []
CURRENT = {"test": None}
BACKEND: dict[str, Any] = {"name": None}


class Mismatch(AssertionError):
    pass


# ---- structures: nested tuples / lists / dicts of floats and arrays ----------------


def _is_node(x: Any) -> bool:
    return isinstance(x, (tuple, list, dict))


def leaves(x: Any) -> list:
    if isinstance(x, dict):
        return [a for k in sorted(x, key=repr) for a in leaves(x[k])]
    if isinstance(x, (tuple, list)):
        return [a for e in x for a in leaves(e)]
    return [x]


def rebuild(x: Any, it) -> Any:
    if isinstance(x, dict):
        return {k: rebuild(x[k], it) for k in sorted(x, key=repr)}
    if isinstance(x, (tuple, list)):
        return (
            type(x)(rebuild(e, it) for e in x)
            if type(x) in (tuple, list)
            else tuple(rebuild(e, it) for e in x)
        )
    return next(it)


def _plain(a: Any) -> np.ndarray:
    """A leaf as a NumPy array (unboxing autograd's boxes is the backend's job)."""
    return np.asarray(a)


def is_complex(x: Any) -> bool:
    return any(np.iscomplexobj(_plain(a)) for a in leaves(x))


def _as_leaf_like(value: np.ndarray, like: Any) -> Any:
    if isinstance(like, (float, int)) and not isinstance(like, bool):
        return float(value)
    return value


def randn_like(x: Any, rng: np.random.Generator) -> Any:
    new = [_as_leaf_like(rng.standard_normal(np.shape(a)), a) for a in leaves(x)]
    return rebuild(x, iter(new))


def zeros_like(x: Any) -> Any:
    new = [_as_leaf_like(np.zeros(np.shape(a)), a) for a in leaves(x)]
    return rebuild(x, iter(new))


def axpy(x: Any, a: float, v: Any) -> Any:
    """x + a * v, leaf by leaf, in float64."""
    new = [
        _as_leaf_like(np.asarray(xi, dtype=np.float64) + a * np.asarray(vi, dtype=np.float64), xi)
        for xi, vi in zip(leaves(x), leaves(v))
    ]
    return rebuild(x, iter(new))


def inner(x: Any, y: Any) -> float:
    lx, ly = leaves(x), leaves(y)
    if len(lx) != len(ly):
        raise Mismatch(f"structure differs: {len(lx)} arrays against {len(ly)}")
    total = 0.0
    for a, b in zip(lx, ly):
        a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
        if a.shape != b.shape:
            raise Mismatch(f"shape {b.shape} where {a.shape} was expected")
        total += float(np.sum(a * b))
    return total


def close(a: float, b: float) -> bool:
    return abs(a - b) < TOL or abs(a - b) / abs(a + b) < TOL


def numeric_jvp(f: Callable, x: Any, v: Any) -> Any:
    hi = f(axpy(x, EPS / 2, v))
    lo = f(axpy(x, -EPS / 2, v))
    new = [
        (np.asarray(h, dtype=np.float64) - np.asarray(lo_, dtype=np.float64)) / EPS
        for h, lo_ in zip(leaves(hi), leaves(lo))
    ]
    return rebuild(hi, iter(new))


# ---- the check --------------------------------------------------------------------


def _check(f: Callable, x: Any, modes, order: int, rng, where: str, subs: list) -> None:
    backend = BACKEND["impl"]
    if "fwd" in modes:
        v = randn_like(x, rng)
        exact = backend.jvp(f, x, v)
        num = numeric_jvp(f, x, v)
        w = randn_like(num, rng)
        a, b = inner(exact, w), inner(num, w)
        subs.append(f"{where}fwd")
        if not close(a, b):
            raise Mismatch(f"{where}fwd: JVP.w {a!r}, numeric {b!r}")
        if order > 1:
            g = lambda xv: backend.jvp(f, xv[0], xv[1])  # noqa: E731
            _check(g, (x, v), modes, order - 1, rng, where + "fwd>", subs)
    if "rev" in modes:
        y, vjp_fn = backend.vjp(f, x)
        u = randn_like(y, rng)
        v = randn_like(x, rng)
        g = vjp_fn(u)
        exact = inner(v, g)  # checks the gradient's structure and shapes against x's
        numv = inner(u, numeric_jvp(f, x, v))
        subs.append(f"{where}rev")
        if not close(exact, numv):
            raise Mismatch(f"{where}rev: v.VJP(u) {exact!r}, numeric {numv!r}")
        if order > 1:
            h = lambda xu: backend.vjp(f, xu[0])[1](xu[1])  # noqa: E731
            _check(h, (x, u), modes, order - 1, rng, where + "rev>", subs)


def classify(e: BaseException) -> str:
    if isinstance(e, Mismatch):
        return "wrong"
    try:
        import npgrad

        if isinstance(e, npgrad.TraceError):
            return "clear"
    except ImportError:  # pragma: no cover
        pass
    if "npgrad" in str(e):
        return "clear"
    return "crash"


def _one_line(e: BaseException) -> str:
    s = f"{type(e).__name__}: {e}".replace("\n", " ")
    return s[:400]


def run_check(fun: Callable, argnum, modes, order: int, args: tuple, kwargs: dict) -> None:
    modes = ["fwd", "rev"] if modes is None else list(modes)
    many = isinstance(argnum, (tuple, list))
    nums = tuple(argnum) if many else (argnum,)
    x = tuple(args[i] for i in nums) if many else args[argnum]

    def f(xx):
        new = list(args)
        for i, a in zip(nums, xx if many else (xx,)):
            new[i] = a
        return fun(*new, **kwargs)

    rec = {
        "test": CURRENT["test"],
        "index": sum(1 for r in RESULTS if r["test"] == CURRENT["test"]),
        "fun": getattr(fun, "__name__", type(fun).__name__),
        "modes": modes,
        "order": order,
        "kwargs": {k: repr(v)[:40] for k, v in kwargs.items()},
        "shapes": [list(np.shape(_plain(a))) for a in leaves(x)],
    }
    RESULTS.append(rec)
    rng = np.random.default_rng(1234 + rec["index"])
    try:
        y = BACKEND["impl"].plain(f, x)
    except Exception as e:  # the function itself fails on plain values
        # without npgrad in the call, the test uses autograd's own API (a function or
        # an argument plain NumPy/SciPy lack): "autograd only"
        status = classify(e)
        rec.update(
            status="autograd only" if status == "crash" else status,
            where="plain call",
            error=_one_line(e),
        )
        return
    if is_complex(x) or is_complex(y):
        rec.update(status="complex")
        return
    subs: list[str] = []
    try:
        _check(f, x, modes, order, rng, "", subs)
    except BaseException as e:  # noqa: BLE001 - every failure is recorded
        if isinstance(e, (KeyboardInterrupt, SystemExit)):
            raise
        rec.update(
            status=classify(e),
            where=subs[-1] if subs else "first sub-check",
            error=_one_line(e),
            subs=subs,
        )
        if rec["status"] == "crash":
            rec["trace"] = traceback.format_exc(limit=-3)[-1500:]
        return
    rec.update(status="pass", subs=subs)


def check_grads(fun: Callable, argnum=0, modes=None, order: int = 2) -> Callable:
    def checker(*args, **kwargs):
        run_check(fun, argnum, modes, order, args, kwargs)

    return checker


def combo_check(fun: Callable, *check_args, **check_kwargs) -> Callable:
    """Every combination of the given argument values and keyword values, one check each."""

    def run(*arg_lists, **kwarg_lists):
        keys = list(kwarg_lists)
        for combo in itertools.product(*arg_lists):
            for kvals in itertools.product(*(kwarg_lists[k] for k in keys)):
                check_grads(fun, *check_args, **check_kwargs)(*combo, **dict(zip(keys, kvals)))

    return run


# ---- backends ---------------------------------------------------------------------


class NpgradBackend:
    name = "npgrad"

    def __init__(self):
        import npgrad

        self.npgrad = npgrad

    def plain(self, f, x):
        return f(x)

    def vjp(self, f, x):
        y, fn = self.npgrad.vjp(f, x)
        return y, (lambda u: fn(u)[0])

    def jvp(self, f, x, v):
        # J v as the VJP of the linear map u -> J^T u (npgrad has no forward mode)
        y, fn = self.npgrad.vjp(f, x)
        lin = lambda u: self.npgrad.vjp(f, x)[1](u)[0]  # noqa: E731
        _, fn2 = self.npgrad.vjp(lin, zeros_like(y))
        return fn2(v)[0]


class AutogradBackend:
    name = "autograd"

    def __init__(self):
        import autograd

        self.ag = autograd

    def plain(self, f, x):
        return f(x)

    def vjp(self, f, x):
        fn, y = self.ag.make_vjp(f)(x)
        return y, fn

    def jvp(self, f, x, v):
        return self.ag.make_jvp(f)(x)(v)[1]


def use(name: str) -> None:
    BACKEND["name"] = name
    BACKEND["impl"] = NpgradBackend() if name == "npgrad" else AutogradBackend()
