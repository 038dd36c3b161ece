"""Records of the ndarray methods the registry's rows declare (``TracedArray``'s
methods are generated from them), one record a method."""

from __future__ import annotations

from . import Record

_M = ((3, 4),)
_NOGRAD = dict(grad=False)


def _m(name: str, fn, shapes=_M, **kw) -> Record:
    return Record(covers=(f"ndarray.{name}",), fn=fn, shapes=shapes, **kw)


RECORDS = [
    _m("sum", lambda x: x.sum(axis=0, keepdims=True)),
    _m("mean", lambda x: x.mean(1)),
    _m("prod", lambda x: x.prod(axis=1), domain="positive"),
    _m("max", lambda x: x.max(axis=0)),
    _m("min", lambda x: x.min()),
    _m("var", lambda x: x.var(axis=1, ddof=1)),
    _m("std", lambda x: x.std()),
    _m("any", lambda x: (x > 1).any(axis=1), **_NOGRAD),
    _m("all", lambda x: (x > -1).all(), **_NOGRAD),
    _m("argmax", lambda x: x.argmax(axis=0), **_NOGRAD),
    _m("argmin", lambda x: x.argmin(1), **_NOGRAD),
    _m("argsort", lambda x: x.argsort(axis=0), **_NOGRAD),
    _m("cumsum", lambda x: x.cumsum(axis=1)),
    _m("cumprod", lambda x: x.cumprod()),
    _m("clip", lambda x: x.clip(-0.5, 0.5)),
    _m("conj", lambda x: x.conj()),
    _m("conjugate", lambda x: x.conjugate()),
    _m("diagonal", lambda x: x.diagonal(1)),
    _m("dot", lambda x, y: x.dot(y), shapes=((3, 4), (4, 2))),
    _m("flatten", lambda x: x.flatten()),
    _m("ravel", lambda x: x.ravel()),
    _m("reshape", lambda x: x.reshape(2, 6)),
    _m("reshape", lambda x: x.reshape((4, 3), order="F"), id="ndarray.reshape-F"),
    _m("flatten", lambda x: x.T.flatten("A"), id="ndarray.flatten-A"),
    _m("transpose", lambda x: x.transpose(1, 0)),
    _m("swapaxes", lambda x: x.swapaxes(0, 1)),
    _m("squeeze", lambda x: x.squeeze(), shapes=((3, 1, 4),)),
    _m("repeat", lambda x: x.repeat(2, axis=1)),
    _m("take", lambda x: x.take([0, 2], axis=0)),
    _m("trace", lambda x: x.trace()),
    _m("round", lambda x: x.round(2)),
    _m("nonzero", lambda x: (x > 0).nonzero(), **_NOGRAD),
    # properties of TracedArray itself that NumPy code reads
    Record(covers=("ndarray.transpose",), fn=lambda x: x.mT, shapes=((2, 3, 4),), id="ndarray.mT"),
]
