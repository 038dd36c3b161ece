"""``numpy.linalg``: norms, determinants, inverses, solves, factorisations; and
np.polyfit, least squares on them.

torch's linear algebra takes float and double only: half-precision inputs compute
in float32 and come back in their own dtype.
"""

from __future__ import annotations

import operator
import warnings
from typing import Any

import numpy as np
import torch

from .._dtypes import HALF, TORCH_TO_NP, is_inexact
from .._errors import TraceError
from .._trace._array import tensor
from .._trace._promote import common
from .._trace._registry import implements, normalise_axis, square_matrix
from .._trace._state import here, unsupported, values_hidden, wide
from ._refuse import refuse_nonzero, refuse_used


def single(t: torch.Tensor) -> torch.Tensor:
    """float32 for half precision, float64 for integers (as NumPy's linalg)."""
    if t.dtype in HALF:
        return t.float()
    return t if is_inexact(t.dtype) else t.to(wide())


def back(r: Any, dtype: torch.dtype) -> Any:
    """Floating results in the input's half precision again (complex ones stay)."""
    if dtype not in HALF:
        return r
    if isinstance(r, tuple):
        return tuple(back(v, dtype) for v in r)
    return r.to(dtype) if r.is_floating_point() else r


def _result_class(call) -> type | None:
    """NumPy 2's named result of a linalg function (``QRResult``, ...), read off a
    call on a tiny matrix; ``None`` where NumPy gives a plain tuple."""
    kind = type(call(np.eye(2)))
    return kind if kind is not tuple and hasattr(kind, "_fields") else None


_SLOGDET = _result_class(np.linalg.slogdet)
_EIGH = _result_class(np.linalg.eigh)
_SVD = _result_class(np.linalg.svd)
_QR = _result_class(np.linalg.qr)


def named(kind: type | None, values: tuple) -> tuple:
    """``values`` as NumPy's named result (``q, r = ...`` and ``.Q`` alike)."""
    return tuple(values) if kind is None else kind(*values)


@implements(np.linalg.norm, axis="row")
def _norm(x, ord=None, axis=None, keepdims=False):
    t = tensor(x)
    if not is_inexact(t.dtype):
        t = t.to(wide())
    if axis is None and (ord is None or t.ndim == 1):
        if isinstance(ord, str):  # NumPy's error (torch's is a TypeError of its own)
            raise ValueError(f"Invalid norm order '{ord}' for vectors")
        r = torch.linalg.vector_norm(t.reshape(-1), ord=2 if ord is None else ord)
        return r.reshape((1,) * t.ndim) if keepdims else r
    if axis is None and t.ndim == 2:
        axis = (0, 1)
    if isinstance(axis, (tuple, list)) and len(axis) == 1:
        axis = axis[0]
    if axis is not None:  # torch takes axis 0 and -1 of a 0-d tensor: NumPy's rule
        axis = normalise_axis(axis, t.ndim, many=True, name="norm")
    if isinstance(axis, int):
        if isinstance(ord, str):
            raise ValueError(f"Invalid norm order '{ord}' for vectors")
        return torch.linalg.vector_norm(
            t, ord=2 if ord is None else ord, dim=axis, keepdim=keepdims
        )
    if axis is None:
        raise ValueError("Improper number of dimensions to norm.")
    return torch.linalg.matrix_norm(
        t, ord="fro" if ord is None else ord, dim=tuple(axis), keepdim=keepdims
    )


@implements(np.linalg.det, matrix="square")
def _det(a):
    t = tensor(a)
    return back(torch.linalg.det(single(t)), t.dtype)


@implements(np.linalg.inv, matrix="square")
def _inv(a):
    t = tensor(a)
    return back(torch.linalg.inv(single(t)), t.dtype)


@implements(np.linalg.cholesky, matrix="square")
def _cholesky(a, /, *, upper=False):
    t = tensor(a)
    s = single(t)
    # NumPy reads one triangle only: the other must not get a share of the gradient
    # (torch's backward assumes a Hermitian input and splits it between both)
    return back(torch.linalg.cholesky(_triangle(s, "U" if upper else "L"), upper=upper), t.dtype)


