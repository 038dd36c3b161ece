"""DistributedDataParallel (gloo, 2 CPU processes) with an npgrad loss."""

from __future__ import annotations

import pytest
import torch

from npgrad.experiment import data
from npgrad.experiment.ddp import train_ddp
from npgrad.experiment.train import make_loss, train

from .conftest import DATA_ROOT, needs_mnist


@needs_mnist
@pytest.mark.parametrize(
    "batch_size", [pytest.param(256, id="even-split"), pytest.param(255, id="uneven-split")]
)
def test_ddp_matches_single_process(batch_size):
    images, labels = data.load(DATA_ROOT, download=False)
    batches = data.Batches(images, labels, batch_size, limit=4 * batch_size)
    kw = dict(epochs=1, lr=1e-3, seed=0, device="cpu")
    single = train("numpy", make_loss("numpy"), batches, log=lambda s: None, **kw)
    ddp = train_ddp("numpy", batches, world_size=2, **kw)
    # the all-reduce sums in another order than one process does: close, not bitwise
    for p, q in zip(single.model.parameters(), ddp.model.parameters()):
        torch.testing.assert_close(p, q, atol=2e-6, rtol=1e-5)
    for a, b in zip(single.losses[0], ddp.losses[0]):
        assert abs(a - b) < 1e-6
    native = train_ddp("native", batches, world_size=2, **kw)
    assert native.params_sha256 == ddp.params_sha256, "under DDP too, NumPy == native bitwise"
    auto = train_ddp("numpy-auto", batches, world_size=2, **kw)
    assert auto.params_sha256 == native.params_sha256, "and the automatic-gradient MSE"


def test_ddp_refuses_a_batch_smaller_than_the_world():
    import numpy as np

    from npgrad.experiment.data import Batches

    batches = Batches(np.zeros((257, 28, 28), np.uint8), np.zeros(257, np.int64), 256)
    with pytest.raises(ValueError, match="a batch of 1 images cannot be split across"):
        train_ddp("numpy", batches, world_size=2, epochs=1)
