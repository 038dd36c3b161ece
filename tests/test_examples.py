"""Every script in examples/ runs with --quick and prints its result line."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys

import pytest

from .conftest import REPO

EXAMPLES = REPO / "examples"
TORCHRUN = ("-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2")


def needs(*alternatives: str):
    """Skip unless one of the modules can be imported (looked up, not imported)."""
    found = any(importlib.util.find_spec(m) is not None for m in alternatives)
    return pytest.mark.skipif(not found, reason=f"{' or '.join(alternatives)} not installed")


CASES = [
    pytest.param(
        "numpy_backward_kwargs.py",
        (),
        "OK: the NumPy backward with delta=0.5 matches torch.nn.functional.huber_loss",
        id="numpy_backward_kwargs",
    ),
    pytest.param(
        "auto_focal_contrastive.py",
        (),
        "OK: automatic-mode gradients match torch's at every step",
        id="auto_focal_contrastive",
    ),
    pytest.param(
        "scipy_in_a_loss.py",
        (),
        "OK: SciPy special functions match torch; the gaussian_filter backward passes check",
        id="scipy_in_a_loss",
    ),
    pytest.param(
        "lightning_training_step.py",
        (),
        "OK: Lightning with npgrad's MSE ends where the plain loop with F.mse_loss does",
        marks=needs("lightning", "pytorch_lightning"),
        id="lightning_training_step",
    ),
    pytest.param(
        "hf_trainer_compute_loss.py",
        (),
        "OK: Trainer.compute_loss with npgrad's cross_entropy matches the stock Trainer",
        marks=[needs("transformers"), needs("accelerate")],
        id="hf_trainer_compute_loss",
    ),
    pytest.param(
        "ddp_torchrun.py",
        TORCHRUN,
        "OK: DDP with npgrad's mse equals one process",
        id="ddp_torchrun",
    ),
]


@pytest.mark.parametrize("script, launcher, expected", CASES)
def test_example_runs(script, launcher, expected):
    # this checkout's npgrad first, whatever is installed
    path = [str(REPO / "src"), *filter(None, [os.environ.get("PYTHONPATH")])]
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(path))
    cmd = [sys.executable, *launcher, str(EXAMPLES / script), "--quick"]
    proc = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=180)
    shown = f"$ {' '.join(cmd)}\n--- stdout\n{proc.stdout}\n--- stderr\n{proc.stderr[-4000:]}"
    assert proc.returncode == 0, shown
    assert expected in proc.stdout.splitlines(), shown


# examples with a test of their own, which checks more than the result line
ELSEWHERE = {"fit_with_scipy_optimize.py": REPO / "tests" / "test_numpy_api.py"}


def test_every_example_is_tested():
    scripts = {p.name for p in EXAMPLES.glob("*.py")}
    for script, test in ELSEWHERE.items():
        assert script in test.read_text(), f"{test.name} does not run {script}"
    assert scripts == {c.values[0] for c in CASES} | set(ELSEWHERE)