@implements(np.linalg.solve, matrix="square")
def _solve(a, b):
    ta0, tb0 = tensor(a), tensor(b)  # once: a NumPy b is copied each time
    ta, tb = common(ta0, tb0)
    if not (is_inexact(ta0.dtype) and is_inexact(tb0.dtype)):
        # NumPy's linalg computes an integer or bool operand in float64, whatever the other
        ta, tb = ta.to(wide()), tb.to(wide())
    if tb.ndim > 1:
        # NumPy 2 reads b as a stack of matrices unless it is 1-d; torch would read a
        # b shaped like a's batch of vectors as vectors: broadcast the batch first
        batch = torch.broadcast_shapes(ta.shape[:-2], tb.shape[:-2])
        ta, tb = ta.expand(*batch, *ta.shape[-2:]), tb.expand(*batch, *tb.shape[-2:])
    return back(torch.linalg.solve(single(ta), single(tb)), ta.dtype)


@implements(np.linalg.slogdet, matrix="square")
def _slogdet(a):
    t = tensor(a)
    s, ld = torch.linalg.slogdet(single(t))
    return named(_SLOGDET, back((s, ld), t.dtype))


@implements(np.linalg.pinv, matrix="stacked")
def _pinv(a, rcond=None, hermitian=False, *, rtol=np._NoValue):
    t = tensor(a)
    if hermitian:
        # NumPy's hermitian pinv reads the lower triangle only (its SVD is eigh's): the
        # upper one gets no gradient, and the value is the pinv of that Hermitian matrix
        square_matrix(t)
        t = _triangle(t, "L")
    if rcond is not None and rtol is not np._NoValue:
        raise ValueError("`rtol` and `rcond` can't be both set.")
    cut = rcond if rcond is not None else (None if rtol is np._NoValue else rtol)
    if cut is None:
        # None is max(m, n) * eps in both: what it drops is zero to rounding, which
        # torch's pinv backward assumes
        return back(torch.linalg.pinv(single(t), hermitian=hermitian), t.dtype)
    # NumPy's rule: keep s > cut * max(s).  Where what the cut drops is zero to
    # rounding, torch's pinv (whose backward takes the dropped values for zeros) is
    # right, and the SVD's backward would be nan at an exact zero; where the cut drops
    # values above zero, through the SVD, whose gradient is the truncated inverse's
    s = single(t)
    c = torch.as_tensor(cut, dtype=s.real.dtype, device=s.device)
    if not values_hidden() and s.numel():
        sv = torch.linalg.svdvals(s.detach())
        top = sv.amax(-1, keepdim=True)
        tiny = max(s.shape[-2:]) * torch.finfo(sv.dtype).eps * top
        if bool(((sv > c * top) | (sv <= tiny)).all()):
            return back(torch.linalg.pinv(s, rtol=c, hermitian=hermitian), t.dtype)
    u, sv, vh = torch.linalg.svd(s, full_matrices=False)
    keep = sv > c[..., None] * sv.amax(-1, keepdim=True)
    inv = torch.where(keep, 1 / torch.where(keep, sv, 1.0), 0.0)
    return back(vh.mH @ (inv.unsqueeze(-1) * u.mH), t.dtype)


def _numpy_signs(x: torch.Tensor, u: torch.Tensor, vh: torch.Tensor):
    """torch's singular vectors with NumPy's signs (phases, for complex matrices).
    Each pair (u_i, v_i) is unique up to a common unit factor; for wide matrices
    torch's LAPACK call and NumPy's pick different ones, so the traced value (and a
    gradient through u or v) would not be NumPy's.  The factors are read from NumPy's
    own SVD of the value (constants: the gradient is torch's, turned with them).
    Skipped where values cannot be read (torch.func, torch.compile)."""
    if values_hidden() or x.numel() == 0:
        return u, vh
    un = np.linalg.svd(x.detach().cpu().numpy(), full_matrices=False)[0]
    unit = _unit_factors(torch.as_tensor(un, device=u.device, dtype=u.dtype), u)
    k = unit.shape[-1]
    if vh.shape[-2] > k:  # full_matrices: the completion's rows keep torch's signs
        ones = torch.ones(*unit.shape[:-1], vh.shape[-2] - k, dtype=u.dtype, device=u.device)
        return u * unit.conj().unsqueeze(-2), vh * torch.cat([unit, ones], -1).unsqueeze(-1)
    return u * unit.conj().unsqueeze(-2), vh * unit.unsqueeze(-1)


