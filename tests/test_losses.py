"""Every shipped loss: automatic gradient vs float64 central differences, and vs
torch's own loss (value and gradient) where torch has one."""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import npgrad
from npgrad import losses

from .conftest import TOL

N, D, C = 6, 5, 4


def _g(seed):
    return torch.Generator().manual_seed(seed)


def randn(*shape, seed=0):
    return torch.randn(shape, generator=_g(seed), dtype=torch.float64)


def rand(*shape, seed=0, lo=0.05, hi=0.95):
    return lo + (hi - lo) * torch.rand(shape, generator=_g(seed), dtype=torch.float64)


def labels(*shape, high=C, seed=0):
    return torch.randint(0, high, shape, generator=_g(seed))


def probs(*shape, seed=0):
    return torch.softmax(randn(*shape, seed=seed), dim=-1)


# name -> (inputs, torch reference taking the same inputs, or None)
CASES = {
    "mae": (lambda: (randn(N, D), randn(N, D, seed=1)), F.l1_loss),
    "huber": (
        lambda: (2 * randn(N, D), randn(N, D, seed=1)),
        lambda x, t: F.huber_loss(x, t, delta=1.0),
    ),
    "smooth_l1": (
        lambda: (2 * randn(N, D), randn(N, D, seed=1)),
        lambda x, t: F.smooth_l1_loss(x, t, beta=1.0),
    ),
    "bce": (lambda: (rand(N, D), rand(N, D, seed=1)), F.binary_cross_entropy),
    "bce_with_logits": (
        lambda: (3 * randn(N, D), rand(N, D, seed=1)),
        F.binary_cross_entropy_with_logits,
    ),
    "cross_entropy[indices]": (lambda: (randn(N, C), labels(N)), F.cross_entropy),
    "cross_entropy[probs]": (lambda: (randn(N, C), probs(N, C, seed=1)), F.cross_entropy),
    "kl_div": (
        lambda: (torch.log_softmax(randn(N, C), 1), probs(N, C, seed=1)),
        lambda lq, p: F.kl_div(lq, p, reduction="batchmean"),
    ),
    "cosine_embedding": (
        lambda: (randn(N, D), randn(N, D, seed=1), torch.tensor([1, -1, 1, -1, -1, 1.0]).double()),
        lambda a, b, y: F.cosine_embedding_loss(a, b, y, margin=0.0),
    ),
    "focal": (lambda: (rand(N, D), labels(N, D, high=2)), None),
    "charbonnier": (lambda: (randn(N, D), randn(N, D, seed=1)), None),
    "log_cosh": (lambda: (randn(N, D), randn(N, D, seed=1)), None),
    "pinball": (lambda: (randn(N, D), randn(N, D, seed=1)), None),
    "dice": (lambda: (rand(N, D), rand(N, D, seed=1)), None),
    "total_variation": (lambda: (randn(2, 3, 5, 4),), None),
    "gaussian_nll": (
        lambda: (randn(N, D), randn(N, D, seed=1), rand(N, D, seed=2, lo=0.5, hi=2.0)),
        lambda mu, t, var: F.gaussian_nll_loss(mu, t, var, eps=1e-6),
    ),
    "info_nce": (lambda: (randn(N, D), randn(N, D, seed=1)), None),
    "spectral": (lambda: (randn(3, 16), randn(3, 16, seed=1)), None),
    "wasserstein_1d": (lambda: (randn(3, 8), randn(3, 8, seed=1)), None),
    "mse_auto": (lambda: (randn(N, D), randn(N, D, seed=1)), F.mse_loss),
}


def _fn(name):
    return getattr(losses, name.split("[")[0])


# float inputs that are labels, not differentiated (cosine_embedding's y is +1 or -1)
LABEL_AT = {"cosine_embedding": 2}


def _differentiated(name, inputs):
    """The inputs, those to differentiate marked requires_grad (all floating ones but
    a label), for npgrad.check."""
    if name not in LABEL_AT:
        return inputs
    return [t if i == LABEL_AT[name] else t.requires_grad_() for i, t in enumerate(inputs)]


@pytest.mark.parametrize("name", sorted(CASES))
def test_automatic_gradient_matches_finite_differences(name):
    make, _ = CASES[name]
    report = npgrad.check(_fn(name), *_differentiated(name, make()), atol=1e-6, rtol=1e-5)
    assert report.ok and report.inputs


WITH_TORCH = sorted(n for n, (_, ref) in CASES.items() if ref is not None)


@pytest.mark.parametrize("name", sorted(CASES))
def test_called_by_numpy_code_that_npgrad_grad_traces(name):
    # a loss inside a NumPy function given to npgrad.grad: its checks and ops see the
    # traced arrays; the gradient is the tensor route's
    inputs = CASES[name][0]()
    rest = [t.numpy() for t in inputs[1:]]
    got = npgrad.grad(lambda x: _fn(name)(x, *rest) * 1.0)(inputs[0].numpy())
    x = inputs[0].clone().requires_grad_()
    _fn(name)(x, *inputs[1:]).backward()
    np.testing.assert_allclose(got, x.grad.numpy(), **TOL[torch.float64])


