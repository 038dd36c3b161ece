"""SciPy beyond ufuncs: scipy.special's logsumexp family, scipy.stats distributions,
scipy.linalg and scipy.signal followed in automatic mode, in every import style;
SciPy's own calls unchanged; users' rules with npgrad.implements."""

from __future__ import annotations

import math
import subprocess
import sys
import threading
import warnings

import numpy as np
import pytest
import scipy.linalg as la
import scipy.signal as sg
import scipy.special as sp
import scipy.stats as st
import torch

import npgrad

from .conftest import CUDA, FLOAT32_VS_FLOAT64, TOL

RNG = np.random.default_rng(0)


def _spd(n: int) -> np.ndarray:
    a = RNG.normal(size=(n, n))
    return a @ a.T + n * np.eye(n)


def _normal(*shape):
    return RNG.normal(size=shape)


def _positive(*shape):
    return RNG.uniform(0.5, 2.0, size=shape)


def _unit(*shape):
    return RNG.uniform(0.05, 0.95, size=shape)


X, MU, S = _normal(4, 3), _normal(3), _positive(3)
DF, A, B = RNG.uniform(2.0, 6.0, 3), _positive(3), _positive(3)
K = np.array([0, 1, 2, 5, 3, 2])
SPD, GEN, RHS = _spd(3), _normal(3, 3) + 3 * np.eye(3), _normal(3, 2)
ALPHA = np.array([1.5, 2.0, 3.0])
XD = RNG.dirichlet(ALPHA, size=4).T

_CONTINUOUS = {
    # distribution: (shape arguments, x, methods)
    "norm": ((), X, "logpdf pdf cdf logcdf sf logsf"),
    "expon": ((), np.abs(X) + 0.1, "logpdf pdf cdf logcdf sf logsf"),
    "laplace": ((), X, "logpdf pdf cdf logcdf sf logsf"),
    "logistic": ((), X, "logpdf pdf cdf logcdf sf logsf"),
    "cauchy": ((), X, "logpdf pdf cdf logcdf sf logsf"),
    "t": ((DF,), X, "logpdf pdf"),
    "gamma": ((A,), np.abs(X) + 0.1, "logpdf pdf"),
}

CASES: dict[str, tuple] = {}
for _d, (_shapes, _x, _methods) in _CONTINUOUS.items():
    for _m in _methods.split():
        CASES[f"{_d}.{_m}"] = (
            lambda x, loc, scale, *sh, d=_d, m=_m: getattr(getattr(st, d), m)(x, *sh, loc, scale),
            (_x + MU, MU, S, *_shapes),
        )
for _d in ("norm", "expon", "laplace", "logistic", "cauchy"):
    CASES[f"{_d}.ppf"] = (
        lambda q, loc, scale, d=_d: getattr(st, d).ppf(q, loc=loc, scale=scale),
        (_unit(4, 3), MU, S),
    )
CASES.update(
    {
        "norm.isf": (lambda q, m, s: st.norm.isf(q, m, s), (_unit(4, 3), MU, S)),
        "expon.isf": (lambda q, m, s: st.expon.isf(q, m, s), (_unit(4, 3), MU, S)),
        "norm-frozen.logpdf": (lambda x, m, s: st.norm(m, s).logpdf(x), (X, MU, S)),
        "t-frozen.logpdf": (lambda x, df: st.t(df).logpdf(x), (X, DF)),
        "gamma.cdf-x": (lambda x: st.gamma.cdf(x, A), (np.abs(X) + 0.1,)),
        "gamma.sf-x": (lambda x: st.gamma.sf(x, A, scale=2.0), (np.abs(X) + 0.1,)),
        "beta.logpdf": (lambda x, a, b: st.beta.logpdf(x, a, b), (_unit(4, 3), A, B)),
        "beta.pdf": (lambda x, a, b: st.beta.pdf(x, a, b), (_unit(4, 3), A, B)),
        "poisson.logpmf": (lambda mu: st.poisson.logpmf(K, mu), (_positive(6),)),
        "poisson.pmf": (lambda mu: st.poisson.pmf(K, mu), (_positive(6),)),
        "poisson.cdf": (lambda mu: st.poisson.cdf(K, mu), (_positive(6),)),
        "poisson.sf": (lambda mu: st.poisson.sf(K, mu), (_positive(6),)),
        "mvn.logpdf": (
            lambda x, m, c: st.multivariate_normal.logpdf(x, m, c),
            (X, MU, SPD),
        ),
        "mvn-frozen.logpdf": (
            lambda x: st.multivariate_normal(MU, SPD).logpdf(x) + st.multivariate_normal(MU).pdf(x),
            (X,),
        ),
        "mvn.logpdf-one": (lambda x, m, c: st.multivariate_normal.logpdf(x, m, c), (X[0], MU, SPD)),
        "mvn.pdf-diag": (
            lambda x, m, c: st.multivariate_normal.pdf(x, mean=m, cov=c),
            (X, MU, S),
        ),
        "mvn.logpdf-1d": (lambda x: st.multivariate_normal.logpdf(x, 0.5, 2.0), (X[:, 0],)),
        "dirichlet.logpdf": (lambda x, a: st.dirichlet.logpdf(x, a), (XD, ALPHA)),
        "dirichlet.pdf-implied": (lambda x, a: st.dirichlet.pdf(x, a), (XD[:2], ALPHA)),
        "logsumexp": (lambda a: sp.logsumexp(a), (X,)),
        "logsumexp-axis": (lambda a: sp.logsumexp(a, axis=1), (X,)),
        "logsumexp-axes-keepdims": (lambda a: sp.logsumexp(a, axis=(0, 1), keepdims=True), (X,)),
        "logsumexp-b": (lambda a, b: sp.logsumexp(a, axis=0, b=b), (X, _positive(3))),
        "logsumexp-sign": (
            lambda a: sp.logsumexp(a, axis=-1, b=np.array([1.0, -3.0, 0.5]), return_sign=True),
            (X,),
        ),
        "softmax": (lambda a: sp.softmax(a), (X,)),
        "softmax-axis": (lambda a: sp.softmax(a, axis=0), (X,)),
        "log_softmax-axis": (lambda a: sp.log_softmax(a, axis=1), (X,)),
        "log_softmax-axes": (lambda a: sp.log_softmax(a, axis=(0, 1)), (X,)),
        "cholesky": (lambda a: la.cholesky(a), (SPD,)),
        "cholesky-lower": (lambda a: la.cholesky(a, lower=True), (SPD,)),
        "cho_solve": (lambda a, b: la.cho_solve(la.cho_factor(a), b), (SPD, RHS)),
        "cho_solve-lower-vector": (
            lambda a, b: la.cho_solve(la.cho_factor(a, lower=True), b),
            (SPD, RHS[:, 0]),
        ),
        "det": (lambda a: la.det(a), (GEN,)),
        "inv": (lambda a: la.inv(a), (GEN,)),
        "solve": (lambda a, b: la.solve(a, b), (GEN, RHS)),
        "solve-transposed": (lambda a, b: la.solve(a, b, transposed=True), (GEN, RHS)),
        "solve-sym-upper": (lambda a, b: la.solve(a, b, assume_a="sym"), (GEN, RHS)),
        "solve-pos-lower": (
            lambda a, b: la.solve(a, b, assume_a="pos", lower=True),
            (SPD + np.triu(GEN, 1), RHS),
        ),
        "eigh-values": (lambda a: la.eigh(a, eigvals_only=True), (SPD,)),
        "svd-values": (lambda a: la.svd(a, compute_uv=False), (RHS,)),
        "expm": (lambda a: la.expm(a), (GEN / 3,)),
        "solve_sylvester": (lambda a, b, q: la.solve_sylvester(a, b, q), (GEN, SPD[:2, :2], RHS)),
    }
)
for _trans in (0, 1, "C"):
    for _lower in (False, True):
        CASES[f"solve_triangular-trans{_trans}-lower{_lower}"] = (
            lambda a, b, t=_trans, lo=_lower: la.solve_triangular(a, b, trans=t, lower=lo),
            (GEN, RHS),
        )
