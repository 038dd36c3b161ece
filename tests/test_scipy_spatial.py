"""scipy.spatial.distance (cdist, pdist, squareform) and scipy.optimize's Rosenbrock
function followed in automatic mode: what the records cannot say (refusals, the
subgradient at zero distances, ties, precision far from the origin, import order)."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest
import scipy.optimize as opt
import scipy.spatial.distance as dist
import torch

import npgrad

from .conftest import TOL

RNG = np.random.default_rng(3)
A, B = RNG.normal(size=(5, 3)), RNG.normal(size=(4, 3))


def _traced(fn, *args, **kw):
    return npgrad.function(fn, name="f", **kw)(*[torch.tensor(a) for a in args])


@pytest.mark.parametrize(
    "fn, error, message",
    [
        pytest.param(
            lambda a: dist.cdist(a, a, lambda u, v: 0.0),
            npgrad.TraceError,
            r"cdist\(\.\.\., metric=<a function>\) is not followed",
            id="callable",
        ),
        pytest.param(
            lambda a: dist.pdist(a, "hamming"),
            npgrad.TraceError,
            r"pdist\(\.\.\., metric='hamming'\) is not followed",
            id="hamming",
        ),
        pytest.param(
            lambda a: dist.cdist(a, a, "test_euclidean"),
            npgrad.TraceError,
            r"metric='test_euclidean'\) is not followed",
            id="test-metric",
        ),
        pytest.param(
            lambda a: dist.cdist(a, a, out=np.empty((5, 5))),
            npgrad.TraceError,
            r"out=\.\.\.\) writes into an existing array",
            id="out",
        ),
        pytest.param(
            lambda a: dist.pdist(a, "minkowski", p=0),
            npgrad.TraceError,
            r"metric='minkowski', p=0\.0\) is not followed",
            id="p-zero",
        ),
        pytest.param(
            lambda a: dist.pdist(a, "minkowski", p=a[0, 0]),
            npgrad.TraceError,
            r"p=<a traced array>",
            id="p-traced",
        ),
        pytest.param(
            lambda a: dist.pdist(a, "mahalanobis", VI=np.eye(2)),
            npgrad.TraceError,
            r"VI=\.\.\.\) of shape \(2, 2\): VI must be 3x3",
            id="VI-shape",
        ),
        pytest.param(
            lambda a: dist.pdist(a * 1j), npgrad.TraceError, r"complex points", id="complex"
        ),
        pytest.param(
            lambda a: dist.pdist(a, "nosuch"), ValueError, r"Unknown Distance Metric", id="unknown"
        ),
        pytest.param(
            lambda a: dist.pdist(a, "euclidean", p=3),
            TypeError,
            r"unexpected keyword argument 'p'",
            id="keyword",
        ),
        pytest.param(
            lambda a: dist.pdist(a, "euclidean", w=-np.ones(3)),
            ValueError,
            r"non-negative",
            id="negative-w",
        ),
        pytest.param(
            lambda a: dist.pdist(a[:3], "mahalanobis"),
            ValueError,
            r"number of observations \(3\) is too small",
            id="mahalanobis-few",
        ),
        pytest.param(
            lambda a: dist.squareform(a[:3]), ValueError, r"must be symmetric", id="checks"
        ),
        pytest.param(
            lambda a: dist.squareform(a[:3], force="tomatrix"),
            ValueError,
            r"Forcing 'tomatrix'",
            id="force",
        ),
        pytest.param(lambda a: opt.rosen_hess(a), ValueError, r"x must be a vector", id="hess-2d"),
    ],
)
def test_what_is_not_followed_is_named(fn, error, message):
    with pytest.raises(error, match=message):
        _traced(fn, A)


@pytest.mark.parametrize(
    "metric, kw",
    [
        ("euclidean", {}),
        ("seuclidean", {"V": np.ones(3)}),
        ("mahalanobis", {"VI": np.eye(3)}),
        ("minkowski", {"p": 3}),
        ("minkowski", {"p": 0.5}),
        ("cityblock", {}),
        ("euclidean", {"w": np.array([1.0, 0.0, 2.0])}),
    ],
)
def test_a_zero_distance_has_the_subgradient_zero(metric, kw):
    """Not differentiable where two points meet: the gradient there is 0, no nan."""
    b = B.copy()
    b[1] = A[0]  # XA[0] meets XB[1]
    g = npgrad.grad(lambda a: dist.cdist(a, b, metric, **kw)[0, 1])(A.copy())
    assert np.all(g == 0)
    x = np.concatenate([A, A[:1]])  # a duplicate point: pair (0, 5)
    g = npgrad.grad(lambda x: dist.pdist(x, metric, **kw)[4])(x)
    assert np.all(g == 0)
    # every other distance keeps its gradient, finite
    g = npgrad.grad(lambda a: np.sum(dist.cdist(a, a, metric, **kw)))(A.copy())
    assert np.all(np.isfinite(g)) and np.any(g != 0)


@pytest.mark.parametrize("metric", ["euclidean", "seuclidean", "minkowski"])
def test_a_second_derivative_through_coinciding_points_is_refused(metric):
    """The subgradient would drop the curvature of d ** 2 (a smooth function) at
    coinciding points: a graph-building backward there raises, naming the pair."""
    x = A.copy()
    x[2] = x[1]
    w = RNG.normal(size=(5, 5))
    kw = {"V": np.ones(3)} if metric == "seuclidean" else {"p": 3} if metric == "minkowski" else {}
    with pytest.raises(npgrad.TraceError, match=r"cdist: a second derivative .*\(entry \[1, 2\]\)"):
        npgrad.hessian(lambda a: np.sum(w * dist.cdist(a, a, metric, **kw) ** 2))(x)
    with pytest.raises(npgrad.TraceError, match=r"pdist: .* coinciding points"):
        npgrad.hessian(lambda a: np.sum(np.exp(-dist.pdist(a, metric, **kw))))(x)
    # the first derivative is the subgradient's, unchanged, and finite
    g = npgrad.grad(lambda a: np.sum(w * dist.cdist(a, a, metric, **kw) ** 2))(x)
    assert np.all(np.isfinite(g))


def test_second_derivatives_of_distinct_points_and_of_the_diagonal():
    """cdist(X, X)'s own diagonal is zero whatever X: its Hessian is exact; and a
    Hessian in parameters other than the points never meets the guard."""
    w = RNG.normal(size=(5, 5))
    ws = w + w.T
    exact = np.kron(2 * (np.diag(ws.sum(1)) - ws), np.eye(3))  # of sum(w * |a_i - a_j|^2)
    h = npgrad.hessian(lambda a: np.sum(w * dist.cdist(a, a) ** 2))(A.copy())
    np.testing.assert_allclose(h.reshape(15, 15), exact, **TOL[torch.float64])
    x = A.copy()
    x[2] = x[1]

    def nll(theta):  # a kernel's length scale; the points are data
        return np.sum(np.exp(-dist.cdist(x, x) / np.exp(theta[0])))

    t = np.array([0.3])
    h = npgrad.hessian(nll)(t)
    eps = 1e-5
    fd = (npgrad.grad(nll)(t + eps) - npgrad.grad(nll)(t - eps)) / (2 * eps)
    np.testing.assert_allclose(h[0], fd, rtol=1e-6)


def test_chebyshev_shares_the_gradient_of_tied_coordinates():
    g = npgrad.grad(lambda a: dist.cdist(a, np.array([[1.0, -1.0]]), "chebyshev")[0, 0])(
        np.zeros((1, 2))
    )
    np.testing.assert_array_equal(g, [[-0.5, 0.5]])


def test_euclidean_far_from_the_origin_keeps_its_digits():
    """No |a|^2 + |b|^2 - 2 a.b shortcut: nearby points far out lose nothing."""
    a = 1e4 + RNG.uniform(0, 1e-2, (6, 3))
    b = 1e4 + RNG.uniform(0, 1e-2, (5, 3))
    for x, y in ((a, b), (a.astype(np.float32), b.astype(np.float32))):
        want = dist.cdist(x, y)  # float64 either way
        assert want.dtype == np.float64
        got = _traced(lambda x, y: dist.cdist(x, y), x, y)
        # float32 inputs: computed in float64 as SciPy does, then cast to float32
        np.testing.assert_allclose(got.numpy(), want, **TOL[got.dtype])
        got = _traced(lambda x: dist.pdist(x, "sqeuclidean"), x)
        np.testing.assert_allclose(got.numpy(), dist.pdist(x, "sqeuclidean"), **TOL[got.dtype])


def test_squareform_gradient_is_the_scatter_back():
    v = RNG.normal(size=6)
    g = npgrad.grad(lambda v: np.sum(dist.squareform(v) * np.arange(16.0).reshape(4, 4)))(v)
    w = np.arange(16.0).reshape(4, 4)
    np.testing.assert_array_equal(g, dist.squareform(w + w.T - np.diag(np.diag(2 * w))))
    m = RNG.normal(size=(4, 4))
    # the lower triangle is not read: no gradient there
    g = npgrad.grad(lambda m: np.sum(dist.squareform(m, checks=False)))(m)
    np.testing.assert_array_equal(g, np.triu(np.ones((4, 4)), 1))


def test_rosenbrock_derivatives_are_its_own():
    x = RNG.normal(size=6)
    np.testing.assert_allclose(npgrad.grad(opt.rosen)(x), opt.rosen_der(x), **TOL[torch.float64])
    np.testing.assert_allclose(
        npgrad.jacobian(opt.rosen_der)(x), opt.rosen_hess(x), **TOL[torch.float64]
    )
    np.testing.assert_allclose(
        npgrad.hessian(opt.rosen)(x), opt.rosen_hess(x), **TOL[torch.float64]
    )
    p = RNG.normal(size=6)
    np.testing.assert_allclose(
        npgrad.jacobian(lambda x: opt.rosen_der(x) @ p)(x), opt.rosen_hess_prod(x, p), rtol=1e-10
    )
    # float32 stays float32, as SciPy's
    g = npgrad.grad(opt.rosen)(x.astype(np.float32))
    assert g.dtype == np.float32 == opt.rosen_der(x.astype(np.float32)).dtype


def test_rows_under_compile_and_torch_func():
    torch._dynamo.reset()

    def fn(a):
        return np.sum(dist.pdist(a, "seuclidean", w=None)) + np.sum(
            dist.squareform(dist.cdist(a, a, "cityblock", w=np.ones(3)))
        )

    op = npgrad.function(fn, name="distances")
    x = torch.tensor(A, requires_grad=True)
    eager = torch.autograd.grad(op(x), x)[0]
    compiled = torch.compile(op, fullgraph=True, backend="aot_eager")
    torch.testing.assert_close(torch.autograd.grad(compiled(x), x)[0], eager)
    torch.testing.assert_close(torch.func.grad(op)(x.detach()), eager)


@pytest.mark.parametrize(
    "imports, call",
    [
        pytest.param(
            "from scipy.spatial.distance import cdist\nimport npgrad",
            "np.sum(cdist(a.reshape(3, 1), a.reshape(3, 1) ** 2))",
            id="cdist-first",
        ),
        pytest.param(
            "from scipy.spatial.distance import pdist, squareform\nimport npgrad",
            "np.sum(squareform(pdist(np.stack([a, a**2, np.cos(a)]), 'cosine')) ** 2)",
            id="pdist-first",
        ),
        pytest.param("from scipy.optimize import rosen\nimport npgrad", "rosen(a)", id="rosen"),
    ],
)
def test_names_imported_before_npgrad_are_followed(imports, call):
    code = (
        f"{imports}\nimport numpy as np\n"
        f"def f(a):\n    return {call}\n"
        "a = np.array([0.5, -1.0, 2.0])\n"
        "g = npgrad.grad(f)(a)\n"
        "num = [(f(a + 1e-6 * e) - f(a - 1e-6 * e)) / 2e-6 for e in np.eye(3)]\n"
        "print(bool(np.allclose(g, num, rtol=1e-5, atol=1e-6)))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "True"


_NONFINITE = [
    ("euclidean", {}),
    ("euclidean", {"w": np.array([1.0, 0.0, 2.0])}),
    ("sqeuclidean", {"w": np.array([1.0, 0.0, 2.0])}),
    ("cityblock", {}),
    ("chebyshev", {}),
    ("chebyshev", {"w": np.array([1.0, 0.0, 2.0])}),
    ("minkowski", {"p": 3}),
    ("minkowski", {"p": 0.5}),
    ("minkowski", {"p": np.inf}),
    ("cosine", {}),
    ("correlation", {"w": np.array([1.0, 0.0, 2.0])}),
    ("seuclidean", {"V": np.array([1.0, 2.0, 3.0])}),
    ("seuclidean", {"V": np.array([0.0, 2.0, 3.0])}),
    ("seuclidean", {"V": np.array([-1.0, 2.0, 3.0])}),
    ("mahalanobis", {"VI": np.eye(3)}),
    ("mahalanobis", {"VI": np.diag([1.0, -1.0, 1.0])}),
]


def _with(x, *entries):
    x = x.copy()
    for i, j, v in entries:
        x[i, j] = v
    return x


@pytest.mark.parametrize("metric, kw", _NONFINITE)
@pytest.mark.parametrize(
    "entries",
    [
        [(0, 0, np.nan)],
        [(0, 1, np.inf)],
        [(1, 2, -np.inf)],
        [(0, 1, np.nan), (1, 1, np.nan)],
        [(0, 0, np.inf), (2, 0, np.inf)],
        [(0, 0, np.nan), (0, 1, np.nan), (0, 2, np.nan)],
    ],
    ids=["nan", "inf", "-inf", "nan-nan", "inf-inf", "nan-row"],
)
def test_nan_and_inf_give_scipys_values_and_finite_gradients(metric, kw, entries):
    """nan and inf coordinates, a zero or negative V, an indefinite VI: SciPy's nan
    and inf, never a 0; the finite distances beside them keep their gradients."""
    with np.errstate(all="ignore"):  # SciPy warns of its own nan
        x = _with(np.random.default_rng(5).normal(size=(4, 3)), *entries)

        def entry(x, k):  # the 2 x 2 cdist's entries, then the 6 of pdist
            if k < 4:
                return dist.cdist(x[:2], x[2:], metric, **kw)[k // 2, k % 2]
            return dist.pdist(x, metric, **kw)[k - 4]

        for f in (
            lambda x: dist.cdist(x[:2], x[2:], metric, **kw),
            lambda x: dist.pdist(x, metric, **kw),
        ):
            np.testing.assert_allclose(
                _traced(f, x, nonfinite="ignore").numpy(),
                f(x),
                rtol=1e-12,
                atol=1e-12,
                equal_nan=True,
            )
        finite = np.isfinite(x)
        for k in range(10):
            if not np.isfinite(entry(x, k)):
                continue
            g = npgrad.grad(lambda x, k=k: entry(x, k))(x.copy())
            assert np.all(np.isfinite(g))
            eps, fd = 1e-6, np.zeros_like(x)
            for idx in zip(*np.nonzero(finite)):
                e = np.zeros_like(x)
                e[idx] = eps
                fd[idx] = (entry(x + e, k) - entry(x - e, k)) / (2 * eps)
            np.testing.assert_allclose(g[finite], fd[finite], rtol=1e-6, atol=1e-8)


def test_an_indefinite_form_is_nan_not_zero():
    want = dist.cdist([[0.0, 1]], [[1.0, 2]], "mahalanobis", VI=-np.eye(2))
    assert np.isnan(want).all()
    a, b = np.array([[0.0, 1.0]]), np.array([[1.0, 2.0]])
    got = _traced(
        lambda a, b: dist.cdist(a, b, "mahalanobis", VI=-np.eye(2)), a, b, nonfinite="ignore"
    )
    assert torch.isnan(got).all()
    # and its gradient is no silent 0 either: none reaches a nan distance
    g = npgrad.grad(lambda a: dist.cdist(a, b, "mahalanobis", VI=-np.eye(2))[0, 0])(a)
    np.testing.assert_array_equal(g, [[0.0, 0.0]])


def test_chebyshev_passes_over_nan_coordinates_as_scipy():
    """SciPy's running maximum (from 0) skips a nan difference: [nan, 1] to [1, 1]
    is at 0, a row of nans at 0 from everything, inf - inf skipped too."""
    x = np.array(
        [[np.nan, 1.0], [1.0, 1.0], [np.nan, np.nan], [np.inf, 3.0], [np.inf, -1.0], [0.5, 2.0]]
    )
    for f in (
        lambda x: dist.cdist(x, x, "chebyshev"),
        lambda x: dist.pdist(x, "chebyshev"),
        lambda x: dist.cdist(x, x[::-1], "minkowski", p=np.inf, w=np.array([0.0, 1.0])),
    ):
        want = f(x)
        assert np.isfinite(want[0] if want.ndim == 1 else want[0, 1])
        np.testing.assert_array_equal(_traced(f, x, nonfinite="ignore").numpy(), want)
    assert dist.cdist(x[:1], x[1:2], "chebyshev")[0, 0] == 0
    # the nan coordinate does not move the distance: no gradient there
    g = npgrad.grad(lambda x: dist.cdist(x[:1], x[5:], "chebyshev")[0, 0])(x.copy())
    np.testing.assert_array_equal(g[0], [0.0, -1.0])
    np.testing.assert_array_equal(g[5], [0.0, 1.0])


_ROSEN_SHAPES = [(), (0,), (1,), (2,), (3,), (4,), (5,), (1, 3), (3, 2), (3, 1), (2, 2, 2)]


@pytest.mark.parametrize("x_shape", _ROSEN_SHAPES, ids=str)
def test_rosenbrock_shapes_fail_as_scipys(x_shape):
    """Every shape (and p's length against x's) SciPy's code fails on raises SciPy's
    exception type; every shape it takes gives its values."""
    rng = np.random.default_rng(1)
    x = rng.normal(size=x_shape)
    calls = [(f, (x,)) for f in (opt.rosen, opt.rosen_der, opt.rosen_hess)]
    calls += [(opt.rosen_hess_prod, (x, rng.normal(size=s))) for s in _ROSEN_SHAPES]
    for f, args in calls:
        try:
            want = f(*args)
        except (IndexError, ValueError) as e:
            with pytest.raises(type(e)):
                _traced(f, *args)
        else:
            np.testing.assert_allclose(_traced(f, *args).numpy(), want, rtol=1e-12)


def test_rosen_hess_prod_refuses_a_p_of_another_length():
    x = np.array([1.0, 2, 3])
    for p in (np.array([1.1, 2, 3, 4]), np.array([1.1, 2])):
        with pytest.raises(ValueError):
            opt.rosen_hess_prod(x, p)
        with pytest.raises(ValueError, match=r"p has \d entries, x 3"):
            _traced(opt.rosen_hess_prod, x, p)
