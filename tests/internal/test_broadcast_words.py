"""Two-input ufuncs whose operands do not broadcast raise NumPy's ValueError with
NumPy's words ("operands could not be broadcast together with shapes (4,) (3,)"),
not torch's ("The size of tensor a (4) must match the size of tensor b (3)...")."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import npgrad
import npgrad._mappings  # noqa: F401 - the rows
from npgrad._trace._registry import UFUNCS

SHAPES = [((4,), (3,)), ((2, 3), (4, 1, 2))]


def _numpy_words(ufunc, a, b):
    try:
        ufunc(a, b)
    except ValueError as e:
        return str(e).strip() if str(e).startswith("operands could not") else None
    except Exception:  # noqa: BLE001 - another refusal (no float loop): not this test's
        return None
    return None


CASES = [
    pytest.param(u, sa, sb, id=f"{u.__name__}-{sa}-{sb}")
    for u in sorted(UFUNCS, key=lambda u: u.__name__)
    if u.nin == 2
    for sa, sb in SHAPES
    if _numpy_words(u, np.ones(sa), np.ones(sb)) is not None
]


def test_the_sweep_covers_the_two_input_ufuncs():
    assert len(CASES) > 40


@pytest.mark.parametrize("ufunc, sa, sb", CASES)
def test_operands_that_do_not_broadcast_get_numpys_words(ufunc, sa, sb):
    words = _numpy_words(ufunc, np.ones(sa), np.ones(sb))
    op = npgrad.function(lambda a, b: ufunc(a, b), name="u", mode="auto")
    with pytest.raises(ValueError) as got:
        op(torch.ones(sa, dtype=torch.float64), torch.ones(sb, dtype=torch.float64))
    assert str(got.value).endswith(words)


@pytest.mark.parametrize("spell", ["a * b", "a - b", "b / a", "a ** b"])
def test_operators_get_them_too(spell):
    a, b = np.ones(4), np.ones(3)
    with pytest.raises(ValueError) as want:
        eval(spell)
    with pytest.raises(ValueError) as got:
        npgrad.grad(lambda a: np.sum(eval(spell, {"a": a, "b": b})))(a)
    assert str(got.value).endswith(str(want.value).strip())


PRODUCTS = [((3, 4), (5,)), ((3, 3), (2, 3)), ((4,), (3,)), ((2, 3, 4), (5, 2)), ((4,), (5, 3))]


@pytest.mark.parametrize("sa, sb", PRODUCTS, ids=[f"{a}@{b}" for a, b in PRODUCTS])
@pytest.mark.parametrize(
    "f", [np.dot, np.matmul, lambda x, y: x @ y], ids=["dot", "matmul", "operator"]
)
def test_misaligned_products_get_numpys_words(f, sa, sb):
    # torch's were "mat1 and mat2 shapes cannot be multiplied (3x3 and 2x3)"
    with pytest.raises(ValueError) as want:
        f(np.ones(sa), np.ones(sb))
    op = npgrad.function(lambda a, b: f(a, b), name="p", mode="auto")
    with pytest.raises(ValueError) as got:
        op(torch.ones(sa, dtype=torch.float64), torch.ones(sb, dtype=torch.float64))
    assert str(got.value).endswith(str(want.value))
