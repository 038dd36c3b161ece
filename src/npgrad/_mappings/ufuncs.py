"""NumPy's elementwise ufuncs: one row each, its semantics as flags.

A row's implementation receives tensors (and Python numbers) already promoted to
NumPy's result dtype by the ufunc core (``_trace._array.apply_ufunc``).
"""

from __future__ import annotations

import functools

import numpy as np
import torch

from .._trace._registry import implements
from .._trace._state import wide
from . import host

# (NumPy ufunc, torch function, flags): the rows whose torch twin needs no adapting
_FLOAT = dict(float_result=True)
_PLAIN = [
    (np.add, torch.add, dict(arithmetic=True, mixed=True, operators=("__add__",),
                             reflected=("__radd__",), reduce=np.sum)),
    (np.subtract, torch.sub, dict(arithmetic=True, mixed=True, operators=("__sub__",),
                                  reflected=("__rsub__",))),
    (np.multiply, torch.mul, dict(arithmetic=True, mixed=True, operators=("__mul__",),
                                  reflected=("__rmul__",), reduce=np.prod)),
    (np.negative, torch.neg, dict(arithmetic=True, operators=("__neg__",))),
    (np.absolute, torch.abs, dict(operators=("__abs__",))),
    (np.fabs, torch.abs, _FLOAT),
    (np.exp, host.exp, _FLOAT),
    (np.exp2, torch.exp2, _FLOAT),
    (np.expm1, host.expm1, _FLOAT),
    (np.log, host.log, _FLOAT),
    (np.log2, torch.log2, _FLOAT),
    (np.log10, torch.log10, _FLOAT),
    (np.log1p, host.log1p, _FLOAT),
    (np.logaddexp, torch.logaddexp, dict(float_result=True, tensor_only=True)),
    (np.logaddexp2, torch.logaddexp2, dict(float_result=True, tensor_only=True)),
    (np.sqrt, torch.sqrt, _FLOAT),
    (np.square, torch.square, {}),
    (np.sin, torch.sin, _FLOAT),
    (np.cos, torch.cos, _FLOAT),
    (np.tan, torch.tan, _FLOAT),
    (np.arcsin, torch.asin, _FLOAT),
    (np.arccos, torch.acos, _FLOAT),
    (np.arctan, host.arctan, _FLOAT),
    (np.arctan2, torch.atan2, dict(float_result=True, tensor_only=True)),
    (np.sinh, torch.sinh, _FLOAT),
    (np.cosh, torch.cosh, _FLOAT),
    (np.tanh, host.tanh, _FLOAT),
    (np.arcsinh, torch.asinh, _FLOAT),
    (np.arccosh, torch.acosh, _FLOAT),
    (np.arctanh, torch.atanh, _FLOAT),
    (np.deg2rad, torch.deg2rad, _FLOAT),
    (np.rad2deg, torch.rad2deg, _FLOAT),
    (np.maximum, torch.maximum, dict(tensor_only=True, reduce=np.max)),
    (np.minimum, torch.minimum, dict(tensor_only=True, reduce=np.min)),
    (np.fmax, torch.fmax, dict(tensor_only=True, reduce=np.nanmax)),
    (np.fmin, torch.fmin, dict(tensor_only=True, reduce=np.nanmin)),
    (np.floor, torch.floor, {}),
    (np.ceil, torch.ceil, {}),
    (np.trunc, torch.trunc, {}),
    (np.copysign, torch.copysign, dict(float_result=True, tensor_only=True)),
    (np.equal, torch.eq, dict(scalar_first=True, operators=("__eq__",))),
    (np.not_equal, torch.ne, dict(scalar_first=True, operators=("__ne__",))),
    (np.less, torch.lt, dict(scalar_first=True, operators=("__lt__",))),
    (np.less_equal, torch.le, dict(scalar_first=True, operators=("__le__",))),
    (np.greater, torch.gt, dict(scalar_first=True, operators=("__gt__",))),
    (np.greater_equal, torch.ge, dict(scalar_first=True, operators=("__ge__",))),
    (np.logical_and, torch.logical_and, dict(tensor_only=True, reduce=np.all)),
    (np.logical_or, torch.logical_or, dict(tensor_only=True, reduce=np.any)),
    (np.logical_xor, torch.logical_xor, dict(tensor_only=True)),
    (np.logical_not, torch.logical_not, {}),
    (np.bitwise_and, torch.bitwise_and, dict(operators=("__and__",), reflected=("__rand__",))),
    (np.bitwise_or, torch.bitwise_or, dict(operators=("__or__",), reflected=("__ror__",))),
    (np.bitwise_xor, torch.bitwise_xor, dict(operators=("__xor__",), reflected=("__rxor__",))),
    (np.invert, torch.bitwise_not, dict(operators=("__invert__",))),
    (np.isnan, torch.isnan, dict(differentiable=False)),
    (np.isinf, torch.isinf, dict(differentiable=False)),
    (np.isfinite, torch.isfinite, dict(differentiable=False)),
    (np.signbit, torch.signbit, dict(differentiable=False)),
]  # fmt: skip
for _ufunc, _fn, _flags in _PLAIN:
    implements(_ufunc, **_flags)(_fn)


