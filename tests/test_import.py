"""``import npgrad`` stays light: heavy optional packages load only when used."""

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