@pytest.mark.parametrize("name", WITH_TORCH)
@pytest.mark.parametrize(
    "dtype", [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]
)
def test_matches_torch_value_and_gradient(name, dtype, device):
    make, ref_fn = CASES[name]
    inputs = [
        t.to(device=device, dtype=dtype) if t.is_floating_point() else t.to(device) for t in make()
    ]
    ours = [t.clone().requires_grad_(t.is_floating_point()) for t in inputs]
    theirs = [t.clone().requires_grad_(t.is_floating_point()) for t in inputs]
    out, ref = _fn(name)(*ours), ref_fn(*theirs)
    assert out.dtype == dtype and out.device == inputs[0].device
    torch.testing.assert_close(out, ref, **TOL[dtype])
    out.backward()
    ref.backward()
    for a, b in zip(ours, theirs):
        if a.requires_grad:
            torch.testing.assert_close(a.grad, b.grad, **TOL[dtype])


@pytest.mark.parametrize(
    "dtype", [pytest.param(d, id=str(d)[6:]) for d in (torch.float16, torch.bfloat16)]
)
def test_half_precision_runs_natively(dtype):
    x, t = randn(N, D).to(dtype).requires_grad_(), randn(N, D, seed=1).to(dtype)
    out = losses.huber(x, t)
    assert out.dtype == dtype
    out.backward()
    assert x.grad.dtype == dtype
    ref_x = x.detach().double().requires_grad_()
    F.huber_loss(ref_x, t.double()).backward()
    torch.testing.assert_close(x.grad.double(), ref_x.grad, **TOL[dtype])


# ----------------------------------------------- finite gradients at edge values
def _edge_probs(dtype):
    # saturated probabilities (exactly 0 and 1) beside ordinary ones, against both labels
    p = torch.tensor([0.0, 1.0, 0.0, 1.0, 0.3, 0.8], dtype=dtype)
    t = torch.tensor([0.0, 1.0, 1.0, 0.0, 1.0, 0.25], dtype=dtype)
    return p, t


def _bce_edges(dtype):
    p, t = _edge_probs(dtype)
    return (p, t), losses.bce, F.binary_cross_entropy


def _smooth_l1_beta0(dtype):
    x = torch.tensor([0.0, 1.0, -2.0, 0.5], dtype=dtype)
    t = torch.tensor([0.0, 0.0, 1.0, 0.5], dtype=dtype)  # d = 0 included
    return (
        (x, t),
        (lambda a, b: losses.smooth_l1(a, b, beta=0.0)),
        (lambda a, b: F.smooth_l1_loss(a, b, beta=0.0)),
    )


def _kl_div_zero_target(dtype):
    logq = torch.log_softmax(randn(3, C), 1).to(dtype)
    p = torch.tensor([[0.0, 0.5, 0.5, 0.0], [1.0, 0.0, 0.0, 0.0], [0.25] * 4], dtype=dtype)
    return (logq, p), losses.kl_div, (lambda a, b: F.kl_div(a, b, reduction="batchmean"))


EDGES = {"bce-saturated": _bce_edges, "smooth_l1-beta0": _smooth_l1_beta0}
EDGES["kl_div-zero-target"] = _kl_div_zero_target


@pytest.mark.parametrize("case", sorted(EDGES))
@pytest.mark.parametrize(
    "dtype", [pytest.param(torch.float32, id="float32"), pytest.param(torch.float64, id="float64")]
)
def test_edge_values_give_torchs_finite_gradient(case, dtype):
    (x, t), ours_fn, ref_fn = EDGES[case](dtype)
    ours, theirs = x.clone().requires_grad_(), x.clone().requires_grad_()
    out, ref = ours_fn(ours, t), ref_fn(theirs, t)
    torch.testing.assert_close(out, ref, **TOL[dtype])
    out.backward()
    ref.backward()
    assert torch.isfinite(theirs.grad).all()  # the reference itself is finite here
    torch.testing.assert_close(ours.grad, theirs.grad, **TOL[dtype])


@pytest.mark.parametrize("gamma", [0.0, 0.5, 2.0], ids=["gamma0", "gamma0.5", "gamma2"])
def test_focal_gradient_is_finite_for_certain_predictions(gamma):
    # p == y: the loss is 0 there, and flat (it vanishes like (1 - p_t)^(gamma + 1)),
    # so the gradient is 0; the power's own derivative, inf for gamma < 1, must not leak
    p = torch.tensor([1.0, 0.0, 0.3, 0.6], dtype=torch.float64, requires_grad=True)
    y = torch.tensor([1, 0, 1, 0])
    losses.focal(p, y, gamma=gamma).backward()
    assert torch.isfinite(p.grad).all(), p.grad
    assert torch.equal(p.grad[:2], torch.zeros(2, dtype=torch.float64))
    inner = p.detach()[2:]
    assert npgrad.check(lambda a: losses.focal(a, y[2:], gamma=gamma), inner).ok


# ------------------------------------------------------------------ cross-entropy
def _ce_inputs(kind, n_classes):
    logits = randn(N, n_classes)
    if kind == "indices":
        target = labels(N, high=n_classes, seed=1)
        target[[1, 4]] = -100  # torch's ignore label, read as class C - 100 before
    elif kind == "indices-kdim":
        logits = randn(3, n_classes, 2)
        target = labels(3, 2, high=n_classes, seed=1)
        target[0, 1] = -100
    else:
        target = probs(N, n_classes, seed=1)
    return logits, target


