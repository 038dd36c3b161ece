"""flatten(value) -> (vector, unflatten) over nested tuples, lists and dicts of arrays,
in plain NumPy (so it is followed inside a traced function).  Written for the shim."""

import numpy as np


def _leaves(x):
    if isinstance(x, dict):
        return [a for k in sorted(x) for a in _leaves(x[k])]
    if isinstance(x, (tuple, list)):
        return [a for e in x for a in _leaves(e)]
    return [x]


def _rebuild(x, it):
    if isinstance(x, dict):
        return {k: _rebuild(x[k], it) for k in sorted(x)}
    if isinstance(x, (tuple, list)):
        return type(x)(_rebuild(e, it) for e in x)
    return next(it)


def flatten(value):
    parts = _leaves(value)
    shapes = [np.shape(p) for p in parts]
    vec = np.concatenate([np.ravel(p) for p in parts]) if parts else np.zeros(0)

    def unflatten(v):
        out, i = [], 0
        for s in shapes:
            n = int(np.prod(s))
            out.append(np.reshape(v[i : i + n], s))
            i += n
        return _rebuild(value, iter(out))

    return vec, unflatten


def flatten_func(func, example):
    _ex, unflatten = flatten(example)
    return (lambda x, *args: flatten(func(unflatten(x), *args))[0]), unflatten, _ex
