"""Fit models with scipy.optimize, the gradients from npgrad, the code plain NumPy.

Three problems, each an objective written in NumPy with no hand-derived gradient:

1. A regularised logistic regression, with L-BFGS-B (``jac=npgrad.grad``) and with
   trust-ncg (``jac=npgrad.grad``, ``hessp=npgrad.hvp``).
2. A Gaussian-process hyperparameter fit (log length scale, log signal variance, log
   noise variance) by the negative log marginal likelihood through a Cholesky
   factor and ``np.linalg.solve``, with L-BFGS-B and with trust-exact
   (``hess=npgrad.hessian``).
3. An exponential-decay curve fit with ``least_squares(jac=npgrad.jacobian(...))``.

    python examples/fit_with_scipy_optimize.py [--quick] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import numpy as np
from scipy.optimize import least_squares, minimize

import npgrad


# ------------------------------------------------------------- the problems
def logistic_data(n: int, d: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    w_true = rng.normal(size=d)
    y = (rng.uniform(size=n) < 1 / (1 + np.exp(-X @ w_true))).astype(np.int64)
    return X, y  # y stays an integer label array: npgrad passes it through as data


def logistic_loss(w: np.ndarray, X: np.ndarray, y: np.ndarray, lam: float = 0.1) -> float:
    z = X @ w
    # log(1 + e^z) - y z, written stably
    return np.mean(np.logaddexp(0.0, z) - y * z) + 0.5 * lam * np.sum(w**2)


def gp_data(n: int, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = np.sort(rng.uniform(-3, 3, size=n))
    y = np.sin(2 * x) + 0.1 * rng.normal(size=n)
    return x, y


def gp_nll(theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """Negative log marginal likelihood of a squared-exponential GP."""
    length, signal, noise = np.exp(theta[0]), np.exp(theta[1]), np.exp(theta[2])
    d2 = (x[:, None] - x[None, :]) ** 2
    K = signal * np.exp(-0.5 * d2 / length**2) + (noise + 1e-6) * np.eye(len(x))
    L = np.linalg.cholesky(K)
    z = np.linalg.solve(L, y)  # L z = y, so y' K^-1 y = z' z
    logdet = 2 * np.sum(np.log(np.diag(L)))
    return 0.5 * (z @ z) + 0.5 * logdet + 0.5 * len(x) * math.log(2 * math.pi)


def gp_nll_slogdet(theta: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """The same likelihood through ``solve`` and ``slogdet`` instead of a factor."""
    length, signal, noise = np.exp(theta[0]), np.exp(theta[1]), np.exp(theta[2])
    d2 = (x[:, None] - x[None, :]) ** 2
    K = signal * np.exp(-0.5 * d2 / length**2) + (noise + 1e-6) * np.eye(len(x))
    _, logdet = np.linalg.slogdet(K)
    return 0.5 * (y @ np.linalg.solve(K, y)) + 0.5 * logdet + 0.5 * len(x) * math.log(2 * math.pi)


def decay_data(n: int, seed: int = 2) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    t = np.linspace(0, 4, n)
    return t, 2.5 * np.exp(-1.3 * t) + 0.5 + 0.02 * rng.normal(size=n)


def decay_residuals(p: np.ndarray, t: np.ndarray, y: np.ndarray) -> np.ndarray:
    return p[0] * np.exp(-p[1] * t) + p[2] - y


# ------------------------------------------------------------------ fitting
def _summary(res, grad_fn, args) -> dict:
    g = grad_fn(res.x, *args)
    return {
        "x": res.x.tolist(),
        "fun": float(res.cost if hasattr(res, "cost") else res.fun),
        "success": bool(res.success),
        "grad_norm": float(np.linalg.norm(g)),
        "nit": int(getattr(res, "nit", getattr(res, "nfev", 0))),
        "message": str(res.message),
    }


def fit_all(quick: bool) -> dict:
    out = {}
    X, y = logistic_data(200 if quick else 1000, 5 if quick else 50)
    args = (X, y)
    w0 = np.zeros(X.shape[1])
    g = npgrad.grad(logistic_loss)
    res = minimize(logistic_loss, w0, args=args, jac=g, method="L-BFGS-B",
                   options={"gtol": 1e-10, "ftol": 1e-15})  # fmt: skip
    out["logistic_lbfgsb"] = _summary(res, g, args)
    res = minimize(logistic_loss, w0, args=args, jac=g, hessp=npgrad.hvp(logistic_loss),
                   method="trust-ncg", options={"gtol": 1e-8})  # fmt: skip
    out["logistic_trust_ncg"] = _summary(res, g, args)

    x, yg = gp_data(30 if quick else 64)
    args = (x, yg)
    theta0 = np.zeros(3)
    g = npgrad.grad(gp_nll)
    res = minimize(gp_nll, theta0, args=args, jac=g, method="L-BFGS-B",
                   options={"gtol": 1e-6, "ftol": 1e-13})  # fmt: skip
    out["gp_lbfgsb"] = _summary(res, g, args)
    res = minimize(gp_nll, theta0, args=args, jac=g, hess=npgrad.hessian(gp_nll),
                   method="trust-exact", options={"gtol": 1e-6})  # fmt: skip
    out["gp_trust_exact"] = _summary(res, g, args)

    t, yd = decay_data(40 if quick else 200)
    args = (t, yd)
    res = least_squares(decay_residuals, np.array([1.0, 1.0, 0.0]), args=args,
                        jac=npgrad.jacobian(decay_residuals), xtol=1e-12, ftol=1e-12)  # fmt: skip
    # the gradient of 0.5 * ||r||^2 is J' r
    out["decay_least_squares"] = _summary(
        res, lambda p, *a: npgrad.jacobian(decay_residuals)(p, *a).T @ decay_residuals(p, *a), args
    )
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller problems")
    parser.add_argument("--json", type=Path, help="write the results here")
    opts = parser.parse_args(argv)
    results = fit_all(opts.quick)
    for name, r in results.items():
        x = ", ".join(f"{v:.4f}" for v in r["x"][:4]) + (", ..." if len(r["x"]) > 4 else "")
        print(f"{name:<22} success={r['success']!s:<5} f={r['fun']:.6f} "
              f"|grad|={r['grad_norm']:.1e} iterations={r['nit']:<3} x=[{x}]")  # fmt: skip
    if opts.json is not None:
        opts.json.write_text(json.dumps({"quick": opts.quick, "results": results}, indent=2))
    return 0 if all(r["success"] for r in results.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
