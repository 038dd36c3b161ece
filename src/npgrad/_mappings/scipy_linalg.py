"""``scipy.linalg``: factorisations, solves, inverses, determinants, least squares,
norms, ``expm``, ``solve_sylvester`` and the special matrices (``block_diag``,
``toeplitz``, ``circulant``), followed by the trampolines of ``_trace._scipy``.

SciPy's ``overwrite_*`` and ``check_finite`` options change no value: they are
accepted and have no effect on a traced array (torch never writes into an input).
"""

from __future__ import annotations

import math
import warnings
from typing import Any

import numpy as np
import torch

from .._errors import TraceError
from .._trace._array import tensor
from .._trace._promote import common
from .._trace._registry import implements
from .._trace._state import here, values_hidden, wide
from ._refuse import refuse_used
from .linalg import _norm, _pinv, back, least_squares, qr_factors, single

_S = dict(kind="scipy")


def _one(a: Any) -> tuple[torch.Tensor, torch.dtype]:
    t = tensor(a)
    return single(t), t.dtype


def _two(a: Any, b: Any) -> tuple[torch.Tensor, torch.Tensor, torch.dtype]:
    ta, tb = common(tensor(a), tensor(b))
    return single(ta), single(tb), ta.dtype


def _refuse(name: str, what: str) -> TraceError:
    return TraceError(
        f"{here()}: scipy.linalg.{name}(..., {what}) is not followed; use mode='numeric'"
    )


@implements("scipy.linalg.cholesky", **_S)
def _cholesky(a, lower=False, overwrite_a=False, check_finite=True):
    t, dtype = _one(a)
    if t.ndim == 0:  # SciPy's: a number is a 1x1 matrix
        t = t.reshape(1, 1)
    # LAPACK reads one triangle only: so does the gradient (an entry of the other
    # triangle changes nothing)
    t = symmetric(t, lower, conj=True)
    return back(torch.linalg.cholesky(t, upper=not lower), dtype)


@implements("scipy.linalg.cho_factor", **_S)
def _cho_factor(a, lower=False, overwrite_a=False, check_finite=True):
    # SciPy leaves arbitrary values in the other triangle ("not used"); here zeros
    return _cholesky(a, lower), bool(lower)


@implements("scipy.linalg.cho_solve", **_S)
def _cho_solve(c_and_lower, b, overwrite_b=False, check_finite=True):
    c, lower = c_and_lower
    tc, tb, dtype = _two(c, b)
    # only the factor's own triangle counts, whatever the other holds
    tc = torch.tril(tc) if lower else torch.triu(tc)
    vector = tb.ndim == 1
    rhs = tb.unsqueeze(-1) if vector else tb
    out = torch.cholesky_solve(rhs, tc, upper=not lower)
    return back(out.squeeze(-1) if vector else out, dtype)


_TRANS = {0: 0, "N": 0, 1: 1, "T": 1, 2: 2, "C": 2}


@implements("scipy.linalg.solve_triangular", **_S)
def _solve_triangular(
    a, b, trans=0, lower=False, unit_diagonal=False, overwrite_b=False, check_finite=True
):
    ta, tb, dtype = _two(a, b)
    mode = _TRANS.get(trans)
    if mode is None:
        raise ValueError(f"Incorrect trans value {trans!r}")
    upper = not lower
    ta = torch.triu(ta) if upper else torch.tril(ta)
    if mode:
        ta = ta.mT.conj() if mode == 2 else ta.mT
        upper = not upper
    vector = tb.ndim == 1
    rhs = tb.unsqueeze(-1) if vector else tb
    out = torch.linalg.solve_triangular(ta, rhs, upper=upper, unitriangular=unit_diagonal)
    return back(out.squeeze(-1) if vector else out, dtype)


def symmetric(t: torch.Tensor, lower: bool, conj: bool) -> torch.Tensor:
    """The symmetric (Hermitian) matrix SciPy reads from one triangle of ``t``."""
    tri = torch.tril(t) if lower else torch.triu(t)
    other = tri.mT.conj() if conj else tri.mT
    return tri + other - torch.diag_embed(torch.diagonal(tri, dim1=-2, dim2=-1))


