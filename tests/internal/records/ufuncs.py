"""Records of NumPy's elementwise ufuncs and ``TracedArray``'s operators.

The ufunc records are generated from a table written here by name (a row missing
from it is a coverage failure, not a silent pass): each row's arity is NumPy's
``nin``, its inputs are drawn from the table's domain.
"""

from __future__ import annotations

import operator

import numpy as np

from . import Record

_FLOATS = ("float64", "float32")
_WITH_INTS = ("float64", "float32", "int8", "int64")  # ints: NumPy's float promotion
_INTS = ("int64", "int32", "uint8", "bool")
_NOGRAD = dict(grad=False)  # the value is a truth value or carries no gradient

# name -> (domain, or one per input; options of the record)
UFUNCS: dict[str, tuple] = {
    # unary, any real input
    **{
        n: ("real", dict(dtypes=_WITH_INTS))
        for n in (
            "negative absolute fabs exp exp2 expm1 square sin cos arctan sinh cosh tanh "
            "arcsinh deg2rad rad2deg floor ceil trunc rint positive sign cbrt conjugate "
            "frexp modf"  # two outputs: (mantissa, int32 exponent), (fraction, whole)
        ).split()
    },
    **{n: ("positive", dict(dtypes=_WITH_INTS)) for n in "log log2 log10 log1p sqrt".split()},
    "reciprocal": ("nonzero", dict(dtypes=_WITH_INTS)),
    # tan near its poles is no test of anything but the draw
    **{n: ("unit", {}) for n in "tan arcsin arccos arctanh".split()},
    "arccosh": ("above_one", {}),
    **{
        n: ("real", dict(dtypes=_WITH_INTS, **_NOGRAD))
        for n in "isnan isinf isfinite signbit".split()
    },
    "logical_not": ("real", dict(dtypes=(*_FLOATS, "bool"), **_NOGRAD)),
    # binary
    **{
        n: ("real", dict(dtypes=_WITH_INTS))
        for n in (
            "add subtract multiply logaddexp logaddexp2 arctan2 hypot maximum minimum fmax fmin "
            "copysign heaviside"
        ).split()
    },
    **{
        n: ("real", dict(dtypes=_WITH_INTS, **_NOGRAD))
        for n in "equal not_equal less less_equal greater greater_equal".split()
    },
    **{
        n: ("real", dict(dtypes=(*_FLOATS, "bool"), **_NOGRAD))
        for n in "logical_and logical_or logical_xor".split()
    },
    **{
        n: (("real", "nonzero"), dict(dtypes=_WITH_INTS))
        for n in "divide floor_divide remainder fmod divmod".split()
    },
    "power": (("positive", "real"), dict(dtypes=_FLOATS)),
    "float_power": (("positive", "real"), dict(dtypes=_FLOATS)),
    # integer power with a negative exponent raises in NumPy: positive exponents there
    "power-int": (("positive", "positive"), dict(dtypes=("int8", "int64"), **_NOGRAD)),
    **{
        n: ("real", dict(dtypes=_INTS, **_NOGRAD))
        for n in "bitwise_and bitwise_or bitwise_xor invert".split()
    },
    # shifts by 1 to 4 bits: NumPy leaves negative and over-wide counts to the C compiler
    **{
        n: (("real", "positive"), dict(dtypes=_INTS, **_NOGRAD))
        for n in ("left_shift", "right_shift")
    },
}


def _ufunc_record(key: str, domain, opts: dict) -> Record:
    name = key.split("-")[0]
    uf = getattr(np, name)
    shapes = ((3, 4),) if uf.nin == 1 else ((3, 4), (4,))  # binary: broadcasting too
    return Record(
        covers=(f"numpy.{name}",), fn=uf, shapes=shapes, domain=domain, id=f"numpy.{key}", **opts
    )


RECORDS = [_ufunc_record(k, d, o) for k, (d, o) in UFUNCS.items()]


def _rfn(op, c):
    def f(x):
        return op(c, x)  # the number on the left: the reflected operator

    return f


