"""npgrad.nn: the module forms of the losses call their functions; tensor options are
buffers."""

from __future__ import annotations

import pickle
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

from npgrad import losses, nn

from .conftest import TOL
from .test_losses import labels, probs, rand, randn

N, C = 6, 4

# class -> (inputs, options)
MODULE_CASES = {
    "MSELoss": (lambda: (randn(N, C), randn(N, C, seed=1)), dict(reduction="sum")),
    "L1Loss": (lambda: (randn(N, C), randn(N, C, seed=1)), dict(weight=rand(N, C, seed=2))),
    "HuberLoss": (lambda: (randn(N, C), randn(N, C, seed=1)), dict(delta=0.5)),
    "SmoothL1Loss": (lambda: (randn(N, C), randn(N, C, seed=1)), dict(beta=0.0)),
    "BCELoss": (lambda: (rand(N, C), rand(N, C, seed=1)), dict(weight=rand(C, seed=2))),
    "BCEWithLogitsLoss": (
        lambda: (randn(N, C), rand(N, C, seed=1)),
        dict(pos_weight=rand(C, seed=2), reduction="none"),
    ),
    "CrossEntropyLoss": (
        lambda: (randn(N, C), labels(N, seed=1)),
        dict(weight=rand(C, seed=2), ignore_index=1, label_smoothing=0.1),
    ),
    "KLDivLoss": (
        lambda: (torch.log_softmax(randn(N, C), 1), probs(N, C, seed=1)),
        dict(reduction="sum"),
    ),
    "CosineEmbeddingLoss": (
        lambda: (randn(N, C), randn(N, C, seed=1), torch.tensor([1, -1, 1, -1, -1, 1.0])),
        dict(margin=0.2),
    ),
    "FocalLoss": (lambda: (rand(N, C), labels(N, C, high=2)), dict(gamma=2.0)),
    "CharbonnierLoss": (lambda: (randn(N, C), randn(N, C, seed=1)), dict(eps=1e-2)),
    "LogCoshLoss": (lambda: (randn(N, C), randn(N, C, seed=1)), {}),
    "PinballLoss": (lambda: (randn(N, C), randn(N, C, seed=1)), dict(q=0.9)),
    "DiceLoss": (lambda: (rand(N, C), rand(N, C, seed=1)), dict(eps=0.5)),
    "TotalVariationLoss": (lambda: (randn(2, 3, 4, 4),), {}),
    "GaussianNLLLoss": (
        lambda: (randn(N, C), randn(N, C, seed=1), rand(N, C, seed=2, lo=0.5, hi=2.0)),
        dict(full=True),
    ),
    "InfoNCELoss": (lambda: (randn(N, C), randn(N, C, seed=1)), dict(temperature=0.5)),
    "SpectralLoss": (lambda: (randn(3, 8), randn(3, 8, seed=1)), {}),
    "Wasserstein1DLoss": (lambda: (randn(3, 8), randn(3, 8, seed=1)), {}),
}


def test_one_module_per_shipped_loss():
    for name in nn._TABLE:
        assert issubclass(getattr(nn, name), nn.Loss) and name in nn.__all__
    shipped = set(losses.__all__) - {"log_softmax", "mse_auto"}
    covered = {nn._TABLE[name][0].__name__ for name in nn._TABLE}
    assert covered == shipped
    assert set(MODULE_CASES) == set(nn._TABLE)


@pytest.mark.parametrize("name", sorted(MODULE_CASES))
def test_module_equals_its_function(name):
    make, options = MODULE_CASES[name]
    fn = nn._TABLE[name][0]
    module = getattr(nn, name)(**options)
    inputs = make()
    torch.testing.assert_close(module(*inputs), fn(*inputs, **options), rtol=0, atol=0)


@pytest.mark.parametrize("name", ["BCELoss", "CrossEntropyLoss", "L1Loss", "BCEWithLogitsLoss"])
def test_tensor_options_are_buffers_that_follow_the_module(name):
    make, options = MODULE_CASES[name]
    tensors = {k: v.float() for k, v in options.items() if isinstance(v, torch.Tensor)}
    module = getattr(nn, name)(**{**options, **tensors})
    assert set(module.state_dict()) == set(tensors)
    module.double()
    for k in tensors:
        assert getattr(module, k).dtype == torch.float64
        assert module.state_dict()[k].dtype == torch.float64
    inputs = make()
    out = module(*inputs)  # float64 inputs with the float64 weight
    ref = nn._TABLE[name][0](*inputs, **{**options, **{k: v.double() for k, v in tensors.items()}})
    torch.testing.assert_close(out, ref, rtol=0, atol=0)


def test_cross_entropy_module_matches_torchs():
    logits, target = randn(N, C), labels(N, seed=1)
    w = rand(C, seed=2)
    ours = nn.CrossEntropyLoss(weight=w, ignore_index=1, label_smoothing=0.1)
    theirs = torch.nn.CrossEntropyLoss(weight=w, ignore_index=1, label_smoothing=0.1)
    torch.testing.assert_close(ours(logits, target), theirs(logits, target), **TOL[torch.float64])
    assert ours.state_dict().keys() == theirs.state_dict().keys()


def test_unknown_option_is_refused_with_the_class_and_the_option():
    with pytest.raises(TypeError, match=r"npgrad.nn.FocalLoss: unknown option 'gama'"):
        nn.FocalLoss(gama=2.0)


def test_generic_loss_module_pickles_and_passes_options():
    crit = nn.Loss(losses.huber, delta=0.5, weight=rand(N, C, seed=2))
    x, t = randn(N, C), randn(N, C, seed=1)
    loaded = pickle.loads(pickle.dumps(crit))
    assert loaded.fn is losses.huber
    torch.testing.assert_close(loaded(x, t), F.huber_loss(x, t, delta=0.5, weight=crit.weight))
    assert "huber, delta=0.5" in repr(crit)


def test_nn_import_is_light():
    code = (
        "import sys, npgrad.nn\n"
        "print([m for m in ('scipy', 'torchvision', 'matplotlib') if m in sys.modules])"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", out.stdout
