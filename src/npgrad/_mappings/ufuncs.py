"""NumPy's elementwise ufuncs: one row each, its semantics as flags.

A row's implementation receives tensors (and Python numbers) already promoted to
NumPy's result dtype by the ufunc core (``_trace._array.apply_ufunc``).
"""

from __future__ import annotations

import functools
import math

import numpy as np
import torch

from .._trace._registry import implements
from .._trace._state import values_hidden, wide
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
    (np.sqrt, torch.sqrt, _FLOAT),
    (np.square, torch.square, {}),
    (np.sin, torch.sin, _FLOAT),
    (np.cos, torch.cos, _FLOAT),
    (np.tan, torch.tan, _FLOAT),
    (np.arcsin, torch.asin, _FLOAT),
    (np.arccos, torch.acos, _FLOAT),
    (np.arctan, host.arctan, _FLOAT),
    (np.arctan2, torch.atan2, dict(float_result=True, tensor_only=True)),
    (np.tanh, host.tanh, _FLOAT),
    (np.arcsinh, torch.asinh, _FLOAT),
    (np.arccosh, torch.acosh, _FLOAT),
    (np.arctanh, torch.atanh, _FLOAT),
    (np.deg2rad, torch.deg2rad, _FLOAT),
    (np.rad2deg, torch.rad2deg, _FLOAT),
    (np.maximum, torch.maximum, dict(tensor_only=True, reduce=np.max)),
    (np.minimum, torch.minimum, dict(tensor_only=True, reduce=np.min)),
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
    a, b = _no_bool(a, b)
    if not _floating(a, b):
        return torch.remainder(a, b)
    # NumPy's: the exact fmod moved into b's sign; a zero takes b's sign
    r = _exact_fmod(a, b)
    if not isinstance(b, torch.Tensor):
        b = torch.full((), b, dtype=r.dtype, device=r.device)
    r = r + torch.where((r != 0) & (torch.signbit(r) != torch.signbit(b)), b, 0)
    return _signed_zero(r, b)


@implements(np.divmod, arithmetic=True, scalar_first=True, reflected=("__rdivmod__",),
            operators=("__divmod__",))  # fmt: skip
def _divmod(a, b):
    """``(a // b, a % b)``, the two rows' values and gradients (a step's zero gradient
    for the quotient)."""
    return _floor_divide(a, b), _remainder(a, b)


def _floating(a, b) -> bool:
    return any(isinstance(x, torch.Tensor) and x.is_floating_point() for x in (a, b))


