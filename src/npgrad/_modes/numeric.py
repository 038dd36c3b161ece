"""numeric mode: the vector-Jacobian product of the NumPy forward by central
differences, in float64 on the host."""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import torch

from .. import _convert
from .._dtypes import is_differentiable
from .._errors import NpgradError, user_stacklevel
from .._policy import check_finite, run_user

NUMERIC_WARN_SIZE = 4096  # above this many elements numeric mode warns that it is slow


def numeric_vjp(call: Any, grads: tuple, inputs: tuple, needs: tuple[bool, ...]) -> list:
    """The vector-Jacobian product of ``call``'s NumPy forward, by central differences.

    Computed in float64 on the host; the result is cast back to each input's dtype.
    """
    arrays = [
        a.astype(np.float64) if a.dtype.kind == "f" else a for a in _convert.to_numpy(list(inputs))
    ]
    gs = [g.astype(np.float64) for g in _convert.to_numpy(list(grads))]
    size = sum(a.size for a, n in zip(arrays, needs) if n)
    if size > NUMERIC_WARN_SIZE:
        warnings.warn(
            f"npgrad op '{call.op.name}': mode='numeric' differentiates {size} elements "
            "by finite differences (2 forward calls each); this is slow",
            stacklevel=user_stacklevel(),
        )

    def outputs(arrs: list[np.ndarray]) -> tuple:
        args, kwargs = call.numpy_args(arrs)
        try:
            out = run_user(
                call.op, "forward (run again by mode='numeric')", call.op.fn, args, kwargs
            )
        except ValueError as e:
            if "read-only" in str(e):
                e.add_note(
                    "(mode='numeric' gives the forward read-only float64 arrays, as the "
                    "forward gets read-only arrays of the tensors' dtype: "
                    "np.asarray(x, dtype=np.float64) is x itself there; copy before "
                    "writing, with x.astype(np.float64))"
                )
            raise
        return out if isinstance(out, tuple) else (out,)

    def value(arrs: list[np.ndarray]) -> float:
        outs = outputs(arrs)
        return float(sum(np.sum(g * np.asarray(o, dtype=np.float64)) for g, o in zip(gs, outs)))

    # the function sees read-only arrays, as in the forward: one that changed its
    # input in place (np.asarray(x, np.float64) is x itself here) would move the
    # point being differenced, silently; written only through the loop's own views
    arrays = [_read_only(a) for a in arrays]
    centre = outputs(arrays)
    # the step suits the precision the forward really computes in: a forward that
    # casts to float32 inside, given float64, rounds away a float64-sized step
    eps = _eps(centre)
    rel = 1e-6 if eps <= np.finfo(np.float64).eps else float(eps ** (1 / 3))
    # copies: a forward that fills one buffer every call would compare it with itself
    centre = tuple(np.array(o, dtype=np.float64) for o in centre)
    _require_deterministic(call, gs, centre, outputs(arrays), eps)

    result: list = []
    for i, (t, need) in enumerate(zip(inputs, needs)):
        if not need or not is_differentiable(t):
            result.append(None)
            continue
        step = rel
        if rel == 1e-6 and _float32_inside(outputs, arrays, i, centre):
            # float64 outputs, but this input is used in float32: the float64 step
            # would be rounded away inside (the gradient silently off by percents)
            step = float(np.finfo(np.float32).eps ** (1 / 3))
        x = arrays[i].copy()  # writeable; the function gets a read-only view of it
        arrays[i] = _read_only(x)
        flat = x.reshape(-1)
        grad = np.empty_like(flat)
        h = step * np.maximum(1.0, np.abs(flat))
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + h[j]
            plus = value(arrays)
            flat[j] = orig - h[j]
            minus = value(arrays)
            flat[j] = orig
            grad[j] = (plus - minus) / (2 * h[j])
        # a step across a domain's edge (log near 0) gives nan: the op's policy, as a
        # numpy-mode backward's gradient meets it
        names = getattr(call, "names", ())
        name = names[i] if i < len(names) else f"input {i}"
        check_finite(call.op, grad, f"the gradient for '{name}' (central differences)")
        result.append(torch.from_numpy(grad.reshape(x.shape)).to(t.device, t.dtype))
    return result


