"""``numpy.linalg``: norms, determinants, inverses, solves, factorisations.

torch's linear algebra takes float and double only: half-precision inputs compute
in float32 and come back in their own dtype.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch

from .._dtypes import HALF, is_inexact
from .._trace._array import common, tensor
from .._trace._registry import implements
from .._trace._state import abstract, here, wide
from ._refuse import refuse_used


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


@implements(np.linalg.norm, axis="row")
def _norm(x, ord=None, axis=None, keepdims=False):
    t = tensor(x)
    if not is_inexact(t.dtype):
        t = t.to(wide())
    if axis is None and (ord is None or t.ndim == 1):
        r = torch.linalg.vector_norm(t.reshape(-1), ord=2 if ord is None else ord)
        return r.reshape((1,) * t.ndim) if keepdims else r
    if axis is None and t.ndim == 2:
        axis = (0, 1)
    if isinstance(axis, (tuple, list)) and len(axis) == 1:
        axis = axis[0]
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


@implements(np.linalg.det)
def _det(a):
    t = tensor(a)
    return back(torch.linalg.det(single(t)), t.dtype)


@implements(np.linalg.inv)
def _inv(a):
    t = tensor(a)
    return back(torch.linalg.inv(single(t)), t.dtype)


@implements(np.linalg.cholesky)
def _cholesky(a, /, *, upper=False):
    t = tensor(a)
    s = single(t)
    # NumPy reads one triangle only: the other must not get a share of the gradient
    # (torch's backward assumes a symmetric input and splits it between both)
    tri = torch.triu(s) + torch.triu(s, 1).mT if upper else torch.tril(s) + torch.tril(s, -1).mT
    return back(torch.linalg.cholesky(tri, upper=upper), t.dtype)


@implements(np.linalg.solve)
def _solve(a, b):
    ta, tb = common(tensor(a), tensor(b))
    if not all(is_inexact(t.dtype) for t in (tensor(a), tensor(b))):
        # NumPy's linalg computes an integer or bool operand in float64, whatever the other
        ta, tb = ta.to(wide()), tb.to(wide())
    if tb.ndim > 1:
        # NumPy 2 reads b as a stack of matrices unless it is 1-d; torch would read a
        # b shaped like a's batch of vectors as vectors: broadcast the batch first
        batch = torch.broadcast_shapes(ta.shape[:-2], tb.shape[:-2])
        ta, tb = ta.expand(*batch, *ta.shape[-2:]), tb.expand(*batch, *tb.shape[-2:])
    return back(torch.linalg.solve(single(ta), single(tb)), ta.dtype)


@implements(np.linalg.slogdet)
def _slogdet(a):
    t = tensor(a)
    s, ld = torch.linalg.slogdet(single(t))
    return back((s, ld), t.dtype)


@implements(np.linalg.pinv)
def _pinv(a, rcond=None, hermitian=False, *, rtol=np._NoValue):
    t = tensor(a)
    if rcond is not None and rtol is not np._NoValue:
        raise ValueError("`rtol` and `rcond` can't be both set.")
    cut = rcond if rcond is not None else (None if rtol is np._NoValue else rtol)
    if cut is None:
        # None is max(m, n) * eps in both: what it drops is zero to rounding, which
        # torch's pinv backward assumes
        return back(torch.linalg.pinv(single(t), hermitian=hermitian), t.dtype)
    # a cutoff that may drop singular values above zero: through the SVD, whose
    # gradient is the truncated pseudo-inverse's (torch's pinv backward takes the
    # dropped values for zeros); NumPy's rule: keep s > cut * max(s)
    u, sv, vh = torch.linalg.svd(single(t), full_matrices=False)
    c = torch.as_tensor(cut, dtype=sv.dtype, device=sv.device)[..., None]
    keep = sv > c * sv.amax(-1, keepdim=True)
    inv = torch.where(keep, 1 / torch.where(keep, sv, 1.0), 0.0)
    return back(vh.mH @ (inv.unsqueeze(-1) * u.mH), t.dtype)


def _numpy_signs(x: torch.Tensor, u: torch.Tensor, vh: torch.Tensor):
    """torch's singular vectors with NumPy's signs.  Each pair (u_i, v_i) is unique up
    to a common sign; for wide matrices torch's LAPACK call and NumPy's pick different
    ones, so the traced value (and a gradient through u or v) would not be NumPy's.
    The signs are read from NumPy's own SVD of the value (constants: the gradient is
    torch's, flipped with them).  Skipped where values cannot be read (torch.func,
    torch.compile)."""
    if abstract() or torch.compiler.is_compiling() or x.numel() == 0:
        return u, vh
    un = np.linalg.svd(x.detach().cpu().numpy(), full_matrices=False)[0]
    dots = (torch.as_tensor(un, device=u.device, dtype=u.dtype) * u).sum(-2)
    sign = torch.where(dots < 0, -1.0, 1.0).to(u.dtype)
    k = sign.shape[-1]
    if vh.shape[-2] > k:  # full_matrices: the completion's rows keep torch's signs
        ones = torch.ones(*sign.shape[:-1], vh.shape[-2] - k, dtype=u.dtype, device=u.device)
        return u * sign.unsqueeze(-2), vh * torch.cat([sign, ones], -1).unsqueeze(-1)
    return u * sign.unsqueeze(-2), vh * sign.unsqueeze(-1)


@implements(np.linalg.eigh)
def _eigh(a, UPLO="L"):
    if UPLO not in ("L", "U"):
        raise ValueError("UPLO argument must be 'L' or 'U'")
    t = tensor(a)
    s = single(t)
    # NumPy reads one triangle: the other gets no share of the gradient (torch's
    # backward assumes a symmetric input), as in cholesky
    tri = (
        torch.tril(s) + torch.tril(s, -1).mH if UPLO == "L" else torch.triu(s) + torch.triu(s, 1).mH
    )
    w, v = torch.linalg.eigh(tri)
    if not (abstract() or torch.compiler.is_compiling() or s.numel() == 0 or s.is_complex()):
        # each eigenvector is unique up to its sign: NumPy's LAPACK call picks them
        # (constants here: the gradient is torch's, flipped with them)
        vn = np.linalg.eigh(s.detach().cpu().numpy(), UPLO=UPLO)[1]
        dots = (torch.as_tensor(vn, device=v.device, dtype=v.dtype) * v).sum(-2)
        v = v * torch.where(dots < 0, -1.0, 1.0).to(v.dtype).unsqueeze(-2)
    return back((w, v), t.dtype)


@implements(np.linalg.svd)
def _svd(a, full_matrices=True, compute_uv=True, hermitian=False):
    t = tensor(a)
    x = single(t)
    if not compute_uv:
        return back(torch.linalg.svdvals(x), t.dtype)
    m, n = x.shape[-2:]
    if hermitian:
        # NumPy's hermitian SVD: the eigenvalues' magnitudes, largest first
        w, v = torch.linalg.eigh(x)
        order = torch.argsort(w.abs(), dim=-1, descending=True)
        s = torch.gather(w.abs(), -1, order)
        u = torch.gather(v, -1, order.unsqueeze(-2).expand(v.shape))
        sgn = torch.gather(torch.sign(w), -1, order)
        vh = (u * sgn.unsqueeze(-2)).mH
        return back((u, s, vh), t.dtype)
    if not full_matrices or m == n:
        u, s, vh = torch.linalg.svd(x, full_matrices=False)
        if m < n:
            u, vh = _numpy_signs(x, u, vh)
        return back((u, s, vh), t.dtype)
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
    return back((u, s, vh), t.dtype)