CE_WEIGHTS = {
    "unweighted": lambda c: None,
    "weight-tensor": lambda c: rand(c, seed=3, lo=0.2, hi=2.0),
}


@pytest.mark.parametrize("n_classes", [4, 120], ids=["C4", "C120"])
@pytest.mark.parametrize("kind", ["indices", "indices-kdim", "probs"])
@pytest.mark.parametrize("weight", sorted(CE_WEIGHTS))
@pytest.mark.parametrize("smoothing", [0.0, 0.1], ids=["nosmooth", "smooth0.1"])
@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
def test_cross_entropy_matches_torch(n_classes, kind, weight, smoothing, reduction):
    logits, target = _ce_inputs(kind, n_classes)
    w = CE_WEIGHTS[weight](n_classes)
    opts = dict(weight=w, reduction=reduction, label_smoothing=smoothing)
    ours, theirs = logits.clone().requires_grad_(), logits.clone().requires_grad_()
    out, ref = losses.cross_entropy(ours, target, **opts), F.cross_entropy(theirs, target, **opts)
    torch.testing.assert_close(out, ref, **TOL[torch.float64])
    v = randn(*ref.shape, seed=5)  # a random upstream gradient, for reduction="none"
    (out * v).sum().backward()
    (ref * v).sum().backward()
    torch.testing.assert_close(ours.grad, theirs.grad, **TOL[torch.float64])


def test_cross_entropy_weight_as_array_and_other_ignore_index():
    logits, target = randn(N, C), labels(N, seed=1)
    target[2] = 3
    w = rand(C, seed=3)
    out = losses.cross_entropy(logits, target, weight=w.numpy(), ignore_index=3)
    ref = F.cross_entropy(logits, target, weight=w, ignore_index=3)
    torch.testing.assert_close(out, ref, **TOL[torch.float64])


def test_cross_entropy_gradients_match_finite_differences_with_options():
    logits, target = _ce_inputs("indices", C)
    w = rand(C, seed=3).requires_grad_()
    report = npgrad.check(
        lambda z, w: losses.cross_entropy(z, target, weight=w, label_smoothing=0.2),
        logits,
        w,
        wrt=("z", "w"),
    )
    assert report.ok and len(report.inputs) == 2


# -------------------------------------------------------- reductions and weights
def _x_t():
    return [2 * randn(N, D), randn(N, D, seed=1)]


def _weighted(fn, **fixed):
    return lambda *a, **kw: fn(*a, **fixed, **kw)


# name -> (inputs, ours, torch's, extra tensor options (made fresh), option grid)
W = lambda: rand(N, D, seed=4, lo=0.2, hi=2.0)  # noqa: E731
OPTION_CASES = {
    "mse": (_x_t, losses.mse, F.mse_loss, {"weight": W}),
    "mae": (_x_t, losses.mae, F.l1_loss, {"weight": W}),
    "huber": (_x_t, _weighted(losses.huber, delta=0.7), _weighted(F.huber_loss, delta=0.7), {}),
    "huber[weight]": (_x_t, losses.huber, F.huber_loss, {"weight": W}),
    "smooth_l1": (
        _x_t,
        _weighted(losses.smooth_l1, beta=0.5),
        _weighted(F.smooth_l1_loss, beta=0.5),
        {},
    ),
    "bce[weight]": (
        lambda: [rand(N, D), rand(N, D, seed=1)],
        losses.bce,
        F.binary_cross_entropy,
        {"weight": lambda: rand(D, seed=4)},  # broadcast to the input
    ),
    "bce_with_logits[weights]": (
        lambda: [3 * randn(N, D), rand(N, D, seed=1)],
        losses.bce_with_logits,
        F.binary_cross_entropy_with_logits,
        {"weight": W, "pos_weight": lambda: rand(D, seed=5, lo=0.5, hi=3.0)},
    ),
    "kl_div": (
        lambda: [torch.log_softmax(randn(N, C), 1), probs(N, C, seed=1)],
        losses.kl_div,
        F.kl_div,
        {},
    ),
    "kl_div[log_target]": (
        lambda: [torch.log_softmax(randn(N, C), 1), torch.log_softmax(randn(N, C, seed=1), 1)],
        _weighted(losses.kl_div, log_target=True),
        _weighted(F.kl_div, log_target=True),
        {},
    ),
    "gaussian_nll[full]": (
        lambda: [randn(N, D), randn(N, D, seed=1), rand(N, D, seed=2, lo=0.5, hi=2.0)],
        _weighted(losses.gaussian_nll, full=True),
        _weighted(F.gaussian_nll_loss, full=True),
        {},
    ),
    "cosine_embedding": (
        lambda: [randn(N, D), randn(N, D, seed=1), torch.tensor([1, -1, 1, -1, -1, 1.0]).double()],
        _weighted(losses.cosine_embedding, margin=0.3),
        _weighted(F.cosine_embedding_loss, margin=0.3),
        {},
    ),
}
REDUCTIONS = {name: ["mean", "sum", "none"] for name in OPTION_CASES}
for _name in ("kl_div", "kl_div[log_target]"):
    REDUCTIONS[_name] = ["batchmean", "mean", "sum", "none"]