def _unit_factors(want: torch.Tensor, got: torch.Tensor) -> torch.Tensor:
    """Per column, the unit number c with got = want * c (a sign for real vectors, a
    phase for complex ones): the vectors are the same up to it."""
    dots = (want.conj() * got).sum(-2)
    if not dots.is_complex():
        return torch.where(dots < 0, -1.0, 1.0).to(got.dtype)
    size = dots.abs()
    return torch.where(size > 0, dots / torch.where(size > 0, size, 1.0), 1.0).to(got.dtype)


def _triangle(s: torch.Tensor, UPLO: str) -> torch.Tensor:
    """The Hermitian matrix NumPy reads from one triangle of ``s``: the other gets no
    share of the gradient (torch's backward assumes a symmetric input)."""
    UPLO = UPLO.upper() if isinstance(UPLO, str) else UPLO  # NumPy takes 'l' and 'u'
    if UPLO not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    if UPLO == "L":
        return torch.tril(s) + torch.tril(s, -1).mH
    return torch.triu(s) + torch.triu(s, 1).mH


@implements(np.linalg.eigh, matrix="square")
def _eigh(a, UPLO="L"):
    t = tensor(a)
    s = single(t)
    w, v = torch.linalg.eigh(_triangle(s, UPLO))
    return named(_EIGH, back((w, _numpy_eigenvectors(s, v, UPLO)), t.dtype))


def _numpy_eigenvectors(s: torch.Tensor, v: torch.Tensor, UPLO: str) -> torch.Tensor:
    """torch's eigenvectors ``v`` of ``s`` with NumPy's signs (phases, if complex):
    each is unique up to one, and NumPy's LAPACK call picks them (constants here: the
    gradient is torch's, turned with them).  Kept where values cannot be read."""
    if values_hidden() or s.numel() == 0:
        return v
    vn = np.linalg.eigh(s.detach().cpu().numpy(), UPLO=UPLO)[1]
    unit = _unit_factors(torch.as_tensor(vn, device=v.device, dtype=v.dtype), v)
    return v * unit.conj().unsqueeze(-2)


@implements(np.linalg.svd, matrix="stacked")
def _svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    t = tensor(a)
    x = single(t)
    if hermitian:
        # NumPy's hermitian SVD is eigh's, of the lower triangle (the values too: a
        # matrix that is not Hermitian has other singular values than its triangle's)
        square_matrix(x)
        given, x = x, _triangle(x, "L")
    if not compute_uv:
        return back(torch.linalg.svdvals(x), t.dtype)
    m, n = x.shape[-2:]
    if hermitian:
        # NumPy's hermitian SVD: the eigenvalues' magnitudes, largest first
        w, v = torch.linalg.eigh(x)
        v = _numpy_eigenvectors(given, v, "L")
        # NumPy's order: ascending magnitudes, stably, then reversed (ties included)
        order = torch.argsort(w.abs(), dim=-1, stable=True).flip(-1)
        s = torch.gather(w.abs(), -1, order)
        u = torch.gather(v, -1, order.unsqueeze(-2).expand(v.shape))
        sgn = torch.gather(torch.sign(w), -1, order)
        vh = (u * sgn.unsqueeze(-2)).mH
        return named(_SVD, back((u, s, vh), t.dtype))
    if not full_matrices or m == n:
        u, s, vh = torch.linalg.svd(x, full_matrices=False)
        if m < n:
            u, vh = _numpy_signs(x, u, vh)
        return named(_SVD, back((u, s, vh), t.dtype))
    u, s, vh = torch.linalg.svd(x, full_matrices=True)
    k = min(m, n)
    if m < n:
        u, vh = _numpy_signs(x, u, vh)
    # the columns past min(m, n) are any orthonormal completion: no gradient exists
    message = (
        f"{here()}: np.linalg.svd(a, full_matrices=True) of a {m}x{n} matrix: the "
        f"singular vectors past the first {k} are an arbitrary orthonormal completion "
        "and have no gradient; use full_matrices=False"
    )
    if m > k:
        u = torch.cat([u[..., :k], refuse_used(u[..., k:], message)], -1)
    if n > k:
        vh = torch.cat([vh[..., :k, :], refuse_used(vh[..., k:, :], message)], -2)
    return named(_SVD, back((u, s, vh), t.dtype))


