"""The three modes behind one pair of entry points, for the bridges.

* ``numpy``: the op's NumPy forward and registered backward, on the host;
* ``auto``: the NumPy code on the engine (eagerly it needs no bridge at all);
* ``numeric``: the NumPy forward, and central differences for the backward.
"""

from __future__ import annotations

import torch

from .._call import Call
from . import auto, numeric, numpy


def forward(call: Call, tensors: list[torch.Tensor]) -> tuple[torch.Tensor, ...]:
    if call.mode == "auto":
        return auto.forward(call, tensors)
    return numpy.forward(call, tensors)


def backward(
    call: Call, grads: tuple, inputs: tuple, outputs: tuple, needs: tuple[bool, ...]
) -> list[torch.Tensor | None]:
    if call.mode == "auto":
        return auto.backward(call, grads, inputs, needs, outputs)
    if call.mode == "numeric":
        return numeric.numeric_vjp(call, grads, inputs, needs)
    return numpy.backward(call, grads, inputs, outputs, needs)
