"""Why ``variational_autoencoder.py`` and ``fluidsim/wing.py`` read "wrong" in
hips_autograd_examples.py before its rounding floor: each side's gradient, leaf by
leaf, with the same random draws on every call, against float64 central differences.

    python benchmarks/hips_examples_probe.py PATH_TO_AUTOGRAD_CHECKOUT

Each program's objective is rebuilt from the example's own functions (imported
from the checkout) and differentiated once with HIPS autograd and once with npgrad
(the shim), each in a process of its own.  The VAE's objective draws its noise from
a fresh ``RandomState(0)`` on every call, so both sides (and the central
differences) see identical draws.  Printed: the largest difference per leaf next to
the leaf's largest value, the objective's value on each side, and central
differences of the plain NumPy program at a few coordinates.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import pickle
import subprocess
import sys
import tempfile
import types

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROWS, COLS, STEPS = 40, 60, 20


def _load(path: str, name: str):
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    mod.print = lambda *a, **k: None
    return mod


def _value(x) -> np.ndarray:
    """A plain float64 array of autograd's box, npgrad's traced array or an array."""
    x = getattr(x, "_value", x)
    t = getattr(x, "t", None)
    return np.array(t.detach().numpy() if t is not None else x, dtype=np.float64)


def _vae(checkout: str, mode: str) -> dict:
    import autograd

    ex = os.path.join(checkout, "examples")
    sys.path.insert(1, ex)
    sys.path.insert(0, HERE)
    import hips_autograd_examples as harness

    sys.modules["data_mnist"] = harness._fake_mnist()
    vae = _load(os.path.join(ex, "variational_autoencoder.py"), "vae")
    from data import load_mnist

    images = load_mnist()[1]
    on = images > 0.5
    images = images * 0 - 1
    images[on] = 1.0
    params = (
        vae.init_net_params(0.01, [10, 300, 200, 784]),
        vae.init_net_params(0.01, [784, 200, 300, 20]),
    )

    def objective(p):
        noise = np.random.RandomState(0)  # the same draws on every call, either side
        return -vae.vae_lower_bound(p[0], p[1], images[:200], noise) / 784

    out = {"value": float(_value(objective(params))), "grad": []}
    out["grad"] = [_value(a) for a in harness._arrays(autograd.grad(objective)(params))]
    if mode == "npgrad":  # central differences of the plain NumPy program
        rng, fd = np.random.RandomState(1), []
        # weights of each network's first and last layers, a last bias, and a bias
        # feeding a batch normalisation (its gradient is exactly 0)
        for which, layer, part in [(0, 0, 0), (0, 2, 0), (1, 0, 0), (1, 2, 1), (1, 0, 1)]:
            leaf = params[which][layer][part]
            for _ in range(2):
                idx = tuple(int(rng.randint(s)) for s in leaf.shape)
                old, h = leaf[idx], 1e-6
                leaf[idx] = old + h
                up = objective(params)
                leaf[idx] = old - h
                down = objective(params)
                leaf[idx] = old
                fd.append(((which, layer, part), idx, (up - down) / (2 * h)))
        out["fd"] = fd
    return out


def _wing(checkout: str, mode: str) -> dict:
    import matplotlib

    matplotlib.use("Agg")
    import autograd
    import autograd.numpy as anp

    wing = _load(os.path.join(checkout, "examples", "fluidsim", "wing.py"), "wing")
    floors = []

    class Recording(types.ModuleType):  # the module's np, recording np.floor's input
        def __getattr__(self, name):
            return getattr(anp, name)

    rec = Recording("np")
    rec.floor = lambda x: (floors.append(_value(x)), anp.floor(x))[1]
    wing.np = rec
    vx0, vy0 = np.ones((ROWS, COLS)), np.zeros((ROWS, COLS))
    occ = -np.ones((ROWS, COLS))
    occ[15:25, 15:25] = 0.0
    occ = occ.ravel()

    def objective(p):
        vx, vy = wing.simulate(vx0, vy0, STEPS, anp.reshape(p, (ROWS, COLS)))
        return -anp.mean(vy - vy0) / anp.mean(vx0 - vx)

    value, grad = autograd.value_and_grad(objective)(occ)
    out = {"value": float(_value(value)), "grad": [_value(grad)], "floors": floors}
    if mode == "npgrad":
        vx, vy = wing.simulate(vx0, vy0, STEPS, occ.reshape(ROWS, COLS))
        out["vy"] = (float(np.abs(vy).max()), float(vy.mean()))
        fd = []
        for i in np.argsort(-np.abs(out["grad"][0]))[:3]:
            e = np.zeros_like(occ)
            e[i] = 1e-6
            fd.append((int(i), (objective(occ + e) - objective(occ - e)) / 2e-6))
        out["fd"] = fd
    return out


def _report(program: str, ref: dict, got: dict) -> None:
    print(f"\n{program}: objective autograd {ref['value']!r}, npgrad {got['value']!r}")
    for i, (a, b) in enumerate(zip(ref["grad"], got["grad"])):
        print(
            f"  gradient leaf {i:2d} {str(a.shape):11s} max |autograd| {np.abs(a).max():.2e}"
            f"   max |npgrad - autograd| {np.abs(a - b).max():.2e}"
        )
    if "vy" in got:
        print(f"  final vy: max |vy| {got['vy'][0]:.3f}, mean {got['vy'][1]:.2e}")
    for entry in got.get("fd", []):
        if len(entry) == 3:
            (w, layer, part), idx, fd = entry
            k = w * 6 + layer * 2 + part  # three (W, b) layers per network, flattened
            print(f"  leaf {k:2d}{idx}: central {fd: .6e}  autograd "
                  f"{ref['grad'][k][idx]: .6e}  npgrad {got['grad'][k][idx]: .6e}")  # fmt: skip
        else:
            i, fd = entry
            print(f"  [{i}]: central {fd: .8e}  autograd {ref['grad'][0][i]: .8e}  "
                  f"npgrad {got['grad'][0][i]: .8e}")  # fmt: skip
    if "floors" in got:
        moved = sum(
            int(np.sum(np.floor(a) != np.floor(b))) for a, b in zip(ref["floors"], got["floors"])
        )
        ints = sum(int(np.sum(a == np.floor(a))) for a in ref["floors"])
        print(f"  np.floor: {len(ref['floors'])} calls, {ints} inputs exact integers, "
              f"{moved} floors that differ between the two sides")  # fmt: skip


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("checkout")
    ap.add_argument("--worker", help=argparse.SUPPRESS)
    ap.add_argument("--program", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    a = ap.parse_args()
    if a.worker:
        if a.worker == "npgrad":
            sys.path.insert(0, os.path.join(HERE, "hips_shim"))
        run = _vae if a.program == "vae" else _wing
        with open(a.out, "wb") as fh:
            pickle.dump(run(os.path.abspath(a.checkout), a.worker), fh)
        return
    for program in ("vae", "wing"):
        runs = {}
        for mode in ("autograd", "npgrad"):
            with tempfile.TemporaryDirectory() as tmp:
                out = os.path.join(tmp, "r.pkl")
                cmd = [sys.executable, __file__, a.checkout, "--worker", mode,
                       "--program", program, "--out", out]  # fmt: skip
                subprocess.run(cmd, check=True, cwd=tmp)
                with open(out, "rb") as fh:
                    runs[mode] = pickle.load(fh)
        _report(program, runs["autograd"], runs["npgrad"])


if __name__ == "__main__":
    main()
