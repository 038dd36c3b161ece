"""The registry's rows load on the first trace, in whatever context that trace runs:
the rows' import must make nothing that takes on that context."""

import subprocess
import sys

import numpy as np
import torch


def test_no_row_module_holds_a_tensor():
    # a tensor made at import would be fake, meta or an inference tensor when the
    # first trace is a torch.compile probe, under torch.device("meta") or in
    # inference_mode; every later call would then use it
    import npgrad._mappings  # noqa: F401

    held = [
        f"{name}.{attr}"
        for name, module in sorted(sys.modules.items())
        if name.startswith("npgrad.")
        for attr, value in vars(module).items()
        if isinstance(value, torch.Tensor)
    ]
    assert held == []


_FIRST_TRACE = {
    "fake": (
        "from torch._subclasses.fake_tensor import FakeTensorMode\n"
        "with FakeTensorMode():\n"
        "    first(torch.ones(3, dtype=torch.float64))\n"
    ),
    "meta": "with torch.device('meta'):\n    first(torch.ones(3, dtype=torch.float64))\n",
    "inference": "with torch.inference_mode():\n    first(torch.ones(3, dtype=torch.float64))\n",
    "compiled": (
        "g = torch.compile(first, backend='aot_eager', fullgraph=True)\n"
        "g(torch.ones(3, dtype=torch.float64, requires_grad=True)).sum().backward()\n"
    ),
}


def _first_trace_then_eager(first: str) -> list[float]:
    code = (
        "import json, numpy as np, torch, npgrad, scipy.special as sc\n"
        "first = npgrad.function(lambda x: np.sum(np.sin(x)))\n"
        + first
        + "f = npgrad.function(lambda x: np.sum(sc.dawsn(x) + sc.erfi(x) + sc.kv(0.3, x + 1)))\n"
        + "x = torch.tensor([0.1, 0.7, 2.5], dtype=torch.float64, requires_grad=True)\n"
        "y = f(x)\n"
        "y.backward()\n"
        "print(json.dumps([float(y)] + x.grad.tolist()))\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.returncode == 0, out.stderr[-2000:]
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])


def _want() -> list[float]:
    import scipy.special as sc

    x = np.array([0.1, 0.7, 2.5])
    value = float(np.sum(sc.dawsn(x) + sc.erfi(x) + sc.kv(0.3, x + 1)))
    # d/dx dawsn = 1 - 2 x dawsn; d/dx erfi = 2/sqrt(pi) exp(x^2); K_v' = -(K_{v-1} + K_{v+1})/2
    grad = (
        1
        - 2 * x * sc.dawsn(x)
        + 2 / np.sqrt(np.pi) * np.exp(x * x)
        - (sc.kv(-0.7, x + 1) + sc.kv(1.3, x + 1)) / 2
    )
    return [value, *grad.tolist()]


def test_the_first_trace_in_any_context_leaves_later_calls_right():
    import pytest

    pytest.importorskip("scipy")
    want = _want()
    for first in _FIRST_TRACE.values():
        got = _first_trace_then_eager(first)
        np.testing.assert_allclose(got, want, rtol=1e-10, atol=0)
