"""NumPy 2's array-API rows: what their records cannot say (refusals, NumPy's errors,
the subgradients picked, values under torch.func)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import npgrad


def _auto(f, **kw):
    return npgrad.function(f, mode="auto", **kw)


def _x(*shape):
    return torch.randn(*shape, dtype=torch.float64, generator=torch.Generator().manual_seed(0))


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda a: np.cumulative_sum(a, axis=0, out=np.empty((3, 4))), r"cumulative_sum"),
        (lambda a: np.linalg.multi_dot([a, a.T, a], out=np.empty((3, 4))), r"multi_dot"),
        (lambda a: np.matvec(a, a[0, :4], axes=[(0, 1), 0, 0]), r"np.matvec\(\.\.\., axes="),
    ],
    ids=["cumulative_sum-out", "multi_dot-out", "matvec-axes"],
)
def test_refused_options_name_the_call(call, match):
    with pytest.raises(npgrad.TraceError, match=match):
        _auto(call)(_x(3, 4))


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda a: np.linalg.cross(a[:, :2], a[:, 1:3]), ValueError),
        (lambda a: np.linalg.cross(a[:, :3], a[:, :3], axis=2), IndexError),
        (lambda a: np.linalg.matrix_norm(a, ord=3), ValueError),
        (lambda a: np.linalg.matrix_norm(a[0]), ValueError),
        (lambda a: np.linalg.outer(a, a[0]), ValueError),
        (lambda a: np.linalg.multi_dot([a]), ValueError),
        (lambda a: np.linalg.multi_dot([a, a.T[None], a]), np.linalg.LinAlgError),
        (lambda a: np.linalg.cond(a, "fro"), np.linalg.LinAlgError),
        (lambda a: np.linalg.cond(a[:, :3], 3), ValueError),
        (lambda a: np.linalg.matrix_rank(a, tol=1.0, rtol=1.0), ValueError),
        (lambda a: np.linalg.tensorinv(a, ind=0), ValueError),
        (lambda a: np.cumulative_sum(a), ValueError),
        (lambda a: np.matrix_transpose(a[0]), ValueError),
        (lambda a: np.astype(a, np.float32, device="cuda"), ValueError),
    ],
)
def test_errors_are_numpys(call, error):
    a = _x(3, 4)
    with pytest.raises(error):
        call(a.numpy())
    with pytest.raises(error):
        _auto(call)(a)


def test_cond_of_a_singular_matrix_is_inf_as_numpy():
    for p in (None, "fro", 1):
        f = _auto(lambda a, p=p: np.linalg.cond(a * 0, p), nonfinite="ignore")
        assert np.linalg.cond(np.zeros((3, 3)), p) == np.inf
        assert f(_x(3, 3)).item() == np.inf


def test_vector_norm_subgradients():
    # the 2-norm at zero: 0; the inf-norm at a tie: shared among the tied elements
    zero = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    _auto(lambda a: np.linalg.vector_norm(a))(zero).backward()
    assert torch.equal(zero.grad, torch.zeros(3, dtype=torch.float64))
    tie = torch.tensor([2.0, -2.0, 1.0], dtype=torch.float64, requires_grad=True)
    _auto(lambda a: np.linalg.vector_norm(a, ord=np.inf))(tie).backward()
    assert torch.allclose(tie.grad, torch.tensor([0.5, -0.5, 0.0], dtype=torch.float64))


def test_matrix_rank_is_an_integer_without_gradient_and_runs_under_vmap():
    a = _x(2, 4, 4)
    got = torch.func.vmap(_auto(lambda m: np.linalg.matrix_rank(m)))(a)
    assert got.dtype == torch.int64 and got.tolist() == [4, 4]
    assert _auto(lambda v: np.linalg.matrix_rank(v))(_x(4)) == 1


def test_matrix_rank_of_a_vector_under_vmap_is_refused_by_name():
    op = _auto(lambda v: np.linalg.matrix_rank(v))
    with pytest.raises(npgrad.TraceError, match=r"matrix_rank of a 1-d array"):
        torch.func.vmap(op)(_x(2, 4))


def test_astype_without_copy_is_the_input():
    def f(a):
        b = np.astype(a, a.dtype, copy=False)
        assert b is a
        return b * 2

    assert torch.equal(_auto(f)(_x(3)), _x(3) * 2)


@pytest.mark.parametrize(
    "loss",
    [
        lambda a: np.linalg.vector_norm(a, ord=3, axis=(0, 1)),
        lambda a: np.linalg.matrix_norm(a, ord=2),
        lambda a: np.linalg.cond(a + 4 * np.eye(3), 1),
        lambda a: np.linalg.cond(a),
        lambda a: np.sum(np.linalg.vecdot(a, a, axis=0)),
        lambda a: np.linalg.multi_dot([a[0], a, a, a[1]]),
        lambda a: np.sum(np.linalg.tensorinv(a + 4 * np.eye(3), ind=1)),
        lambda a: np.sum(np.cumulative_sum(a, axis=1, include_initial=True) ** 2),
        lambda a: np.sum(np.matvec(a, a[0]) ** 2),
    ],
    ids=str.split("vector_norm matrix_norm cond-1 cond vecdot multi_dot tensorinv cumsum matvec"),
)
def test_rows_read_no_values_under_vmap_of_grad(loss):
    op = _auto(loss)
    xs = torch.stack([_x(3, 3), 2 * _x(3, 3)])
    got = torch.func.vmap(torch.func.grad(op))(xs)
    want = torch.stack([torch.func.grad(op)(x) for x in xs])
    torch.testing.assert_close(got, want)
