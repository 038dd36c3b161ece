"""The composite route: under ``torch.compile`` an automatic-mode op becomes torch ops.

The op enters Dynamo's graph as one call of ``npgrad::auto``, whose kernel is
registered as ``CompositeImplicitAutograd``: Dynamo does not trace the user's NumPy
code (so ``fullgraph=True`` holds), and AOTAutograd, tracing the kernel, records the
engine's torch ops themselves. Inductor can then fuse them with the model around
them, and the backward is autograd's own, with no second run of the forward.

That is only right for code whose torch ops follow from the input shapes alone. The
first time the kernel meets an input signature it traces the function once under a
fresh ``FakeTensorMode`` (no values exist there, so any read of one fails) and takes
the composite route only when that trace read no value, drew no random numbers,
captured no tensor that requires grad and, where it captures arrays, froze no NumPy
value (one may be computed from them, ``X * 2``: the graph would keep its first
value); otherwise the call goes to the opaque custom ops of :mod:`.compiled`, which
run the real NumPy code at run time. The choice is
logged on the ``npgrad`` logger (``NPGRAD_LOG_ROUTES=1`` prints it to stderr) and
kept on the op as ``op.compiled_route``.
"""

from __future__ import annotations

import logging
import os
import sys
import uuid
import warnings
from typing import Any

import numpy as np
import torch

from .._call import Call
from .._dtypes import NP_TO_TORCH
from .._modes import auto
from .._trace._state import lifting
from . import compiled

LOG = logging.getLogger("npgrad")

COMPOSITE, OPAQUE = "composite", "opaque"

# torch's on-disk AOTAutograd cache keys a graph by Dynamo's graph, where an op is
# one npgrad::auto call that names neither the function's code nor the NumPy values
# its trace froze: another process (the code edited, a helper's global changed) would
# load this one's ops. A token per process in the call's constant string keeps each
# process's graphs its own (inductor's cache, keyed by the traced ops, still serves)
_PROCESS = uuid.uuid4().hex + ";"

# a fragment of the namespace the opaque custom ops already define
_LIB = torch.library.Library("npgrad", "FRAGMENT")
# what the function captures (see call_compiled): lifted, its NumPy arrays (graph
# inputs, read at run time); cints and cfloats, its Python numbers; stamp, its other
# numbers as a constant string Dynamo guards (a new value, a new graph)
_LIB.define(
    "auto(Tensor[] tensors, str key, int[] ints, float[] floats, Tensor[] lifted, "
    "int[] cints, float[] cfloats, str stamp) -> Tensor[]"
)


def _hint(v: Any) -> Any:
    """A symbolic size or scalar's example value (``None`` where it has none), read
    without adding a guard: the probe only needs a plausible stand-in."""
    if isinstance(v, (torch.SymInt, torch.SymFloat, torch.SymBool)):
        return getattr(v.node, "hint", None)
    return v


def _signature(key: str, tensors: list, ints: list, floats: list) -> tuple | None:
    shapes = tuple((tuple(_hint(s) for s in t.shape), t.dtype) for t in tensors)
    sig = (key, shapes, tuple(_hint(i) for i in ints), tuple(_hint(f) for f in floats))
    flat = [s for sh, _ in shapes for s in sh] + list(sig[2]) + list(sig[3])
    return None if any(v is None for v in flat) else sig


def _probe(op: Any, sig: tuple) -> tuple[str, str]:
    """Trace ``op`` once on fake inputs of the signature: the route and why."""
    from torch._subclasses.fake_tensor import FakeTensorMode
    from torch.utils._python_dispatch import _disable_current_modes

    if op.nonfinite == "raise":
        # the check needs the values: the opaque kernel reads them, as eagerly
        return OPAQUE, "nonfinite='raise' reads the outputs"
    key, shapes, ints, floats = sig
    arrays = compiled.read_captured(_held(op))[3] if op._captures else []
    arrays = [a for a in arrays if isinstance(a, np.ndarray) and a.dtype in NP_TO_TORCH]
    # the kernel may run inside Dynamo's or AOTAutograd's modes: the probe sees none
    with _disable_current_modes(), compiled._streams_kept(op.fn) as watch:
        mode = FakeTensorMode()
        try:
            with mode, torch.enable_grad(), np.errstate(all="ignore"):
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore")
                    fakes = [torch.empty(s, dtype=d) for s, d in shapes]
                    _, args, kwargs = compiled._decode(key, fakes, list(ints), list(floats))
                    call = Call.build(op, args, kwargs)
                    call.check_finite = False
                    # the captured arrays as the kernel will see them: graph inputs
                    lift = lifting((a, _stand_in(a)) for a in arrays)
                    with lift:
                        outs, _ = auto.evaluate(call, call.tensors)
        except Exception as e:  # noqa: BLE001 - any failure: the opaque route decides
            return OPAQUE, f"a symbolic trace failed ({type(e).__name__}: {str(e)[:160]})"
        if watch.drew():
            return OPAQUE, "it draws random numbers (a graph would replay one draw)"
    if lift.baked:
        return OPAQUE, _BAKED
    if any(o.requires_grad for o in outs):
        # no input required grad in the probe: a captured tensor did
        return OPAQUE, "it captures a tensor that requires grad"
    return COMPOSITE, "its trace follows from the input shapes alone"


_BAKED = (
    "it computes a NumPy value from what it captures (X * 2, a fancy index of a "
    "captured array), which a graph would freeze"
)