@implements(
    np.true_divide,
    true_division=True,
    mixed=True,
    operators=("__truediv__",),
    reflected=("__rtruediv__",),
)
def _true_divide(a, b):
    return torch.true_divide(a, b)


def _no_bool(a, b):
    """NumPy computes these of two bools in int8; torch has no bool kernel for them."""
    if getattr(a, "dtype", None) is torch.bool and getattr(b, "dtype", None) is torch.bool:
        return a.to(torch.int8), b.to(torch.int8)
    return a, b


# torch.floor_divide has no derivative (autograd raises in the backward);
# div(rounding_mode="floor") gives NumPy's values and a step function's zero gradient
@implements(
    np.floor_divide,
    arithmetic=True,
    scalar_first=True,
    operators=("__floordiv__",),
    reflected=("__rfloordiv__",),
)
def _floor_divide(a, b):
    return torch.div(*_no_bool(a, b), rounding_mode="floor")


@implements(
    np.remainder,
    arithmetic=True,
    scalar_first=True,
    operators=("__mod__",),
    reflected=("__rmod__",),
)
def _remainder(a, b):
    return torch.remainder(*_no_bool(a, b))


@implements(np.divmod, arithmetic=True, scalar_first=True, reflected=("__rdivmod__",),
            operators=("__divmod__",))  # fmt: skip
def _divmod(a, b):
    """``(a // b, a % b)``, the two rows' values and gradients (a step's zero gradient
    for the quotient)."""
    return _floor_divide(a, b), _remainder(a, b)


@implements(np.left_shift, scalar_first=True, operators=("__lshift__",), reflected=("__rlshift__",))
def _left_shift(a, b):
    return torch.bitwise_left_shift(*_no_bool(a, b))


@implements(
    np.right_shift, scalar_first=True, operators=("__rshift__",), reflected=("__rrshift__",)
)
def _right_shift(a, b):
    return torch.bitwise_right_shift(*_no_bool(a, b))


@implements(np.fmod, scalar_first=True)
def _fmod(a, b):
    return torch.fmod(*_no_bool(a, b))


@implements(np.power, operators=("__pow__",), reflected=("__rpow__",))
def _power(a, b):
    a, b = _no_bool(a, b)
    if isinstance(b, torch.Tensor) and b.requires_grad and not b.is_complex():
        # torch differentiates the exponent through pow(a, b) * log(a): at a zero base
        # its second derivative is nan (0 * inf); there the exponent's derivative is 0
        # (b > 0), so the exponent enters that branch as a constant
        if not isinstance(a, torch.Tensor):
            return torch.pow(a, b.detach()) if a == 0 else torch.pow(a, b)
        if not a.is_complex():
            zero = a == 0
            one = torch.ones((), dtype=a.dtype, device=a.device)
            return torch.where(
                zero, torch.pow(a, b.detach()), torch.pow(torch.where(zero, one, a), b)
            )
    if isinstance(b, torch.Tensor) and (
        b.is_complex() or isinstance(a, complex) or (isinstance(a, torch.Tensor) and a.is_complex())
    ):
        return _complex_power(a, b)
    return torch.pow(a, b)


def _complex_power(a, b: torch.Tensor) -> torch.Tensor:
    """NumPy's complex x ** 0 is 1 for every x; torch's tensor power gives nan for a
    zero, infinite or nan base.  There the base enters as 1 (so that neither
    derivative is 0 * inf): the value is a constant, as NumPy's."""
    a = a if isinstance(a, torch.Tensor) else torch.as_tensor(a, device=b.device)
    lost = (b == 0) & ((a == 0) | ~torch.isfinite(a))
    one = torch.ones((), dtype=a.dtype, device=a.device)
    return torch.where(lost, one, torch.pow(torch.where(lost, one, a), b))


@implements(np.float_power)
def _float_power(a, b):
    return torch.float_power(a, b)


@implements(np.positive)
def _positive(a):
    # NumPy's positive is a new array; torch.positive returns its input itself
    return a.clone()


# NumPy's conjugate is a new array; torch.conj_physical of a real tensor is the tensor
@implements(np.conjugate, methods=("conj", "conjugate"))
def _conjugate(a):
    return torch.conj_physical(a) if a.is_complex() else a.clone()