@implements("scipy.linalg.solve", **_S)
def _solve(
    a,
    b,
    lower=False,
    overwrite_a=False,
    overwrite_b=False,
    check_finite=True,
    assume_a=None,
    transposed=False,
):
    ta, tb, dtype = _two(a, b)
    kind = {None: "gen", "general": "gen", "symmetric": "sym", "hermitian": "her"}.get(
        assume_a, assume_a
    )
    kind = {"positive definite": "pos"}.get(kind, kind)
    if kind in ("sym", "her", "pos"):
        ta = symmetric(ta, lower, conj=kind != "sym")
    elif kind != "gen":
        raise _refuse("solve", f"assume_a={assume_a!r}")
    if transposed:
        ta = ta.mT
    vector = tb.ndim == 1
    rhs = tb.unsqueeze(-1) if vector else tb
    if kind == "pos":
        out = torch.cholesky_solve(rhs, torch.linalg.cholesky(ta))
    else:
        out = torch.linalg.solve(ta, rhs)
    return back(out.squeeze(-1) if vector else out, dtype)


@implements("scipy.linalg.inv", **_S)
def _inv(a, overwrite_a=False, check_finite=True, *, assume_a=None, lower=False):
    t, dtype = _one(a)
    if assume_a in ("sym", "her", "pos", "symmetric", "hermitian", "positive definite"):
        t = symmetric(t, lower, conj=assume_a not in ("sym", "symmetric"))
    elif assume_a not in (None, "gen", "general"):
        raise _refuse("inv", f"assume_a={assume_a!r}")
    return back(torch.linalg.inv(t), dtype)


@implements("scipy.linalg.det", **_S)
def _det(a, overwrite_a=False, check_finite=True):
    t, dtype = _one(a)
    # SciPy's det returns float64 even for float32 input (unlike its solve and inv)
    return torch.linalg.det(t).to(wide())


@implements("scipy.linalg.eigh", **_S)
def _eigh(
    a,
    b=None,
    *,
    lower=True,
    eigvals_only=False,
    overwrite_a=False,
    overwrite_b=False,
    type=1,
    check_finite=True,
    subset_by_index=None,
    subset_by_value=None,
    driver=None,
):
    if b is not None:
        raise _refuse("eigh", "b=...: the generalised problem")
    if subset_by_index is not None or subset_by_value is not None:
        raise _refuse("eigh", "subset_by_index/subset_by_value")
    t, dtype = _one(a)
    t = symmetric(t, lower, conj=True)  # the triangle LAPACK reads, as for cholesky
    if eigvals_only:
        return back(torch.linalg.eigvalsh(t), dtype)
    # eigenvectors: torch's gradient is exact for well-separated eigenvalues (it
    # divides by their differences); their signs are LAPACK's, as SciPy's
    w, v = torch.linalg.eigh(t)
    return back((w, v), dtype)


@implements("scipy.linalg.svd", **_S)
def _svd(
    a,
    full_matrices=True,
    compute_uv=True,
    overwrite_a=False,
    check_finite=True,
    lapack_driver="gesdd",
):
    t, dtype = _one(a)
    if not compute_uv:
        return back(torch.linalg.svdvals(t), dtype)
    u, s, vh = torch.linalg.svd(t, full_matrices=full_matrices)
    return back((u, s, vh), dtype)


def _scipy_square(t: torch.Tensor) -> None:
    """SciPy's shape check of expm and sqrtm (its words, not torch's)."""
    if t.ndim == 1:
        raise np.linalg.LinAlgError("The input array must be at least two-dimensional")
    if t.ndim >= 2 and t.shape[-1] != t.shape[-2]:
        raise np.linalg.LinAlgError("Last 2 dimensions of the array must be square")


@implements("scipy.linalg.expm", **_S)
def _expm(A):
    t, dtype = _one(A)
    _scipy_square(t)
    if t.ndim == 0:  # SciPy's answer for a number: its exponential as a 1x1 matrix
        return back(torch.exp(t).reshape(1, 1), dtype)
    return back(torch.linalg.matrix_exp(t), dtype)


