"""Loss curves and reconstructions (matplotlib is imported here only).

Figures are built with matplotlib's object API and the Agg canvas, without pyplot:
pyplot's import alone costs about half a second of the reproduction's budget.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch

from .report import atomic_write
from .train import Run


def _figure(**kwargs):
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def loss_curves(path: Path, native: Run, other: Run) -> None:
    a, b = np.array(sum(native.losses, [])), np.array(sum(other.losses, []))
    steps = np.arange(1, a.size + 1)
    fig = _figure(figsize=(8, 6))
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    top.plot(steps, a, label=native.name, lw=2.5, alpha=0.6)
    top.plot(steps, b, label=other.name, lw=1, ls="--")
    top.set_ylabel("MSE loss")
    top.set_yscale("log")
    top.legend()
    top.set_title("Founding experiment: native vs NumPy loss")
    bottom.plot(steps, b - a, color="C3", lw=1)
    bottom.set_ylabel(f"{other.name} − {native.name}")
    bottom.set_xlabel("step")
    # fixed margins: tight_layout would cost a tenth of a second per figure
    fig.subplots_adjust(left=0.14, right=0.97, top=0.94, bottom=0.08, hspace=0.08)
    atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=100))


def reconstructions(path: Path, model: torch.nn.Module, images: np.ndarray, n: int = 10) -> None:
    """Test digits (top row) above the model's reconstructions (bottom row)."""
    device = next(model.parameters()).device
    x = torch.from_numpy(images[:n].astype(np.float32) / np.float32(255.0)).reshape(n, -1)
    with torch.no_grad():
        y = model(x.to(device)).cpu().numpy()
    fig = _figure(figsize=(n, 2.2))
    axes = fig.subplots(2, n)
    for i in range(n):
        axes[0, i].imshow(x[i].numpy().reshape(28, 28), cmap="gray")
        axes[1, i].imshow(y[i].reshape(28, 28), cmap="gray")
        for ax in axes[:, i]:
            ax.axis("off")
    fig.suptitle("test digits (top) and their reconstructions (bottom)")
    fig.subplots_adjust(left=0.01, right=0.99, top=0.86, bottom=0.01, wspace=0.05, hspace=0.05)
    atomic_write(path, lambda p: fig.savefig(p, format="png", dpi=80))