def _exact_fmod(a, b):
    """C's fmod, exact for every pair.  torch's vectorised CPU kernel gives nan where
    a / b overflows (fmod(1e308, 1e-30), fmod(1e-8, 5e-324)).  a mod b is a mod (b *
    2**k) mod b, so where the exponents are far apart a is first reduced by two
    multiples of b a third and two thirds of the way up, each quotient then finite."""
    t = a if isinstance(a, torch.Tensor) else b
    a = a if isinstance(a, torch.Tensor) else torch.full_like(b, a)
    b = b if isinstance(b, torch.Tensor) else torch.full_like(a, b)
    a, b = torch.broadcast_tensors(a, b)
    info = torch.finfo(t.dtype)
    ea, eb = torch.frexp(a.detach())[1], torch.frexp(b.detach())[1]
    far = (
        (ea - eb > round(math.log2(info.max)) - 8)
        & torch.isfinite(a)
        & torch.isfinite(b)
        & (b != 0)
    )
    if not torch.compiler.is_compiling() and t.is_cpu and not values_hidden() and not far.any():
        return torch.fmod(a, b)  # the common case pays for one fmod
    gap = torch.where(far, ea - eb, 0)
    r = a
    for k in (2 * gap // 3, gap // 3):
        # 2**k in two factors: 2**k itself may overflow; a power of two scales exactly
        half = torch.exp2((k // 2).to(t.dtype))
        r = torch.fmod(r, b * half * torch.exp2((k - k // 2).to(t.dtype)))
    return torch.fmod(r, b)


def _signed_zero(r, b):
    """``r`` with its zeros of ``b``'s sign (NumPy's remainder), the derivative in r
    kept: ``r.detach() - r`` is +0 valued, so c - (+0) is c, of c's sign."""
    zero = torch.copysign(torch.zeros_like(r), b)
    return torch.where(r == 0, zero - (r.detach() - r), r)


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
    a, b = _no_bool(a, b)
    return _exact_fmod(a, b) if _floating(a, b) else torch.fmod(a, b)


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
    """|a| ** (1/3) is off by up to a hundred ulps (1/3 is not a float): one Newton
    step y + (a / y**2 - y) / 3 brings it within one, in a form that overflows
    nowhere (y**3 would at the largest floats).  float32 and below are computed in
    float64 and rounded once, as close as NumPy's own loop.  The step's derivative is
    the cube root's, 1 / (3 y**2), since y is the cube root analytically."""
    want = a.dtype
    x = a.to(torch.float64) if a.dtype in (torch.float16, torch.bfloat16, torch.float32) else a
    plain = (x == 0) | ~torch.isfinite(x)  # the root is x itself (signed zero, inf, nan)
    safe = torch.where(plain, 1.0, x)
    y = torch.copysign(safe.abs() ** (1 / 3), safe)
    y = y + (safe / (y * y) - y) / 3
    return torch.where(plain, x, y).to(want)


# torch.heaviside has no derivative: NumPy's values, with a step's zero gradient
@implements(np.heaviside, float_result=True, tensor_only=True)
def _heaviside(x, h):
    if not x.is_floating_point():
        x = x.to(wide())
    if isinstance(h, torch.Tensor) and h.ndim == 0 and h.is_cpu:
        h = h.item()  # a scalar made on the host: no copy to the device
    step = torch.where(torch.isnan(x), x, (torch.sign(x) + 1) / 2)
    return torch.where(x == 0, h, step)


@implements(np.logaddexp2, float_result=True, tensor_only=True)
def _logaddexp2(a, b):
    """NumPy's a == b is a + 1 exactly (infinities too); torch's log1p(1) / ln 2 is
    not 1 (-4.8e-17 for (-1, -1)).  The tie's value as a/2 + b/2 + 1, whose
    derivatives are the halves they are; torch's elsewhere, reading 0 at a tie (not
    inf - inf, whose derivative would be nan)."""
    same = a == b
    other = torch.logaddexp2(torch.where(same, 0.0, a), torch.where(same, 0.0, b))
    return torch.where(same, a / 2 + b / 2 + 1, other)


def _big_hyperbolic(x, fn, odd):
    """torch's cosh and sinh overflow for |x| in float64's last half unit (cosh(710)
    is 1.1e308 in NumPy, inf in torch): there (e**(|x|/2) / 2) * e**(|x|/2), whose
    halves are finite, and the other branch reads a finite input (no 0 * inf in its
    derivative)."""
    edge = math.log(torch.finfo(x.dtype).max) - 1
    big = x.abs() > edge
    small = fn(torch.where(big, 0.0, x))
    half = torch.exp(torch.where(big, x.abs(), 0.0) / 2)
    large = half / 2 * half
    return torch.where(big, torch.copysign(large, x) if odd else large, small)


@implements(np.cosh, float_result=True)
def _cosh(x):
    return _big_hyperbolic(x, torch.cosh, odd=False) if x.is_floating_point() else torch.cosh(x)


@implements(np.sinh, float_result=True)
def _sinh(x):
    return _big_hyperbolic(x, torch.sinh, odd=True) if x.is_floating_point() else torch.sinh(x)


# NumPy's fmax and fmin answer the second argument where the two compare equal (of
# +0 and -0, the second zero), torch's the first; torch splits a tie's gradient
# evenly, so the swap changes only that sign
@implements(np.fmax, tensor_only=True, reduce=np.nanmax)
def _fmax(a, b):
    return torch.fmax(b, a)


@implements(np.fmin, tensor_only=True, reduce=np.nanmin)
def _fmin(a, b):
    return torch.fmin(b, a)


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
