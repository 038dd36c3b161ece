"""The coverage rows' records, run here until the shared records runner lands:
NumPy's (or SciPy's) own value in float64 and float32 through automatic mode, and
the gradient against float64 central differences (npgrad.check)."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
import torch

import npgrad

from ..conftest import FLOAT32_VS_FLOAT64
from .records.new_rows import RECORDS


def _inputs(record, dtype: torch.dtype) -> list[torch.Tensor]:
    gen = torch.Generator().manual_seed(sum(map(ord, record.id or record.covers[0])))
    out = []
    for shape in record.shapes:
        u = torch.rand(shape, generator=gen, dtype=torch.float64)
        if record.domain == "real":
            t = u * 4 - 2
        elif record.domain == "positive":
            t = u * 2 + 0.2
        elif record.domain == "unit":
            t = u * 1.8 - 0.9
        elif record.domain == "nonzero":
            t = torch.where(u < 0.5, -0.5 - u, u)
        elif record.domain == "probability":
            t = u * 0.9 + 0.05
        elif record.domain == "spd":
            a = torch.rand(shape, generator=gen, dtype=torch.float64) * 2 - 1
            t = a @ a.mT + shape[-1] * torch.eye(shape[-1], dtype=torch.float64)
        else:
            raise AssertionError(f"unknown domain {record.domain!r}")
        out.append(t.to(dtype))
    return out


def _ids(records):
    return [r.id or r.covers[0] for r in records]


def _as_tuple(v):
    return v if isinstance(v, tuple) else (v,)


def _reference(record, ins):
    return record.fn(*[t.numpy() for t in ins], *record.consts)


def _traced(record):
    return npgrad.function(lambda *a: record.fn(*a, *record.consts), name=record.id or "r",
                           mode="auto")  # fmt: skip


@pytest.mark.parametrize("record", RECORDS, ids=_ids(RECORDS))
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
def test_value_matches_numpy(record, dtype):
    if str(dtype).removeprefix("torch.") not in record.dtypes:
        pytest.skip(f"{record.id}: not a {dtype} record")
    ins = _inputs(record, dtype)
    want = _as_tuple(_reference(record, ins))
    got = _as_tuple(_traced(record)(*ins))
    assert len(got) == len(want)
    tol = dict(rtol=1e-10, atol=1e-12) if dtype == torch.float64 else FLOAT32_VS_FLOAT64
    if record.rtol is not None:
        tol["rtol"] = record.rtol
    for g, w in zip(got, want):
        w = np.asarray(w)
        if dtype == torch.float64:  # npgrad.function returns its inputs' dtype
            assert np.asarray(g.detach()).dtype == w.dtype, (g.dtype, w.dtype)
        np.testing.assert_allclose(g.detach().numpy(), w, **tol)


GRAD = [r for r in RECORDS if r.grad]


@pytest.mark.parametrize("record", GRAD, ids=_ids(GRAD))
def test_gradient_matches_central_differences(record):
    ins = [t.requires_grad_() for t in _inputs(record, torch.float64)]
    npgrad.check(_traced(record), *ins)


def test_cross_of_2_vectors_warns_as_numpy():
    a, b = torch.rand(3, 2, dtype=torch.float64), torch.rand(3, 2, dtype=torch.float64)
    with pytest.warns(DeprecationWarning, match="2-dimensional vectors"):
        want = np.cross(a.numpy(), b.numpy())
    with pytest.warns(DeprecationWarning, match="2-dimensional vectors"):
        got = npgrad.function(lambda x, y: np.cross(x, y), mode="auto")(a, b)
    np.testing.assert_allclose(got.numpy(), want, rtol=1e-12)


def _raises_trace_error(fn, args, match):
    with pytest.raises(npgrad.TraceError, match=match):
        out = npgrad.function(fn, mode="auto")(*args)
        out.sum().backward()


def test_gammainc_refuses_a_gradient_in_a():
    sp = pytest.importorskip("scipy.special")
    a = torch.tensor([0.5, 2.0], dtype=torch.float64, requires_grad=True)
    x = torch.tensor([0.3, 1.5], dtype=torch.float64, requires_grad=True)
    _raises_trace_error(lambda a, x: sp.gammainc(a, x), (a, x), r"gammainc.*respect to a")
    _raises_trace_error(lambda a, x: sp.gammaincc(a, x), (a, x), r"gammaincc.*respect to a")


def test_bessel_refuses_real_orders_and_order_gradients():
    sp = pytest.importorskip("scipy.special")
    x = torch.tensor([0.3, 1.5], dtype=torch.float64, requires_grad=True)
    _raises_trace_error(lambda x: sp.jv(0.5, x), (x,), r"jv.*non-integer")
    v = torch.tensor([1.0, 2.0], dtype=torch.float64, requires_grad=True)
    _raises_trace_error(lambda v, x: sp.iv(v, x), (v, x), r"iv.*respect to the order")


def test_svd_refuses_the_gradient_of_the_completion():
    a = torch.rand(4, 2, dtype=torch.float64, requires_grad=True)
    _raises_trace_error(lambda a: np.linalg.svd(a)[0][:, 3] ** 2, (a,), r"full_matrices=False")


def test_qr_refuses_the_gradient_of_the_completion():
    a = torch.rand(5, 3, dtype=torch.float64, requires_grad=True)
    qr = np.linalg.qr
    _raises_trace_error(lambda a: qr(a, mode="complete")[0] ** 2, (a,), r"mode='reduced'")
    # the first n columns and R keep their gradient, the completion sliced away or not
    for fn in (lambda a: qr(a, mode="complete")[0][:, :3], lambda a: qr(a, mode="complete")[1]):
        npgrad.function(fn, mode="auto")(a).sum().backward()
        assert torch.isfinite(a.grad).all()
        a.grad = None


def test_qr_refuses_the_householder_modes():
    a = torch.rand(4, 3, dtype=torch.float64)
    with pytest.raises(npgrad.TraceError, match=r"np.linalg.qr\(a, mode='raw'\)"):
        npgrad.function(lambda a: np.linalg.qr(a, mode="raw")[0], mode="auto")(a)


def test_eigvalsh_gives_the_unread_triangle_no_gradient():
    a = torch.rand(4, 4, dtype=torch.float64, requires_grad=True)
    npgrad.function(lambda a: np.linalg.eigvalsh(a), mode="auto")(a).sum().backward()
    assert torch.count_nonzero(torch.triu(a.grad, 1)) == 0
    b = a.detach().clone().requires_grad_()
    npgrad.function(lambda a: np.linalg.eigvalsh(a, UPLO="U"), mode="auto")(b).sum().backward()
    assert torch.count_nonzero(torch.tril(b.grad, -1)) == 0


def test_lstsq_residuals_under_vmap_are_refused_by_name():
    a = torch.rand(3, 6, 2, dtype=torch.float64)
    y = torch.rand(3, 6, dtype=torch.float64)
    op = npgrad.function(lambda a, y: np.linalg.lstsq(a, y)[0], mode="auto")
    with pytest.raises(npgrad.TraceError, match=r"np.linalg.lstsq.*rank"):
        torch.func.vmap(op)(a, y)


@pytest.mark.parametrize("name", ["nansum", "nanmean", "nanmax", "nanmin"])
def test_nan_reductions_give_nan_places_no_gradient_and_do_not_warn(name):
    f = getattr(np, name)
    x = torch.tensor([[1.0, np.nan, 3.0], [np.nan, np.nan, np.nan]], dtype=torch.float64)
    x.requires_grad_()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's all-nan slice warning
        want = f(x.detach().numpy(), axis=1)
    # under the test suite's warnings-as-errors: the traced code path warns of nothing
    got = npgrad.function(lambda a: f(a, axis=1), mode="auto", nonfinite="ignore")(x)
    np.testing.assert_array_equal(got.detach().numpy(), want)
    got.nansum().backward()
    assert torch.isfinite(x.grad).all()
    assert torch.count_nonzero(x.grad[torch.isnan(x.detach())]) == 0


def test_average_refuses_weights_that_sum_to_zero_as_numpy():
    a = torch.rand(2, 3, dtype=torch.float64)
    w = torch.tensor([1.0, -1.0, 0.0], dtype=torch.float64)
    with pytest.raises(ZeroDivisionError, match="Weights sum to zero"):
        np.average(a.numpy(), axis=1, weights=w.numpy())
    with pytest.raises(ZeroDivisionError, match="Weights sum to zero"):
        npgrad.function(lambda a, w: np.average(a, axis=1, weights=w), mode="auto")(a, w)


@pytest.mark.parametrize(
    "name, ours, theirs",
    [
        ("kron", lambda a, b: np.kron(a, b), torch.kron),
        ("cross", lambda a, b: np.cross(a, b), lambda a, b: torch.linalg.cross(a, b)),
        ("sinc", lambda a, b: np.sinc(a), lambda a, b: torch.sinc(a)),
        ("pinv", lambda a, b: np.linalg.pinv(a), lambda a, b: torch.linalg.pinv(a)),
        ("rot90", lambda a, b: np.rot90(a), lambda a, b: torch.rot90(a)),
    ],
)
def test_rows_match_torch_and_its_gradient(name, ours, theirs):
    gen = torch.Generator().manual_seed(3)
    a = torch.rand(4, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    b = torch.rand(4, 3, generator=gen, dtype=torch.float64, requires_grad=True)
    f = npgrad.function(ours, mode="auto")
    got, want = f(a, b), theirs(a, b)
    torch.testing.assert_close(got, want)
    g = torch.rand(want.shape, generator=gen, dtype=torch.float64)
    used = [a] if name in ("sinc", "pinv", "rot90") else [a, b]
    torch.testing.assert_close(
        torch.autograd.grad(got, used, g), torch.autograd.grad(want, used, g)
    )


def test_lstsq_and_pinv_gradients_at_an_exact_zero_singular_value_are_finite():
    # a zero column: a singular value of exactly 0, dropped by any cut; the gradient
    # is the fixed-rank one (torch's pinv backward), the same for every rcond
    a = np.array([[1.0, 0, 0], [0, 2.0, 0], [0, 0, 0], [0, 0, 0]])
    b = np.array([1.0, 2, 3, 4])
    grads = [
        npgrad.grad(lambda a, rc=rc: np.sum(np.linalg.lstsq(a, b, rcond=rc)[0]))(a)
        for rc in (None, -1, 0, 1e-10)
    ]
    assert all(np.isfinite(g).all() for g in grads)
    for g in grads[1:]:
        np.testing.assert_allclose(g, grads[0], rtol=1e-12, atol=1e-12)
    gp = npgrad.grad(lambda a: np.sum(np.linalg.pinv(a, rcond=1e-8)))(a)
    gn = npgrad.grad(lambda a: np.sum(np.linalg.pinv(a)))(a)
    np.testing.assert_allclose(gp, gn, rtol=1e-12, atol=1e-12)


def test_eigvalsh_reads_a_lower_case_uplo_as_numpy():
    a = np.random.default_rng(0).normal(size=(3, 3))
    for uplo in ("u", "l"):
        want = np.linalg.eigvalsh(a, UPLO=uplo)
        got = npgrad.value_and_grad(lambda a, u=uplo: np.sum(np.linalg.eigvalsh(a, UPLO=u)))(a)
        np.testing.assert_allclose(got[0], want.sum(), rtol=1e-12)


def test_a_complete_qr_under_jacrev_is_refused_by_name():
    import torch

    op = npgrad.function(lambda a: np.linalg.qr(a, mode="complete")[0][:, :2], mode="auto")
    with pytest.raises(npgrad.TraceError, match="jacrev.*npgrad.jacobian can"):
        torch.func.jacrev(op)(torch.randn(4, 2, dtype=torch.float64))


def test_trapezoid_refuses_a_spacing_its_integer_samples_cannot_hold_as_numpy():
    import torch

    y = np.array([1, 2, 3], dtype=np.int8)
    with pytest.raises(OverflowError, match="300 out of bounds for int8"):
        np.trapezoid(y, dx=300)  # NumPy 2's answer, which npgrad must give too
    op = npgrad.function(lambda y: np.trapezoid(y, dx=300), mode="auto")
    with pytest.raises(OverflowError, match="300 out of bounds for int8"):
        op(torch.from_numpy(y))


@pytest.mark.parametrize("upper", [False, True])
def test_cholesky_of_a_complex_hermitian_matrix_has_the_central_difference_gradient(upper):
    """NumPy reads one triangle as Hermitian: the other triangle's mirror must be the
    conjugate (a plain transpose gave the imaginary part a wrong gradient)."""
    rng = np.random.default_rng(0)
    b = rng.normal(size=(3, 3)) + 1j * rng.normal(size=(3, 3))
    a = b @ b.conj().T + 3 * np.eye(3)
    w = rng.normal(size=(3, 3))

    def f(re, im):
        return np.sum(w * np.abs(np.linalg.cholesky(re + 1j * im, upper=upper)) ** 2)

    got = npgrad.grad(f, argnums=(0, 1))(a.real.copy(), a.imag.copy())
    eps = 1e-6
    for k in range(2):
        fd = np.zeros((3, 3))
        for i in range(3):
            for j in range(3):
                hi, lo = [a.real.copy(), a.imag.copy()], [a.real.copy(), a.imag.copy()]
                hi[k][i, j] += eps
                lo[k][i, j] -= eps
                fd[i, j] = (f(*hi) - f(*lo)) / (2 * eps)
        np.testing.assert_allclose(got[k], fd, atol=1e-7)
