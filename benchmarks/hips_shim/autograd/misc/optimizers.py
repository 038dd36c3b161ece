"""sgd, rmsprop and adam with autograd.misc.optimizers' calling convention
(``optimizer(grad, x0, callback=None, num_iters=..., step_size=...)``, ``grad(x, i)``),
in plain NumPy over any nested structure of arrays.  Written for the shim."""

import numpy as np

from autograd.misc.flatten import flatten


def _flat(grad, x0):
    x, unflatten = flatten(x0)
    return x, unflatten, (lambda v, i: flatten(grad(unflatten(v), i))[0])


def sgd(grad, x0, callback=None, num_iters=200, step_size=0.1, mass=0.9):
    x, unflatten, g = _flat(grad, x0)
    velocity = np.zeros(len(x))
    for i in range(num_iters):
        d = g(x, i)
        if callback:
            callback(unflatten(x), i, unflatten(d))
        velocity = mass * velocity - (1.0 - mass) * d
        x = x + step_size * velocity
    return unflatten(x)


def rmsprop(grad, x0, callback=None, num_iters=100, step_size=0.1, gamma=0.9, eps=1e-8):
    x, unflatten, g = _flat(grad, x0)
    avg = np.ones(len(x))
    for i in range(num_iters):
        d = g(x, i)
        if callback:
            callback(unflatten(x), i, unflatten(d))
        avg = avg * gamma + d**2 * (1 - gamma)
        x = x - step_size * d / (np.sqrt(avg) + eps)
    return unflatten(x)


def adam(grad, x0, callback=None, num_iters=100, step_size=0.001, b1=0.9, b2=0.999, eps=1e-8):
    x, unflatten, g = _flat(grad, x0)
    m, v = np.zeros(len(x)), np.zeros(len(x))
    for i in range(num_iters):
        d = g(x, i)
        if callback:
            callback(unflatten(x), i, unflatten(d))
        m = (1 - b1) * d + b1 * m
        v = (1 - b2) * d**2 + b2 * v
        mhat, vhat = m / (1 - b1 ** (i + 1)), v / (1 - b2 ** (i + 1))
        x = x - step_size * mhat / (np.sqrt(vhat) + eps)
    return unflatten(x)
