"""The NumPy-level API's short route is taken where it should be (the public tests,
tests/test_numpy_api_routes.py, check that it answers as the general route does)."""

from __future__ import annotations

import numpy as np
import pytest

import npgrad
from npgrad import _numpy_api

X, T = np.linspace(-1.0, 1.0, 6), np.linspace(0.0, 2.0, 6)


@pytest.fixture
def taken(monkeypatch):
    runs = []
    real = _numpy_api._quick_value_and_grad

    def spy(*args, **kwargs):
        out = real(*args, **kwargs)
        runs.append(out is not None)
        return out

    monkeypatch.setattr(_numpy_api, "_quick_value_and_grad", spy)
    return runs


def _mse(x, t):
    return np.mean((x - t) ** 2)


@pytest.mark.parametrize(
    "call",
    [
        lambda: npgrad.grad(_mse)(X, T),
        lambda: npgrad.value_and_grad(_mse)(X, T),
        lambda: npgrad.grad(_mse, argnums=(0, 1))(X, T),
        lambda: npgrad.grad(_mse)(X.astype(np.float32), T.astype(np.float32)),
    ],
    ids=["grad", "value_and_grad", "argnums tuple", "float32"],
)
def test_the_common_call_takes_the_short_route(taken, call):
    call()
    assert taken == [True]


@pytest.mark.parametrize(
    "call",
    [
        lambda: npgrad.grad(_mse)(X, t=T),  # a keyword
        lambda: npgrad.grad(lambda p, t: _mse(p["x"], t))({"x": X}, T),  # a container
        lambda: npgrad.grad(lambda x, t: (_mse(x, t), None), has_aux=True)(X, T),
        lambda: npgrad.grad(_mse)(float(X[0]), T),  # a Python float
    ],
    ids=["keyword", "container", "has_aux", "python float"],
)
def test_other_calls_take_the_general_route(taken, call):
    call()
    assert True not in taken
