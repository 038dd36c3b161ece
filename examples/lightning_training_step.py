"""An npgrad loss inside a PyTorch Lightning ``LightningModule.training_step``.

The criterion is ``npgrad.Loss(npgrad.losses.mse)``: a NumPy forward with a NumPy
backward, used as an ``nn.Module``.  A small regression MLP trains for a few steps
with Lightning's ``Trainer``; the same model trained from the same start by a plain
PyTorch loop with ``torch.nn.functional.mse_loss`` must end with the same parameters
(exit status 1 otherwise).  Without Lightning installed (``pip install lightning``)
the script prints why it skips and exits 0.

    python examples/lightning_training_step.py [--quick] [--seed 0] [--device cpu]
"""

from __future__ import annotations

import argparse
import copy
import logging
import sys
import warnings

import torch
import torch.nn.functional as F

import npgrad

try:
    import lightning.pytorch as pl
except ImportError:
    try:
        import pytorch_lightning as pl
    except ImportError:
        pl = None


if pl is not None:

    class Regressor(pl.LightningModule):
        def __init__(self, net, lr):
            super().__init__()
            self.net, self.lr = net, lr
            self.criterion = npgrad.Loss(npgrad.losses.mse)

        def training_step(self, batch, batch_idx):
            x, y = batch
            loss = self.criterion(self.net(x), y)  # NumPy forward, NumPy backward
            self.log("train_loss", loss)
            return loss

        def configure_optimizers(self):
            return torch.optim.SGD(self.parameters(), lr=self.lr, momentum=0.9)


def plain_loop(net, loader, steps, lr, device):
    """The reference: the same training in plain PyTorch, with torch's own MSE."""
    net = net.to(device)
    opt = torch.optim.SGD(net.parameters(), lr=lr, momentum=0.9)
    done = 0
    while done < steps:
        for x, y in loader:
            loss = F.mse_loss(net(x.to(device)), y.to(device))
            opt.zero_grad()
            loss.backward()
            opt.step()
            done += 1
            if done == steps:
                break
    return net


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few steps (for CI)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    if pl is None:
        print("SKIP: PyTorch Lightning is not installed (pip install lightning)")
        return 0
    for name in ("lightning.pytorch", "pytorch_lightning"):  # no banner lines
        logging.getLogger(name).setLevel(logging.WARNING)
    warnings.filterwarnings("ignore", ".*does not have many workers.*")
    warnings.filterwarnings("ignore", ".*LeafSpec.*")  # Lightning's own note on newer torch
    torch.manual_seed(args.seed)
    steps, lr = (8 if args.quick else 300), 0.05

    x = torch.randn(512, 10)
    y = x @ torch.randn(10, 3) + 0.1 * torch.randn(512, 3)
    loader = torch.utils.data.DataLoader(torch.utils.data.TensorDataset(x, y), batch_size=64)
    net = torch.nn.Sequential(torch.nn.Linear(10, 32), torch.nn.Tanh(), torch.nn.Linear(32, 3))
    reference = plain_loop(copy.deepcopy(net), loader, steps, lr, args.device)

    module = Regressor(net, lr)
    trainer = pl.Trainer(
        max_steps=steps,
        accelerator="cpu" if args.device == "cpu" else "gpu",
        devices=1,
        logger=False,
        enable_checkpointing=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    trainer.fit(module, loader)
    loss = trainer.callback_metrics["train_loss"].item()
    print(f"Lightning {pl.__version__}: {trainer.global_step} steps, last train_loss {loss:.5f}")

    ours = torch.cat([p.detach().cpu().flatten() for p in module.net.parameters()])
    theirs = torch.cat([p.detach().cpu().flatten() for p in reference.parameters()])
    print(f"largest parameter difference from the plain loop: {(ours - theirs).abs().max():.2e}")
    if trainer.global_step != steps or not torch.allclose(ours, theirs, rtol=1e-5, atol=1e-6):
        print("FAIL: the Lightning run with the npgrad loss differs from the plain torch loop")
        return 1
    print("OK: Lightning with npgrad's MSE ends where the plain loop with F.mse_loss does")
    return 0


if __name__ == "__main__":
    sys.exit(main())
