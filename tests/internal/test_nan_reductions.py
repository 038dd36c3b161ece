"""What the records cannot say of the nan-reductions and the extremes: NumPy's
errors (an empty axis, an all-nan slice), the gradient at nan places, refusals."""

from __future__ import annotations

import re
import warnings

import numpy as np
import pytest
import torch

import npgrad


def _auto(f):
    return npgrad.function(f, mode="auto", nonfinite="ignore")


def _numpy_error(f, a):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        with pytest.raises(Exception) as caught:
            f(a)
    return caught.type, str(caught.value)


_EMPTY = [
    (lambda a: np.max(a), (0,)),
    (lambda a: np.min(a, axis=0), (0, 3)),
    (lambda a: a.max(axis=(0, 1)), (0, 3)),
    (lambda a: np.amax(a, keepdims=True), (2, 0)),
    (lambda a: np.argmax(a), (0,)),
    (lambda a: np.argmin(a, axis=0), (0, 3)),
    (lambda a: a.argmax(axis=1), (3, 0)),
    (lambda a: np.ptp(a), (0,)),
    (lambda a: np.ptp(a, axis=1), (2, 0)),
    (lambda a: np.nanmax(a), (0,)),
    (lambda a: np.nanmin(a, axis=0), (0, 3)),
    (lambda a: np.nanargmax(a), (0,)),
    (lambda a: np.nanargmin(a, axis=0), (0, 2)),
    (lambda a: np.fmax.reduce(a), (0,)),
    (lambda a: np.fmin.reduce(a, axis=1), (3, 0)),
    (lambda a: np.maximum.reduce(a), (0, 3)),
]


@pytest.mark.parametrize("case", range(len(_EMPTY)))
@pytest.mark.parametrize("dtype", [torch.float64, torch.int64])
def test_an_extreme_over_an_empty_axis_raises_numpys_error(case, dtype):
    f, shape = _EMPTY[case]
    a = torch.zeros(shape, dtype=dtype)
    kind, message = _numpy_error(f, a.numpy())
    with pytest.raises(kind, match=re.escape(message)) as caught:
        _auto(f)(a)
    assert str(caught.value).startswith("npgrad op "), str(caught.value)  # the module's prefix


def test_an_empty_array_reduced_over_a_nonempty_axis_or_with_initial_is_numpys():
    a = torch.zeros((0, 3), dtype=torch.float64)
    for f in (
        lambda a: np.max(a, axis=1),
        lambda a: np.argmin(a, axis=1),
        lambda a: np.nanmax(a, axis=1),
        lambda a: np.max(a, axis=0, initial=-1.0),
        lambda a: np.nanmin(a, axis=0, initial=2.0),
    ):
        want = f(a.numpy())
        got = _auto(f)(a)
        assert got.shape == want.shape and str(got.dtype).endswith(str(want.dtype))
        np.testing.assert_array_equal(got.numpy(), want)


@pytest.mark.parametrize("name", ["nanargmax", "nanargmin"])
def test_nanargmax_of_an_all_nan_slice_raises_numpys_error(name):
    f = getattr(np, name)
    x = np.array([[0.5, np.nan, 3.0], [np.nan, np.nan, np.nan], [1.0, 2.0, np.nan]])
    kind, message = _numpy_error(lambda a: f(a, axis=1), x)
    assert kind is ValueError and message == "All-NaN slice encountered"
    with pytest.raises(ValueError, match=f"^npgrad op .*: {message}\n"):
        _auto(lambda a: f(a, axis=1))(torch.tensor(x))
    # along the other axis every slice holds a number: NumPy's indices
    want = f(x, axis=0)
    np.testing.assert_array_equal(_auto(lambda a: f(a, axis=0))(torch.tensor(x)).numpy(), want)


def test_nanargmax_under_torch_func_is_refused_not_guessed():
    x = torch.tensor([[np.nan, 1.0], [2.0, np.nan]], dtype=torch.float64)
    op = npgrad.function(lambda a: np.nanargmax(a, axis=1), mode="auto")
    with pytest.raises(npgrad.TraceError, match="np.nanargmax needs .* all nan"):
        torch.func.vmap(op)(x[None])


@pytest.mark.parametrize(
    "f",
    [
        lambda a: np.nanprod(a, axis=1),
        lambda a: np.nanvar(a, axis=1, ddof=1),
        lambda a: np.nanstd(a, axis=0),
        lambda a: np.nanstd(a, axis=1, keepdims=True),
        lambda a: np.fmax.reduce(a, axis=1),
        lambda a: np.fmin.accumulate(a, axis=1),
    ],
)
def test_nan_places_get_no_gradient_and_nothing_warns(f):
    x = torch.tensor(
        [[1.5, np.nan, 3.0, -0.5], [np.nan, np.nan, np.nan, np.nan], [0.25, 2.0, np.nan, 1.0]],
        dtype=torch.float64,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # NumPy's all-nan slice warning
        want = f(x.numpy())
    x.requires_grad_()
    got = _auto(f)(x)  # under the suite's warnings-as-errors: the traced path is quiet
    np.testing.assert_array_equal(got.detach().numpy(), want)
    got.nansum().backward()
    assert torch.isfinite(x.grad).all()
    assert torch.count_nonzero(x.grad[torch.isnan(x.detach())]) == 0


def test_nanvar_refuses_an_integer_dtype_for_floats_and_mean_as_numpy():
    x = np.array([1.0, np.nan, 2.0])
    with pytest.raises(TypeError, match="dtype must be inexact"):
        np.nanvar(x, dtype=np.int64)
    with pytest.raises(TypeError, match="dtype must be inexact"):
        _auto(lambda a: np.nanvar(a, dtype=np.int64))(torch.tensor(x))
    with pytest.raises(npgrad.TraceError, match="mean="):
        _auto(lambda a: np.nanstd(a, mean=np.zeros(1)))(torch.tensor(x))
    with pytest.raises(ValueError, match="ddof and correction"):
        _auto(lambda a: np.nanvar(a, ddof=1, correction=1))(torch.tensor(x))