OPTION_GRID = [
    pytest.param(name, red, id=f"{name}-{red}")
    for name in sorted(OPTION_CASES)
    for red in REDUCTIONS[name]
]


@pytest.mark.parametrize("name, reduction", OPTION_GRID)
@pytest.mark.filterwarnings("ignore:reduction. 'mean' divides the total loss:UserWarning")
def test_reductions_and_weights_match_torch(name, reduction):
    make, ours_fn, ref_fn, extra = OPTION_CASES[name]
    inputs = make()
    opts = {k: f() for k, f in extra.items()}
    ours = [t.clone().requires_grad_() for t in inputs]
    theirs = [t.clone().requires_grad_() for t in inputs]
    out = ours_fn(*ours, reduction=reduction, **opts)
    ref = ref_fn(*theirs, reduction=reduction, **opts)
    assert out.shape == ref.shape
    torch.testing.assert_close(out, ref, **TOL[torch.float64])
    v = randn(*ref.shape, seed=7)
    (out * v).sum().backward()
    (ref * v).sum().backward()
    for a, b in zip(ours, theirs):
        torch.testing.assert_close(a.grad, b.grad, **TOL[torch.float64])


@pytest.mark.parametrize("name, reduction", OPTION_GRID)
def test_reductions_and_weights_match_finite_differences(name, reduction):
    make, ours_fn, _, extra = OPTION_CASES[name]
    opts = {k: f() for k, f in extra.items()}  # weights are inputs too: checked as well
    inputs = make()
    if name in LABEL_AT:  # the label is not differentiated; the rest, weights too, are
        inputs = _differentiated(name, inputs)
        opts = {k: v.requires_grad_() for k, v in opts.items()}
    report = npgrad.check(lambda *a, **kw: ours_fn(*a, reduction=reduction, **kw), *inputs, **opts)
    assert report.ok
    assert len(report.inputs) == len(inputs) + len(opts) - (name in LABEL_AT)


def test_mse_default_call_keeps_the_numpy_backward():
    # the bit-identical path: two tensors, reduction="mean", no weight
    x, t = randn(N, D).float().requires_grad_(), randn(N, D, seed=1).float()
    out = losses.mse(x, t)
    out.backward()
    ref_x = x.detach().clone().requires_grad_()
    F.mse_loss(ref_x, t).backward()
    assert torch.equal(x.grad, ref_x.grad)
    assert type(out.grad_fn).__name__ != "MseLossBackward0"  # not traced: NumPy's backward


# --------------------------------------------------------------- bad arguments
ONE_CALL = {
    "mse": lambda **kw: losses.mse(randn(3), randn(3), **kw),
    "mae": lambda **kw: losses.mae(randn(3), randn(3), **kw),
    "huber": lambda **kw: losses.huber(randn(3), randn(3), **kw),
    "smooth_l1": lambda **kw: losses.smooth_l1(randn(3), randn(3), **kw),
    "bce": lambda **kw: losses.bce(rand(3), rand(3), **kw),
    "bce_with_logits": lambda **kw: losses.bce_with_logits(randn(3), rand(3), **kw),
    "cross_entropy": lambda **kw: losses.cross_entropy(randn(2, C), labels(2), **kw),
    "kl_div": lambda **kw: losses.kl_div(randn(2, C), probs(2, C), **kw),
    "cosine_embedding": lambda **kw: losses.cosine_embedding(
        randn(2, 3), randn(2, 3), torch.ones(2), **kw
    ),
    "focal": lambda **kw: losses.focal(rand(3), labels(3, high=2), **kw),
    "gaussian_nll": lambda **kw: losses.gaussian_nll(randn(3), randn(3), rand(3), **kw),
}


@pytest.mark.parametrize("name", sorted(ONE_CALL))
def test_unknown_reduction_names_the_loss_and_the_value(name):
    with pytest.raises(ValueError, match=rf"losses\.{name}: reduction must be one of .*'avg'"):
        ONE_CALL[name](reduction="avg")


BAD_OPTIONS = {
    "mse-weight-shape": ("mse", dict(weight=torch.ones(2)), r"mse: argument 'weight' has shape"),
    "bce-weight-shape": ("bce", dict(weight=torch.ones(2)), r"bce: argument 'weight' has shape"),
    "huber-delta": ("huber", dict(delta=0.0), r"huber: delta must be positive; got 0.0"),
    "smooth_l1-beta": ("smooth_l1", dict(beta=-1.0), r"smooth_l1: beta must be non-negative"),
    "focal-gamma": ("focal", dict(gamma=-1.0), r"focal: gamma must be non-negative"),
    "ce-weight": ("cross_entropy", dict(weight=torch.ones(3)), r"argument 'weight' has shape"),
    "ce-smoothing": ("cross_entropy", dict(label_smoothing=1.5), r"label_smoothing must be in"),
}


@pytest.mark.parametrize("case", sorted(BAD_OPTIONS))
def test_bad_options_are_refused_with_the_argument(case):
    name, opts, message = BAD_OPTIONS[case]
    with pytest.raises(ValueError, match=message):
        ONE_CALL[name](**opts)


