"""``scipy.special`` ufuncs, registered by name and matched by identity once the
user's code imports SciPy (``import npgrad`` never imports it)."""

from __future__ import annotations

import math

import torch

from .._trace._registry import implements

_F = dict(float_result=True)
_TORCH = {
    "xlogy": torch.special.xlogy,
    "xlog1py": torch.special.xlog1py,
    "expit": torch.sigmoid,
    "logit": torch.logit,
    "log_expit": torch.nn.functional.logsigmoid,
    "erf": torch.special.erf,
    "erfc": torch.special.erfc,
    "erfinv": torch.special.erfinv,
    "erfcx": torch.special.erfcx,
    "gammaln": torch.special.gammaln,
    "psi": torch.special.digamma,
    "digamma": torch.special.digamma,
    "i0": torch.special.i0,
    "i0e": torch.special.i0e,
    "i1": torch.special.i1,
    "i1e": torch.special.i1e,
    "ndtr": torch.special.ndtr,
    "ndtri": torch.special.ndtri,
    "log_ndtr": torch.special.log_ndtr,
    "entr": torch.special.entr,
    "expm1": torch.special.expm1,
    "log1p": torch.special.log1p,
    "exp2": torch.special.exp2,
}
# scipy.special.sinc is numpy.sinc, a function (not a ufunc): its row is in ufuncs
for _name, _fn in _TORCH.items():
    implements(f"scipy.special.{_name}", **_F)(_fn)


@implements("scipy.special.rel_entr", **_F)
def _rel_entr(x, y):
    inside = torch.special.xlogy(x, x) - torch.special.xlogy(x, y)
    edge = torch.where(
        (x == 0) & (y >= 0), torch.zeros_like(x * y), torch.full_like(x * y, math.inf)
    )
    return torch.where((x > 0) & (y > 0), inside, edge)


@implements("scipy.special.huber", **_F)
def _huber(delta, r):
    return torch.where(torch.abs(r) <= delta, 0.5 * r * r, delta * (torch.abs(r) - 0.5 * delta))


@implements("scipy.special.pseudo_huber", **_F)
def _pseudo_huber(delta, r):
    return delta * delta * (torch.sqrt(1 + (r / delta) ** 2) - 1)
