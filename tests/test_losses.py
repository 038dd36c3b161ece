"""Every shipped loss: automatic gradient vs float64 central differences, and vs
torch's own loss (value and gradient) where torch has one."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F

import npgrad
from npgrad import losses

from .conftest import TOL

N, D, C = 6, 5, 4


def _g(seed):
    return torch.Generator().manual_seed(seed)


def randn(*shape, seed=0):
    return torch.randn(shape, generator=_g(seed), dtype=torch.float64)


def rand(*shape, seed=0, lo=0.05, hi=0.95):
    return lo + (hi - lo) * torch.rand(shape, generator=_g(seed), dtype=torch.float64)


def labels(*shape, high=C, seed=0):
    return torch.randint(0, high, shape, generator=_g(seed))


def probs(*shape, seed=0):
    return torch.softmax(randn(*shape, seed=seed), dim=-1)


# name -> (inputs, torch reference taking the same inputs, or None)
CASES = {
    "mae": (lambda: (randn(N, D), randn(N, D, seed=1)), F.l1_loss),
    "huber": (
        lambda: (2 * randn(N, D), randn(N, D, seed=1)),
        lambda x, t: F.huber_loss(x, t, delta=1.0),
    ),
    "smooth_l1": (
        lambda: (2 * randn(N, D), randn(N, D, seed=1)),
        lambda x, t: F.smooth_l1_loss(x, t, beta=1.0),
    ),
    "bce": (lambda: (rand(N, D), rand(N, D, seed=1)), F.binary_cross_entropy),
    "bce_with_logits": (
        lambda: (3 * randn(N, D), rand(N, D, seed=1)),
        F.binary_cross_entropy_with_logits,
    ),
    "cross_entropy[indices]": (lambda: (randn(N, C), labels(N)), F.cross_entropy),
    "cross_entropy[probs]": (lambda: (randn(N, C), probs(N, C, seed=1)), F.cross_entropy),
    "kl_div": (
        lambda: (torch.log_softmax(randn(N, C), 1), probs(N, C, seed=1)),
        lambda lq, p: F.kl_div(lq, p, reduction="batchmean"),
    ),
    "cosine_embedding": (
        lambda: (randn(N, D), randn(N, D, seed=1), torch.tensor([1, -1, 1, -1, -1, 1.0]).double()),
        lambda a, b, y: F.cosine_embedding_loss(a, b, y, margin=0.0),
    ),
    "focal": (lambda: (rand(N, D), labels(N, D, high=2)), None),
    "charbonnier": (lambda: (randn(N, D), randn(N, D, seed=1)), None),
    "log_cosh": (lambda: (randn(N, D), randn(N, D, seed=1)), None),
    "pinball": (lambda: (randn(N, D), randn(N, D, seed=1)), None),
    "dice": (lambda: (rand(N, D), rand(N, D, seed=1)), None),
    "total_variation": (lambda: (randn(2, 3, 5, 4),), None),
    "gaussian_nll": (
        lambda: (randn(N, D), randn(N, D, seed=1), rand(N, D, seed=2, lo=0.5, hi=2.0)),
        lambda mu, t, var: F.gaussian_nll_loss(mu, t, var, eps=1e-6),
    ),
    "info_nce": (lambda: (randn(N, D), randn(N, D, seed=1)), None),
    "spectral": (lambda: (randn(3, 16), randn(3, 16, seed=1)), None),
    "wasserstein_1d": (lambda: (randn(3, 8), randn(3, 8, seed=1)), None),
    "mse_auto": (lambda: (randn(N, D), randn(N, D, seed=1)), F.mse_loss),
}


def _fn(name):
    return getattr(losses, name.split("[")[0])


@pytest.mark.parametrize("name", sorted(CASES))
def test_automatic_gradient_matches_finite_differences(name):
    make, _ = CASES[name]
    report = npgrad.check(_fn(name), *make(), atol=1e-6, rtol=1e-5)
    assert report.ok and report.inputs


WITH_TORCH = sorted(n for n, (_, ref) in CASES.items() if ref is not None)


@pytest.mark.parametrize("name", WITH_TORCH)
@pytest.mark.parametrize(
    "dtype", [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]
)
def test_matches_torch_value_and_gradient(name, dtype, device):
    make, ref_fn = CASES[name]
    inputs = [
        t.to(device=device, dtype=dtype) if t.is_floating_point() else t.to(device) for t in make()
    ]
    ours = [t.clone().requires_grad_(t.is_floating_point()) for t in inputs]
    theirs = [t.clone().requires_grad_(t.is_floating_point()) for t in inputs]
    out, ref = _fn(name)(*ours), ref_fn(*theirs)
    assert out.dtype == dtype and out.device == inputs[0].device
    torch.testing.assert_close(out, ref, **TOL[dtype])
    out.backward()
    ref.backward()
    for a, b in zip(ours, theirs):
        if a.requires_grad:
            torch.testing.assert_close(a.grad, b.grad, **TOL[dtype])


@pytest.mark.parametrize(
    "dtype", [pytest.param(d, id=str(d)[6:]) for d in (torch.float16, torch.bfloat16)]
)
def test_half_precision_runs_natively(dtype):
    x, t = randn(N, D).to(dtype).requires_grad_(), randn(N, D, seed=1).to(dtype)
    out = losses.huber(x, t)
    assert out.dtype == dtype
    out.backward()
    assert x.grad.dtype == dtype
    ref_x = x.detach().double().requires_grad_()
    F.huber_loss(ref_x, t.double()).backward()
    torch.testing.assert_close(x.grad.double(), ref_x.grad, **TOL[dtype])
