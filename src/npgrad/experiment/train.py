"""One training run of the founding experiment, in the reference's exact step order."""

from __future__ import annotations

import hashlib
import random
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import torch

from .model import Autoencoder

LOG_EVERY = 20
LOSS_IMPLS = ("native", "numpy", "numpy-auto")


def make_loss(impl: str) -> Callable:
    """The criterion for a run: ``torch.nn.MSELoss`` or npgrad's NumPy MSE."""
    if impl == "native":
        return torch.nn.MSELoss()
    import npgrad
    from npgrad import losses

    if impl == "numpy":
        return npgrad.Loss(losses.mse)
    if impl == "numpy-auto":
        return npgrad.Loss(losses.mse_auto)
    raise ValueError(f"make_loss: impl must be one of {LOSS_IMPLS}, got {impl!r}")


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    torch.backends.cudnn.deterministic = True
    torch.backends.cudnn.benchmark = False


def params_sha256(model: torch.nn.Module) -> str:
    """sha256 over the bytes of every parameter, in ``model.parameters()`` order."""
    h = hashlib.sha256()
    for p in model.parameters():
        h.update(p.detach().cpu().contiguous().numpy().tobytes())
    return h.hexdigest()


@dataclass
class Run:
    """What one run produced."""

    name: str
    losses: list[list[float]] = field(default_factory=list)  # [epoch][step]
    seconds: float = 0.0
    params_sha256: str = ""
    model: torch.nn.Module | None = None

    def logged(self) -> dict[tuple[int, int | str], float]:
        """The reference log's values: (epoch, step) and (epoch, "end")."""
        out: dict[tuple[int, int | str], float] = {}
        for e, steps in enumerate(self.losses, 1):
            for s in range(1, len(steps) + 1, LOG_EVERY):
                out[(e, s)] = steps[s - 1]
            out[(e, "end")] = steps[-1]
        return out


def sync(device: torch.device) -> None:
    """Wait for the device's queued work (timings end at a synchronisation)."""
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    elif device.type != "cpu" and hasattr(torch, "accelerator"):  # mps, xpu, ...
        torch.accelerator.synchronize(device)


def train(
    name: str,
    criterion: Callable,
    batches,
    *,
    epochs: int = 2,
    lr: float = 1e-3,
    seed: int = 0,
    device: str | torch.device = "cpu",
    log: Callable[[str], None] = print,
    progress: bool = False,
    model_wrapper: Callable[[torch.nn.Module], torch.nn.Module] | None = None,
    reduce_loss: Callable[[torch.Tensor], torch.Tensor] | None = None,
    on_step: Callable[[], None] | None = None,
    eager_only: bool = False,
) -> Run:
    """Train the autoencoder; each step: forward, loss, zero_grad, backward, log, step.

    ``model_wrapper`` wraps the model (``DistributedDataParallel``); ``reduce_loss``
    turns the loss into the value to log (the global batch's loss under DDP).
    ``eager_only``: a promise that this process never compiles, now or later (the
    reproduction's forked children): the optimizer skips its compiler bookkeeping
    for good, process-wide (:mod:`.eager`; the same update, bit for bit).
    """
    device = torch.device(device)
    seed_everything(seed)
    model = Autoencoder().to(device)  # built on the CPU right after seeding, then moved
    net = model_wrapper(model) if model_wrapper else model
    if eager_only:
        from . import eager

        eager.without_dynamo_import()
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        step = eager.eager_step(optimizer)
    else:
        optimizer = torch.optim.Adam(model.parameters(), lr=lr)
        step = optimizer.step
    n = len(batches)
    run = Run(name=name)
    bar = None
    if progress:
        from tqdm import tqdm

        write = log
        log = lambda s: tqdm.write(s, file=sys.stdout) if bar is not None else write(s)  # noqa: E731
    sync(device)
    start = time.perf_counter()
    for epoch in range(1, epochs + 1):
        # losses stay on the device; reading one forces a sync, so read only to log
        buf = torch.empty(n, device=device)
        if progress:
            bar = tqdm(total=n, desc=f"{name} epoch {epoch}/{epochs}", leave=False, file=sys.stderr)
        for i, (images, _) in enumerate(batches):
            x = images.view(images.size(0), -1)
            out = net(x)
            loss = criterion(out, x)
            optimizer.zero_grad()
            loss.backward()
            buf[i] = loss.detach() if reduce_loss is None else reduce_loss(loss.detach())
            if i % LOG_EVERY == 0:
                log(f"Step [{i + 1:3d}/{n}], Loss: {buf[i].item():.4f}")
            step()
            if bar is not None:
                bar.update()
            if on_step is not None:
                on_step()
        if bar is not None:
            bar.close()
            bar = None
        losses = buf.tolist()
        run.losses.append(losses)
        log(f"=== Epoch [{epoch}/{epochs}], Loss: {losses[-1]:.4f}")
    sync(device)
    run.seconds = time.perf_counter() - start
    run.params_sha256 = params_sha256(model)
    run.model = model
    return run


def save_run(run: Run, path: str, **extra) -> None:
    """Hand a run from a worker process to its parent (see :func:`load_run`)."""
    state = {k: v.detach().cpu() for k, v in run.model.state_dict().items()}
    torch.save({"losses": run.losses, "seconds": run.seconds, "sha": run.params_sha256,
                "state": state, **extra}, path)  # fmt: skip


def load_run(name: str, path: str) -> tuple[Run, dict]:
    """The run a worker saved, with its model rebuilt, and the extra entries."""
    got = torch.load(path, weights_only=True)
    model = Autoencoder()
    model.load_state_dict(got.pop("state"))
    run = Run(name=name, losses=got.pop("losses"), seconds=got.pop("seconds"),
              params_sha256=got.pop("sha"), model=model)  # fmt: skip
    return run, got