@pytest.mark.parametrize(
    "target",
    [
        pytest.param(labels(N, 2), id="indices-wrong-shape"),
        pytest.param(probs(N, C + 1), id="probs-wrong-classes"),
    ],
)
def test_cross_entropy_refuses_a_target_of_the_wrong_shape(target):
    with pytest.raises(ValueError, match=r"cross_entropy: argument 'target' \("):
        losses.cross_entropy(randn(N, C), target)


def test_reduction_none_refuses_mismatched_shapes():
    # reduction="none" runs on npgrad.function, which checks no shapes: the loss does
    with pytest.raises(ValueError, match=r"huber: argument 't' has shape \(6, 1\) but 'x'"):
        losses.huber(randn(N), randn(N, 1), reduction="none")


# ------------------------------------------------------------------- public face
PUBLIC_LOSSES = sorted(n for n in losses.__all__ if n != "log_softmax")


@pytest.mark.parametrize("name", PUBLIC_LOSSES)
def test_every_loss_shows_its_public_name_and_docstring(name):
    import inspect

    fn = getattr(losses, name)
    assert fn.__name__ == name
    doc = inspect.getdoc(fn) or ""
    assert doc and ">>>" in doc, f"{name} has no docstring with an example"


def test_help_of_mse_shows_the_public_signature():
    import pydoc

    text = pydoc.render_doc(losses.mse, renderer=pydoc.plaintext)
    assert "mse(x" in text and "reduction" in text and "_mse_fast" not in text
    assert "Mean squared error" in text


# ----------------------------------------------------------- non-tensor targets
def test_mse_with_an_ndarray_target_matches_a_tensor_target():
    x, t = randn(N, D).requires_grad_(), randn(N, D, seed=1)
    x2 = x.detach().clone().requires_grad_()
    out, ref = losses.mse(x, t.numpy()), losses.mse(x2, t)
    torch.testing.assert_close(out, ref, **TOL[torch.float64])
    out.backward()  # crashed with IndexError in the NumPy backward before
    ref.backward()
    torch.testing.assert_close(x.grad, x2.grad, **TOL[torch.float64])


def test_mse_of_a_number_and_a_tensor():
    x = randn(N, D).requires_grad_()
    x2 = x.detach().clone().requires_grad_()
    out = losses.mse(0.0, x)  # AttributeError before
    ref = F.mse_loss(torch.zeros_like(x2), x2)
    torch.testing.assert_close(out, ref, **TOL[torch.float64])
    out.backward()
    ref.backward()
    torch.testing.assert_close(x.grad, x2.grad, **TOL[torch.float64])


@pytest.mark.parametrize("name", ["mse", "mae", "huber", "smooth_l1"])
def test_ndarray_target_of_another_shape_is_refused(name):
    x, t = randn(8), randn(8, 1).numpy()  # broadcast silently to an (8, 8) mean before
    with pytest.raises(ValueError, match=r"argument 't'"):
        getattr(losses, name)(x, t)


@pytest.mark.parametrize("name", ["mse", "cross_entropy", "gaussian_nll"])
def test_help_and_pickle_name_the_public_loss(name):
    import pickle
    import pydoc

    fn = getattr(losses, name)
    page = pydoc.render_doc(fn, renderer=pydoc.plaintext)
    header, signature = page.splitlines()[0], page.splitlines()[2]
    assert header.endswith("loss function in module npgrad.losses"), header
    assert signature.startswith(f"{name}("), signature
    assert pickle.loads(pickle.dumps(fn)) is fn


@pytest.mark.parametrize("reduction", ["mean", "sum", "none"])
@pytest.mark.parametrize("var_shape", [(5, 3), (5, 1), (5,)], ids=str)
def test_gaussian_nll_takes_torchs_per_row_variance(var_shape, reduction):
    g = torch.Generator().manual_seed(0)
    mu = torch.randn(5, 3, dtype=torch.float64, generator=g, requires_grad=True)
    t = torch.randn(5, 3, dtype=torch.float64, generator=g)
    var = (torch.rand(var_shape, dtype=torch.float64, generator=g) + 0.1).requires_grad_()
    ours = losses.gaussian_nll(mu, t, var, reduction=reduction)
    ref = F.gaussian_nll_loss(mu, t, var, reduction=reduction)
    torch.testing.assert_close(ours, ref)
    for a, b in zip(
        torch.autograd.grad(ours.sum(), (mu, var)), torch.autograd.grad(ref.sum(), (mu, var))
    ):
        torch.testing.assert_close(a, b)


def test_gaussian_nll_refuses_a_variance_of_another_shape_by_name():
    with pytest.raises(ValueError, match=r"gaussian_nll: argument 'var' has shape \(3,\)"):
        losses.gaussian_nll(torch.zeros(4, 3), torch.zeros(4, 3), torch.ones(3))