@implements("scipy.linalg.solve_sylvester", **_S)
def _solve_sylvester(a, b, q):
    ta, tb, dtype = _two(a, b)
    for t in (ta, tb):
        if t.ndim < 2 or t.shape[-1] != t.shape[-2]:
            raise ValueError("expected square matrix")  # SciPy's
    (tq,) = common(single(tensor(q)).to(ta.dtype))
    return back(sylvester(ta, tb, tq), dtype)


def sylvester(a: torch.Tensor, b: torch.Tensor, q: torch.Tensor) -> torch.Tensor:
    """X with A X + X B = Q (stacks too), as one linear system in vec(X) (row-major):
    (A (x) I + I (x) B^T); (mn)^2 entries, for the small matrices this is used with."""
    m, n = a.shape[-1], b.shape[-1]
    eye_m = torch.eye(m, dtype=a.dtype, device=a.device)
    eye_n = torch.eye(n, dtype=a.dtype, device=a.device)
    # entry ((i, k), (j, l)) of each Kronecker product, then the pairs flattened
    left = a[..., :, None, :, None] * eye_n[:, None, :]
    right = eye_m[:, None, :, None] * b.mT[..., None, :, None, :]
    big = (left + right).reshape(*torch.broadcast_shapes(a.shape[:-2], b.shape[:-2]), m * n, m * n)
    x = torch.linalg.solve(big, q.reshape(*q.shape[:-2], m * n, 1))
    return x.reshape(*x.shape[:-2], m, n)


class _Sqrtm(torch.autograd.Function):
    """The principal square root X; its backward solves X^T Y + Y X^T = G, in torch
    ops on the saved X, so that second derivatives hold too."""

    @staticmethod
    def forward(ctx, a):
        x = _denman_beavers(a)
        ctx.save_for_backward(x)
        return x

    @staticmethod
    def backward(ctx, g):
        (x,) = ctx.saved_tensors
        return sylvester(x.mT, x.mT, g)


_DB_STEPS = 100


def _denman_beavers(a: torch.Tensor) -> torch.Tensor:
    """The product form of the Denman-Beavers iteration, scaled by determinants
    (Higham, Functions of Matrices, 6.3): M -> I, Y -> A^(1/2)."""
    n = a.shape[-1]
    eye = torch.eye(n, dtype=a.dtype, device=a.device)
    m = y = a
    tol = 10 * n * torch.finfo(a.dtype).eps
    for _ in range(_DB_STEPS):
        mu = (torch.linalg.det(m).abs() ** (-1 / (2 * n)))[..., None, None]
        mi = torch.linalg.inv(m)
        y = mu / 2 * y @ (eye + mi / mu**2)
        m = (eye + (mu**2 * m + mi / mu**2) / 2) / 2
        if bool((torch.linalg.matrix_norm(m - eye, 1) <= tol).all()):
            return y
    raise TraceError(f"{here()}: scipy.linalg.sqrtm: the square root did not converge")


def _principal(name: str, A: Any, disp: Any) -> torch.Tensor:
    """``A`` checked for sqrtm and logm: real, with no eigenvalue on the closed
    negative real axis (there SciPy's result is complex or singular, with no
    gradient here: refused)."""
    if disp is not None and not disp:
        raise _refuse(name, "disp=False: the error estimate")
    t = tensor(A)
    if name == "sqrtm":
        _scipy_square(t)
    elif t.ndim < 2 or t.shape[-1] != t.shape[-2]:
        raise ValueError("expected a square matrix")  # SciPy's logm
    if t.ndim < 2 or t.is_complex():
        raise _refuse(name, "a complex array, or one of fewer than 2 dimensions")
    if values_hidden():
        raise TraceError(
            f"{here()}: scipy.linalg.{name} reads the eigenvalues of A, values that cannot "
            "be read under torch.func or torch.compile"
        )
    w = torch.linalg.eigvals(single(t).detach())
    if bool(((w.imag == 0) & (w.real <= 0)).any()):
        raise _refuse(
            name,
            "A with an eigenvalue on the closed negative real axis: its result is complex, "
            "or singular with no gradient",
        )
    return t