for _fn in ("convolve", "correlate", "fftconvolve"):
    for _mode in ("full", "same", "valid"):
        for _sh in ((7,), (3,)), ((3,), (7,)), ((5, 6), (2, 3)), ((3, 4, 5), (2, 2, 2)):
            CASES[f"{_fn}-{_mode}-{len(_sh[0])}d-{'small' if _sh[0][0] < 4 else 'large'}"] = (
                lambda a, b, f=_fn, m=_mode: getattr(sg, f)(a, b, mode=m),
                (_normal(*_sh[0]), _normal(*_sh[1])),
            )


def _outputs(out):
    return out if isinstance(out, tuple) else (out,)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_value_matches_scipy(case, dtype):
    fn, args = CASES[case]
    ref = _outputs(fn(*args))
    op = npgrad.function(fn, name=case)
    got = _outputs(op(*[torch.tensor(a, dtype=dtype) for a in args]))
    tol = TOL[torch.float64] if dtype == torch.float64 else FLOAT32_VS_FLOAT64
    for g, r in zip(got, ref, strict=True):
        assert g.dtype == dtype
        np.testing.assert_allclose(g.numpy(), np.asarray(r, dtype=np.float64), **tol)


@pytest.mark.parametrize("case", sorted(CASES))
def test_gradient_matches_central_differences(case):
    fn, args = CASES[case]
    op = npgrad.function(fn, name=case)
    tensors = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
    assert npgrad.check(op, *tensors, atol=1e-6, rtol=1e-5).ok


_EDGES = np.array([-np.inf, -2.0, 0.0, 0.3, 1.0, 2.5, np.inf, np.nan])
_QUANTILES = np.array([0.0, 0.2, 0.5, 1.0, 1.0, 0.7, -0.5, np.nan])


@pytest.mark.parametrize(
    "dist", ["norm", "expon", "laplace", "logistic", "cauchy", "gamma", "beta", "t"]
)
def test_edges_match_scipy(dist):
    # outside the support, at its ends, nan, and an invalid scale: SciPy's values
    shapes = {"gamma": (0.5,), "beta": (0.7, 2.0), "t": (3.0,)}.get(dist, ())
    d = getattr(st, dist)
    scale = np.array([1.0, 2.0, 0.5, -1.0, 1.0, 1.5, 1.0, 1.0])
    for method in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf", "ppf", "isf"):
        fn = getattr(d, method)
        if f"scipy.stats.{dist}.{method}" not in npgrad.supported():
            continue
        x = _QUANTILES if method in ("ppf", "isf") else _EDGES

        def call(x, scale, fn=fn):
            return fn(x, *shapes, loc=0.1, scale=scale)

        with np.errstate(all="ignore"):
            want = call(x, scale)
        got = npgrad.function(call, name=f"{dist}.{method}", nonfinite="ignore")(
            torch.tensor(x), torch.tensor(scale)
        )
        np.testing.assert_allclose(got.numpy(), want, err_msg=method, **TOL[torch.float64])


def _grads(value, inputs):
    grads = torch.autograd.grad(value.sum(), inputs)
    # SciPy (so npgrad) reads one triangle of a symmetric matrix, torch both: compare
    # the derivatives along symmetric directions, which are what both define
    return [g + g.mT if g.ndim == 2 and g.shape[0] == g.shape[1] else g for g in grads]


