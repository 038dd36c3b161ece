"""Records of the scipy.linalg rows added beside the factorisations: LU, QR, least
squares, pinv, norm, eigvalsh and the special matrices (block_diag, toeplitz,
circulant)."""

from __future__ import annotations

import numpy as np
import scipy.linalg as la

from . import Record

_B = np.array([[1.0, -0.5], [2.0, 0.25], [-1.5, 1.0], [0.5, 0.5]])
_INTS = np.array([[1, 2], [3, 4]])


def _lu(a, b):
    lu, piv = la.lu_factor(a + 4 * np.eye(4))
    return (
        lu,
        piv,
        la.lu_solve((lu, piv), b),
        la.lu_solve((lu, piv), b[:, 0], trans=1),
        la.lu_solve(la.lu_factor(a), b, trans=2),
    )


def _qr_full_tall(a):
    # a tall full Q past its first n columns has no gradient (refused): its R and
    # first columns do
    q, r = la.qr(a)
    return q[:, : a.shape[1]], r


def _lstsq(a, b, **kw):
    return tuple(la.lstsq(a, b, **kw))


def _rank_deficient(a, b):
    # the third column a sum of the first two: rank 2 < n, so no residues
    a = np.concatenate([a, a[:, :1] + a[:, 1:2]], axis=1)
    return _lstsq(a, b, cond=1e-5)


