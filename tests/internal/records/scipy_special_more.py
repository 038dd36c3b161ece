"""Records of the newer ``scipy.special`` ufunc rows: kl_div, the Box-Cox family,
loggamma and the modified Bessel functions of the second kind (k0, k1, k0e, k1e, kv,
kve), SciPy imported at call time only."""

from __future__ import annotations

import importlib

import numpy as np

from . import Record


def _sp():
    return importlib.import_module("scipy.special")


# orders: integers, halves, reals, a negative one (K_-v = K_v) and a larger one
_ORDERS = np.array([0.0, 0.5, 1.0, 2.3, -1.7, 7.0])
# x across both of kve's quadratures (x <= 16 and past it), small and large (not so
# small that the central differences' step would be coarse against x)
_XS = np.array([[0.05], [0.4], [3.0], [15.0], [40.0], [700.0]])

RECORDS = [
    Record(
        ("scipy.special.kl_div",),
        lambda x, y: _sp().kl_div(x, y),
        ((3, 4), (4,)),
        domain="positive",
    ),
    Record(
        ("scipy.special.kl_div",),
        lambda y: _sp().kl_div(np.zeros(3), y),
        ((3,),),
        domain="positive",
        id="kl_div-zero-x",
    ),
    Record(
        ("scipy.special.boxcox", "scipy.special.boxcox1p", "scipy.special.inv_boxcox"),
        lambda x, lm: (
            _sp().boxcox(x, lm),
            _sp().boxcox1p(x - 0.4, lm),
            _sp().inv_boxcox(x - 1.5, lm / 4),
            _sp().inv_boxcox(x, np.zeros(4)),
            _sp().boxcox(x, 0.0),
        ),
        ((3, 4), (4,)),
        domain=("positive", "real"),
        id="boxcox",
    ),
    Record(
        ("scipy.special.boxcox", "scipy.special.inv_boxcox"),
        lambda x, lm: (_sp().boxcox(x, lm), _sp().inv_boxcox(x, lm)),
        ((4,), (4,)),
        domain="positive",
        dtypes=("int64",),
        grad=False,
        id="boxcox-int",
    ),
    Record(
        ("scipy.special.loggamma",),
        lambda x: _sp().loggamma(3 * x),
        ((3, 4),),
        domain="positive",
    ),
    Record(
        ("scipy.special.loggamma",),
        lambda x: _sp().loggamma(x),
        ((3, 4),),
        domain="positive",
        dtypes=("int64",),
        grad=False,
        id="loggamma-int",
    ),
    Record(
        ("scipy.special.k0", "scipy.special.k1", "scipy.special.k0e", "scipy.special.k1e"),
        lambda x: (
            _sp().k0(x),
            _sp().k1(x),
            _sp().k0e(x),
            _sp().k1e(x),
            _sp().k0e(x * _XS),
            _sp().k1e(x * _XS),
        ),
        ((4,),),
        domain="positive",
        id="k0-k1",
    ),
    Record(
        ("scipy.special.kv", "scipy.special.kve"),
        # the gradient in the order too: the integral is smooth in it
        lambda x, v: (_sp().kv(v, x), _sp().kve(v, x * _XS), _sp().kv(v / 2, 3 * x)),
        ((6,), (6,)),
        domain=("positive", "real"),
        id="kv",
    ),
    Record(
        ("scipy.special.kv", "scipy.special.kve"),
        lambda x, v: (_sp().kv(v, x), _sp().kve(v, x * _XS[:, :1] + 1)),
        ((6,),),
        domain="positive",
        consts=(_ORDERS,),
        id="kv-orders",
    ),
]

RECORDS += [
    Record(
        ("scipy.special.softplus",),
        lambda x: (_sp().softplus(x), _sp().softplus(300 * x), _sp().softplus(x, dtype=np.float64)),
        ((3, 4),),
    ),
    Record(
        ("scipy.special.softplus",),
        lambda x: _sp().softplus(x),
        ((3, 4),),
        dtypes=("int64", "bool"),
        grad=False,
        id="softplus-int",
    ),
]

RECORDS += [
    Record(
        ("scipy.special.dawsn", "scipy.special.erfi"),
        # both sides of the series' reach (0.2) and far out
        lambda x: (
            _sp().dawsn(x),
            _sp().dawsn(x / 20),
            _sp().dawsn(30 * x),
            _sp().erfi(x),
            _sp().erfi(x / 20),
            _sp().erfi(1.5 * x),
        ),
        ((3, 4),),
        id="dawsn-erfi",
    ),
    Record(
        ("scipy.special.dawsn", "scipy.special.erfi"),
        lambda x: (_sp().dawsn(x), _sp().erfi(x)),
        ((3, 4),),
        dtypes=("int64",),
        grad=False,
        id="dawsn-erfi-int",
    ),
]

RECORDS += [
    Record(
        ("scipy.special.exp1", "scipy.special.expi"),
        # both sides of each method's switch (1 for E1, 50 for Ei) and Ei left of 0
        lambda x: (
            _sp().exp1(x / 3),
            _sp().exp1(4 * x),
            _sp().expi(x),
            _sp().expi(-3 * x),
            # past 50 (its asymptotic series) scaled by exp(-x): values near 1 / x
            _sp().expi(45 + 8 * x) * np.exp(-(45 + 8 * x)),
        ),
        ((3, 4),),
        domain="positive",
        id="exp1-expi",
    ),
    Record(
        ("scipy.special.exp1", "scipy.special.expi"),
        lambda x: (_sp().exp1(x), _sp().expi(x)),
        ((3, 4),),
        domain="positive",
        dtypes=("int64",),
        grad=False,
        id="exp1-expi-int",
    ),
]
