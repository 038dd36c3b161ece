"""Records for the coverage rows: NumPy functions and SciPy special ufuncs that had
no mapping (cross, kron, gradient, convolve, pinv, svd, ..., scipy.special.iv, ...)."""

from __future__ import annotations

import warnings

import numpy as np

from . import Record

_XP = np.array([0.0, 0.3, 0.5, 1.1, 1.4, 2.0])  # interp's knots (constants)
_COORDS = np.array([0.0, 0.4, 0.7, 1.5, 1.6, 2.3])  # gradient's uneven coordinates


def _cross_2d(a, b):
    # 2-vectors are deprecated in NumPy 2 (and in npgrad, with the same warning,
    # which tests/internal/test_new_rows.py checks); the values are still NumPy's
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        return np.cross(a, b)


# the hermitian routes read one triangle: a symmetric input keeps central
# differences (which move one element) on the same function


def _svd_parts(x, **kw):
    u, s, vh = np.linalg.svd(x, **kw)
    return u**2, s, vh**2  # squares: singular vectors are defined up to sign


RECORDS: list[Record] = [
    # ufuncs
    Record(("numpy.degrees",), lambda x: np.degrees(x), ((3, 4),)),
    Record(("numpy.radians",), lambda x: np.radians(x), ((3, 4),)),
    # contractions
    Record(("numpy.cross",), lambda a, b: np.cross(a, b), ((4, 3), (4, 3)), id="cross-3"),
    Record(("numpy.cross",), _cross_2d, ((4, 3), (1, 2)), id="cross-3-by-2"),
    Record(("numpy.cross",), _cross_2d, ((4, 2), (4, 2)), id="cross-2"),
    Record(
        ("numpy.cross",),
        lambda a, b: np.cross(a, b, axisa=0, axisb=1, axisc=0),
        ((3, 5), (5, 3)),
        id="cross-axes",
    ),
    Record(
        ("numpy.cross",),
        lambda a, b: np.cross(a, b, axis=1),
        ((2, 3, 4), (2, 3, 4)),
        id="cross-axis",
    ),
    Record(("numpy.kron",), lambda a, b: np.kron(a, b), ((2, 3), (3, 2))),
    Record(("numpy.kron",), lambda a, b: np.kron(a, b), ((3,), (2, 2)), id="kron-ranks"),
    Record(("numpy.convolve",), lambda a, v: np.convolve(a, v), ((7,), (3,)), id="convolve-full"),
    Record(
        ("numpy.convolve",),
        lambda a, v: np.convolve(a, v, "same"),
        ((6,), (4,)),
        id="convolve-same",
    ),
    Record(
        ("numpy.convolve",),
        lambda a, v: np.convolve(a, v, mode="valid"),
        ((3,), (7,)),
        id="convolve-valid-swapped",
    ),
    Record(
        ("numpy.einsum",),
        lambda a, b: np.einsum(a, [0, 1], b, [1, 2]),
        ((2, 3), (3, 4)),
        id="einsum-sublist",
    ),
    Record(
        ("numpy.einsum",),
        lambda a, b: np.einsum(a, [0, 1], b, [1, 2], [2, 0]),
        ((2, 3), (3, 4)),
        id="einsum-sublist-out",
    ),
    # linalg
    Record(("numpy.linalg.pinv",), lambda a: np.linalg.pinv(a), ((4, 3),)),
    Record(
        ("numpy.linalg.pinv",),
        lambda a: np.linalg.pinv((a + a.T) / 2, hermitian=True),
        ((3, 3),),
        domain="spd",
        id="pinv-hermitian",
    ),
    Record(("numpy.linalg.svd",), lambda a: _svd_parts(a), ((3, 3),), id="svd-square"),
    Record(
        ("numpy.linalg.svd",),
        lambda a: _svd_parts(a, full_matrices=False),
        ((5, 3),),
        id="svd-reduced",
    ),
    Record(
        ("numpy.linalg.svd",),
        lambda a: np.linalg.svd(a, compute_uv=False),
        ((2, 4, 3),),
        id="svd-values",
    ),
    Record(
        ("numpy.linalg.svd",),
        lambda a: _svd_parts((a + a.T) / 2, hermitian=True),
        ((3, 3),),
        domain="spd",
        id="svd-hermitian",
    ),
    # shape
    # squared: a bare view of the input trips npgrad.check's no_grad pass (a view of
    # a leaf that requires grad keeps requires_grad under no_grad)
    Record(("numpy.rollaxis",), lambda a: np.rollaxis(a, 2) ** 2, ((2, 3, 4),)),
    Record(
        ("numpy.rollaxis",), lambda a: np.rollaxis(a, 0, 3) ** 2, ((2, 3, 4),), id="rollaxis-end"
    ),
    Record(
        ("numpy.atleast_3d",), lambda a, b: tuple(v**2 for v in np.atleast_3d(a, b)), ((3,), (2, 3))
    ),  # squared: see rollaxis
    Record(("numpy.vsplit",), lambda a: tuple(v**2 for v in np.vsplit(a, 2)), ((4, 3),)),
    Record(("numpy.hsplit",), lambda a: tuple(v**2 for v in np.hsplit(a, [1, 3])), ((2, 5),)),
    Record(("numpy.dsplit",), lambda a: tuple(v**2 for v in np.dsplit(a, 2)), ((2, 2, 4),)),
    Record(("numpy.column_stack",), lambda a, b: np.column_stack([a, b]), ((4,), (4, 2))),
    Record(("numpy.append",), lambda a, b: np.append(a, b), ((2, 3), (4,))),
    Record(
        ("numpy.append",), lambda a, b: np.append(a, b, axis=0), ((2, 3), (1, 3)), id="append-axis"
    ),
    Record(("numpy.rot90",), lambda a: np.rot90(a), ((2, 3),)),
    Record(("numpy.rot90",), lambda a: np.rot90(a, 3, axes=(1, 2)), ((2, 3, 4),), id="rot90-k3"),
    Record(("numpy.rot90",), lambda a: np.rot90(a, -2), ((2, 3),), id="rot90-k-2"),
    # fft
    Record(("numpy.fft.fftshift",), lambda a: np.fft.fftshift(a), ((3, 5),)),
    Record(
        ("numpy.fft.fftshift",), lambda a: np.fft.fftshift(a, axes=1), ((3, 4),), id="fftshift-axes"
    ),
    Record(("numpy.fft.ifftshift",), lambda a: np.fft.ifftshift(a), ((3, 5),)),
    # creation
    Record(("numpy.linspace",), lambda a, b: np.linspace(a, b, 5), ((3,), (3,))),
    Record(
        ("numpy.linspace",),
        lambda a, b: np.linspace(a, b, 4, endpoint=False, axis=1),
        ((2, 1), (3,)),
        id="linspace-no-end-axis",
    ),
    Record(
        ("numpy.linspace",),
        lambda a: np.linspace(a, 2.0, 6, retstep=True),
        ((2,),),
        id="linspace-retstep",
    ),
    Record(("numpy.linspace",), lambda a, b: np.linspace(a, b, 1), ((2,), (2,)), id="linspace-one"),
    # selection
    Record(
        ("numpy.partition",),
        lambda a: (np.partition(a, 2)[:, 2], np.sort(np.partition(a, 2)[:, :2], axis=1)),
        ((3, 6),),
    ),
    Record(
        ("numpy.partition",),
        lambda a: np.partition(a, (1, 4), axis=0)[[1, 4]],
        ((6, 2),),
        id="partition-kths",
    ),
    Record(("numpy.argpartition",), lambda a: a[np.argpartition(a, 3)[3]] ** 2, ((7,),)),
    # elementwise
    Record(
        ("numpy.real", "numpy.imag"),
        lambda a: np.real(np.fft.fft(a)) + np.imag(np.fft.fft(a)) + np.imag(a),
        ((5,),),
    ),
    Record(("numpy.angle",), lambda a: np.angle(np.fft.fft(a)[1:3]), ((5,),)),
    Record(
        ("numpy.angle",), lambda a: np.angle(np.fft.fft(a)[1:3], deg=True), ((5,),), id="angle-deg"
    ),
    Record(("numpy.real_if_close",), lambda a: np.real_if_close(a + 0j), ((4,),)),
    Record(
        ("numpy.real_if_close",),
        lambda a: np.abs(np.real_if_close(np.fft.fft(a))),
        ((4,),),
        id="real_if_close-complex",
    ),
    Record(("numpy.sinc",), lambda a: np.sinc(a), ((3, 4),)),
    # calculus
    Record(("numpy.gradient",), lambda f: np.gradient(f), ((6,),)),
    Record(
        ("numpy.gradient",),
        lambda f: np.gradient(f, 0.5, edge_order=2),
        ((3, 6),),
        id="gradient-2d-edge2",
    ),
    Record(
        ("numpy.gradient",),
        lambda f, c: np.gradient(f, c, axis=1),
        ((2, 6),),
        consts=(_COORDS,),
        id="gradient-coords",
    ),
    Record(
        ("numpy.gradient",),
        lambda f, c: np.gradient(f, 2.0, c, edge_order=2),
        ((4, 6),),
        consts=(_COORDS,),
        id="gradient-coords-edge2",
    ),
    Record(
        ("numpy.gradient",),
        lambda f, h: np.gradient(f, h),
        ((6,), (6,)),
        domain="positive",
        id="gradient-traced-spacing",
    ),
    Record(
        ("numpy.interp",),
        lambda x, fp, xp: np.interp(x * 2.4 - 0.2, xp, fp),
        ((7,), (6,)),
        domain="probability",
        consts=(_XP,),
    ),
    Record(
        ("numpy.interp",),
        lambda x, fp, xp: np.interp(x * 2.4 - 0.2, xp, fp, left=-1.0, right=fp[2]),
        ((7,), (6,)),
        domain="probability",
        consts=(_XP,),
        id="interp-left-right",
    ),
    Record(
        ("numpy.interp",),
        lambda x, fp, xp: np.interp(x * 5 - 1, xp, fp, period=2.5),
        ((7,), (6,)),
        domain="probability",
        consts=(_XP,),
        id="interp-period",
    ),
    # statistics
    Record(("numpy.cov",), lambda m: np.cov(m), ((3, 6),)),
    Record(
        ("numpy.cov",),
        lambda m, y: np.cov(m, y, rowvar=False, bias=True),
        ((6, 2), (6,)),
        id="cov-y-cols-bias",
    ),
    Record(
        ("numpy.cov",),
        lambda m, w: np.cov(m, ddof=2, aweights=w),
        ((3, 6), (6,)),
        domain="positive",
        id="cov-ddof-aweights",
    ),
    Record(
        ("numpy.cov",),
        lambda m, f: np.cov(m, fweights=f),
        ((3, 5),),
        consts=(np.array([1, 2, 1, 3, 1]),),
        id="cov-fweights",
    ),
    Record(("numpy.corrcoef",), lambda x: np.corrcoef(x), ((3, 6),)),
    Record(
        ("numpy.corrcoef",),
        lambda x, y: np.corrcoef(x, y, rowvar=False),
        ((6, 2), (6, 1)),
        id="corrcoef-y-cols",
    ),
]

