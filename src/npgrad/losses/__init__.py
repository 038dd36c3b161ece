"""Losses written in plain NumPy.

``mse`` carries a hand-written NumPy backward in ATen's order of operations, which
makes it bit-identical to ``torch.nn.MSELoss`` in training (the default
``reduction="mean"`` with two tensors; other calls take an automatic variant).  ``bce``
has a backward written in torch ops, torch's own formula, so that saturated
probabilities (0 or 1) get torch's finite gradients.  Every other loss has no backward
at all: npgrad derives its gradient (``mode="auto"``), on the tensor's own device.
Each is checked against float64 finite differences and, where torch has the same
loss, against torch's own value and gradient.

Where torch has them, losses take torch's keyword options (``reduction=``,
``weight=``, ...), keyword-only here.  ``reduction="none"`` gives a non-scalar result,
which :func:`npgrad.loss` refuses, so each such loss is two npgrad ops over one NumPy
function: an ``npgrad.loss`` for the scalar reductions and an ``npgrad.function`` for
``"none"``; the public function only picks one.

Under autocast, the losses torch also has follow torch's policy for them: float32
inside and out for ``mse``, ``mae``, ``huber``, ``smooth_l1``, ``bce_with_logits``,
``cross_entropy``, ``kl_div`` and ``cosine_embedding`` (CPU and CUDA), ``bce`` (CPU;
refused under CUDA autocast, as torch refuses it) and ``gaussian_nll`` (CUDA; the
inputs' dtype on the CPU, as torch's).  The others, and ``mse_auto`` (an npgrad op
itself), run in their inputs' dtype, each traced torch op under autocast's own rule.

>>> import torch
>>> from npgrad import losses
>>> losses.mse(torch.tensor([1.0, 2.0]), torch.tensor([1.0, 0.0]))
tensor(2.)
>>> losses.huber(torch.tensor([0.0, 3.0]), torch.zeros(2))
tensor(1.2500)
>>> losses.huber(torch.tensor([0.0, 3.0]), torch.zeros(2), reduction="none")
tensor([0.0000, 2.5000])
"""

from ._classification import bce as bce
from ._classification import bce_with_logits as bce_with_logits
from ._classification import cosine_embedding as cosine_embedding
from ._classification import cross_entropy as cross_entropy
from ._classification import focal as focal
from ._classification import info_nce as info_nce
from ._classification import kl_div as kl_div
from ._classification import log_softmax as log_softmax
from ._regression import charbonnier as charbonnier
from ._regression import dice as dice
from ._regression import gaussian_nll as gaussian_nll
from ._regression import huber as huber
from ._regression import log_cosh as log_cosh
from ._regression import mae as mae
from ._regression import mse as mse
from ._regression import mse_auto as mse_auto
from ._regression import pinball as pinball
from ._regression import smooth_l1 as smooth_l1
from ._regression import spectral as spectral
from ._regression import total_variation as total_variation
from ._regression import wasserstein_1d as wasserstein_1d

__all__ = [
    "bce",
    "bce_with_logits",
    "charbonnier",
    "cosine_embedding",
    "cross_entropy",
    "dice",
    "focal",
    "gaussian_nll",
    "huber",
    "info_nce",
    "kl_div",
    "log_cosh",
    "log_softmax",
    "mae",
    "mse",
    "mse_auto",
    "pinball",
    "smooth_l1",
    "spectral",
    "total_variation",
    "wasserstein_1d",
]