TORCH_REFERENCES = {
    # case: (npgrad's function, torch's own, the inputs)
    "norm": (
        lambda x, m, s: st.norm.logpdf(x, m, s),
        lambda x, m, s: torch.distributions.Normal(m, s).log_prob(x),
        (X, MU, S),
    ),
    "norm.cdf": (
        lambda x, m, s: st.norm.cdf(x, m, s),
        lambda x, m, s: torch.distributions.Normal(m, s).cdf(x),
        (X, MU, S),
    ),
    "t": (
        lambda x, df, m, s: st.t.logpdf(x, df, m, s),
        lambda x, df, m, s: torch.distributions.StudentT(df, m, s).log_prob(x),
        (X, DF, MU, S),
    ),
    "gamma": (
        lambda x, a, s: st.gamma.logpdf(x, a, scale=s),
        lambda x, a, s: torch.distributions.Gamma(a, 1 / s).log_prob(x),
        (np.abs(X) + 0.1, A, S),
    ),
    "beta": (
        lambda x, a, b: st.beta.logpdf(x, a, b),
        lambda x, a, b: torch.distributions.Beta(a, b).log_prob(x),
        (_unit(4, 3), A, B),
    ),
    "expon": (
        lambda x, s: st.expon.logpdf(x, scale=s),
        lambda x, s: torch.distributions.Exponential(1 / s).log_prob(x),
        (np.abs(X) + 0.1, S),
    ),
    "laplace": (
        lambda x, m, s: st.laplace.logpdf(x, m, s),
        lambda x, m, s: torch.distributions.Laplace(m, s).log_prob(x),
        (X, MU, S),
    ),
    "cauchy": (
        lambda x, m, s: st.cauchy.logpdf(x, m, s),
        lambda x, m, s: torch.distributions.Cauchy(m, s).log_prob(x),
        (X, MU, S),
    ),
    "poisson": (
        lambda mu: st.poisson.logpmf(K, mu),
        lambda mu: torch.distributions.Poisson(mu).log_prob(torch.tensor(K, dtype=mu.dtype)),
        (_positive(6),),
    ),
    "mvn": (
        lambda x, m, c: st.multivariate_normal.logpdf(x, m, c),
        lambda x, m, c: torch.distributions.MultivariateNormal(m, c).log_prob(x),
        (X, MU, SPD),
    ),
    "dirichlet": (
        lambda x, a: st.dirichlet.logpdf(x, a),
        lambda x, a: torch.distributions.Dirichlet(a).log_prob(x.T),
        (XD, ALPHA),
    ),
    "logsumexp": (
        lambda a: sp.logsumexp(a, axis=1),
        lambda a: torch.logsumexp(a, dim=1),
        (X,),
    ),
    "softmax": (lambda a: sp.softmax(a, axis=0), lambda a: torch.softmax(a, dim=0), (X,)),
    "cholesky": (
        lambda a: la.cholesky(a, lower=True),
        lambda a: torch.linalg.cholesky(a),
        (SPD,),
    ),
    "expm": (lambda a: la.expm(a), lambda a: torch.linalg.matrix_exp(a), (GEN / 3,)),
}


@pytest.mark.parametrize("case", sorted(TORCH_REFERENCES))
def test_value_and_gradient_match_torch(case):
    ours, theirs, args = TORCH_REFERENCES[case]
    ins = [torch.tensor(a, dtype=torch.float64, requires_grad=True) for a in args]
    got, want = npgrad.function(ours, name=case)(*ins), theirs(*ins)
    torch.testing.assert_close(got, want, **TOL[torch.float64])
    for g, w in zip(_grads(got, ins), _grads(want, ins), strict=True):
        torch.testing.assert_close(g, w, **TOL[torch.float64])


def test_eigenvectors_and_singular_vectors():
    # signs and order are LAPACK's; compare what is unique: reconstructions
    a = torch.tensor(SPD, requires_grad=True)
    w, v = npgrad.function(lambda a: la.eigh(a), name="eigh")(a)
    torch.testing.assert_close(v @ torch.diag(w) @ v.T, a, **TOL[torch.float64])
    np.testing.assert_allclose(w.detach().numpy(), la.eigh(SPD)[0], **TOL[torch.float64])
    u, s, vh = npgrad.function(lambda a: la.svd(a, full_matrices=False), name="svd")(
        torch.tensor(RHS)
    )
    torch.testing.assert_close(u @ torch.diag(s) @ vh, torch.tensor(RHS), **TOL[torch.float64])
    # a loss invariant to the eigenvectors' signs: well-separated eigenvalues
    f = npgrad.function(lambda a: np.sum(la.eigh(a)[1] ** 2 * np.arange(3.0)), name="ev")
    assert npgrad.check(f, torch.tensor(np.diag([1.0, 3.0, 6.0]) + 0.1, requires_grad=True)).ok


@pytest.mark.filterwarnings("ignore:npgrad op .m.. output 0 is not finite")
@pytest.mark.parametrize("dist", ["norm", "expon", "laplace", "cauchy"])
@pytest.mark.parametrize("loc, scale", [(0.3, 1.7), (1, 2), (0.0, -1.0), (0.2, math.inf)])
def test_number_loc_and_scale_match_array_ones(dist, loc, scale):
    # Python-number loc/scale take a path of their own: the same values and
    # gradients, bitwise, as 0-d arrays of them (the general path), and SciPy's values
    x = np.array([-1.5, -0.2, 0.0, 0.4, 2.5, np.nan])
    for m in ("logpdf", "pdf", "cdf", "logcdf", "sf", "logsf"):
        method = getattr(getattr(st, dist), m)
        runs = []
        for lo, sc in ((loc, scale), (np.array(float(loc)), np.array(float(scale)))):
            t = torch.tensor(x, requires_grad=True)
            fn = npgrad.function(lambda v, f=method, lo=lo, sc=sc: f(v, lo, sc), name="m")
            out = fn(t)
            (g,) = torch.autograd.grad(out.nansum(), [t])
            runs.append((out.detach().numpy(), g.numpy()))
        (v1, g1), (v2, g2) = runs
        assert np.array_equal(v1, v2, equal_nan=True), (dist, m)
        assert np.array_equal(g1, g2, equal_nan=True), (dist, m)
        with np.errstate(all="ignore"):
            np.testing.assert_allclose(v1, method(x, loc, scale), rtol=1e-13, err_msg=m)