# ----------------------------------------------------- class labels out of bounds
@pytest.mark.parametrize(
    "label, ignore_index",
    [
        pytest.param(-1, -100, id="minus1"),  # read as class C - 1 before
        pytest.param(-3, -100, id="minus3"),  # read as class 0 before
        pytest.param(C, -100, id="C"),  # an error naming np.take_along_axis before
        pytest.param(C + 5, -100, id="C+5"),
        pytest.param(-100, 3, id="minus100-when-ignore-is-3"),
    ],
)
@pytest.mark.parametrize("container", ["tensor", "ndarray"])
def test_cross_entropy_refuses_labels_out_of_bounds_as_torch_does(label, ignore_index, container):
    logits, target = randn(N, C), labels(N, seed=1)
    target[2] = label
    with pytest.raises(IndexError, match=f"Target {label} is out of bounds"):
        F.cross_entropy(logits, target, ignore_index=ignore_index)
    given = target if container == "tensor" else target.numpy()
    message = rf"cross_entropy: argument 'target' holds class index {label}, out of bounds"
    with pytest.raises(IndexError, match=message):
        losses.cross_entropy(logits, given, ignore_index=ignore_index)


def test_cross_entropy_refuses_a_label_out_of_bounds_in_kdim_targets_and_with_smoothing():
    logits, target = randn(3, C, 2), labels(3, 2, seed=1)
    target[1, 1] = -2
    with pytest.raises(IndexError, match=r"argument 'target' holds class index -2"):
        losses.cross_entropy(logits, target, label_smoothing=0.1)


# ----------------------------------------------------------- class label dtypes
@pytest.mark.parametrize("ignore_index", [-100, 255], ids=["ignore-100", "ignore255"])
def test_cross_entropy_takes_uint8_labels_as_torch_does(ignore_index):
    logits, target = randn(N, C), labels(N, seed=1).to(torch.uint8)
    target[1] = 255 if ignore_index == 255 else 0
    ours, theirs = logits.clone().requires_grad_(), logits.clone().requires_grad_()
    out = losses.cross_entropy(ours, target, ignore_index=ignore_index)  # OverflowError before
    ref = F.cross_entropy(theirs, target, ignore_index=ignore_index)
    torch.testing.assert_close(out, ref, **TOL[torch.float64])
    out.backward()
    ref.backward()
    torch.testing.assert_close(ours.grad, theirs.grad, **TOL[torch.float64])


@pytest.mark.parametrize(
    "dtype",
    [
        pytest.param(d, id=str(d).removeprefix("torch."))
        for d in (torch.int8, torch.int16, torch.int32, torch.bool, torch.uint16)
    ],
)
def test_cross_entropy_refuses_the_label_dtypes_torch_refuses_by_name(dtype):
    logits, target = randn(N, C), labels(N, high=2, seed=1).to(dtype)
    with pytest.raises(RuntimeError, match="expected target dtype to be Long or Byte"):
        F.cross_entropy(logits, target)
    with pytest.raises(TypeError, match=rf"argument 'target' has dtype {dtype}; class indices"):
        losses.cross_entropy(logits, target)


def test_cross_entropy_float_labels_say_floats_are_probabilities():
    target = labels(N, seed=1).double()  # class numbers as floats: torch refuses them too
    with pytest.raises(RuntimeError):
        F.cross_entropy(randn(N, C), target)
    message = r"Float targets are read as class probabilities .* integer ones .* class indices"
    with pytest.raises(ValueError, match=message):
        losses.cross_entropy(randn(N, C), target)


# -------------------------------------------------- inputs torch refuses, refused
def _raises_like_torch(ours, theirs, torch_error, torch_message, our_message):
    with pytest.raises(torch_error, match=torch_message):
        theirs()
    with pytest.raises(ValueError, match=our_message):
        ours()


@pytest.mark.parametrize(
    "p_value, t_value, bad",
    [
        pytest.param(1.5, 1.0, "p", id="p-above-1"),
        pytest.param(-0.1, 1.0, "p", id="p-below-0"),
        pytest.param(float("nan"), 1.0, "p", id="p-nan"),
        pytest.param(0.5, 1.5, "t", id="t-above-1"),
    ],
)
def test_bce_refuses_values_outside_0_1_as_torch_does(p_value, t_value, bad):
    p, t = rand(N), rand(N, seed=1)
    p[0], t[0] = p_value, t_value
    which = "input" if bad == "p" else "target"
    _raises_like_torch(
        lambda: losses.bce(p, t),
        lambda: F.binary_cross_entropy(p, t),
        RuntimeError,
        f"all elements of {which} should be between 0 and 1",
        rf"bce: argument '{bad}' must lie in \[0, 1\]",
    )


@pytest.mark.parametrize("form", ["tensor", "float"])
def test_gaussian_nll_refuses_a_negative_variance_as_torch_does(form):
    mu, t = randn(N, D), randn(N, D, seed=1)
    var = rand(N, D, seed=2)
    var[3, 1] = -0.5
    var = var if form == "tensor" else -0.5
    _raises_like_torch(
        lambda: losses.gaussian_nll(mu, t, var),
        lambda: F.gaussian_nll_loss(mu, t, var),
        ValueError,
        "var has negative entry",
        r"gaussian_nll: argument 'var' (has negative entries|is negative)",
    )


def test_gaussian_nll_takes_a_float_variance_as_torch_does():
    mu, t = randn(N, D).requires_grad_(), randn(N, D, seed=1)
    mu2 = mu.detach().clone().requires_grad_()
    out, ref = losses.gaussian_nll(mu, t, 0.7), F.gaussian_nll_loss(mu2, t, 0.7)
    torch.testing.assert_close(out, ref, **TOL[torch.float64])
    out.backward()
    ref.backward()
    torch.testing.assert_close(mu.grad, mu2.grad, **TOL[torch.float64])


