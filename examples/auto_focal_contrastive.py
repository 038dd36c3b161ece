"""Automatic gradients: a focal loss and an InfoNCE loss in plain NumPy, no backward.

Both losses are ordinary NumPy code decorated with ``@npgrad.loss``.  With no backward
registered, npgrad runs them in automatic mode: the NumPy calls act on the tensors
themselves and autograd records them.  A tiny encoder with a classifier head trains
on synthetic data (two noisy views of each point) with ``focal + info_nce``; at every
step the parameters' gradients are compared with the same losses written in torch.
Exits with status 1 if they differ.

    python examples/auto_focal_contrastive.py [--quick] [--seed 0] [--device cpu]
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import torch
import torch.nn.functional as F

import npgrad


@npgrad.loss
def focal(z, y, gamma=2.0, alpha=0.25):
    """Binary focal loss on logits ``z`` with labels ``y`` in {0, 1}."""
    log_p = -np.logaddexp(0, -z)  # log sigmoid(z), stable for large |z|
    log_q = -np.logaddexp(0, z)  # log (1 - sigmoid(z))
    log_pt = np.where(y == 1, log_p, log_q)
    weight = np.where(y == 1, alpha, 1 - alpha)
    return -np.mean(weight * (1 - np.exp(log_pt)) ** gamma * log_pt)


@npgrad.loss
def info_nce(a, b, temperature=0.1):
    """Row i of ``a`` should pick row i of ``b`` among all rows of ``b`` (cosine)."""
    a = a / np.linalg.norm(a, axis=1, keepdims=True)
    b = b / np.linalg.norm(b, axis=1, keepdims=True)
    logits = a @ b.T / temperature
    logits = logits - np.max(logits, axis=1, keepdims=True)
    log_prob = logits - np.log(np.sum(np.exp(logits), axis=1, keepdims=True))
    return -np.mean(np.diagonal(log_prob))


def torch_focal(z, y, gamma=2.0, alpha=0.25):
    log_pt = torch.where(y == 1, F.logsigmoid(z), F.logsigmoid(-z))
    weight = torch.where(y == 1, alpha, 1 - alpha)
    return -(weight * (1 - log_pt.exp()) ** gamma * log_pt).mean()


def torch_info_nce(a, b, temperature=0.1):
    logits = F.normalize(a, dim=1) @ F.normalize(b, dim=1).T / temperature
    return F.cross_entropy(logits, torch.arange(len(a), device=a.device))


class Net(torch.nn.Module):
    def __init__(self, d_in=8, d_emb=16):
        super().__init__()
        self.encoder = torch.nn.Sequential(
            torch.nn.Linear(d_in, 32), torch.nn.ReLU(), torch.nn.Linear(32, d_emb)
        )
        self.head = torch.nn.Linear(d_emb, 1)

    def forward(self, x):
        e = self.encoder(x)
        return e, self.head(e).squeeze(1)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="a few steps (for CI)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    steps, batch = (5, 64) if args.quick else (300, 256)

    model = Net().to(args.device)
    opt = torch.optim.Adam(model.parameters(), lr=1e-2)
    worst, history = 0.0, []
    for step in range(steps):
        x = torch.randn(batch, 8, device=args.device)
        y = (x[:, 0] + x[:, 1] > 0).float()
        v1 = x + 0.1 * torch.randn_like(x)
        v2 = x + 0.1 * torch.randn_like(x)
        (e1, z1), (e2, _) = model(v1), model(v2)

        loss = focal(z1, y) + info_nce(e1, e2)  # NumPy code, gradients by autograd
        ref = torch_focal(z1, y) + torch_info_nce(e1, e2)  # the same in torch
        params = list(model.parameters())
        grads = torch.autograd.grad(loss, params, retain_graph=True)
        ref_grads = torch.autograd.grad(ref, params)
        try:
            torch.testing.assert_close(loss, ref, rtol=1e-5, atol=1e-6)
            torch.testing.assert_close(grads, ref_grads, rtol=1e-4, atol=1e-6)
        except AssertionError as e:
            print(f"FAIL at step {step}: npgrad's gradient differs from torch's\n{e}")
            return 1
        worst = max(worst, max((g - r).abs().max().item() for g, r in zip(grads, ref_grads)))

        for p, g in zip(params, grads):
            p.grad = g
        opt.step()
        history.append(loss.item())
    print(f"{steps} steps of focal + info_nce: loss {history[0]:.4f} -> {history[-1]:.4f}")
    print(f"largest parameter-gradient difference from the torch losses: {worst:.2e}")
    print("OK: automatic-mode gradients match torch's at every step")
    return 0


if __name__ == "__main__":
    sys.exit(main())