def test_t_cdf_slope_at_zero_is_the_density():
    # exactly at 0 the incomplete beta function's slope is infinite times zero: the
    # series about 0 gives the density there (SciPy's value), in x and in loc alike
    x = torch.zeros(3, dtype=torch.float64, requires_grad=True)
    df = np.array([0.7, 3.0, 40.0])
    out = npgrad.function(lambda x: st.t.cdf(x, df, loc=0.0, scale=2.0), name="c")(x)
    (g,) = torch.autograd.grad(out.sum(), [x])
    np.testing.assert_allclose(out.detach().numpy(), 0.5, rtol=0, atol=0)
    np.testing.assert_allclose(g.numpy(), st.t.pdf(0.0, df, scale=2.0), rtol=1e-14)


@pytest.mark.parametrize(
    "fn, x",
    [
        pytest.param(lambda x: st.t.logsf(x, 300.0), 9.0, id="t.logsf-tail"),
        pytest.param(lambda x: st.t.cdf(x, 4.0), -1e3, id="t.cdf-tail"),
        pytest.param(lambda x: st.beta.logcdf(x, 5.0, 8.0), 1 - 1e-7, id="beta.logcdf-near-1"),
        pytest.param(lambda x: st.beta.sf(x, 5.0, 8.0), 1 - 1e-7, id="beta.sf-near-1"),
    ],
)
def test_t_and_beta_tails_keep_their_digits(fn, x):
    # no 1 - (a number near 1): the value matches SciPy's to 1e-12 relative, and
    # the slope float64 central differences of SciPy's at a step of 1e-6 of x's gap
    t = torch.tensor(x, dtype=torch.float64, requires_grad=True)
    got = npgrad.function(fn, name="tail")(t)
    (g,) = torch.autograd.grad(got, [t])
    np.testing.assert_allclose(got.item(), fn(x), rtol=1e-12)
    h = 1e-6 * min(abs(x), abs(1 - x))
    up, down = x + h, x - h  # the step actually taken, rounded
    np.testing.assert_allclose(g.item(), (fn(up) - fn(down)) / (up - down), rtol=1e-5)


def test_poisson_counts_are_constants():
    mu = torch.tensor(_positive(6), requires_grad=True)
    k = torch.tensor(K, dtype=torch.float64, requires_grad=True)
    out = npgrad.function(lambda k, mu: st.poisson.logpmf(k, mu), name="p")(k, mu)
    gk, gmu = torch.autograd.grad(out.sum(), (k, mu), allow_unused=True)
    assert gk is None or torch.all(gk == 0)
    torch.testing.assert_close(gmu, torch.tensor(K / mu.detach().numpy() - 1))


@pytest.mark.parametrize(
    "fn, message",
    [
        pytest.param(
            lambda x: st.t.ppf(x / 9, 3.0), r"scipy\.stats\.t\.ppf has no torch", id="t.ppf"
        ),
        pytest.param(
            lambda x: st.gamma.cdf(1.5, x), r"gamma\.cdf has no gradient .* shape a", id="gamma-a"
        ),
        pytest.param(
            lambda x: sg.detrend(x), r"in scipy\.signal\._signaltools\.detrend", id="unmapped"
        ),
        pytest.param(
            lambda x: la.eigh(x, np.eye(3)), r"eigh\(\.\.\., b=.*generalised", id="eigh-b"
        ),
        pytest.param(
            lambda x: sg.fftconvolve(x, x, axes=0), r"fftconvolve\(\.\.\., axes=", id="axes"
        ),
    ],
)
def test_what_is_not_followed_is_named(fn, message):
    x = torch.tensor(np.abs(SPD), requires_grad=True)
    with pytest.raises(npgrad.TraceError, match=message):
        npgrad.function(fn, name="e")(x)


def _run(code: str) -> str:
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr
    return out.stdout.strip()


@pytest.mark.parametrize(
    "imports, call",
    [
        pytest.param(
            "from scipy.special import logsumexp\nimport npgrad", "logsumexp(a)", id="from-first"
        ),
        pytest.param("import npgrad, scipy.special", "scipy.special.logsumexp(a)", id="module"),
        pytest.param(
            "import npgrad\nfrom scipy.stats import norm", "norm.logpdf(a, 0.5, 2.0)", id="norm"
        ),
        pytest.param(
            "from scipy.stats import norm\nlp = norm(0.5, 2.0).logpdf\nimport npgrad",
            "lp(a)",
            id="frozen-bound-first",
        ),
        pytest.param(
            "import scipy.stats as st\nimport npgrad",
            "st.multivariate_normal.logpdf(a, np.zeros(3), np.eye(3))",
            id="mvn",
        ),
    ],
)
def test_every_import_style_is_followed(imports, call):
    code = (
        f"{imports}\nimport numpy as np, torch\n"
        f"f = npgrad.function(lambda a: np.sum({call}), name='f')\n"
        "x = torch.linspace(-1, 1, 3, dtype=torch.float64, requires_grad=True)\n"
        "y = f(x)\ny.backward()\n"
        "a = x.detach().numpy()\n"
        f"print(bool(np.isclose(y.item(), np.sum({call}))), bool(x.grad.abs().sum() > 0))"
    )
    assert _run(code) == "True True"


def test_scipy_outside_a_trace_is_unchanged():
    code = (
        "import inspect, numpy as np, scipy.special as sp, scipy.stats as st, torch, npgrad\n"
        "fns = [sp.logsumexp, st.norm.logpdf.__func__]\n"
        "codes = [f.__code__ for f in fns]\n"
        "sigs = [inspect.signature(f) for f in fns]\n"
        "a = np.random.default_rng(1).normal(size=(5, 4))\n"
        "before = [sp.logsumexp(a, axis=0), st.norm.logpdf(a, 0.3, 1.7), sp.softmax(a)]\n"
        "untouched = all(f.__code__ is c for f, c in zip(fns, codes))\n"
        "npgrad.function(lambda x: sp.logsumexp(x), name='f')(torch.rand(3))\n"
        "after = [sp.logsumexp(a, axis=0), st.norm.logpdf(a, 0.3, 1.7), sp.softmax(a)]\n"
        "print(untouched, any(f.__code__ is c for f, c in zip(fns, codes)),\n"
        "      all(np.array_equal(p, q) for p, q in zip(before, after)),\n"
        "      [inspect.signature(f) for f in fns] == sigs)\n"
    )
    # not installed until a trace runs; then installed, same values bit for bit
    assert _run(code) == "True False True True"