def _stand_in(a: np.ndarray) -> torch.Tensor:
    """A fake tensor laid out as ``torch.as_tensor(a)`` is (Dynamo's graph input)."""
    dtype, size = NP_TO_TORCH[a.dtype], a.itemsize
    if all(s >= 0 and s % size == 0 for s in a.strides):
        return torch.empty_strided(a.shape, [s // size for s in a.strides], dtype=dtype)
    return torch.empty(a.shape, dtype=dtype)


def route(op: Any, key: str, tensors: list, ints: list, floats: list) -> str:
    """The route for this call, probed once per input signature and remembered."""
    routes = op.__dict__.setdefault("_routes", {})
    sig = _signature(key, tensors, ints, floats)
    if sig is None:
        chosen, why = OPAQUE, "a size or scalar has no example value"
    elif sig in routes:
        chosen = routes[sig]
        op._last_route = chosen
        return chosen
    else:
        chosen, why = _probe(op, sig)
        routes[sig] = chosen
    op._last_route = chosen
    _log(op, chosen, why, sig)
    return chosen


def _log(op: Any, chosen: str, why: str, sig: tuple | None) -> None:
    shapes = [tuple(s) for s, _ in sig[1]] if sig else "?"
    msg = f"npgrad op '{op.name}': torch.compile takes the {chosen} route for {shapes}: {why}"
    LOG.debug(msg)
    if os.environ.get("NPGRAD_LOG_ROUTES", "") not in ("", "0"):
        print(msg, file=sys.stderr)


def _held(op: Any) -> tuple:
    held = compiled.holding_values(op.key)  # a constant to Dynamo
    if not held:
        # (op._captures is not touched: Dynamo would guard every entry of a captured
        # module's globals, a few microseconds of guards on every compiled call)
        return ()
    places = op._captures
    return tuple(places[i] for i in held)


def _frozen(op: Any, cints: list, cfloats: list, lifted: list) -> bool:
    """Whether the captured numbers are constants of this graph (Dynamo guards them:
    a new value retraces) and the function reads those very values now. A number
    Dynamo made symbolic (it changed between calls) cannot be one of the engine's
    constants: that call takes the opaque route, which reads it at run time."""
    if any(isinstance(v, (torch.SymInt, torch.SymFloat)) for v in (*cints, *cfloats)):
        return False
    _, ints_now, floats_now, arrays = compiled.read_captured(_held(op))
    if len(arrays) != len(lifted) or any(isinstance(a, np.generic) for a in arrays):
        # not the arrays Dynamo lifted, or a NumPy scalar (the engine takes it for a
        # number): nothing may be frozen
        return False
    return list(cints) == ints_now and [float(v).hex() for v in cfloats] == [
        v.hex() for v in floats_now
    ]


def _kernel(
    tensors: list,
    key: str,
    ints: list,
    floats: list,
    lifted: list,
    cints: list,
    cfloats: list,
    stamp: str,
) -> list:
    op = compiled.OPS[key.split(compiled._SEP, 1)[0]]
    if not _frozen(op, cints, cfloats, lifted):
        op._last_route = OPAQUE
        why = "a number it captures changes between calls, or is a NumPy scalar"
        _log(op, OPAQUE, why, None)
    elif route(op, key, tensors, ints, floats) == COMPOSITE:
        _, args, kwargs = compiled._decode(key, list(tensors), ints, floats)
        call = Call.build(op, args, kwargs)
        # a finiteness read would be a data-dependent guard: the composite route does
        # not apply nonfinite="warn" (as eagerly off the CPU); "raise" stays opaque
        call.check_finite = False
        # the captured arrays, read again here (the same objects Dynamo lifted), are
        # their graph inputs in the trace, not constants frozen at trace time
        arrays = compiled.read_captured(_held(op))[3]
        lift = lifting(zip(arrays, lifted))
        with lift:
            outs, structure = auto.evaluate(call, call.tensors)
        if not lift.baked:
            # an output that is an input's view would alias across the op's boundary
            outs = [o.clone() if o._base is not None else o for o in outs]
            marker = [compiled._marker(call.device)] if structure == "tuple" else []
            return outs + marker
        # it froze a NumPy value computed, perhaps, from a captured array (X * 2): no
        # Python runs per call to see that array change, so the opaque route, which
        # runs the NumPy code at run time, for this signature from now on (the ops
        # traced here are unused: dropped from the graph)
        sig = _signature(key, tensors, ints, floats)
        if sig is not None:
            op.__dict__.setdefault("_routes", {})[sig] = OPAQUE
        op._last_route = OPAQUE
        _log(op, OPAQUE, _BAKED, sig)
    if torch.is_grad_enabled() and any(t.requires_grad for t in tensors):
        return list(compiled._CompiledBridge.apply(key, ints, floats, *tensors))
    return list(compiled._forward_op(list(tensors), key, ints, floats))


_LIB.impl("auto", _kernel, "CompositeImplicitAutograd")
# under torch.func.vmap inside torch.compile the node must decompose too: vmap has no
# batching rule for it, and its torch ops have theirs
_LIB.impl("auto", _kernel, "FuncTorchBatchedDecomposition")


def call_compiled(op: Any, args: tuple, kwargs: dict) -> Any:
    """An automatic-mode call while Dynamo traces: one ``npgrad::auto`` node."""
    key, tensors, ints, floats = compiled._encode(op, args, kwargs)
    # Dynamo traces this: what it reads here it guards (a captured number, through
    # the stamp) or lifts to a graph input read at each call (a captured array)
    stamp, cints, cfloats, arrays = compiled.read_captured(_held(op))
    lifted = [torch.as_tensor(a) for a in arrays]
    stamp = _PROCESS + stamp
    outs = torch.ops.npgrad.auto(tensors, key, ints, floats, lifted, cints, cfloats, stamp)
    return outs[0] if len(outs) == 1 else tuple(outs[:-1])
