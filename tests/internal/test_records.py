"""The op records' runner: every record against NumPy's (or SciPy's) own values and
dtypes, its gradient against float64 central differences, and the coverage test.

A record (``records.Record``) runs, for each of its dtypes, on inputs drawn for its
domain with a fixed seed: once on NumPy arrays (the reference) and once through
``npgrad.function`` (automatic mode) on tensors.  Every output's value must match
(integers and bools exactly), and the engine's result dtype must be NumPy's.
"""

from __future__ import annotations

import importlib
import pkgutil
import zlib

import numpy as np
import pytest
import torch

import npgrad
import npgrad._mappings  # noqa: F401 - registers every row before the tests read ROWS
from npgrad._dtypes import NP_TO_TORCH, TORCH_TO_NP
from npgrad._trace._engine import trace
from npgrad._trace._methods import METHODS, OPERATORS
from npgrad._trace._registry import ROWS

from ..conftest import TOL
from . import records
from .records import Record


def collect() -> list[Record]:
    """The records of every module in ``records/``, new family modules included."""
    found = []
    for info in sorted(pkgutil.iter_modules(records.__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{records.__name__}.{info.name}")
        found.extend(getattr(module, "RECORDS", []))
    return found


RECORDS = collect()


def _draw_float(shape: tuple, domain: str, rng: np.random.Generator) -> np.ndarray:
    if domain == "real":
        return rng.uniform(-2.0, 2.0, shape)
    if domain == "positive":
        return rng.uniform(0.5, 2.5, shape)
    if domain == "unit":
        return rng.uniform(-0.9, 0.9, shape)
    if domain == "probability":
        return rng.uniform(0.1, 0.9, shape)
    if domain == "above_one":
        return rng.uniform(1.2, 3.0, shape)
    if domain == "nonzero":
        return rng.choice([-1.0, 1.0], shape) * rng.uniform(0.5, 2.0, shape)
    if domain == "spd":
        n = shape[-1]
        m = rng.uniform(-1.0, 1.0, shape)
        # well conditioned: m m^T plus n on the diagonal
        return m @ np.swapaxes(m, -1, -2) + n * np.eye(n)
    raise ValueError(f"unknown record domain {domain!r}")


def _draw(shape: tuple, domain: str, dtype: str, rng: np.random.Generator) -> np.ndarray:
    if dtype == "bool":
        return rng.random(shape) < 0.5
    if np.dtype(dtype).kind in "iu":
        unsigned = np.dtype(dtype).kind == "u"
        low = 1 if domain in ("positive", "nonzero", "above_one") or unsigned else -4
        a = rng.integers(low, 5, shape)
        if domain == "nonzero":
            a = a * rng.choice([-1, 1], shape)
        return a.astype(dtype)
    return _draw_float(shape, domain, rng).astype(dtype)


def inputs(rec: Record, dtype: str) -> list[np.ndarray]:
    # one seed per record and dtype, fixed across runs and machines (not hash())
    rng = np.random.default_rng(zlib.crc32(f"{rec.name}/{dtype}".encode()))
    return [_draw(s, d, dtype, rng) for s, d in zip(rec.shapes, rec.domains())]


def bound(rec: Record):
    """The record's function of its drawn inputs alone (the constants stay NumPy)."""

    def fn(*xs):
        return rec.fn(*xs, *rec.consts)

    fn.__name__ = rec.name.replace(".", "_")
    return fn


def leaves(out) -> list:
    """A result as a flat list of values (a tuple of outputs, a NumPy named tuple)."""
    if isinstance(out, (tuple, list)):
        return [v for o in out for v in leaves(o)]
    return [out]


CASES = [pytest.param(rec, dt, id=f"{rec.name}-{dt}") for rec in RECORDS for dt in rec.dtypes]


def _scipy_first(rec: Record) -> None:
    if any(c.startswith("scipy.") for c in rec.covers):
        pytest.importorskip("scipy.special")  # imported here only: never by npgrad


def test_records_have_unique_ids():
    names = [r.name for r in RECORDS]
    assert len(names) == len(set(names)), sorted({n for n in names if names.count(n) > 1})


@pytest.mark.parametrize("rec, dtype", CASES)
def test_record_values_and_dtypes(rec: Record, dtype: str):
    _scipy_first(rec)
    xs = inputs(rec, dtype)
    fn = bound(rec)
    want = leaves(fn(*[x.copy() for x in xs]))
    ts = [torch.from_numpy(x.copy()) for x in xs]
    got = leaves(npgrad.function(fn, name=fn.__name__)(*ts))
    traced = leaves(trace(fn, [t.clone() for t in ts], name=fn.__name__))
    assert len(got) == len(want) == len(traced), "a different number of outputs"
    for j, (w, g, t) in enumerate(zip(want, got, traced)):
        w = np.asarray(w)
        # the engine's dtype is NumPy's (npgrad.function then casts floats to the input's)
        assert TORCH_TO_NP[t.dtype] == w.dtype, f"output {j}: {t.dtype} but NumPy gives {w.dtype}"
        g = g.detach().numpy()
        assert g.shape == w.shape, f"output {j}: shape {g.shape} but NumPy gives {w.shape}"
        if w.dtype.kind in "biu":
            np.testing.assert_array_equal(g, w, err_msg=f"output {j}")
        else:
            # the tolerance of the dtype compared in (npgrad.function's output dtype)
            tol = TOL[NP_TO_TORCH[g.dtype]]
            if rec.rtol is not None:
                tol = dict(tol, rtol=rec.rtol)
            np.testing.assert_allclose(g, w.astype(g.dtype), **tol, err_msg=f"output {j}")


GRAD_CASES = [pytest.param(rec, id=rec.name) for rec in RECORDS if rec.grad]


@pytest.mark.parametrize("rec", GRAD_CASES)
def test_record_gradients(rec: Record):
    _scipy_first(rec)
    xs = inputs(rec, "float64")
    fn = bound(rec)
    want = leaves(fn(*[x.copy() for x in xs]))
    # a gradient check of integer outputs alone compares zero with zero: say grad=False
    assert any(np.asarray(w).dtype.kind == "f" for w in want), "grad=True but no float output"
    op = npgrad.function(fn, name=fn.__name__)

    def checked(*ts):
        out = leaves(op(*ts))
        if not torch.is_grad_enabled():
            # npgrad.check's difference quotients: a view of an input made under no_grad
            # still says requires_grad, and check's float() of it would warn
            out = [o.detach() for o in out]
        return tuple(out) if len(out) > 1 else out[0]

    # npgrad.check compares the vjp with a random cotangent, every float output at once
    npgrad.check(checked, *[torch.from_numpy(x) for x in xs], atol=1e-6, rtol=1e-5)


def registry_names() -> set[str]:
    names = {row.name for row in ROWS}
    names |= {f"ndarray.{m}" for m in METHODS}
    names |= {f"ndarray.{o}" for o in OPERATORS}
    return names


def test_every_row_method_and_operator_has_a_record():
    assert len(ROWS) > 100 and METHODS and OPERATORS  # the registry is loaded: no vacuous pass
    covered = {c for rec in RECORDS for c in rec.covers}
    missing = sorted(registry_names() - covered)
    assert not missing, f"registry rows with no record: {missing}"


def test_records_cover_only_registered_names():
    unknown = sorted({c for rec in RECORDS for c in rec.covers} - registry_names())
    assert not unknown, f"records name rows the registry does not have: {unknown}"


CUDA_CASES = [
    pytest.param(
        rec,
        id=rec.name,
        marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here"),
    )
    for rec in RECORDS
    if "float32" in rec.dtypes
]


@pytest.mark.parametrize("rec", CUDA_CASES)
def test_record_values_on_cuda(rec: Record):
    """Every record on CUDA (float32): the same values as NumPy's, nothing off the device."""
    _scipy_first(rec)
    xs = inputs(rec, "float32")
    fn = bound(rec)
    want = leaves(fn(*[x.copy() for x in xs]))
    ts = [torch.from_numpy(x.copy()).cuda() for x in xs]
    got = leaves(trace(fn, ts, name=fn.__name__, device="cuda"))
    for j, (w, g) in enumerate(zip(want, got)):
        assert g.device.type == "cuda", f"output {j} left the device"
        w = np.asarray(w)
        g = g.detach().cpu().numpy()
        if w.dtype.kind in "biu":
            np.testing.assert_array_equal(g, w, err_msg=f"output {j}")
        else:
            tol = (
                TOL[torch.float32] if rec.rtol is None else dict(TOL[torch.float32], rtol=rec.rtol)
            )
            np.testing.assert_allclose(g, w.astype(g.dtype), **tol, err_msg=f"output {j}")
