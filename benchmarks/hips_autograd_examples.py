"""HIPS autograd's examples, run as plain NumPy with npgrad's gradients, one gradient each.

    python benchmarks/hips_autograd_examples.py PATH_TO_AUTOGRAD_CHECKOUT [--json OUT]
        [--only NAME ...]

Each program under the checkout's ``examples/`` (and ``examples/fluidsim/``) runs as
``__main__`` twice, each time in a process of its own, with ``np.random.seed(0)``:
once with HIPS autograd (the reference) and once with the shim package
``benchmarks/hips_shim/autograd`` first on ``sys.path`` (``autograd.numpy`` is NumPy,
``autograd.grad`` & co. npgrad's).  In both, the first call of a function made by
``grad``, ``value_and_grad``, ``elementwise_grad``, ``jacobian``, ``hessian`` or
``hessian_vector_product`` is the program's *gradient evaluation*: its inputs and
result are kept and the program is stopped there (so training loops and optimisers
never run past it).  Plots go to matplotlib's Agg backend; MNIST (which needs the
network) is replaced, in both runs alike, by 300 random images of its shapes.

A program's status: ``got gradient`` (the same inputs as autograd's run and a result
within rtol 1e-6 of autograd's, each leaf of the result -- the value, each gradient
array -- relative to its own largest element, or to 1e-9 of the whole result's largest
where its own is smaller: such a leaf is zero in exact arithmetic, rounding noise on
both sides), ``wrong`` (a result that differs), ``clear error``
(an npgrad TraceError or an error naming npgrad), ``crash`` (another error),
``shim lacks`` (the program uses a part of autograd the shim has no counterpart for:
``autograd.extend``'s primitives, its tracer, ``fixed_point``), ``no reference``
(autograd's own run made no gradient evaluation or failed).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import pickle
import runpy
import subprocess
import sys
import tempfile
import time
import traceback

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
SHIM = os.path.join(HERE, "hips_shim")
MAKERS = ("grad", "value_and_grad", "elementwise_grad", "jacobian", "hessian",
          "hessian_vector_product", "hessian_tensor_product")  # fmt: skip
NOT_PROGRAMS = {"__init__.py", "data.py", "data_mnist.py"}
FLOOR = 1e-9  # a leaf below this fraction of the result's largest value is rounding noise


class GotGradient(BaseException):
    """Raised after the first gradient evaluation, to end the program there."""


STATE = {"depth": 0, "capture": None}


def _leaves(x):
    if isinstance(x, dict):
        return [a for k in sorted(x, key=repr) for a in _leaves(x[k])]
    if isinstance(x, (tuple, list)):
        return [a for e in x for a in _leaves(e)]
    return [x]


def _arrays(x):
    """The numeric leaves of x as float64 arrays (others, like callables, left out)."""
    out = []
    for a in _leaves(x):
        if isinstance(a, (bool, np.bool_)):
            continue
        if isinstance(a, (int, float, np.ndarray, np.generic)):
            out.append(np.array(a, dtype=np.float64))
    return out


def _capturing(name, maker):
    def make(fun, *margs, **mkw):
        g = maker(fun, *margs, **mkw)

        def run(*args, **kwargs):
            if STATE["depth"] or STATE["capture"] is not None:
                return g(*args, **kwargs)
            inputs = _arrays((args, kwargs))
            STATE["depth"] += 1
            try:
                t0 = time.time()
                res = g(*args, **kwargs)
            finally:
                STATE["depth"] -= 1
            STATE["capture"] = {"maker": name, "fun": getattr(fun, "__name__", "?"),
                                "inputs": inputs, "result": _arrays(res),
                                "seconds": time.time() - t0}  # fmt: skip
            raise GotGradient

        return run

    make.__name__ = name
    return make


def _fake_mnist():
    rs = np.random.RandomState(0)
    n, m = 300, 100
    mod = type(sys)("data_mnist")
    mod.mnist = lambda: (
        rs.randint(0, 256, size=(n, 28, 28)).astype(np.uint8),
        rs.randint(0, 10, size=n).astype(np.uint8),
        rs.randint(0, 256, size=(m, 28, 28)).astype(np.uint8),
        rs.randint(0, 10, size=m).astype(np.uint8),
    )
    return mod


def _classify(e: BaseException) -> str:
    msg = f"{type(e).__name__}: {e}"
    if "no counterpart in the npgrad shim" in msg or "autograd.tracer" in msg:
        return "shim lacks"
    try:
        import npgrad

        if isinstance(e, npgrad.TraceError):
            return "clear error"
    except ImportError:
        pass
    return "clear error" if "npgrad" in msg else "crash"


def _worker(program: str, mode: str, out: str) -> None:
    sys.dont_write_bytecode = True
    os.environ["MPLBACKEND"] = "Agg"
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.show = plt.pause = plt.draw = lambda *a, **k: None
    if mode == "npgrad":
        sys.path.insert(0, SHIM)
    import autograd

    if mode == "npgrad":
        assert autograd.numpy is np, "the shim is not first on sys.path"
    else:
        assert not autograd.__file__.startswith(SHIM)
    for name in MAKERS:
        if hasattr(autograd, name):
            setattr(autograd, name, _capturing(name, getattr(autograd, name)))
    if mode == "npgrad":  # the shim's own optimisers take their gradient through the same path
        pass
    here = os.path.dirname(program)
    sys.path.insert(1 if mode == "npgrad" else 0, here)
    sys.path.insert(1, os.path.dirname(here))
    sys.modules["data_mnist"] = _fake_mnist()
    np.random.seed(0)
    result = {"mode": mode}
    t0 = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        os.chdir(tmp)
        try:
            runpy.run_path(program, run_name="__main__")
            result["status"] = "no gradient call"
        except GotGradient:
            result["status"] = "got gradient"
            result.update(STATE["capture"])
        except BaseException as e:  # noqa: BLE001 - every failure is recorded
            result["status"] = _classify(e) if mode == "npgrad" else "crash"
            result["error"] = f"{type(e).__name__}: {e}".replace("\n", " ")[:500]
            result["trace"] = traceback.format_exc(limit=-4)[-1500:]
    result["wall_s"] = time.time() - t0
    with open(out, "wb") as fh:
        pickle.dump(result, fh)


def _compare(ref: dict, got: dict) -> tuple[str, str]:
    if ref["status"] != "got gradient":
        return "no reference", ref.get("error", ref["status"])
    if got["status"] != "got gradient":
        return got["status"], got.get("error", "")
    a_in, b_in = ref["inputs"], got["inputs"]
    if len(a_in) != len(b_in) or any(
        a.shape != b.shape or not np.allclose(a, b, rtol=1e-12, atol=0) for a, b in zip(a_in, b_in)
    ):
        return "no reference", "the two runs reached their gradient with different inputs"
    a, b = ref["result"], got["result"]
    if len(a) != len(b) or any(x.shape != y.shape for x, y in zip(a, b)):
        return (
            "wrong",
            f"result structure {[x.shape for x in b]} vs autograd's {[x.shape for x in a]}",
        )

    # Each leaf is compared relative to its own largest value, but never to less than
    # FLOOR times the largest value of the whole result: a leaf that is zero in exact
    # arithmetic (a bias feeding a batch normalisation, a lift that vanishes by
    # symmetry) comes out as rounding noise on both sides, and noise divided by noise
    # says nothing (variational_autoencoder.py and fluidsim/wing.py read 1.2 and 4e-2).
    def finite_max(x):
        return float(np.max(np.abs(x[np.isfinite(x)]), initial=0.0))

    overall = max((finite_max(x) for x in a if x.size), default=0.0)
    worst, noise = 0.0, []
    for i, (x, y) in enumerate(zip(a, b)):
        if not x.size:
            continue
        fx, fy = np.isfinite(x), np.isfinite(y)
        # nan and inf where autograd has them, and nowhere else (max() would skip a nan)
        if not np.array_equal(fx, fy) or not np.array_equal(x[~fx], y[~fy], equal_nan=True):
            worst = np.inf
            continue
        own = finite_max(x)
        scale = max(own, FLOOR * overall, 1e-300)
        if own < FLOOR * overall:
            noise.append(f"{i} ({own:.0e})")
        worst = max(worst, float(np.max(np.abs(x[fx] - y[fy]), initial=0.0)) / scale)
    detail = f"max |npgrad - autograd| / max |autograd| = {worst:.1e}"
    if noise:
        detail += (
            f" (leaves at rounding level, below {FLOOR:.0e} of the largest {overall:.1e},"
            f" compared at that floor: {', '.join(noise)})"
        )
    return ("got gradient" if worst <= 1e-6 else "wrong"), detail


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkout")
    ap.add_argument("--json")
    ap.add_argument("--only", nargs="*")
    ap.add_argument("--timeout", type=float, default=300)
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--program", help=argparse.SUPPRESS)
    ap.add_argument("--worker-out", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        _worker(a.program, a.worker, a.worker_out)
        return
    ex = os.path.join(os.path.abspath(a.checkout), "examples")
    programs = sorted(
        glob.glob(os.path.join(ex, "*.py")) + glob.glob(os.path.join(ex, "*", "*.py"))
    )
    programs = [p for p in programs if os.path.basename(p) not in NOT_PROGRAMS]
    if a.only:
        programs = [p for p in programs if os.path.splitext(os.path.basename(p))[0] in a.only]
    rows = []
    for prog in programs:
        name = os.path.relpath(prog, ex)
        runs = {}
        for mode in ("autograd", "npgrad"):
            with tempfile.NamedTemporaryFile(suffix=".pkl", delete=False) as fh:
                path = fh.name
            cmd = [sys.executable, os.path.abspath(__file__), a.checkout, "--worker", mode,
                   "--program", prog, "--worker-out", path]  # fmt: skip
            try:
                proc = subprocess.run(cmd, capture_output=True, text=True, timeout=a.timeout)
                tail = (proc.stdout[-400:] + proc.stderr[-800:]).replace("\n", " ")
            except subprocess.TimeoutExpired:
                tail = f"timed out after {a.timeout:.0f} s"
            if os.path.getsize(path):
                with open(path, "rb") as fh:
                    runs[mode] = pickle.load(fh)
            else:
                runs[mode] = {"status": "crash", "error": f"the process died: {tail}"}
            os.unlink(path)
        status, detail = _compare(runs["autograd"], runs["npgrad"])
        row = {"program": name, "status": status, "detail": detail[:500],
               "autograd": runs["autograd"]["status"], "npgrad": runs["npgrad"]["status"],
               "maker": runs["npgrad"].get("maker") or runs["autograd"].get("maker"),
               "wall_s": {m: round(r.get("wall_s", 0.0), 2) for m, r in runs.items()}}  # fmt: skip
        if runs["npgrad"].get("trace"):
            row["npgrad_trace"] = runs["npgrad"]["trace"]
        rows.append(row)
        print(f"{name:40s} {status:14s} {detail[:150]}", flush=True)
    counts: dict = {}
    for r in rows:
        counts[r["status"]] = counts.get(r["status"], 0) + 1
    print(f"\n{len(rows)} programs: " + ", ".join(f"{v} {k}" for k, v in sorted(counts.items())))
    if a.json:
        with open(a.json, "w") as fh:
            json.dump({"counts": counts, "programs": rows}, fh, indent=1)


if __name__ == "__main__":
    main()
