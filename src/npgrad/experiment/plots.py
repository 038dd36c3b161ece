"""Loss curves and reconstructions (matplotlib is imported here only).

Each figure is two functions: ``*_data`` gathers what it shows as plain values
(lists, arrays, strings) from the runs, and the drawing function takes only those,
so that a process without torch can draw it (:mod:`.plotter`).  Figures are built
with matplotlib's object API and the Agg canvas, without pyplot: pyplot's import
alone costs about half a second of the reproduction's budget.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from .files import atomic_write

if TYPE_CHECKING:
    from .train import Run


def _figure(**kwargs):
    from matplotlib.figure import Figure

    return Figure(**kwargs)


def _verdict(report: dict[str, Any]) -> str:
    par = report["parity"]
    shas = ", ".join(f"{k} {v['params_sha256'][:12]}" for k, v in report["runs"].items())
    same = "bit-identical" if par["params_bitwise_equal"] else "NOT bit-identical"
    return f"parameters after {par['steps']} steps {same} (sha256 {shas})"


def loss_curves_data(native: Run, other: Run, report: dict[str, Any]) -> dict[str, Any]:
    """What :func:`loss_curves` draws, as plain values."""
    return {
        "names": (native.name, other.name),
        "losses": (native.losses, other.losses),
        "reference": report["reference"],
        "verdict": _verdict(report),
    }


def loss_curves(
    path: Path,
    *,
    names: tuple[str, str],
    losses: tuple[list[list[float]], list[list[float]]],
    reference: list[dict[str, Any]],
    verdict: str,
) -> None:
    """Both runs' losses (``[epoch][step]`` each), the article's published points
    where this run can meet them, the epoch boundaries, and below, the difference."""
    (name_a, name_b), (losses_a, losses_b) = names, losses
    a, b = np.array(sum(losses_a, [])), np.array(sum(losses_b, []))
    per_epoch = len(losses_a[0]) if losses_a else 0
    steps = np.arange(1, a.size + 1)
    fig = _figure(figsize=(9, 6.5))
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=[3, 1])
    top.plot(steps, a, label=name_a, lw=2.5, alpha=0.6)
    top.plot(steps, b, label=name_b, lw=1, ls="--")
    rows = reference
    if rows:
        x = [(r["epoch"] - 1) * per_epoch + (per_epoch if r["step"] == "end" else r["step"])
             for r in rows]  # fmt: skip
        label = f"article's published log ({len(rows)} of 26 points comparable)"
        top.plot(x, [r["reference"] for r in rows], "k+", ms=9, mew=1.5, label=label)
    else:
        # the published log belongs to one setup (seed 0, lr 1e-3, batch 256, all images)
        top.plot([], [], "k+", label="article's published log: not comparable with this setup")
    for ax in (top, bottom):
        for e in range(1, len(losses_a)):
            ax.axvline(e * per_epoch + 0.5, color="gray", lw=0.8, ls=":")
    for e in range(len(losses_a)):
        # at the foot of the axes: the first step's loss (and its published point) is
        # the curve's highest, where a label at the top would cover it
        top.text(e * per_epoch + 1, 0.02, f" epoch {e + 1}", transform=top.get_xaxis_transform(),
                 va="bottom", fontsize=8, color="gray")  # fmt: skip
    top.set_ylabel("MSE loss")
    top.set_yscale("log")
    # plain labels ("0.05"): the log axis's default ones go through mathtext, which
    # costs about 5 ms a label, a third of the figure's time
    top.yaxis.set_major_formatter(_plain_labels())
    seen = np.concatenate([a, b])
    seen = seen[np.isfinite(seen) & (seen > 0)]
    if seen.size and seen.max() < 10 * seen.min():  # under a decade: label 0.06, 0.07...
        top.yaxis.set_minor_formatter(_plain_labels())
    else:  # the decades only: the minor labels would run into each other
        from matplotlib.ticker import NullFormatter

        top.yaxis.set_minor_formatter(NullFormatter())
    top.legend(loc="best")  # where the curves are not: their shape depends on the run's length
    fig.suptitle(f"Founding experiment: torch.nn.MSELoss vs npgrad's {name_b} MSE", y=0.985)
    top.set_title(verdict, fontsize=9)
    d = b - a
    worst = float(np.max(np.abs(d))) if d.size else 0.0
    if worst > 0:
        # the scale goes into the label: matplotlib's offset text would sit on the top panel
        exp = math.floor(math.log10(worst))
        bottom.plot(steps, d / 10.0**exp, color="C3", lw=1)
        bottom.set_ylabel(f"loss difference\n({name_b} − {name_a}) / 1e{exp}", fontsize=8)
    else:
        bottom.plot(steps, d, color="C3", lw=1)
        bottom.set_ylabel("loss difference\n(none: identical)", fontsize=8)
    bottom.ticklabel_format(axis="y", useOffset=False)
    bottom.set_xlabel("step")
    # fixed margins: tight_layout would cost a tenth of a second per figure
    fig.subplots_adjust(left=0.12, right=0.98, top=0.89, bottom=0.08, hspace=0.08)
    _save(fig, path, dpi=100)


def reconstructions_data(
    run: Run, images: np.ndarray, *, identical: bool, n: int = 10
) -> dict[str, Any]:
    """What :func:`reconstructions` draws: the first ``n`` test digits, ``run``'s
    model's output for them (the only torch here) and the caption."""
    import torch

    model = run.model
    device = next(model.parameters()).device
    x = torch.from_numpy(images[:n].astype(np.float32) / np.float32(255.0)).reshape(n, -1)
    with torch.no_grad():
        y = model(x.to(device)).cpu().numpy()
    twin = "bit-identical to" if identical else "which differs from"
    epochs, steps = len(run.losses), sum(map(len, run.losses))
    # one short line each: the figure is only n inches wide
    title = (
        f"First {n} test digits (top), reconstructed (bottom) by the '{run.name}' run's model\n"
        f"after {epochs} epoch{'s' if epochs != 1 else ''}, {steps} steps ({twin} the native "
        "run's). Each image passes\nthrough a code of 3 numbers: blurry digits are the "
        "model's bottleneck, not a fault"
    )
    return {"digits": x.numpy().reshape(n, 28, 28), "outputs": y.reshape(n, 28, 28), "title": title}