@implements(np.linalg.eigvalsh, matrix="square")
def _eigvalsh(a, UPLO="L"):
    t = tensor(a)
    tri = _triangle(single(t), UPLO)
    return back(torch.linalg.eigvalsh(tri), t.dtype)


@implements(np.linalg.matrix_power, matrix="square")
def _matrix_power(a, n):
    t = tensor(a)
    try:
        n = operator.index(n)
    except TypeError as e:
        raise TypeError("exponent must be an integer") from e
    if n == 0:
        # NumPy's identity keeps the input's dtype, integers included
        eye = torch.eye(t.shape[-1], dtype=t.dtype, device=t.device)
        return eye.expand(t.shape).clone()
    if n < 0:
        t, n = back(torch.linalg.inv(single(t)), t.dtype), -n  # NumPy: inv, then powers
    if n == 1:
        return t  # NumPy returns the array itself (an alias: writes refused)
    mm = _bool_matmul if t.dtype is torch.bool else torch.matmul
    # NumPy's binary decomposition, in its order of products (the same rounding)
    if n == 2:
        return mm(t, t)
    if n == 3:
        return mm(mm(t, t), t)
    z = result = None
    while n > 0:
        z = t if z is None else mm(z, z)
        n, bit = divmod(n, 2)
        if bit:
            result = z if result is None else mm(result, z)
    return result