@implements("scipy.linalg.sqrtm", **_S)
def _sqrtm(A, disp=None, blocksize=None):
    """The principal square root of a real matrix (``blocksize`` changes no value)."""
    t = _principal("sqrtm", A, disp)
    return back(_Sqrtm.apply(single(t)), t.dtype)


_LOG_TERMS = 12  # |W| <= 1/7 below: the series' rest under 1e-17


@implements("scipy.linalg.logm", **_S)
def _logm(A, disp=None):
    """The principal logarithm of a real matrix, in float64 as SciPy's: inverse
    scaling and squaring, log A = 2^k log A^(1/2^k), square roots until the root is
    within 1/4 of I (1-norm), then log(I + Z) = 2 atanh(W), W = Z (2I + Z)^-1, as its
    odd series; autograd follows the roots (their Sylvester backward) and the series."""
    x = _principal("logm", A, disp).to(wide())
    eye = torch.eye(x.shape[-1], dtype=x.dtype, device=x.device)
    k = 0
    while bool((torch.linalg.matrix_norm(x.detach() - eye, 1) > 0.25).any()):
        x, k = _Sqrtm.apply(x), k + 1
    z = x - eye
    w = torch.linalg.solve(2 * eye + z, z)  # z and 2I + z commute
    w2, term, total = w @ w, w, w
    for j in range(1, _LOG_TERMS):
        term = term @ w2
        total = total + term / (2 * j + 1)
    return 2 ** (k + 1) * total


@implements("scipy.linalg.lu_factor", **_S)
def _lu_factor(a, overwrite_a=False, check_finite=True):
    t, dtype = _one(a)
    # a singular matrix has factors too: SciPy warns and returns them (torch's
    # lu_factor raises), one warning per matrix, naming its first zero pivot
    lu, pivots, info = torch.linalg.lu_factor_ex(t)
    if not values_hidden() and bool((info > 0).any()):
        from scipy.linalg import LinAlgWarning

        for k in info.reshape(-1).tolist():
            if k > 0:
                warnings.warn(
                    f"Diagonal number {k} is exactly zero. Singular matrix.",
                    LinAlgWarning,
                    stacklevel=2,
                )
        # torch's LU derivative solves with U, dividing by its zero pivot: a nan
        # gradient (the factors' true one is finite), so a gradient is refused there
        lu = refuse_used(
            lu,
            f"{here()}: scipy.linalg.lu_factor of a singular matrix: torch's derivative of "
            "the factors divides by the zero pivot, so no gradient is given; use "
            "mode='numeric', or factor a regularised matrix (a + eps * I)",
        )
    # LAPACK's pivots count from 1 (torch keeps them), SciPy's from 0
    return back(lu, dtype), pivots - 1


@implements("scipy.linalg.lu_solve", **_S)
def _lu_solve(lu_and_piv, b, trans=0, overwrite_b=False, check_finite=True):
    lu, piv = lu_and_piv
    tl, tb, dtype = _two(lu, b)
    pivots = tensor(piv).detach().to(torch.int32) + 1
    if trans not in (0, 1, 2) or isinstance(trans, bool):
        raise ValueError(f"trans must be 0, 1 or 2 (LAPACK's getrs), got {trans!r}")
    mode = int(trans)
    vector = tb.ndim == 1
    rhs = tb.unsqueeze(-1) if vector else tb
    if mode == 1 and tl.is_complex():
        # A^T x = b is A^H conj(x) = conj(b): torch solves with A^H only
        out = torch.linalg.lu_solve(tl, pivots, rhs.conj(), adjoint=True).conj()
    else:
        out = torch.linalg.lu_solve(tl, pivots, rhs, adjoint=bool(mode))
    return back(out.squeeze(-1) if vector else out, dtype)


_QR_MODES = {"full": "complete", "economic": "reduced", "r": "r"}


