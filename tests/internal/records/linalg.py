"""Records of ``numpy.linalg``, and of np.polyfit (least squares)."""

from __future__ import annotations

import numpy as np

from . import Record

RECORDS = [
    Record(covers=("numpy.linalg.norm",), fn=np.linalg.norm, shapes=((3, 4),)),
    Record(
        covers=("numpy.linalg.norm",),
        fn=lambda x: np.linalg.norm(x, ord=1, axis=1),
        shapes=((3, 4),),
        id="numpy.linalg.norm-l1-axis",
    ),
    Record(
        covers=("numpy.linalg.norm",),
        fn=lambda x: np.linalg.norm(x, "fro", axis=(1, 2), keepdims=True),
        shapes=((2, 3, 4),),
        id="numpy.linalg.norm-fro",
    ),
    Record(
        covers=("numpy.linalg.norm",),
        fn=lambda x: np.linalg.norm(x, np.inf),
        shapes=((5,),),
        id="numpy.linalg.norm-inf",
    ),
    Record(covers=("numpy.linalg.det",), fn=np.linalg.det, shapes=((2, 3, 3),), domain="spd"),
    Record(covers=("numpy.linalg.inv",), fn=np.linalg.inv, shapes=((3, 3),), domain="spd"),
    Record(
        covers=("numpy.linalg.cholesky",), fn=np.linalg.cholesky, shapes=((3, 3),), domain="spd"
    ),
    Record(
        covers=("numpy.linalg.solve",),
        fn=np.linalg.solve,
        shapes=((3, 3), (3,)),
        domain=("spd", "real"),
    ),
    Record(
        covers=("numpy.linalg.solve",),
        fn=np.linalg.solve,
        shapes=((2, 3, 3), (3, 2)),
        domain=("spd", "real"),
        id="numpy.linalg.solve-matrices",
    ),
    Record(
        covers=("numpy.linalg.slogdet",),
        fn=lambda a: tuple(np.linalg.slogdet(a)),
        shapes=((3, 3),),
        domain="spd",
    ),
]


def _qr(a, **kw):
    return tuple(np.linalg.qr(a, **kw))


def _qr_completed(a):
    # a tall complete Q past its first n columns has no gradient (refused): its R and
    # first columns do
    q, r = np.linalg.qr(a, mode="complete")
    return q[..., : a.shape[-1]], r


def _lstsq(a, b, rcond=None):
    return tuple(np.linalg.lstsq(a, b, rcond=rcond))


def _zero_column(a):
    return np.concatenate([a, np.zeros_like(a[:, :1])], axis=1)


def _gapped(a):
    # a's singular vectors, with singular values 3, 2, 1 and 1e-3
    u, _, vh = np.linalg.svd(a, full_matrices=False)
    return (u * np.array([3.0, 2.0, 1.0, 1e-3], dtype=a.dtype)) @ vh


def _rank_deficient(a, b):
    # the third column a sum of the first two: rank 2 < n, so no residuals
    a = np.concatenate([a, a[:, :1] + a[:, 1:2]], axis=1)
    return _lstsq(a, b)


