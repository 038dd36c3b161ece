"""A stand-in for the ``autograd`` package, for benchmarks/hips_autograd_suite.py and
hips_autograd_examples.py only: put first on ``sys.path``, it makes HIPS autograd's
tests and examples run as plain NumPy/SciPy code differentiated by npgrad.

- ``autograd.numpy`` *is* NumPy (and ``.random``, ``.linalg``, ``.fft`` NumPy's),
  ``autograd.scipy`` is SciPy (``autograd.scipy.stats.norm`` is ``scipy.stats.norm``),
  ``autograd.builtins.tuple`` the builtin ``tuple``;
- ``grad``, ``value_and_grad``, ``jacobian``, ``hessian``, ``elementwise_grad``,
  ``make_vjp``, ``hessian_tensor_product`` ... are npgrad's (autograd's calling
  convention: ``argnum`` positional, ``make_vjp`` returns ``(vjp, value)``);
- ``autograd.test_util.check_grads`` is the harness's check (``_hips_core``).

What npgrad has no counterpart for (forward mode's ``make_jvp`` is a double VJP,
holomorphic gradients, ``autograd.extend``'s primitives, the tracer) raises
``NotImplementedError`` naming this shim.  Written for the harness; no code of HIPS
autograd is here.
"""

import builtins as _builtins
import sys as _sys

import numpy as _np
import numpy.fft as _np_fft
import numpy.linalg as _np_linalg
import numpy.random as _np_random
import scipy as _scipy

import npgrad as _npgrad

numpy = _np
scipy = _scipy


def _alias(name, obj):
    _sys.modules[name] = obj


_alias("autograd.numpy", _np)
_alias("autograd.numpy.random", _np_random)
_alias("autograd.numpy.linalg", _np_linalg)
_alias("autograd.numpy.fft", _np_fft)
_alias("autograd.scipy", _scipy)
for _sub in ("special", "stats", "linalg", "signal", "integrate", "fft"):
    __import__(f"scipy.{_sub}")
    _alias(f"autograd.scipy.{_sub}", getattr(_scipy, _sub))
for _dist in ("norm", "multivariate_normal", "t", "beta", "gamma", "dirichlet", "poisson", "chi2"):
    _alias(f"autograd.scipy.stats.{_dist}", getattr(_scipy.stats, _dist))

builtins = type(_sys)("autograd.builtins")
builtins.tuple, builtins.list, builtins.dict = _builtins.tuple, _builtins.list, _builtins.dict
builtins.isinstance, builtins.type = _builtins.isinstance, _builtins.type
_alias("autograd.builtins", builtins)
tuple, list, dict = _builtins.tuple, _builtins.list, _builtins.dict
isinstance, type = _builtins.isinstance, _builtins.type


def _unsupported(what):
    def f(*a, **k):
        raise NotImplementedError(f"{what}: no counterpart in the npgrad shim of autograd")

    f.__name__ = what
    return f


def _argnums(argnum):
    return (
        _builtins.tuple(argnum)
        if _builtins.isinstance(argnum, (_builtins.list, _builtins.tuple))
        else argnum
    )


def _scalar(fun):
    """autograd's grad takes any result of one element (npgrad's, as JAX's, a 0-d one)."""

    def f(*args, **kwargs):
        out = fun(*args, **kwargs)
        return _np.reshape(out, ()) if _np.ndim(out) and _np.size(out) == 1 else out

    f.__name__ = getattr(fun, "__name__", "f")
    return f


def grad(fun, argnum=0):
    return _npgrad.grad(_scalar(fun), argnums=_argnums(argnum))


def value_and_grad(fun, argnum=0):
    def with_shape(*args, **kwargs):  # the value keeps its shape, as autograd's
        out = fun(*args, **kwargs)
        return _scalar(lambda: out)(), _np.shape(out)

    vg = _npgrad.value_and_grad(with_shape, argnums=_argnums(argnum), has_aux=True)

    def run(*args, **kwargs):
        (value, shape), g = vg(*args, **kwargs)
        return (_np.reshape(value, shape) if shape else value), g

    return run


def jacobian(fun, argnum=0):
    return _npgrad.jacobian(fun, argnums=_argnums(argnum))


def hessian(fun, argnum=0):
    return _npgrad.hessian(fun, argnums=_argnums(argnum))


def _unary(fun, argnum, args):
    """fun as a function of argument ``argnum`` alone, and that argument."""
    many = _builtins.isinstance(argnum, (_builtins.list, _builtins.tuple))
    nums = _builtins.tuple(argnum) if many else (argnum,)

    def f(x):
        new = _builtins.list(args)
        for i, a in zip(nums, x if many else (x,)):
            new[i] = a
        return fun(*new)

    x = _builtins.tuple(args[i] for i in nums) if many else args[argnum]
    return f, x


def make_vjp(fun, argnum=0):
    def run(*args, **kwargs):
        f, x = _unary(lambda *a: fun(*a, **kwargs), argnum, args)
        y, fn = _npgrad.vjp(f, x)
        return (lambda g: fn(g)[0]), y

    return run


def vector_jacobian_product(fun, argnum=0):
    def run(*args, **kwargs):
        *primal, v = args
        return make_vjp(fun, argnum)(*primal, **kwargs)[0](v)

    return run


def make_jvp(fun, argnum=0):
    """J v as the VJP of u -> J^T u (npgrad has no forward mode)."""

    def at(*args, **kwargs):
        f, x = _unary(lambda *a: fun(*a, **kwargs), argnum, args)

        def jvp(v):
            y, _ = _npgrad.vjp(f, x)
            zero = _np.zeros_like(_np.asarray(y, dtype=float))
            lin = lambda u: _npgrad.vjp(f, x)[1](u)[0]  # noqa: E731
            return y, _npgrad.vjp(lin, zero if _np.ndim(y) else float(zero))[1](v)[0]

        return jvp

    return at


def elementwise_grad(fun, argnum=0):
    def run(*args, **kwargs):
        f, x = _unary(lambda *a: fun(*a, **kwargs), argnum, args)
        y, fn = _npgrad.vjp(f, x)
        return fn(_np.ones_like(_np.asarray(y, dtype=float)) if _np.ndim(y) else 1.0)[0]

    return run


egrad = elementwise_grad
deriv = elementwise_grad


def hessian_tensor_product(fun, argnum=0):
    return _npgrad.hvp(fun, argnums=_argnums(argnum))


hessian_vector_product = hessian_tensor_product


def tensor_jacobian_product(fun, argnum=0):
    return vector_jacobian_product(fun, argnum)


def grad_and_aux(fun, argnum=0):
    def run(*args, **kwargs):
        (_, aux), g = _npgrad.value_and_grad(fun, argnums=_argnums(argnum), has_aux=True)(
            *args, **kwargs
        )
        return g, aux

    return run


def checkpoint(fun):
    return fun


holomorphic_grad = _unsupported("autograd.holomorphic_grad")
multigrad_dict = _unsupported("autograd.multigrad_dict")
grad_named = _unsupported("autograd.grad_named")
make_ggnvp = _unsupported("autograd.make_ggnvp")
make_hvp = _unsupported("autograd.make_hvp")
primitive = _unsupported("autograd.primitive")