def _eps(outs: tuple) -> float:
    """The machine epsilon of the least precise floating output (0 if none is)."""
    kinds = [np.asarray(o).dtype for o in outs]
    return max((float(np.finfo(d).eps) for d in kinds if d.kind == "f"), default=0.0)


def _float32_inside(outputs: Any, arrays: list, i: int, centre: tuple) -> bool:
    """Whether a forward with float64 outputs uses input ``i`` in float32 (or coarser).

    Each element of the input is moved by a little (about 2**-30 of itself, far above
    float64's resolution, far below float32's) in the direction that keeps its
    rounding to float32: toward that rounding, by half the distance, or either way
    when it is a float32 number already.  A forward that rounds the input to float32
    sees the very same numbers and gives the same outputs, bit for bit; one that
    computes in float64 sees them move.  One input at a time (one more forward call
    each), so that another input used in float64 does not hide it.  Zero elements
    stay (nothing moves them both ways): an input of zeros answers no, the float64
    step.
    """
    x = arrays[i]
    if x.dtype != np.float64:
        return False
    with np.errstate(over="ignore", invalid="ignore"):
        x32 = x.astype(np.float32).astype(np.float64)
        step = np.where(x32 == x, np.abs(x) * 2.0**-30, (x32 - x) / 2)
    step = np.where(np.isfinite(step), step, 0.0)
    if not np.any(step != 0):
        return False
    probe = list(arrays)
    probe[i] = _read_only(x + step)
    again = outputs(probe)
    return all(
        np.array_equal(np.asarray(a, dtype=np.float64), c, equal_nan=True)
        for a, c in zip(again, centre)
    )


def _read_only(a: np.ndarray) -> np.ndarray:
    view = a.view()
    view.flags.writeable = False
    return view


# two evaluations at one point may differ by this many units of the output's last
# place, weighted by the incoming gradient, before the forward counts as random
_SAME_ULPS = 8


def _require_deterministic(call: Any, gs: list, first: tuple, second: tuple, eps: float) -> None:
    """Refuse a forward whose value at one point changes from call to call.

    Central differences subtract two evaluations: a forward that draws random
    numbers (np.random's global stream, a captured Generator or RandomState) or reads
    other changing state gives differences of noise, a gradient that is silently
    garbage.  Evaluating the centre twice catches it for one more call of the
    forward (the differencing costs two per element); comparing with the forward's
    own output instead would need a loose tolerance (it ran on the tensor's dtype,
    float32 typically, not float64), which small noise would pass.  The tolerance
    is a few units in the last place of the output, weighted by the incoming
    gradient: below it, a discrepancy (a reduction order that varies) disturbs the
    differences no more than rounding does anyway, while above it the error reaches
    the gradient magnified by 1/step.
    """
    eps = eps or float(np.finfo(np.float64).eps)
    diff = scale = 0.0
    with np.errstate(invalid="ignore", over="ignore"):
        for g, a, b in zip(gs, first, second):
            a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
            if a.shape != b.shape:
                diff = np.inf
                break
            same = (a == b) | (np.isnan(a) & np.isnan(b))
            weight = np.abs(np.broadcast_to(g, a.shape))
            scale += float(np.sum(np.where(np.isfinite(a), weight * np.abs(a), 0.0)))
            if not same.all():
                # an element whose gradient is zero does not reach the result
                d = np.where(same | (weight == 0), 0.0, weight * np.abs(a - b))
                diff += float(np.sum(np.where(np.isnan(d), np.inf, d)))
    if diff <= _SAME_ULPS * eps * scale:
        return
    raise NpgradError(
        f"npgrad op '{call.op.name}': mode='numeric' needs a deterministic forward, but "
        "two calls of it at the same point gave different values (it draws random "
        "numbers, from np.random or a captured Generator or RandomState, or reads "
        "other changing state), so its finite differences would be noise. Draw the "
        "numbers inside the function from a generator seeded there "
        "(np.random.default_rng(seed): the same numbers on every call), or use "
        "mode='auto' (the draws are constants of the gradient), or register a backward "
        f"with @{call.op.name}.backward"
    )