def test_import_npgrad_and_a_trace_never_import_scipy():
    code = (
        "import sys, torch, numpy as np, npgrad\n"
        "npgrad.function(lambda x: np.sum(x), name='f')(torch.rand(3))\n"
        "print([m for m in sys.modules if m.startswith('scipy')])"
    )
    assert _run(code) == "[]"


def test_threads_share_scipy_safely():
    a = RNG.normal(size=(50,))
    want = st.norm.logpdf(a, 0.2, 1.3)
    f = npgrad.function(lambda x: np.sum(st.norm.logpdf(x, 0.2, 1.3)), name="f")
    errors = []

    def plain():
        for _ in range(50):
            if not np.array_equal(st.norm.logpdf(a, 0.2, 1.3), want):
                errors.append("plain")

    def traced():
        for _ in range(50):
            x = torch.tensor(a, requires_grad=True)
            if not np.isclose(f(x).item(), want.sum()):
                errors.append("traced")

    threads = [threading.Thread(target=t) for t in (plain, traced, plain, traced)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


# a rule registers for the whole process: each test registers in its own, so that the
# registry (and docs/supported.md's comparison) stays as shipped here
_TORCH_RULE = """
import numpy as np, scipy.special as sp, torch, npgrad

@npgrad.implements(sp.spence, rule="torch")
def spence(z):
    # the series of Li2(1 - z), for z in (0, 1]: a rule a user might write
    n = torch.arange(1, 400, dtype=z.dtype)
    return torch.sum((1 - z)[..., None] ** n / n**2, dim=-1)

f = npgrad.function(lambda x: sp.spence(x), name="spence")
x = torch.tensor([0.6, 0.8, 0.9], dtype=torch.float64, requires_grad=True)
print(np.allclose(f(x).detach().numpy(), sp.spence(x.detach().numpy()), rtol=1e-10),
      npgrad.check(f, x).ok, "scipy.special.spence" in npgrad.supported())
"""

_NUMPY_RULE = """
import numpy as np, scipy.stats as st, torch, npgrad

@npgrad.implements(st.norm.entropy, rule="numpy")
def entropy(loc=0.0, scale=1.0):
    return 0.5 * np.log(2 * np.pi * np.e) + np.log(scale) + 0 * loc

f = npgrad.function(lambda s: st.norm.entropy(0.0, s), name="h")
s = torch.tensor([0.5, 2.0], dtype=torch.float64, requires_grad=True)
print(np.allclose(f(s).detach().numpy(), st.norm.entropy(0.0, [0.5, 2.0]), rtol=1e-12),
      npgrad.check(f, s).ok, "scipy.stats.norm.entropy" in npgrad.supported())
"""


@pytest.mark.parametrize("code", [_TORCH_RULE, _NUMPY_RULE], ids=["torch-rule", "numpy-rule"])
def test_implements_a_users_rule(code):
    assert _run(code) == "True True True"


_REREGISTER = """
import numpy as np, scipy.special as sp, scipy.stats as st, torch, npgrad

x = torch.tensor([0.5, 1.5], dtype=torch.float64, requires_grad=True)
f = npgrad.function(lambda x: np.sum(sp.spence(x)), name="f")
g = npgrad.function(lambda s: np.sum(st.norm.entropy(0.0, s)), name="g")
seen = []
for k in (1.0, 2.0):  # the same cell run twice: the second rule replaces the first
    @npgrad.implements(sp.spence, rule="torch")
    def spence(z):
        return k * z
    @npgrad.implements("scipy.stats.norm.entropy", rule="numpy")
    def entropy(loc=0.0, scale=1.0):
        return k * scale + 0 * loc
    seen += [float(f(x)), float(g(x))]
errors = []
for target in ("scipy.special.spencee", "scipy.statz.norm.pdf", sp.gamma, np.sin):
    try:
        npgrad.implements(target)(lambda z: z)
    except ValueError as e:
        errors.append(str(e))
print(seen)
print("\\n".join(errors))
"""


def test_implements_again_replaces_a_users_rule_and_refuses_npgrads_and_misspellings():
    seen, *errors = _run(_REREGISTER).splitlines()
    assert seen == "[2.0, 2.0, 4.0, 4.0]"
    assert errors == [
        "npgrad.implements: 'scipy.special.spencee' names nothing in SciPy "
        "(scipy.special has no 'spencee')",
        "npgrad.implements: 'scipy.statz.norm.pdf' names nothing in SciPy (scipy has no 'statz')",
        "npgrad.implements: npgrad already follows scipy.special.gamma with its own rule, "
        "which a user's rule does not replace (npgrad.supported() lists them)",
        "npgrad.implements: npgrad already follows numpy.sin with its own rule, "
        "which a user's rule does not replace (npgrad.supported() lists them)",
    ]


_WRONG_RULE = """
import scipy.special, torch, npgrad

@npgrad.implements(scipy.special.cosm1, rule="torch")
def cosm1(x):
    return torch.sin(x)  # wrong: value and gradient agree with each other, not with SciPy

op = npgrad.function(lambda x: scipy.special.cosm1(x), name="c")
report = npgrad.check(op, torch.tensor([0.3, 1.0], dtype=torch.float64), raise_on_fail=False)
print([(r.name, r.ok) for r in report.inputs])
"""


def test_check_catches_a_wrong_users_rule_against_scipys_own_function():
    assert _run(_WRONG_RULE) == "[('value', False), ('x', False)]"


@pytest.mark.parametrize(
    "target",
    [len, math.exp, torch.sin, 42, "scipy.special", "numpy.no_such_function"],
    ids=["len", "math.exp", "torch.sin", "42", "a-module", "misspelt-numpy"],
)
def test_implements_refuses_a_target_it_could_never_follow(target):
    with pytest.raises((TypeError, ValueError), match=r"^npgrad.implements: "):
        npgrad.implements(target)


@pytest.mark.parametrize(
    "target", [np.asarray_chkfinite, np.zeros], ids=["asarray_chkfinite", "zeros"]
)
def test_implements_refuses_a_numpy_function_that_never_dispatches(target):
    # listed by supported() and never run would be a rule that silently does nothing
    with pytest.raises(TypeError, match=rf"'{target.__name__}' is not dispatched"):
        npgrad.implements(target)


def test_implements_takes_dispatched_numpy_functions_to_the_registry():
    # np.sum dispatches: past the dispatch check, to the registry's own refusal
    with pytest.raises(ValueError, match="already follows numpy.sum"):
        npgrad.implements(np.sum)(lambda a: a)


def test_implements_without_its_target_says_so():
    with pytest.raises(TypeError, match="without its target"):

        @npgrad.implements
        def cosm1(x):
            return x


def test_supported_lists_the_scipy_functions():
    names = set(npgrad.supported())
    assert {
        "scipy.special.logsumexp",
        "scipy.stats.norm.logpdf",
        "scipy.stats.multivariate_normal.logpdf",
        "scipy.linalg.cholesky",
        "scipy.signal.convolve",
    } <= names


def test_scipy_rows_under_compile_and_torch_func():
    torch._dynamo.reset()

    def fn(a, m):
        return np.sum(sp.logsumexp(a, axis=1) + st.norm.logpdf(a, m, 2.0).sum(1))

    op = npgrad.function(fn, name="lse-norm")
    x = torch.tensor(X, requires_grad=True)
    m = torch.tensor(MU)
    eager = torch.autograd.grad(op(x, m), x)[0]
    compiled = torch.compile(lambda a, m: op(a, m), fullgraph=True, backend="aot_eager")
    torch.testing.assert_close(torch.autograd.grad(compiled(x, m), x)[0], eager)
    torch.testing.assert_close(torch.func.grad(lambda a: op(a, m))(x.detach()), eager)


def test_scipy_imported_inside_the_first_trace_is_named_then_followed():
    code = (
        "import numpy as np, torch, npgrad\n"
        "def fn(a):\n"
        "    from scipy.special import logsumexp\n"
        "    return logsumexp(a)\n"
        "f = npgrad.function(fn, name='f')\n"
        "x = torch.rand(3, dtype=torch.float64)\n"
        "try:\n"
        "    f(x)\n"
        "except npgrad.TraceError as e:\n"
        "    print('imported while this trace ran' in str(e), 'logsumexp' in str(e))\n"
        "print(bool(torch.isclose(f(x), torch.logsumexp(x, 0))))\n"
    )
    assert _run(code).split() == ["True", "True", "True"]


@pytest.mark.skipif(not CUDA, reason="no CUDA device here")
@pytest.mark.parametrize(
    "case",
    [
        "norm.logpdf",
        "gamma.logpdf",
        "poisson.cdf",
        "mvn.logpdf",
        "logsumexp-b",
        "solve_triangular-trans1-lowerTrue",
        "convolve-same-2d-large",
        "dirichlet.logpdf",
    ],
)
def test_rows_on_cuda(case):
    fn, args = CASES[case]
    ref = _outputs(fn(*args))
    op = npgrad.function(fn, name=case)
    ins = [torch.tensor(a, device="cuda", requires_grad=True) for a in args]
    got = _outputs(op(*ins))
    for g, r in zip(got, ref, strict=True):
        assert g.device.type == "cuda"
        np.testing.assert_allclose(g.detach().cpu().numpy(), r, **TOL[torch.float64])
    assert all(g is not None for g in torch.autograd.grad(got[0].sum(), ins))


@pytest.mark.parametrize("method", ["cdf", "sf", "logcdf", "logsf", "logpdf", "pdf"])
def test_t_with_infinite_df_is_the_normal_limit(method):
    x = np.array([0.5, -1.5, 2.5])
    value, grad = npgrad.value_and_grad(lambda v: np.sum(getattr(st.t, method)(v, np.inf)))(x)
    np.testing.assert_allclose(value, np.sum(getattr(st.norm, method)(x)), rtol=1e-12)
    fd = [
        (getattr(st.norm, method)(v + 1e-6) - getattr(st.norm, method)(v - 1e-6)) / 2e-6 for v in x
    ]
    np.testing.assert_allclose(grad, fd, rtol=1e-6)


def test_t_with_a_df_beyond_its_digits_is_refused_by_name():
    with pytest.raises(npgrad.TraceError, match=r"scipy.stats.t.cdf: df above 1e\+06"):
        npgrad.grad(lambda v: np.sum(st.t.cdf(v, 1e10)))(np.array([0.5]))


def test_t_at_an_infinite_bound_and_far_in_the_tail_has_a_finite_gradient():
    # a censored likelihood: log(P(1 - mu < T < inf)); its slope is pdf / sf at 1 - mu
    g = npgrad.grad(lambda mu: np.sum(np.log(st.t.cdf(np.inf - mu, 4.0) - st.t.cdf(1.0 - mu, 4.0))))
    np.testing.assert_allclose(g(np.array([0.5])), st.t.pdf(0.5, 4.0) / st.t.sf(0.5, 4.0))
    tail = npgrad.grad(lambda v: np.sum(st.t.logcdf(v, 30.0)))(np.array([50.0, 1e12]))
    assert np.isfinite(tail).all() and tail[1] == 0.0


@pytest.mark.parametrize("method", ["sf", "logcdf"])
def test_beta_sf_and_logcdf_keep_their_digits_at_a_tiny_x(method):
    fn = getattr(st.beta, method)
    value, grad = npgrad.value_and_grad(lambda v: np.sum(fn(v, 0.01, 1.0)))(np.array([1e-17]))
    np.testing.assert_allclose(value, fn(1e-17, 0.01, 1.0), rtol=1e-12)
    fd = (fn(1e-17 * (1 + 1e-6), 0.01, 1.0) - fn(1e-17 * (1 - 1e-6), 0.01, 1.0)) / 2e-23
    np.testing.assert_allclose(grad, [fd], rtol=1e-5)


@pytest.mark.parametrize(
    "f",
    [
        pytest.param(sp.k0, id="k0"),
        pytest.param(sp.k1e, id="k1e"),
        pytest.param(lambda z: sp.kv(1.5, z), id="kv-1.5"),
        pytest.param(lambda z: sp.kv(-2.5, z), id="kv-minus-2.5"),
        pytest.param(lambda z: sp.kv(3, z), id="kv-3"),
        pytest.param(lambda z: sp.kve(2, z), id="kve-2"),
    ],
)
def test_bessel_k_at_tiny_arguments_is_scipys(f):
    # two nearly equal points in a Matern kernel: K_v at x ~ 1e-13 (it came out nan)
    z = np.array([1e-20, 3e-13, 1e-12, 1e-5])
    import npgrad

    np.testing.assert_allclose(npgrad.vjp(f, z)[0], f(z), rtol=1e-12)
    grad = npgrad.grad(lambda z: np.sum(np.log(f(z))))(z)
    step = z * 1e-6
    central = (np.log(f(z + step)) - np.log(f(z - step))) / (2 * step)
    np.testing.assert_allclose(grad, central, rtol=1e-6)


def test_bessel_k_at_tiny_arguments_of_other_orders_is_refused():
    import npgrad

    with pytest.raises(npgrad.TraceError, match="below about 1e-11"):
        npgrad.vjp(lambda z: sp.kv(0.3, z), np.array([1e-13]))


@pytest.mark.parametrize("scale", [1e154, 1e-170, 1.0], ids=["huge", "tiny", "plain"])
def test_scipy_linalg_norm_of_a_vector_scales_as_blas(scale):
    import npgrad

    x = np.array([3.0, 4.0]) * scale
    np.testing.assert_allclose(npgrad.vjp(la.norm, x)[0], la.norm(x), rtol=1e-15)
    np.testing.assert_allclose(npgrad.grad(la.norm)(x), [0.6, 0.8], rtol=1e-15)


def test_dawson_and_erfi_far_out_are_scipys():
    import npgrad

    x = np.array([49.9, 50.1, 1e3, 1e8, 1e17, -1e17, 1e300])
    np.testing.assert_allclose(npgrad.vjp(sp.dawsn, x)[0], sp.dawsn(x), rtol=1e-14)
    edges = np.array([np.inf, -np.inf])
    np.testing.assert_array_equal(npgrad.vjp(sp.dawsn, edges)[0], sp.dawsn(edges))
    np.testing.assert_array_equal(npgrad.vjp(sp.erfi, edges)[0], sp.erfi(edges))
    f32 = np.array([60.0, 1e8], np.float32)
    np.testing.assert_allclose(npgrad.vjp(sp.dawsn, f32)[0], sp.dawsn(f32), rtol=1e-6)


def test_entropy_with_a_zero_probability_has_finite_gradients_elsewhere():
    import npgrad

    p = np.array([0.0, 0.3, 0.7])
    g = npgrad.grad(st.entropy)(p)
    assert g[0] == np.inf  # -p log p's slope at 0
    h, q = 1e-7, p[1:]
    central = [
        (st.entropy(np.r_[0.0, q + h * e]) - st.entropy(np.r_[0.0, q - h * e])) / (2 * h)
        for e in np.eye(2)
    ]
    np.testing.assert_allclose(g[1:], central, rtol=1e-6)


def test_scipy_linalg_failures_are_numpys_linalgerror():
    # the jitter-and-retry pattern of GP code: except np.linalg.LinAlgError
    import npgrad

    def f(K):
        try:
            c = la.cho_factor(K)
        except np.linalg.LinAlgError:
            c = la.cho_factor(K + 10 * np.eye(2))
        return np.sum(la.cho_solve(c, np.ones(2)))

    K = np.array([[1.0, 2.0], [2.0, 1.0]])
    np.testing.assert_allclose(npgrad.vjp(f, K)[0], f(K), rtol=1e-12)


def test_scipy_qr_mode_r_of_a_stack_is_the_bare_array():
    import npgrad

    a = np.random.default_rng(0).standard_normal((2, 4, 3))
    got = npgrad.function(lambda a: la.qr(a, mode="r"), mode="auto")(torch.tensor(a))
    np.testing.assert_allclose(got.numpy(), la.qr(a, mode="r"), atol=1e-12)
    one = npgrad.function(lambda a: la.qr(a, mode="r")[0], mode="auto")(torch.tensor(a[0]))
    np.testing.assert_allclose(one.numpy(), la.qr(a[0], mode="r")[0], atol=1e-12)


@pytest.mark.parametrize("ufunc", [sp.expit, sp.erf, sp.k0, sp.dawsn, sp.exp1, sp.gammaln])
def test_scipy_ufuncs_without_a_half_loop_compute_where_scipy_does(ufunc):
    # NumPy's loop: the first that float16 casts to safely (float64 for expit, float32
    # for exp1); it stayed float16
    import npgrad

    x = np.array([1, 2], np.float16)
    got, want = npgrad.vjp(ufunc, x)[0], ufunc(x)
    assert got.dtype == want.dtype
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_scipy_linalg_check_finite_as_scipy():
    import npgrad

    a = np.array([[2.0, 0.5], [0.5, 1.0]])
    bad = a.copy()
    bad[0, 1] = np.inf
    for f in (la.inv, la.det, lambda m: la.solve(m, np.ones(2)), lambda m: la.lu_factor(m)[0]):
        with pytest.raises(ValueError, match="must not contain infs or NaNs"):
            f(bad)
        with pytest.raises(ValueError, match="must not contain infs or NaNs"):
            npgrad.vjp(lambda m, f=f: np.sum(f(m)), bad)
    # check_finite=False computes, as SciPy does
    assert np.isnan(npgrad.vjp(lambda m: np.sum(la.inv(m, check_finite=False)), bad)[0])


SINGULAR = {
    "zeros": np.zeros((3, 3)),
    "rank one": np.array([[1.0, 2.0], [2.0, 4.0]]),
    "stacked": np.array(
        [[[1.0, 2.0], [2.0, 4.0]], [[2.0, 1.0], [1.0, 3.0]], [[0.0, 0.0], [0.0, 0.0]]]
    ),
}


@pytest.mark.parametrize("a", list(SINGULAR.values()), ids=list(SINGULAR))
def test_lu_factor_of_a_singular_matrix_warns_and_factors_as_scipy(a):
    def caught(f):
        with pytest.warns(la.LinAlgWarning) as record:
            out = f()
        return out, [str(w.message) for w in record if w.category is la.LinAlgWarning]

    (lu, piv), words = caught(lambda: la.lu_factor(a))
    (got, got_piv), got_words = caught(
        lambda: npgrad.function(lambda m: la.lu_factor(m), name="lu", mode="auto")(torch.tensor(a))
    )
    np.testing.assert_allclose(got.numpy(), lu, **TOL[torch.float64])
    np.testing.assert_array_equal(got_piv.numpy(), piv)
    assert got_words == words  # one per singular matrix, its first zero pivot named
    # torch's derivative divides by the zero pivot: refused, never a nan gradient
    with pytest.warns(la.LinAlgWarning), pytest.raises(npgrad.TraceError, match="singular"):
        npgrad.grad(lambda m: np.sum(la.lu_factor(m)[0]))(a)


@pytest.mark.parametrize("keepdims", [False, True], ids=["plain", "keepdims"])
@pytest.mark.parametrize(
    "f", [st.skew, st.kurtosis, st.moment, st.gmean, st.hmean], ids=lambda f: f.__name__
)
def test_scipy_stats_of_a_number_is_a_sample_of_one(f, keepdims):
    # SciPy's axis_nan_policy reads a 0-d input as one observation (an IndexError before)
    x = np.float64(1.7)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # SciPy's small-sample warnings, not under test
        want = f(x, keepdims=keepdims)
    op = npgrad.function(
        lambda a: f(a, keepdims=keepdims), name="stat", mode="auto", nonfinite="ignore"
    )
    t = torch.tensor(x, requires_grad=True)
    got = op(t)
    assert got.shape == np.shape(want)
    np.testing.assert_allclose(got.detach().numpy(), want, **TOL[torch.float64])
    (g,) = torch.autograd.grad(got.sum(), t)
    if np.all(np.isfinite(want)):
        h = 1e-6
        fd = (np.sum(f(x + h, keepdims=keepdims)) - np.sum(f(x - h, keepdims=keepdims))) / (2 * h)
        assert abs(float(g) - fd) <= 1e-6
    else:
        assert float(g) == 0.0  # nan's place: no gradient, never a nan one


# --- the trigamma: exact values, derivatives and poles ------------------------------
# torch's own trigamma kernel is good to about 5e-10 relative near x = 1, gives 6.6e32
# at the pole -1, and zeta (npgrad's route) underflows from about 1e155: all here
TRIGAMMA_AT = np.array([1e-8, 1e-3, 0.1, 0.5, 1.0, 1.4616321449683622, 3.0, 10.0, 40.0, 1e5,
                        1e15, 1e16, 1e160, 1e300, math.inf, -0.5, -2.7, -100.5, 0.0, -1.0,
                        -3.0, -math.inf, math.nan])  # fmt: skip


def _trigamma_op():
    return npgrad.function(lambda x: sp.polygamma(1, x), mode="auto", nonfinite="ignore")


def test_the_trigamma_and_its_derivatives_are_scipys_elementwise():
    x = torch.tensor(TRIGAMMA_AT, requires_grad=True)
    got = _trigamma_op()(x)
    np.testing.assert_allclose(got.detach().numpy(), sp.polygamma(1, TRIGAMMA_AT), rtol=1e-15)
    got.sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), sp.polygamma(2, TRIGAMMA_AT), rtol=1e-14)
    finite = TRIGAMMA_AT[:10]
    h = npgrad.hessian(lambda x: np.sum(sp.polygamma(1, x)))(finite)
    np.testing.assert_allclose(np.diag(h), sp.polygamma(3, finite), rtol=1e-12)
    orders = np.array([1, 2, 1, 3])
    v, g = npgrad.value_and_grad(lambda x: np.sum(sp.polygamma(orders, x) * [1, 2, 3, 4]))(
        finite[2:6]
    )
    np.testing.assert_allclose(g, sp.polygamma(orders + 1, finite[2:6]) * [1, 2, 3, 4], rtol=1e-12)


@pytest.mark.filterwarnings("ignore:`torch.jit.script` is deprecated:FutureWarning")
def test_the_trigamma_under_forward_mode_keeps_its_poles_and_limits():
    # torch's zeta has no forward-mode rule: jvp and jacfwd get torch's trigamma kernel,
    # its pole and far-right values made SciPy's
    x = torch.tensor(TRIGAMMA_AT)
    value, tangent = torch.func.jvp(_trigamma_op(), (x,), (torch.ones_like(x),))
    want = sp.polygamma(1, TRIGAMMA_AT)
    np.testing.assert_allclose(value.numpy(), want, rtol=1e-9)  # torch's kernel's digits
    np.testing.assert_array_equal(np.isinf(value.numpy()), np.isinf(want))
    keep = TRIGAMMA_AT != -math.inf  # (the tangent there is nan, not SciPy's -inf)
    want = sp.polygamma(2, TRIGAMMA_AT[keep])
    np.testing.assert_allclose(tangent.numpy()[keep], want, rtol=1e-12)
