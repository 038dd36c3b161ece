"""torch.optim without ``torch._dynamo``, for processes that only train eagerly.

``torch.optim`` imports ``torch._dynamo`` the first time an optimizer runs: its
``add_param_group``, ``zero_grad`` and ``state_dict`` are wrapped to be skipped by
the compiler, and every ``step`` places a graph break.  Neither does anything in an
eager process, but the import took 0.7-1.3 s of each reproduction run here (a third
of the run's training time).  The reproduction's forked children only train, so
they take these paths; a process that may compile later keeps torch's own.
"""

from __future__ import annotations

import inspect
import sys
from collections.abc import Callable

import torch


def without_dynamo_import() -> bool:
    """Let ``torch.optim.Optimizer``'s compile-skipping wrappers call their function
    directly, process-wide; ``False`` where torch's wrappers are not the kind this
    knows (another torch version) or ``torch._dynamo`` is loaded already.

    Each wrapper (``torch._compile._disable_dynamo``) imports ``torch._dynamo`` to
    build the skipping version once and caches it on the function as
    ``__dynamo_disable``; the cache is filled here with the function itself.
    """
    if "torch._dynamo" in sys.modules:
        return False
    compile_module = sys.modules.get("torch._compile")
    where = getattr(compile_module, "__file__", None)
    done = False
    for name in dir(torch.optim.Optimizer):
        wrapper = inspect.getattr_static(torch.optim.Optimizer, name, None)
        code = getattr(wrapper, "__code__", None)
        fn = getattr(wrapper, "__wrapped__", None)
        if code is None or fn is None or where is None or code.co_filename != where:
            continue
        if "__dynamo_disable" not in code.co_consts:
            continue  # a wrapper that reads no such cache: leave it
        fn.__dynamo_disable = fn
        done = True
    return done


def _torch_update(optimizer: torch.optim.Optimizer) -> Callable | None:
    """The optimizer class's own ``step`` under exactly torch's two wrappers (the
    step-hook one and the grad-mode one, both in ``torch/optim/optimizer.py``), or
    ``None`` for anything else: a wrapper this does not know may do something."""
    from torch.optim import optimizer as module

    if "step" in vars(optimizer):
        return None  # wrapped on the instance (an LR scheduler's step counter)
    outer = inspect.getattr_static(type(optimizer), "step", None)
    middle = getattr(outer, "__wrapped__", None)
    update = getattr(middle, "__wrapped__", None)
    known = [(outer, "wrapper"), (middle, "_use_grad")]
    for fn, name in known:
        code = getattr(fn, "__code__", None)
        if code is None or code.co_name != name or code.co_filename != module.__file__:
            return None
    if update is None or hasattr(update, "__wrapped__"):
        return None
    return update


def eager_step(optimizer: torch.optim.Optimizer) -> Callable[[], None]:
    """``optimizer.step()`` as torch runs it eagerly, without the graph breaks (and
    so the import): the optimizer's own update under the grad mode torch's wrapper
    sets.  Where that wrapper has work to do (step hooks, registered before or
    after this is built) or torch's wrappers are not the known two, torch's
    ``optimizer.step``."""
    from torch.optim import optimizer as module

    update = _torch_update(optimizer)
    if update is None:
        return optimizer.step
    differentiable = bool(optimizer.defaults.get("differentiable", False))
    hooks = [
        getattr(optimizer, "_optimizer_step_pre_hooks", None),
        getattr(optimizer, "_optimizer_step_post_hooks", None),
        getattr(module, "_global_optimizer_pre_hooks", None),
        getattr(module, "_global_optimizer_post_hooks", None),
    ]
    if any(h is None for h in hooks):
        return optimizer.step  # a torch that keeps its hooks elsewhere

    def step() -> None:
        if any(hooks):
            optimizer.step()  # hooks to run: torch's path
            return
        with torch.set_grad_enabled(differentiable):
            update(optimizer)

    return step