@pytest.mark.parametrize(
    "y",
    [
        pytest.param([1, 2, 0, 1], id="label2"),
        pytest.param([1.0, 0.7, 0.0, 1.0], id="soft0.7"),
        pytest.param([1, -1, 0, 1], id="label-1"),
    ],
)
def test_focal_refuses_labels_other_than_0_and_1_by_name(y):
    p = torch.tensor([0.9, 0.2, 0.3, 0.6], dtype=torch.float64)
    with pytest.raises(ValueError, match=r"focal: argument 'y' holds binary labels \(0 or 1\)"):
        losses.focal(p, torch.tensor(y))


def test_focal_takes_float_labels_0_and_1_and_refuses_p_outside_0_1():
    p = torch.tensor([0.9, 0.2, 0.3, 0.6], dtype=torch.float64)
    y = torch.tensor([1, 0, 0, 1])
    torch.testing.assert_close(losses.focal(p, y.double()), losses.focal(p, y))
    with pytest.raises(ValueError, match=r"focal: argument 'p' must lie in \[0, 1\]"):
        losses.focal(p + 0.5, y)


def test_cosine_embedding_refuses_labels_other_than_plus_minus_1():
    # torch counts a 0 label as nothing; npgrad gave it the -1 branch, silently
    x1, x2 = randn(3, D), randn(3, D, seed=1)
    with pytest.raises(ValueError, match=r"cosine_embedding: argument 'y' holds labels .*got 0"):
        losses.cosine_embedding(x1, x2, torch.tensor([1.0, 0.0, -1.0]))


# --------------------------------------------------------------------- autocast
# name -> (inputs of a dtype, ours, torch's); under autocast both see the same inputs
def _ac_cases():
    def xt(dtype):
        return [2 * randn(N, D).to(dtype), randn(N, D, seed=1).to(dtype)]

    def pt(dtype):
        return [rand(N, D).to(dtype), rand(N, D, seed=1).to(dtype)]

    def ce(dtype):
        return [randn(N, C).to(dtype), labels(N, seed=1)]

    def ce_probs(dtype):
        return [randn(N, C).to(dtype), probs(N, C, seed=1).to(dtype)]

    def kl(dtype):
        return [torch.log_softmax(randn(N, C), 1).to(dtype), probs(N, C, seed=1).to(dtype)]

    def gnll(dtype):
        return [*xt(dtype), rand(N, D, seed=2, lo=0.5, hi=2.0).to(dtype)]

    def cos(dtype):
        return [*xt(dtype), torch.tensor([1, -1, 1, -1, -1, 1.0]).to(dtype)]

    return {
        "mse": (xt, losses.mse, F.mse_loss),
        "mae": (xt, losses.mae, F.l1_loss),
        "huber": (xt, losses.huber, F.huber_loss),
        "smooth_l1": (xt, losses.smooth_l1, F.smooth_l1_loss),
        "bce": (pt, losses.bce, F.binary_cross_entropy),
        "bce_with_logits": (xt, losses.bce_with_logits, F.binary_cross_entropy_with_logits),
        "cross_entropy[indices]": (ce, losses.cross_entropy, F.cross_entropy),
        "cross_entropy[probs]": (ce_probs, losses.cross_entropy, F.cross_entropy),
        "kl_div": (kl, losses.kl_div, lambda a, b: F.kl_div(a, b, reduction="batchmean")),
        "gaussian_nll": (gnll, losses.gaussian_nll, F.gaussian_nll_loss),
        "cosine_embedding": (cos, losses.cosine_embedding, F.cosine_embedding_loss),
    }


AC_CASES = _ac_cases()
AC_DEVICES = [
    pytest.param("cpu", torch.bfloat16, id="cpu-bfloat16"),
    pytest.param("cpu", torch.float16, id="cpu-float16-inputs"),  # cast up as well
    pytest.param(
        "cuda",
        torch.float16,
        id="cuda-float16",
        marks=pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device here"),
    ),
]


@pytest.mark.parametrize("name", sorted(AC_CASES))
@pytest.mark.parametrize("device, dtype", AC_DEVICES)
def test_autocast_gives_torchs_dtype_and_values(name, device, dtype):
    make, ours_fn, ref_fn = AC_CASES[name]
    inputs = [t.to(device) for t in make(dtype)]
    label = LABEL_AT.get(name)
    wanted = [t.is_floating_point() and i != label for i, t in enumerate(inputs)]
    ours = [t.clone().requires_grad_(w) for t, w in zip(inputs, wanted)]
    theirs = [t.clone().requires_grad_(w) for t, w in zip(inputs, wanted)]
    with torch.autocast(device, dtype=torch.bfloat16 if device == "cpu" else dtype):
        if device == "cuda" and name == "bce":  # torch refuses it there; so does npgrad
            with pytest.raises(RuntimeError, match="unsafe to autocast"):
                ref_fn(*theirs)
            with pytest.raises(RuntimeError, match=r"losses\.bce is unsafe under CUDA autocast"):
                ours_fn(*ours)
            return
        out, ref = ours_fn(*ours), ref_fn(*theirs)
    assert out.dtype == ref.dtype, (out.dtype, ref.dtype)  # bfloat16 from npgrad before
    # torch's CUDA gaussian_nll is a composite: its (mu - t) is rounded in half
    # precision before pow (a float32 op) squares it; npgrad's is float32 throughout
    composite = device == "cuda" and name == "gaussian_nll"
    torch.testing.assert_close(out, ref, **TOL[dtype if composite else ref.dtype])
    out.backward()
    ref.backward()
    for a, b in zip(ours, theirs):
        if a.requires_grad:
            assert a.grad.dtype == b.grad.dtype == dtype
            torch.testing.assert_close(a.grad, b.grad, **TOL[dtype])