def reconstructions(path: Path, *, digits: np.ndarray, outputs: np.ndarray, title: str) -> None:
    """Test digits (top row) above their reconstructions (bottom row), ``(n, 28, 28)``
    each."""
    # one image of all the tiles: twenty axes would cost five times as long to draw
    mosaic = _mosaic([digits, outputs])
    wide = 0.98 * len(digits)  # inches: about one a tile
    high = wide * mosaic.shape[0] / mosaic.shape[1]
    width, height = max(len(digits), 8), high + 0.9  # room for the title's three lines
    fig = _figure(figsize=(width, height))
    ax = fig.add_axes(((1 - wide / width) / 2, 0.05 / height, wide / width, high / height))
    ax.imshow(mosaic, cmap="gray", vmin=0.0, vmax=1.0)
    ax.axis("off")
    fig.suptitle(title, fontsize=9)
    _save(fig, path, dpi=80)


_GAP = 2  # pixels of white between tiles


def _mosaic(rows: list[np.ndarray]) -> np.ndarray:
    """``rows`` of ``(n, h, w)`` images as one ``[0, 1]`` image, each tile stretched
    to its own range (as a lone ``imshow`` would) and white between the tiles."""
    n, h, w = rows[0].shape
    out = np.ones((len(rows) * (h + _GAP) - _GAP, max(n * (w + _GAP) - _GAP, 1)))
    for r, images in enumerate(rows):
        for i, tile in enumerate(np.asarray(images, dtype=np.float64)):
            lo, hi = float(tile.min()), float(tile.max())
            tile = (tile - lo) / (hi - lo) if hi > lo else np.zeros_like(tile)
            y, x = r * (h + _GAP), i * (w + _GAP)
            out[y : y + h, x : x + w] = tile
    return out


def _plain_labels():
    from matplotlib.ticker import FuncFormatter

    return FuncFormatter(lambda v, _: f"{v:g}")


def _save(fig, path: Path, *, dpi: int) -> None:
    # zlib's fastest level: a third of the default's time, files about as small
    atomic_write(
        path, lambda p: fig.savefig(p, format="png", dpi=dpi, pil_kwargs={"compress_level": 1})
    )