# dunder -> (operator, domain, dtypes, grad, the left number of the reflected form)
_OPERATORS = {
    "add": (operator.add, "real", _FLOATS, True, 1.5),
    "sub": (operator.sub, "real", _FLOATS, True, 1.5),
    "mul": (operator.mul, "real", _FLOATS, True, 1.5),
    "truediv": (operator.truediv, ("real", "nonzero"), _FLOATS, True, 1.5),
    "floordiv": (operator.floordiv, ("real", "nonzero"), _FLOATS, True, 1.5),
    "mod": (operator.mod, ("real", "nonzero"), _FLOATS, True, 1.5),
    "divmod": (divmod, ("real", "nonzero"), _FLOATS, True, 1.5),
    "pow": (operator.pow, ("positive", "real"), _FLOATS, True, 1.5),
    "and": (operator.and_, "real", _INTS, False, 3),
    "or": (operator.or_, "real", _INTS, False, 3),
    "xor": (operator.xor, "real", _INTS, False, 3),
    "lshift": (operator.lshift, ("real", "positive"), _INTS, False, 3),
    "rshift": (operator.rshift, ("real", "positive"), _INTS, False, 64),
    "eq": (operator.eq, "real", _FLOATS, False, None),
    "ne": (operator.ne, "real", _FLOATS, False, None),
    "lt": (operator.lt, "real", _FLOATS, False, None),
    "le": (operator.le, "real", _FLOATS, False, None),
    "gt": (operator.gt, "real", _FLOATS, False, None),
    "ge": (operator.ge, "real", _FLOATS, False, None),
}
for _n, (_op, _dom, _dts, _grad, _left) in _OPERATORS.items():
    RECORDS.append(
        Record(
            covers=(f"ndarray.__{_n}__",),
            fn=_op,
            shapes=((3, 4), (4,)),
            domain=_dom,
            dtypes=_dts,
            grad=_grad,
        )
    )
    if _left is not None:
        # the reflected form wants a positive base for pow, a nonzero divisor for the rest
        dom = "nonzero" if _n in ("truediv", "floordiv", "mod", "divmod") else "real"
        dom = "positive" if _n in ("lshift", "rshift") else dom  # a count of 1 to 4 bits
        RECORDS.append(
            Record(
                covers=(f"ndarray.__r{_n}__",),
                fn=_rfn(_op, _left),
                shapes=((3, 4),),
                domain=dom,
                dtypes=_dts,
                grad=_grad,
            )
        )

RECORDS += [
    Record(covers=("ndarray.__neg__",), fn=operator.neg, shapes=((3, 4),)),
    Record(covers=("ndarray.__abs__",), fn=operator.abs, shapes=((3, 4),)),
    Record(
        covers=("ndarray.__invert__",),
        fn=operator.invert,
        shapes=((3, 4),),
        dtypes=_INTS,
        grad=False,
    ),
    Record(covers=("ndarray.__matmul__",), fn=operator.matmul, shapes=((3, 4), (4, 2))),
    # a list on the left has no __matmul__: Python asks the array's __rmatmul__
    Record(covers=("ndarray.__rmatmul__",), fn=lambda x: [[1.0, -2.0, 0.5]] @ x, shapes=((3, 4),)),
    # explicit records for functions no other test touched
    Record(
        covers=("numpy.cbrt",),
        fn=lambda x: np.cbrt(x) * np.cbrt(-x),
        shapes=((5,),),
        domain="positive",
        id="numpy.cbrt-negative-side",
    ),
    Record(
        covers=("numpy.logaddexp",),
        fn=lambda x: np.logaddexp(x, 2.0),
        shapes=((5,),),
        id="numpy.logaddexp-scalar",
    ),
    Record(
        covers=("numpy.float_power",),
        fn=lambda x: np.float_power(x, 3),
        shapes=((5,),),
        domain="positive",
        id="numpy.float_power-int-exponent",
    ),
    # fmax skips a NaN where maximum would return it
    Record(
        covers=("numpy.fmax",),
        fn=np.fmax,
        shapes=((4,),),
        consts=(np.array([np.nan, 0.0, np.nan, 1.0]),),
        id="numpy.fmax-nan",
    ),
]

# the neighbouring floats: scaled by the dtype's eps so the values compared are powers
# of two (unscaled, the tolerance's atol would pass anything); integers for the dtypes
RECORDS += [
    Record(
        covers=("numpy.spacing", "numpy.nextafter"),
        fn=lambda x, y: (
            np.spacing(x) / np.finfo(x.dtype).eps,
            np.spacing(-x * 0.0) / np.finfo(x.dtype).smallest_subnormal,
            (np.nextafter(x, y) - x) / np.finfo(x.dtype).eps,
            np.nextafter(x, 3.0) > x,
            np.nextafter(x, x) == x,
        ),
        shapes=((3, 4), (4,)),
        **_NOGRAD,
    ),
    # the gradient of nextafter: 1 in x1, 0 in x2
    Record(
        covers=("numpy.nextafter",),
        fn=lambda x, y: np.nextafter(x, y) * 3.0,
        shapes=((3, 4), (4,)),
        id="numpy.nextafter-gradient",
    ),
    # NumPy's half-precision spacing is the step up, positive for a negative x too
    Record(
        covers=("numpy.spacing",),
        fn=lambda x: np.spacing(x) / np.finfo(x.dtype).eps,
        shapes=((3, 4),),
        dtypes=("float16",),
        id="numpy.spacing-float16",
        **_NOGRAD,
    ),
    Record(
        covers=("numpy.spacing", "numpy.nextafter"),
        fn=lambda x, y: (np.spacing(x), np.nextafter(x, y), np.nextafter(x, 2)),
        shapes=((3, 4), (4,)),
        dtypes=("int8", "int16", "int64", "bool"),
        id="numpy.spacing-ints",
        **_NOGRAD,
    ),
]