def _bool_matmul(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    # NumPy's matmul of bools is a bool (any of the ands); torch has no bool kernel
    return (a.to(torch.int64) @ b.to(torch.int64)) != 0


@implements(np.linalg.qr, handles=("mode",), matrix="stacked")
def _qr(a, mode="reduced"):
    if mode not in ("reduced", "complete", "r"):
        if mode in ("raw", "full", "f", "economic", "e"):
            # Householder reflectors (raw, economic) have no torch function to follow;
            # 'full' is NumPy's deprecated spelling of 'reduced'
            raise unsupported(
                f"np.linalg.qr(a, mode={mode!r}) (followed: 'reduced', 'complete', 'r')"
            )
        raise ValueError(f"Unrecognized mode '{mode}'")
    t = tensor(a)
    q, r = qr_factors(single(t), mode, f"np.linalg.qr(a, mode={mode!r})", "mode='reduced'")
    return back(r, t.dtype) if mode == "r" else named(_QR, back((q, r), t.dtype))


def qr_factors(s: torch.Tensor, mode: str, shown: str, instead: str) -> tuple:
    """Q and R of ``s`` (mode 'reduced', 'complete' or 'r': R alone, as the
    reduced one); ``shown`` and ``instead`` word the refusal of the completion's
    gradient."""
    m, n = s.shape[-2:]
    # torch's reduced backward holds for tall and wide matrices alike; mode='r' has
    # no backward in torch (it drops Q), so R comes from the reduced factorisation
    q, r = torch.linalg.qr(s, mode="reduced")
    if mode == "complete" and m > n:
        # the columns of Q past n are any orthonormal completion: no gradient exists
        # (torch's complete backward refuses any m > n, a zero gradient included)
        message = (
            f"{here()}: {shown} of a {m}x{n} matrix: the columns of Q past the first "
            f"{n} are an arbitrary orthonormal completion and have no gradient; use {instead}"
        )
        extra = torch.linalg.qr(s.detach(), mode="complete")[0][..., n:]
        q = torch.cat([q, refuse_nonzero(extra, s, message)], -1)
        r = torch.cat([r, r.new_zeros(*r.shape[:-2], m - n, n)], -2)
    return q, r


def _lstsq_dtypes(ta: torch.Tensor, tb: torch.Tensor) -> tuple[torch.dtype, torch.dtype]:
    """NumPy's lstsq: computed in double precision, returned in single only where
    every input is single (integers count as double)."""
    cplx = ta.is_complex() or tb.is_complex()
    single_only = all(x.dtype in (torch.float32, torch.complex64) for x in (ta, tb))
    if single_only:
        return (torch.complex64 if cplx else torch.float32), (torch.complex128 if cplx else wide())
    if any(x.dtype in HALF for x in (ta, tb)):
        raise TypeError("array type float16 is unsupported in linalg")
    double = torch.complex128 if cplx else wide()
    return double, double


def least_squares(
    ta: torch.Tensor, tb: torch.Tensor, rcond, dtypes: tuple | None = None, cut=None
) -> dict:
    """np.linalg.lstsq's checks, dtypes, cut and solution (no residuals); SciPy's
    lstsq gives its own ``dtypes`` (result, compute) and relative ``cut``."""
    vector = tb.ndim == 1
    for x in (ta, tb[:, None] if vector else tb):
        if x.ndim != 2:
            raise np.linalg.LinAlgError(
                f"{x.ndim}-dimensional array given. Array must be two-dimensional"
            )
    m, n = ta.shape
    if tb.shape[0] != m:
        raise np.linalg.LinAlgError("Incompatible dimensions")
    if ta.numel() == 0 or tb.numel() == 0:
        raise unsupported("np.linalg.lstsq of an empty a or b")
    result, compute = dtypes or _lstsq_dtypes(ta, tb)
    a64, b64 = ta.to(compute), tb.to(compute)
    bm = b64[:, None] if vector else b64
    eps = torch.finfo(a64.real.dtype).eps
    if cut is not None:
        rcond = cut
    elif rcond is None:
        cut = eps * max(m, n)
    else:
        # LAPACK's gelsd reads an rcond outside (0, 1) as its machine precision (eps / 2)
        cut = float(rcond) if 0 < rcond < 1 else eps / 2
    sv = torch.linalg.svdvals(a64)
    keep = sv > cut * sv.amax()
    rank = keep.sum().to(torch.int32)  # NumPy's gufunc gives an int32 scalar
    # the truncated pseudo-inverse's gradient where the cut drops singular values
    # above zero (pinv's row decides: torch's own pinv backward where it may)
    x = _pinv(a64, None if rcond is None else cut) @ bm
    return dict(x=x, a=a64, b=bm, sv=sv, rank=rank, result=result, vector=vector, m=m, n=n)


@implements(np.linalg.lstsq)
def _lstsq(a, b, rcond=None):
    ls = least_squares(tensor(a), tensor(b), rcond)
    x, sv, rank, result, m, n = ls["x"], ls["sv"], ls["rank"], ls["result"], ls["m"], ls["n"]
    real = result.to_real() if result.is_complex else result
    if m <= n:
        resid = sv.new_zeros(0)
    elif values_hidden():
        raise TraceError(
            f"{here()}: np.linalg.lstsq(a, b) of a {m}x{n} matrix: whether the residuals "
            "are empty depends on the rank, a value that cannot be read under torch.func "
            "or torch.compile; use np.linalg.pinv(a) @ b, or compute the residuals with "
            "np.sum((b - a @ x) ** 2, axis=0)"
        )
    elif int(rank) == n:
        r = ls["b"] - ls["a"] @ x
        resid = (torch.view_as_real(r) ** 2).sum((0, -1)) if r.is_complex() else (r**2).sum(0)
    else:
        resid = sv.new_zeros(0)
    x = x[:, 0] if ls["vector"] else x
    return x.to(result), resid.to(real), rank, sv.to(real)


def _plus_zero(t: torch.Tensor) -> torch.Tensor:
    """NumPy's ``asarray(x) + 0.0``: integers and bools become float64."""
    return t if is_inexact(t.dtype) else t.to(wide())


def _vander(x: torch.Tensor, order: int) -> torch.Tensor:
    """np.vander(x, order): decreasing powers, by repeated products as NumPy's, in
    x's dtype promoted with int64's (float64 or complex128)."""
    x = x.to(torch.complex128 if x.is_complex() else wide())
    ones = torch.ones(x.shape[0], 1, dtype=x.dtype, device=x.device)
    powers = torch.cumprod(x[:, None].expand(x.shape[0], order - 1), dim=1)
    return torch.cat([ones, powers], dim=1).flip(1)


@implements(np.polyfit)
def _polyfit(x, y, deg, rcond=None, full=False, w=None, cov=False):
    """NumPy's least squares on the Vandermonde matrix, its columns scaled to unit
    norm; full= and cov= (scaled or 'unscaled') as NumPy. The rank warning needs the
    rank's value: under torch.func and torch.compile it is not given."""
    order = int(deg) + 1
    tx, ty = _plus_zero(tensor(x)), _plus_zero(tensor(y))
    if deg < 0:
        raise ValueError("expected deg >= 0")
    if tx.ndim != 1:
        raise TypeError("expected 1D vector for x")
    if tx.numel() == 0:
        raise TypeError("expected non-empty vector for x")
    if ty.ndim < 1 or ty.ndim > 2:
        raise TypeError("expected 1D or 2D array for y")
    if tx.shape[0] != ty.shape[0]:
        raise TypeError("expected x and y to have same length")
    if rcond is None:  # NumPy's finfo(x.dtype).eps: a NumPy scalar of x's precision
        rcond = tx.shape[0] * np.finfo(TORCH_TO_NP[tx.dtype]).eps
    lhs, rhs = _vander(tx, order), ty
    if w is not None:
        tw = _plus_zero(tensor(w))
        if tw.ndim != 1:
            raise TypeError("expected a 1-d array for weights")
        if tw.shape[0] != ty.shape[0]:
            raise TypeError("expected w and y to have the same length")
        # NumPy weights in place: each array keeps its dtype (a complex weight cannot)
        for t in (lhs, rhs):
            if tw.is_complex() and not t.is_complex():
                raise TypeError(
                    "Cannot cast ufunc 'multiply' output from dtype('complex128') to "
                    f"dtype('{TORCH_TO_NP[t.dtype]}') with casting rule 'same_kind'"
                )
        lhs = (lhs * tw[:, None]).to(lhs.dtype)
        rhs = (rhs * (tw[:, None] if rhs.ndim == 2 else tw)).to(rhs.dtype)
    scale = torch.sqrt((lhs * lhs).sum(0))
    lhs = lhs / scale
    residuals = full or (cov and not (isinstance(cov, str) and cov == "unscaled"))
    if residuals:
        c, resids, rank, s = _lstsq(lhs, rhs, rcond)
    else:
        ls = least_squares(lhs, rhs, rcond)
        c, rank = ls["x"].to(ls["result"]), ls["rank"]
        c = c[:, 0] if ls["vector"] else c
    c = c / (scale[:, None] if c.ndim == 2 else scale)
    if not full and not values_hidden() and int(rank) != order:
        warnings.warn("Polyfit may be poorly conditioned", np.exceptions.RankWarning, stacklevel=4)
    if full:
        return c, resids, rank, s, rcond
    if not cov:
        return c
    base = torch.linalg.inv(single(lhs.T @ lhs))
    base = back(base / torch.outer(scale, scale), lhs.dtype)
    if not residuals:
        fac = 1  # cov='unscaled'
    elif tx.shape[0] <= order:
        raise ValueError(
            "the number of data points must exceed order to scale the covariance matrix"
        )
    else:
        fac = resids / (tx.shape[0] - order)
    return c, base * fac if ty.ndim == 1 else base[:, :, None] * fac