def test_autocast_keeps_mse_bit_identical_to_torch():
    x, t = randn(N, D).to(torch.bfloat16).requires_grad_(), randn(N, D, seed=1).to(torch.bfloat16)
    x2 = x.detach().clone().requires_grad_()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out, ref = losses.mse(x, t), F.mse_loss(x2, t)
    out.backward()
    ref.backward()
    assert torch.equal(x.grad, x2.grad)


# -------------------------------------------------------- gaussian_nll var shapes
MU_SHAPE = (2, 3, 4, 4)


@pytest.mark.parametrize(
    "var_shape",
    [
        pytest.param((2, 3, 4, 4), id="same"),
        pytest.param((2, 3, 4), id="no-last-axis"),
        pytest.param((2, 3, 4, 1), id="last-axis-1"),
        pytest.param((2, 1, 4, 4), id="channel-axis-1"),  # refused before
        pytest.param((1, 3, 4, 4), id="batch-axis-1"),
    ],
)
@pytest.mark.parametrize("reduction", ["mean", "none"])
def test_gaussian_nll_takes_every_variance_shape_torch_takes(var_shape, reduction):
    mu, t = randn(*MU_SHAPE).requires_grad_(), randn(*MU_SHAPE, seed=1)
    var = rand(*var_shape, seed=2, lo=0.5, hi=2.0).requires_grad_()
    ours = losses.gaussian_nll(mu, t, var, reduction=reduction)
    ref = F.gaussian_nll_loss(mu, t, var, reduction=reduction)
    torch.testing.assert_close(ours, ref, **TOL[torch.float64])
    v = randn(*ref.shape, seed=3)
    for a, b in zip(
        torch.autograd.grad((ours * v).sum(), (mu, var)),
        torch.autograd.grad((ref * v).sum(), (mu, var)),
    ):
        torch.testing.assert_close(a, b, **TOL[torch.float64])


@pytest.mark.parametrize(
    "var_shape",
    [
        pytest.param((2, 1, 4, 1), id="two-axes-1"),
        pytest.param((3, 4, 4), id="no-first-axis"),
        pytest.param((4,), id="last-axis-only"),
        pytest.param((2, 3, 4, 2), id="last-axis-2"),
    ],
)
def test_gaussian_nll_refuses_the_variance_shapes_torch_refuses(var_shape):
    mu, t, var = randn(*MU_SHAPE), randn(*MU_SHAPE, seed=1), rand(*var_shape, seed=2)
    with pytest.raises(ValueError, match="var is of incorrect size"):
        F.gaussian_nll_loss(mu, t, var)
    message = (
        rf"argument 'var' has shape {re.escape(str(var_shape))}; .* exactly one axis of size 1"
    )
    with pytest.raises(ValueError, match=message):
        losses.gaussian_nll(mu, t, var)


def test_value_checks_let_torch_compile_and_vmap_through():
    # the checks read values in eager calls only: a compiled graph and vmap run on
    logits, target = randn(N, C), labels(N, seed=1)
    torch._dynamo.reset()
    compiled = torch.compile(
        lambda z: losses.cross_entropy(z, target), fullgraph=True, backend="aot_eager"
    )
    torch.testing.assert_close(compiled(logits), F.cross_entropy(logits, target))
    batch = randn(3, N, C, seed=2)
    ours = torch.func.vmap(lambda z: losses.cross_entropy(z, target))(batch)
    torch.testing.assert_close(ours, torch.stack([F.cross_entropy(z, target) for z in batch]))
    p, y = rand(3, N), labels(3, N, high=2)
    ours = torch.func.vmap(lambda a, b: losses.focal(a, b))(p, y)
    torch.testing.assert_close(ours, torch.stack([losses.focal(a, b) for a, b in zip(p, y)]))
    q = rand(3, N, seed=1)
    ours = torch.func.vmap(lambda a, b: losses.bce(a, b))(p, q)
    torch.testing.assert_close(
        ours, torch.stack([F.binary_cross_entropy(a, b) for a, b in zip(p, q)])
    )
    mu, t, var = randn(N, D), randn(N, D, seed=1), rand(N, D, seed=2)
    compiled = torch.compile(losses.gaussian_nll, fullgraph=True, backend="aot_eager")
    torch.testing.assert_close(compiled(mu, t, var), F.gaussian_nll_loss(mu, t, var))


def test_cosine_embedding_of_one_pair_asks_for_a_batch_axis():
    with pytest.raises(ValueError, match=r"'x1' must be \[N, D\] rows; got shape \(3,\)"):
        losses.cosine_embedding(torch.ones(3), torch.ones(3), torch.tensor(1.0))