@implements("scipy.linalg.qr", handles=("mode",), **_S)
def _qr(a, overwrite_a=False, lwork=None, mode="full", pivoting=False, check_finite=True):
    if pivoting:
        raise _refuse("qr", "pivoting=True")
    if mode not in _QR_MODES:
        if mode == "raw":
            raise _refuse("qr", "mode='raw'")
        raise ValueError("Mode argument should be one of ['full', 'r', 'economic', 'raw']")
    t, dtype = _one(a)
    if t.ndim < 2:
        raise ValueError("expected a 2-D array")
    # SciPy's mode='r' is the complete R (m x n), alone in a tuple for one matrix and
    # bare for a stack (SciPy 1.17's batching returns the array)
    want = "complete" if mode == "r" else _QR_MODES[mode]
    q, r = qr_factors(t, want, f"scipy.linalg.qr(a, mode={mode!r})", "mode='economic', or mode='r'")
    if mode == "r":
        return (back(r, dtype),) if t.ndim == 2 else back(r, dtype)
    return back((q, r), dtype)


@implements("scipy.linalg.lstsq", **_S)
def _lstsq(
    a, b, cond=None, overwrite_a=False, overwrite_b=False, check_finite=True, lapack_driver=None
):
    if lapack_driver == "gelsy":
        # its rank comes from a pivoted QR, not the singular values: another solution
        raise _refuse("lstsq", "lapack_driver='gelsy'")
    if lapack_driver not in (None, "gelsd", "gelss"):
        raise ValueError(f'LAPACK driver "{lapack_driver}" is not found')
    ta, tb = tensor(a), tensor(b)
    if ta.ndim < 2:
        raise ValueError("Input array a should be 2D")  # SciPy's words and kind
    if ta.ndim > 2:
        raise _refuse("lstsq", "a stack of matrices")
    # LAPACK's routine in the inputs' common precision (float64 for integers)
    compute = single(common(ta, tb)[0]).dtype
    eps = torch.finfo(compute.to_real() if compute.is_complex else compute).eps
    # a negative cond is LAPACK's machine precision (eps / 2)
    cut = eps if cond is None else (float(cond) if cond >= 0 else eps / 2)
    ls = least_squares(ta, tb, None, dtypes=(compute, compute), cut=cut)
    x, sv, rank, m, n = ls["x"], ls["sv"], ls["rank"].to(torch.int64), ls["m"], ls["n"]
    real = sv.dtype
    if m > n and values_hidden():
        raise TraceError(
            f"{here()}: scipy.linalg.lstsq(a, b) of a {m}x{n} matrix: whether the "
            "residues are empty depends on the rank, a value that cannot be read under "
            "torch.func or torch.compile; use scipy.linalg.pinv(a) @ b"
        )
    if m > n and int(rank) == n:
        r = ls["b"] - ls["a"] @ x
        resid = (r.abs() ** 2 if r.is_complex() else r**2).sum(0).to(real)
        resid = resid[0] if ls["vector"] else resid
    else:
        resid = x.new_zeros(0)
    return (x[:, 0] if ls["vector"] else x), resid, rank, sv


@implements("scipy.linalg.pinv", **_S)
def _pinv_scipy(a, *, atol=None, rtol=None, return_rank=False, check_finite=True):
    if atol not in (None, 0):
        # a cut absolute in the singular values: not one relative to the largest
        raise _refuse("pinv", f"atol={atol!r}")
    if rtol is not None and rtol < 0:
        raise ValueError("atol and rtol values must be positive.")
    t, dtype = _one(a)
    if t.ndim < 2:
        raise ValueError("expected matrix")
    # None is max(m, n) * eps, as np.linalg.pinv's default
    out = back(_pinv(t, rtol), dtype)
    if not return_rank:
        return out
    if values_hidden():
        raise TraceError(
            f"{here()}: scipy.linalg.pinv(a, return_rank=True): the rank is a value that "
            "cannot be read under torch.func or torch.compile"
        )
    sv = torch.linalg.svdvals(t.detach())
    cut = max(t.shape[-2:]) * torch.finfo(sv.dtype).eps if rtol is None else rtol
    top = sv.amax(-1, keepdim=True) if sv.shape[-1] else sv.new_zeros(*sv.shape[:-1], 1)
    return out, (sv > cut * top).sum(-1)