# ---------------------------------------------------------------- scipy.special
_ORDERS = np.array([0, 1, 2, 3, -3, 5])


def _sp():
    import scipy.special as sp  # at call time: npgrad matches SciPy rows lazily

    return sp


_Y_RTOL = 1e-8  # torch's bessel_y0/y1 kernels are good to about 1e-9 in float64

RECORDS += [
    Record(("scipy.special.j0",), lambda x: _sp().j0(x * 4), ((6,),), domain="positive"),
    Record(("scipy.special.j1",), lambda x: _sp().j1(x * 4 - 3), ((6,),)),
    Record(("scipy.special.y0",), lambda x: _sp().y0(x), ((6,),), domain="positive", rtol=_Y_RTOL),
    Record(("scipy.special.y1",), lambda x: _sp().y1(x), ((6,),), domain="positive", rtol=_Y_RTOL),
    Record(
        ("scipy.special.yn",),
        lambda x, n: _sp().yn(n, x + 1),
        ((6,),),
        domain="positive",
        consts=(_ORDERS,),
        rtol=_Y_RTOL,
    ),
    Record(("scipy.special.jv",), lambda x, n: _sp().jv(n, x * 3), ((6,),), consts=(_ORDERS,)),
    Record(("scipy.special.iv",), lambda x, n: _sp().iv(n, x), ((6,),), consts=(_ORDERS,)),
    Record(("scipy.special.ive",), lambda x, n: _sp().ive(n, x * 3), ((6,),), consts=(_ORDERS,)),
    Record(("scipy.special.gamma",), lambda x: _sp().gamma(x * 2), ((3, 4),)),
    Record(("scipy.special.gammasgn",), lambda x: _sp().gammasgn(x * 2), ((3, 4),), grad=False),
    Record(("scipy.special.rgamma",), lambda x: _sp().rgamma(x * 2), ((3, 4),)),
    Record(
        ("scipy.special.gammainc",),
        lambda x, a: _sp().gammainc(a, x),
        ((5,),),
        domain="positive",
        consts=(np.array([0.5, 1.0, 2.5, 4.0, 7.0]),),
    ),
    Record(
        ("scipy.special.gammaincc",),
        lambda x, a: _sp().gammaincc(a, x),
        ((5,),),
        domain="positive",
        consts=(np.array([0.5, 1.0, 2.5, 4.0, 7.0]),),
    ),
    Record(
        ("scipy.special.erfcinv",), lambda y: _sp().erfcinv(y * 2), ((3, 4),), domain="probability"
    ),
    Record(
        ("scipy.special.beta",),
        lambda a, b: _sp().beta(a, b - 1.1),
        ((4,), (4,)),
        domain="positive",
    ),
    Record(
        ("scipy.special.betaln",), lambda a, b: _sp().betaln(a, b), ((4,), (4,)), domain="positive"
    ),
    Record(
        ("scipy.special.betainc",),
        lambda a, b, x: _sp().betainc(a * 3, b * 3, x),
        ((6,), (6,), (6,)),
        domain="probability",
    ),
]
