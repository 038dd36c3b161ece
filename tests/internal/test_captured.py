"""The captured-value machinery's private contracts with torch and the engine."""

from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import torch

import npgrad
from npgrad._bridge import compiled
from npgrad._jit import Jitted


def test_holding_values_is_marked_as_assume_constant_result_marks():
    def f(key):
        return ()

    torch.compiler.assume_constant_result(f)
    marks = dict(vars(f))
    assert marks, "torch.compiler.assume_constant_result no longer marks the function"
    for k, v in marks.items():
        assert getattr(compiled.holding_values, k, None) == v


def test_making_and_calling_an_op_does_not_import_dynamo():
    code = (
        "import sys, numpy as np, torch, npgrad\n"
        "s = 2.0\n"
        "op = npgrad.function(lambda x: np.sum(s * x))\n"
        "op(torch.ones(2, requires_grad=True)).backward()\n"
        "print('torch._dynamo' in sys.modules)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_places_and_values():
    scale, w = 2.0, np.ones(2)

    class Cfg:
        pass

    cfg = Cfg()
    cfg.k = 3

    def f(x, d=np.zeros(1)):  # noqa: B008
        return np.sum(scale * x * w) + cfg.k + d[0] + np.pi

    places = compiled.live_places(compiled.captured_places(f))
    stamp, ints, floats, arrays = compiled.read_captured(places)
    assert floats == [2.0]  # np.pi is a module's attribute: code, not a captured value
    assert ints == [3]
    assert {id(a) for a in arrays} == {id(w), id(f.__defaults__[0])}
    assert stamp == ""


def test_a_composite_graph_is_not_served_to_another_process(tmp_path):
    # torch's on-disk AOTAutograd cache keys by Dynamo's graph, which does not show
    # the function's code: a second process whose function differs must not load it
    code = (
        "import sys, numpy as np, torch, npgrad\n"
        "exec(f'def f(p): return np.mean(p ** {sys.argv[1]})')\n"
        "op = npgrad.function(f)\n"
        "p = torch.full((3,), 2.0, dtype=torch.float64)\n"
        "print(torch.compile(lambda p: op(p), fullgraph=True)(p).item())\n"
    )
    env = {**os.environ, "TORCHINDUCTOR_CACHE_DIR": str(tmp_path)}
    outs = [
        subprocess.run(
            [sys.executable, "-c", code, k], capture_output=True, text=True, check=True, env=env
        ).stdout.split()[-1]
        for k in ("2", "3")
    ]
    assert outs == ["4.0", "8.0"]


def _snapshots(g) -> list:
    """Per kernel of npgrad.grad's jitted function: whether it keeps snapshots."""
    (jitted,) = (c.cell_contents for c in g.__closure__ if isinstance(c.cell_contents, Jitted))
    return [k[2] is not None for k in jitted.kernels.values()]


def test_only_a_kernel_that_baked_a_value_keeps_snapshots():
    X = np.ones((3, 2))
    w = np.array([1.0, 2.0])
    cases = [
        (lambda v: np.sum(v**2), [False]),  # nothing captured
        (lambda v: np.sum(v * X[0] + X.T[1, :2] * v**2), [False]),  # the array, views
        (lambda v: np.sum((X * 2)[0] * v), [True]),  # NumPy computes X * 2
    ]
    for f, want in cases:
        g = npgrad.grad(f, jit="strict")
        g(w)
        g(w)
        assert _snapshots(g) == want