@implements("scipy.linalg.norm", kind="scipy", axis="row")
def _norm_scipy(a, ord=None, axis=None, keepdims=False, check_finite=True):
    """np.linalg.norm's value.  Where SciPy takes its BLAS or LAPACK shortcut (a
    single-precision vector's 2-norm; a matrix's 1- or inf-norm, whose shortcut wants
    it contiguous one way or the other: read off the tensor's layout) it returns a
    Python float: float64 here too."""
    t = tensor(a)
    if t.ndim == 1 and t.numel() and (ord is None or _is(ord, 2)) and axis is None:
        # SciPy's BLAS nrm2 scales: no overflow at 1e155 or underflow at 1e-170 (the
        # scale is a constant: the gradient is x / |x| all the same)
        scale = t.detach().abs().amax()
        scale = torch.where((scale > 0) & torch.isfinite(scale), scale, 1.0).to(t.real.dtype)
        out = scale * _norm(t / scale, ord, axis, keepdims)
    else:
        out = _norm(t, ord, axis, keepdims)
    if t.dtype in (torch.float32, torch.complex64) and t.numel() and axis is None:
        vector = t.ndim == 1 and (ord is None or _is(ord, 2))
        layout = t.ndim == 2 and (t.is_contiguous() or t.mT.is_contiguous())
        if not keepdims and (vector or layout and (_is(ord, 1) or _is(ord, math.inf))):
            out = out.to(wide())
    return out


def _is(ord: Any, value: float) -> bool:
    return not isinstance(ord, str) and ord is not None and ord == value


@implements("scipy.linalg.eigvalsh", **_S)
def _eigvalsh(
    a,
    b=None,
    *,
    lower=True,
    overwrite_a=False,
    overwrite_b=False,
    type=1,
    check_finite=True,
    subset_by_index=None,
    subset_by_value=None,
    driver=None,
):
    return _eigh(
        a,
        b,
        lower=lower,
        eigvals_only=True,
        subset_by_index=subset_by_index,
        subset_by_value=subset_by_value,
    )


# ---------------------------------------------------------------- special matrices
@implements("scipy.linalg.block_diag", **_S)
def _block_diag(*arrs):
    ts = [tensor(a) for a in arrs]
    for t in ts:
        if t.ndim > 2:
            raise ValueError(
                "arguments in the following positions have dimension greater than 2: "
                f"{[i for i, u in enumerate(ts) if u.ndim > 2]}"
            )
    ts = common(*ts)
    return torch.block_diag(*[t.reshape(1, -1) if t.ndim < 2 else t for t in ts])


def _last(x: Any) -> torch.Tensor:
    t = tensor(x)
    return t.reshape(1) if t.ndim == 0 else t


@implements("scipy.linalg.toeplitz", **_S)
def _toeplitz(c, r=None):
    tc = _last(c)
    tr = tc.conj() if r is None else _last(r)
    tc, tr = common(tc, tr) if r is not None else (tc, tr)
    m, n = tc.shape[-1], tr.shape[-1]
    batch = torch.broadcast_shapes(tc.shape[:-1], tr.shape[:-1])
    tc, tr = tc.expand(*batch, m), tr.expand(*batch, n)
    # entry (i, j) is c[i - j] below the diagonal and r[j - i] above: one index into
    # c reversed then r past its first entry (which the diagonal takes from c)
    both = torch.cat([tc.flip(-1), tr[..., 1:]], -1)
    i = torch.arange(m, device=tc.device)
    j = torch.arange(n, device=tc.device)
    return both[..., (m - 1) - i[:, None] + j[None, :]]


@implements("scipy.linalg.circulant", **_S)
def _circulant(c):
    t = _last(c)
    n = t.shape[-1]
    i = torch.arange(n, device=t.device)
    return t[..., (i[:, None] - i[None, :]) % n]