# NumPy's reciprocal of an integer is an integer (1 // x, rounded toward zero)
@implements(np.reciprocal)
def _reciprocal(a):
    if a.is_floating_point() or a.is_complex():
        return torch.reciprocal(a)
    return torch.div(torch.ones_like(a), a, rounding_mode="trunc")


@implements(np.rint, float_result=True)  # NumPy rounds integers into a float
def _rint(t):
    if t.is_complex():  # each part on its own, as NumPy
        return torch.complex(torch.round(t.real), torch.round(t.imag))
    return torch.round(t)


@implements(np.hypot, float_result=True, tensor_only=True)
def _hypot(a, b):
    # at (0, 0) torch's derivative is 0/0: the subgradient 0 there, as np.linalg.norm's
    zero = (a == 0) & (b == 0)
    h = torch.hypot(torch.where(zero, 1.0, a), b)
    return torch.where(zero, torch.zeros((), dtype=h.dtype, device=h.device), h)


@implements(np.sign)
def _sign(t):
    if t.is_complex():
        # NumPy 2's z / |z| (0 at 0); with exactly one infinite part, that part's
        # sign along its axis, whatever the other (torch.sgn gives nan there)
        re, im = t.real, t.imag
        inf = torch.isinf(re) ^ torch.isinf(im)
        unit = torch.complex(*(torch.where(torch.isinf(p), torch.sign(p), 0.0) for p in (re, im)))
        return torch.where(inf, torch.sgn(unit), torch.sgn(t))
    s = torch.sign(t)
    # NumPy's sign of nan is nan; torch's is 0
    return torch.where(torch.isnan(t), t, s) if t.is_floating_point() else s


@implements(np.cbrt, float_result=True)
def _cbrt(a):
    return torch.sign(a) * torch.abs(a) ** (1 / 3)


# torch.heaviside has no derivative: NumPy's values, with a step's zero gradient
@implements(np.heaviside, float_result=True, tensor_only=True)
def _heaviside(x, h):
    if not x.is_floating_point():
        x = x.to(wide())
    if isinstance(h, torch.Tensor) and h.ndim == 0 and h.is_cpu:
        h = h.item()  # a scalar made on the host: no copy to the device
    step = torch.where(torch.isnan(x), x, (torch.sign(x) + 1) / 2)
    return torch.where(x == 0, h, step)


# np.divide is np.true_divide in NumPy 2; a separate name only where it differs
if np.divide is not np.true_divide:  # pragma: no cover - NumPy 1
    implements(np.divide, true_division=True)(functools.partial(torch.true_divide))


# np.degrees and np.radians are ufuncs of their own, not aliases of rad2deg/deg2rad
implements(np.degrees, float_result=True)(torch.rad2deg)
implements(np.radians, float_result=True)(torch.deg2rad)


# the two-output ufuncs return a plain tuple, as NumPy does
@implements(np.frexp, float_result=True)
def _frexp(x):
    """The mantissa's derivative is 2**-exponent (torch's); at zero and at the powers
    of two, where the mantissa jumps, that is the derivative from the right (1 at 0)."""
    mantissa, exponent = torch.frexp(x)
    return mantissa, exponent


@implements(np.modf, float_result=True)
def _modf(x):
    """The fractional part's derivative is 1, also at the integers where it jumps
    (the derivative from the right); the integral part's is 0."""
    whole = torch.trunc(x)
    # x - whole keeps x's sign only where it is not zero: NumPy's -2.0 gives -0.0
    frac = torch.where(torch.signbit(x), -(whole.detach() - x), x - whole.detach())
    # inf has the fractional part 0, of inf's sign
    frac = torch.where(torch.isinf(x), torch.copysign(torch.zeros_like(x), x), frac)
    return frac, whole


# the neighbouring floats
@implements(np.nextafter, float_result=True, tensor_only=True)
def _nextafter(x1, x2):
    """x1 moved by one step of the float grid: the derivative in x1 is 1 and in x2 0
    (torch's, and float64 central differences'), the step being a constant."""
    return torch.nextafter(x1, x2)


@implements(np.spacing, float_result=True, differentiable=False)
def _spacing(x):
    """The step to the next float away from zero (negative for a negative x; the
    smallest subnormal at either zero; nan at inf and nan).  float16 as NumPy's own
    half-precision loop: the step up, positive for a negative x too.  Constant between
    powers of two: the gradient is 0, at the powers too, where it jumps."""
    if x.dtype is torch.float16:
        up = torch.nextafter(x, torch.full_like(x, torch.inf)) - x
        return torch.where(torch.isinf(x), torch.nan, up)
    toward = torch.where(x < 0, -torch.inf, torch.inf).to(x.dtype)
    return torch.nextafter(x, toward) - x
