"""``import npgrad`` stays light: heavy optional packages load only when used."""

import json
import math
import subprocess
import sys

HEAVY = ["torchvision", "matplotlib", "scipy", "torch._dynamo", "npgrad.experiment"]


def test_import_npgrad_is_light():
    code = (
        "import sys, npgrad, npgrad.cli\n"
        "npgrad.losses.mse  # reachable without importing the submodule by name\n"
        f"print([m for m in {HEAVY!r} if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout


def test_public_api():
    import npgrad

    for name in npgrad.__all__:
        assert getattr(npgrad, name).__doc__, f"npgrad.{name} has no docstring"


def test_registered_backward_never_loads_the_rows():
    # an op with a NumPy backward needs no engine rows (about 0.14 s to import); the
    # first automatic-mode call loads them, and then follows NumPy as usual
    code = (
        "import json, sys, numpy as np, torch, npgrad\n"
        "x = torch.ones(3, requires_grad=True)\n"
        "npgrad.Loss(npgrad.losses.mse)(x, torch.zeros(3)).backward()\n"
        "before = 'npgrad._mappings' in sys.modules\n"
        "f = npgrad.function(lambda a: np.sum(np.sin(a) ** 2))\n"
        "y = torch.ones(2, dtype=torch.float64, requires_grad=True)\n"
        "f(y).backward()\n"
        "after = 'npgrad._mappings' in sys.modules\n"
        "print(json.dumps([before, after, x.grad.tolist(), y.grad.tolist()]))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    before, after, gx, gy = json.loads(out.stdout)
    assert (before, after) == (False, True)
    assert max(abs(g - 2 / 3) for g in gx) < 1e-7, gx  # float32
    want = 2 * math.sin(1) * math.cos(1)
    assert max(abs(g - want) for g in gy) < 1e-12, gy
