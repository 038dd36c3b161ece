"""``scipy.linalg``: factorisations, solves, inverses, determinants, ``expm`` and
``solve_sylvester`` (followed by the trampolines of ``_trace._scipy``).

SciPy's ``overwrite_*`` and ``check_finite`` options change no value: they are
accepted and have no effect on a traced array (torch never writes into an input).
"""

from __future__ import annotations

from typing import Any

import torch

from .._errors import TraceError
from .._trace._array import tensor
from .._trace._promote import common
from .._trace._registry import implements
from .._trace._state import here, wide
from .linalg import back, single

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


@implements("scipy.linalg.expm", **_S)
def _expm(A):
    t, dtype = _one(A)
    return back(torch.linalg.matrix_exp(t), dtype)


@implements("scipy.linalg.solve_sylvester", **_S)
def _solve_sylvester(a, b, q):
    ta, tb, dtype = _two(a, b)
    (tq,) = common(single(tensor(q)).to(ta.dtype))
    m, n = ta.shape[-1], tb.shape[-1]
    # A X + X B = Q as one linear system in vec(X) (row-major): (A (x) I + I (x) B^T);
    # (mn)^2 entries, for the small matrices this is used with
    big = torch.kron(ta, torch.eye(n, dtype=ta.dtype, device=ta.device)) + torch.kron(
        torch.eye(m, dtype=ta.dtype, device=ta.device), tb.mT.contiguous()
    )
    x = torch.linalg.solve(big, tq.reshape(m * n))
    return back(x.reshape(m, n), dtype)