RECORDS += [
    # hermitian=True: NumPy's eigh of the lower triangle, also for a general matrix
    # (the value is the triangle's; central differences of the upper one are zero)
    Record(
        covers=("numpy.linalg.pinv",),
        fn=lambda a: np.linalg.pinv(a, hermitian=True),
        shapes=((4, 4),),
        id="numpy.linalg.pinv-hermitian-general",
    ),
    Record(
        covers=("numpy.linalg.pinv",),
        fn=lambda a: np.linalg.pinv(a, hermitian=True),
        shapes=((2, 3, 3),),
        domain="spd",
        id="numpy.linalg.pinv-hermitian-spd",
    ),
    Record(
        covers=("numpy.linalg.svd",),
        fn=lambda a: np.linalg.svd(a, hermitian=True, compute_uv=False),
        shapes=((4, 4),),
        id="numpy.linalg.svd-hermitian-values",
    ),
    Record(
        covers=("numpy.linalg.svd",),
        fn=lambda a: tuple(np.linalg.svd(a, hermitian=True)),
        shapes=((8, 8),),
        id="numpy.linalg.svd-hermitian-vectors",
    ),
    # eigvalsh reads one triangle of a general (non-symmetric) matrix: central
    # differences of the other are zero, as the gradient must be
    Record(covers=("numpy.linalg.eigvalsh",), fn=np.linalg.eigvalsh, shapes=((4, 4),)),
    Record(
        covers=("numpy.linalg.eigvalsh",),
        fn=lambda a: np.linalg.eigvalsh(a, UPLO="U"),
        shapes=((2, 3, 3),),
        id="numpy.linalg.eigvalsh-upper",
    ),
    Record(
        covers=("numpy.linalg.eigvalsh",),
        fn=np.linalg.eigvalsh,
        shapes=((3, 3),),
        dtypes=("int64",),
        grad=False,
        id="numpy.linalg.eigvalsh-ints",
    ),
    Record(
        covers=("numpy.linalg.matrix_power",),
        fn=lambda a: np.linalg.matrix_power(a / 2, 5),
        shapes=((3, 3),),
    ),
    Record(
        covers=("numpy.linalg.matrix_power",),
        fn=lambda a: np.linalg.matrix_power(a, 2),
        shapes=((2, 3, 3),),
        id="numpy.linalg.matrix_power-stack",
    ),
    Record(
        covers=("numpy.linalg.matrix_power",),
        fn=lambda a: np.linalg.matrix_power(a, -3),
        shapes=((3, 3),),
        domain="spd",
        id="numpy.linalg.matrix_power-negative",
    ),
    Record(
        covers=("numpy.linalg.matrix_power",),
        fn=lambda a: np.linalg.matrix_power(a, 1) * 1.0,
        shapes=((3, 3),),
        id="numpy.linalg.matrix_power-one",
    ),
    Record(
        covers=("numpy.linalg.matrix_power",),
        fn=lambda a: np.linalg.matrix_power(a, 0),
        shapes=((3, 3),),
        dtypes=("float64", "int64"),
        grad=False,
        id="numpy.linalg.matrix_power-zero",
    ),
    Record(
        covers=("numpy.linalg.matrix_power",),
        fn=lambda a: (
            np.linalg.matrix_power(a, 3),
            # diagonally dominant: invertible
            np.linalg.matrix_power(a + 9 * np.eye(3, dtype=a.dtype), -1),
        ),
        shapes=((3, 3),),
        domain="positive",
        dtypes=("int64",),
        grad=False,
        id="numpy.linalg.matrix_power-ints",
    ),
    Record(
        covers=("numpy.linalg.matrix_power",),
        fn=lambda a: np.linalg.matrix_power(a, 5),
        shapes=((3, 3),),
        dtypes=("bool",),
        grad=False,
        id="numpy.linalg.matrix_power-bools",
    ),
    Record(covers=("numpy.linalg.qr",), fn=_qr, shapes=((5, 3),), id="numpy.linalg.qr-tall"),
    Record(covers=("numpy.linalg.qr",), fn=_qr, shapes=((3, 5),), id="numpy.linalg.qr-wide"),
    Record(covers=("numpy.linalg.qr",), fn=_qr, shapes=((2, 4, 4),), id="numpy.linalg.qr-stack"),
    Record(
        covers=("numpy.linalg.qr",),
        fn=lambda a: np.linalg.qr(a, mode="r"),
        shapes=((5, 3),),
        id="numpy.linalg.qr-r",
    ),
    Record(
        covers=("numpy.linalg.qr",),
        fn=lambda a: _qr(a, mode="complete"),
        shapes=((3, 5),),
        id="numpy.linalg.qr-complete-wide",
    ),
    Record(
        covers=("numpy.linalg.qr",),
        fn=_qr_completed,
        shapes=((5, 3),),
        id="numpy.linalg.qr-complete-tall",
    ),
    Record(
        covers=("numpy.linalg.qr",),
        fn=lambda a: np.linalg.qr(a, mode="complete")[0],
        shapes=((5, 3),),
        grad=False,  # the completion's columns: refused (tests/internal/test_new_rows.py)
        id="numpy.linalg.qr-complete-tall-q",
    ),
    Record(
        covers=("numpy.linalg.qr",),
        fn=_qr,
        shapes=((4, 3),),
        dtypes=("int64",),
        grad=False,
        id="numpy.linalg.qr-ints",
    ),
    Record(
        covers=("numpy.linalg.lstsq",),
        fn=_lstsq,
        shapes=((6, 3), (6,)),
        id="numpy.linalg.lstsq-vector",
    ),
    Record(
        covers=("numpy.linalg.lstsq",),
        fn=_lstsq,
        shapes=((6, 3), (6, 2)),
        id="numpy.linalg.lstsq-matrix",
    ),
    Record(
        covers=("numpy.linalg.lstsq",),
        fn=_lstsq,
        shapes=((3, 5), (3,)),
        id="numpy.linalg.lstsq-wide",
    ),
    Record(
        covers=("numpy.linalg.lstsq",),
        fn=_rank_deficient,
        shapes=((6, 2), (6,)),
        grad=False,  # the drawn matrix is singular: central differences leave the rank
        id="numpy.linalg.lstsq-rank-deficient",
    ),
    Record(
        covers=("numpy.linalg.lstsq",),
        fn=lambda a, b: _lstsq(a, b, rcond=0.3),
        shapes=((6, 3), (6,)),
        id="numpy.linalg.lstsq-rcond",
    ),
    # LAPACK reads an rcond of 0 or of 1 and above as its machine precision (an exact
    # zero column: a singular value of 0 in every implementation, so one rank)
    Record(
        covers=("numpy.linalg.lstsq",),
        fn=lambda a, b: _lstsq(_zero_column(a), b, rcond=0),
        shapes=((6, 2), (6,)),
        grad=False,  # central differences would leave the rank
        id="numpy.linalg.lstsq-rcond-zero",
    ),
    Record(
        covers=("numpy.linalg.lstsq",),
        fn=lambda a, b: _lstsq(_zero_column(a), b, rcond=1.5),
        shapes=((6, 2), (6,)),
        grad=False,
        id="numpy.linalg.lstsq-rcond-above-one",
    ),
    # a cut between singular values 1 and 1e-3 (of at most 3): the truncated inverse's
    # gradient, checked against central differences
    Record(
        covers=("numpy.linalg.pinv", "numpy.linalg.lstsq"),
        fn=lambda a, b: _lstsq(_gapped(a), b, rcond=0.05),
        shapes=((6, 4), (6,)),
        id="numpy.linalg.lstsq-rcond-truncates",
    ),
    Record(
        covers=("numpy.linalg.lstsq",),
        fn=_lstsq,
        shapes=((5, 3), (5,)),
        dtypes=("int64",),
        grad=False,
        id="numpy.linalg.lstsq-ints",
    ),
    Record(covers=("numpy.polyfit",), fn=lambda x, y: np.polyfit(x, y, 2), shapes=((9,), (9,))),
    Record(
        covers=("numpy.polyfit",),
        fn=lambda x, y, w: np.polyfit(x, y, 3, w=w),
        shapes=((10,), (10, 2), (10,)),
        domain=("real", "real", "positive"),
        id="numpy.polyfit-weights-2d",
    ),
    Record(
        covers=("numpy.polyfit",),
        fn=lambda x, y: np.polyfit(x, y, 1, rcond=1e-6, full=True)[:4],  # rcond: a number
        shapes=((8,), (8,)),
        id="numpy.polyfit-full",
    ),
    Record(
        covers=("numpy.polyfit",),
        fn=lambda x, y: np.polyfit(x, y, 2, cov=True),
        shapes=((9,), (9, 2)),
        id="numpy.polyfit-cov",
    ),
    Record(
        covers=("numpy.polyfit",),
        fn=lambda y, w: np.polyfit(np.arange(7.0), y, 2, w=w, cov="unscaled"),
        shapes=((7,), (7,)),
        domain=("real", "positive"),
        id="numpy.polyfit-cov-unscaled",
    ),
]

RECORDS += [
    # the cut (rcond, rtol) branches of the hermitian pinv, on a general matrix
    Record(
        covers=("numpy.linalg.pinv",),
        fn=lambda a: np.linalg.pinv(a, rcond=1e-3, hermitian=True),
        shapes=((4, 4),),
        id="numpy.linalg.pinv-hermitian-rcond",
    ),
    Record(
        covers=("numpy.linalg.pinv",),
        fn=lambda a: np.linalg.pinv(a, rtol=1e-3, hermitian=True),
        shapes=((4, 4),),
        id="numpy.linalg.pinv-hermitian-rtol",
    ),
]