RECORDS = [
    Record(
        covers=("scipy.linalg.lu_factor", "scipy.linalg.lu_solve"),
        fn=_lu,
        shapes=((4, 4), (4, 2)),
        id="lu",
    ),
    Record(
        covers=("scipy.linalg.lu_factor", "scipy.linalg.lu_solve"),
        fn=lambda a, b: la.lu_solve(la.lu_factor(a), b),
        shapes=((4, 4),),
        dtypes=("int64",),
        consts=(_B,),
        grad=False,
        id="lu-int",
    ),
    Record(covers=("scipy.linalg.qr",), fn=lambda a: la.qr(a), shapes=((3, 5),), id="qr-wide"),
    Record(covers=("scipy.linalg.qr",), fn=lambda a: la.qr(a), shapes=((4, 4),), id="qr-square"),
    Record(covers=("scipy.linalg.qr",), fn=_qr_full_tall, shapes=((5, 3),), id="qr-full-tall"),
    Record(
        covers=("scipy.linalg.qr",),
        fn=lambda a: la.qr(a)[0],
        shapes=((5, 3),),
        grad=False,  # the completion's columns: refused (test_scipy_linalg_rows.py)
        id="qr-full-tall-q",
    ),
    Record(
        covers=("scipy.linalg.qr",),
        fn=lambda a: la.qr(a, mode="economic", lwork=64, overwrite_a=True),
        shapes=((5, 3),),
        id="qr-economic",
    ),
    Record(
        covers=("scipy.linalg.qr",),
        fn=lambda a: (*la.qr(a, mode="r"), *la.qr(a.T, mode="r")),
        shapes=((5, 3),),
        id="qr-r",
    ),
    Record(covers=("scipy.linalg.lstsq",), fn=_lstsq, shapes=((5, 3), (5, 2)), id="lstsq-tall"),
    Record(
        covers=("scipy.linalg.lstsq",),
        fn=lambda a, b: _lstsq(a, b[:, 0], lapack_driver="gelss"),
        shapes=((5, 3), (5, 2)),
        id="lstsq-vector",
    ),
    Record(covers=("scipy.linalg.lstsq",), fn=_lstsq, shapes=((3, 5), (3,)), id="lstsq-wide"),
    Record(
        covers=("scipy.linalg.lstsq",),
        fn=_rank_deficient,
        shapes=((5, 2), (5,)),
        id="lstsq-rank-deficient",
    ),
    Record(
        covers=("scipy.linalg.lstsq",),
        fn=lambda a, b: _lstsq(a, b, cond=-1.0),
        shapes=((5, 3),),
        dtypes=("int64",),
        consts=(np.arange(5.0),),
        grad=False,
        id="lstsq-int",
    ),
    Record(
        covers=("scipy.linalg.pinv",),
        fn=lambda a: (la.pinv(a), la.pinv(a.T, rtol=1e-3), *la.pinv(a, return_rank=True)),
        shapes=((4, 3),),
        id="pinv",
    ),
    Record(
        covers=("scipy.linalg.pinv",),
        fn=lambda a: la.pinv(a, atol=0.0, return_rank=True),
        shapes=((2, 3, 4),),
        id="pinv-stack",
    ),
    Record(
        covers=("scipy.linalg.norm",),
        fn=lambda a: (
            la.norm(a),
            la.norm(a[0]),
            la.norm(a[0], 3),
            la.norm(a, "fro"),
            la.norm(a, 1),
            la.norm(a, np.inf),
            la.norm(a, axis=1, keepdims=True),
            la.norm(a, -1, axis=0),
            la.norm(a[:, ::2], 1),  # not contiguous: no LAPACK shortcut
            la.norm(a[0], keepdims=True),
        ),
        shapes=((3, 4),),
        id="norm",
    ),
    Record(
        covers=("scipy.linalg.norm",),
        fn=lambda a: (la.norm(a), la.norm(a, axis=1)),
        shapes=((3, 4),),
        dtypes=("int64",),
        grad=False,
        id="norm-int",
    ),
    # the other triangle is not read: its central differences are zero, as the gradient
    Record(
        covers=("scipy.linalg.eigvalsh",),
        fn=lambda a: (la.eigvalsh(a), la.eigvalsh(a, lower=False, driver="evd")),
        shapes=((4, 4),),
        id="eigvalsh",
    ),
    Record(
        covers=("scipy.linalg.block_diag",),
        fn=lambda a, v: (
            la.block_diag(a, v, 2.5),
            la.block_diag(a),
            la.block_diag(v, a[:0], a[:, :1]),
            la.block_diag(a, _INTS),
        ),
        shapes=((2, 3), (3,)),
        id="block_diag",
    ),
    Record(
        covers=("scipy.linalg.block_diag",),
        fn=lambda a: la.block_diag(a, _INTS, True),
        shapes=((2, 3),),
        dtypes=("int64", "bool"),
        grad=False,
        id="block_diag-int",
    ),
    Record(
        covers=("scipy.linalg.toeplitz",),
        fn=lambda c, r, b: (
            la.toeplitz(c),
            la.toeplitz(c, r),
            la.toeplitz(r, c[:2]),
            la.toeplitz(c[0]),
            la.toeplitz(b, r),  # a batch: (2, 1, 3) and (4,) broadcast
            la.toeplitz(c, np.arange(5)),
        ),
        shapes=((3,), (4,), (2, 1, 3)),
        id="toeplitz",
    ),
    Record(
        covers=("scipy.linalg.circulant",),
        fn=lambda c, b: (la.circulant(c), la.circulant(b), la.circulant(c[0])),
        shapes=((4,), (2, 3)),
        id="circulant",
    ),
    Record(
        covers=("scipy.linalg.toeplitz", "scipy.linalg.circulant"),
        fn=lambda c: (la.toeplitz(c), la.circulant(c), la.toeplitz(c, c[::-1] * 1.5)),
        shapes=((3,),),
        dtypes=("int64",),
        grad=False,
        id="toeplitz-int",
    ),
]

RECORDS += [
    Record(
        covers=("scipy.linalg.sqrtm",),
        fn=lambda a, b: (la.sqrtm(a), la.sqrtm(b + 3 * np.eye(3))),
        shapes=((3, 3), (2, 3, 3)),
        domain=("spd", "unit"),
        id="sqrtm",
    ),
    Record(
        covers=("scipy.linalg.sqrtm",),
        fn=lambda a: la.sqrtm(a + 6 * np.eye(3)),
        shapes=((3, 3),),
        dtypes=("int64",),
        grad=False,
        id="sqrtm-int",
    ),
]

# SciPy's logm of float32 input warns of its own error estimate (its result is
# float64): float64 records, float32 in test_scipy_rows.py
RECORDS += [
    Record(
        covers=("scipy.linalg.logm",),
        fn=lambda a, b: (la.logm(a), la.logm(b + 3 * np.eye(3)), la.logm(a / 20)),
        shapes=((3, 3), (2, 3, 3)),
        domain=("spd", "unit"),
        dtypes=("float64",),
        id="logm",
    ),
    Record(
        covers=("scipy.linalg.logm",),
        fn=lambda a: la.logm(a + 6 * np.eye(3)),
        shapes=((3, 3),),
        dtypes=("int64",),
        grad=False,
        id="logm-int",
    ),
]
