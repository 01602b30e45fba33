"""The fast path's boundary: both paths forced and compared, the fused kernel's fallback, and
every entry of the activation table checked against its module."""

import copy
import functools
import itertools

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from ganghwa.fastpath import (
    ACTIVATIONS,
    FusedStep,
    ManualBackprop,
    NumpyActor,
    flatten_parameters,
    fused_step,
    make_adam,
    manual_backprop_reason,
    param_views,
    plain_step,
)
from ganghwa.fastpath import optim as fast_optim
from ganghwa.nets import QNetwork

FAST = [name for name, a in ACTIVATIONS.items()
        if a.inplace and a.backward and a.numpy]
AUTOGRAD_ONLY = [name for name in ACTIVATIONS if name not in FAST]


@pytest.fixture
def fresh_probe(monkeypatch):
    """A process that has not probed the fused kernel yet, nor printed its note."""
    monkeypatch.setattr(fast_optim, "_PROBES", {})
    monkeypatch.setattr(fast_optim, "_NOTED", [])


def test_the_table_has_both_kinds():
    assert {"relu", "tanh"} <= set(FAST)
    assert AUTOGRAD_ONLY  # so the fallback below is exercised


@pytest.mark.parametrize("name", sorted(ACTIVATIONS))
def test_every_fast_piece_matches_its_module(name):
    activation = ACTIVATIONS[name]
    x = torch.randn(6, 5, generator=torch.Generator().manual_seed(0)).mul_(2)
    x.requires_grad_(True)
    out = activation.module()(x)
    upstream = torch.randn(6, 5, generator=torch.Generator().manual_seed(1))
    (expected_grad,) = torch.autograd.grad(out, x, upstream)
    x = x.detach()
    if activation.inplace is not None:
        h = x.clone()
        assert activation.inplace(h) is h
        torch.testing.assert_close(h, out.detach())
    if activation.backward is not None:
        torch.testing.assert_close(activation.backward(upstream, out.detach()), expected_grad)
    if activation.numpy is not None:
        h_np = x.numpy().copy()
        activation.numpy(h_np)
        np.testing.assert_allclose(h_np, out.detach().numpy(), rtol=1e-6, atol=1e-6)


def _twin_networks(activation: str, dueling: bool) -> tuple[QNetwork, QNetwork]:
    torch.manual_seed(0)
    net = QNetwork(4, 3, (16, 8), activation=activation, dueling=dueling)
    return net, copy.deepcopy(net)


@pytest.mark.parametrize("activation,dueling,adamw", list(itertools.product(
    FAST, (False, True), (False, True))))
def test_forced_fast_and_stock_paths_agree(activation, dueling, adamw):
    # Fast: ManualBackprop's gradient and FusedStep. Stock: autograd and torch's for-loop Adam.
    fast_net, stock_net = _twin_networks(activation, dueling)
    assert manual_backprop_reason(fast_net, "cpu") is None
    fast_flat, stock_flat = flatten_parameters(fast_net), flatten_parameters(stock_net)
    weights = list(fast_net.parameters())
    backprop = ManualBackprop(fast_net, param_views(fast_flat.grad, weights), batch_size=32)
    hyperparameters = {"lr": 1e-3, "weight_decay": 0.01, "amsgrad": True}
    fast_optimizer = make_adam(fast_flat, adamw, **hyperparameters)
    fast_step = fused_step(fast_optimizer, fast_flat)
    assert isinstance(getattr(fast_step, "__self__", None), FusedStep)  # the fast path is taken
    stock_cls = torch.optim.AdamW if adamw else torch.optim.Adam
    stock_optimizer = stock_cls([stock_flat], foreach=False, fused=False, **hyperparameters)
    start = fast_flat.detach().clone()
    gen = torch.Generator().manual_seed(2)
    for _ in range(5):
        obs, target = torch.randn(32, 4, generator=gen), torch.randn(32, 3, generator=gen)
        q_values = backprop.forward(obs, weights, keep=True)
        backprop.backward(2 * (q_values - target) / q_values.numel(), weights)
        stock_flat.grad.zero_()
        F.mse_loss(stock_net(obs), target).backward()
        torch.testing.assert_close(fast_flat.grad, stock_flat.grad, rtol=1e-5, atol=1e-6)
        fast_step()
        stock_optimizer.step()
    assert not torch.equal(fast_flat, start)
    torch.testing.assert_close(fast_flat.detach(), stock_flat.detach(), rtol=0, atol=1e-6)


def _no_kwargs(*args):
    return None


def _does_nothing(*args, **kwargs):
    return None


def torchs_step(step, optimizer) -> bool:
    """Whether `step` is torch.optim's own step of `optimizer` (through plain_step)."""
    return isinstance(step, functools.partial) and step.func is plain_step \
        and step.args == (optimizer,)


@pytest.mark.parametrize("broken", ["missing", "no kwargs", "does nothing"])
@pytest.mark.parametrize("adamw", [False, True])
def test_a_broken_fused_kernel_falls_back_to_torch_optim(broken, adamw, monkeypatch, capsys,
                                                         fresh_probe):
    kernel = "_fused_adamw_" if adamw else "_fused_adam_"
    if broken == "missing":
        monkeypatch.delattr(torch, kernel, raising=False)
    else:
        monkeypatch.setattr(torch, kernel, _no_kwargs if broken == "no kwargs" else _does_nothing)
    cls = torch.optim.AdamW if adamw else torch.optim.Adam
    start = torch.randn(20, generator=torch.Generator().manual_seed(0))
    param = torch.nn.Parameter(start.clone())
    optimizer = cls([param], lr=0.01, weight_decay=0.01, fused=True)
    step = fused_step(optimizer, param)
    assert torchs_step(step, optimizer)
    assert not optimizer.param_groups[0]["fused"]  # torch's fused step calls the same kernel
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith(f"ganghwa: torch {torch.__version__} has no "
                                                   "usable fused Adam kernel (")
    assert err.rstrip().endswith("; using torch.optim's step")
    expected = {"missing": "AttributeError", "no kwargs": "TypeError",
                "does nothing": "differs"}[broken]
    assert expected in err
    # the note is printed once per process; make_adam asks the (cached) probe and goes unfused
    other = torch.nn.Parameter(start.clone())
    other_optimizer = make_adam(other, adamw, lr=0.01, weight_decay=0.01)
    assert not other_optimizer.param_groups[0]["fused"]
    assert torchs_step(fused_step(other_optimizer, other), other_optimizer)
    assert capsys.readouterr().err == ""
    reference = torch.nn.Parameter(start.clone())
    reference_optimizer = cls([reference], lr=0.01, weight_decay=0.01, foreach=False,
                              fused=False)
    gen = torch.Generator().manual_seed(1)
    for _ in range(4):
        grad = torch.randn(20, generator=gen)
        for p in (param, other, reference):
            p.grad = grad.clone()
        step()
        other_optimizer.step()
        reference_optimizer.step()
    assert not torch.equal(reference, start)
    torch.testing.assert_close(param.detach(), reference.detach(), rtol=0, atol=1e-6)
    torch.testing.assert_close(other.detach(), reference.detach(), rtol=0, atol=1e-6)


def test_the_probe_runs_once_per_kind(monkeypatch, fresh_probe):
    calls = []
    real_probe = fast_optim._probe

    def counted_probe(*args):
        calls.append(args)
        return real_probe(*args)

    monkeypatch.setattr(fast_optim, "_probe", counted_probe)
    for _ in range(3):
        assert fast_optim.fused_adam_reason("cpu") is None
    fast_optim.fused_adam_reason("cpu", adamw=True)
    assert len(calls) == 2


def test_fused_step_leaves_other_optimizers_to_torch(capsys):
    param = torch.nn.Parameter(torch.zeros(3))
    for optimizer in (torch.optim.RMSprop([param]), torch.optim.Adam([param], fused=False),
                      torch.optim.Adam([param, torch.nn.Parameter(torch.zeros(2))], fused=True)):
        assert torchs_step(fused_step(optimizer, param), optimizer)
    assert capsys.readouterr().err == ""


@pytest.mark.parametrize("name,dueling", list(itertools.product(AUTOGRAD_ONLY, (False, True))))
def test_an_autograd_only_activation_is_refused_by_the_fast_path(name, dueling):
    net = QNetwork(4, 3, (8, 6), activation=name, dueling=dueling)
    reason = manual_backprop_reason(net, "cpu")
    assert reason is not None and repr(name) in reason
    flat = flatten_parameters(net)
    weights = list(net.parameters())
    with pytest.raises(ValueError, match=repr(name)):
        ManualBackprop(net, param_views(flat.grad, weights), batch_size=4)
    with pytest.raises(ValueError, match=repr(name)):
        NumpyActor(weights, name, dueling)
    # the autograd path still trains it
    obs = torch.randn(5, 4)
    q_values = net(obs)
    assert q_values.shape == (5, 3)
    q_values.sum().backward()
    assert torch.isfinite(flat.grad).all() and flat.grad.abs().sum() > 0


def test_the_boundary_names_what_it_does_not_support():
    assert "image" in manual_backprop_reason(QNetwork((3, 10, 10), 2, (8,)), "cpu")
    assert "cpu" in manual_backprop_reason(QNetwork(4, 2, (8,)), torch.device("cuda")).lower()
    assert "not a QNetwork" in manual_backprop_reason(torch.nn.Linear(4, 2), "cpu")
    image = QNetwork((3, 10, 10), 2, (8,))
    with pytest.raises(ValueError, match="image"):
        ManualBackprop(image, [torch.zeros(1)], batch_size=1)
    with pytest.raises(ValueError, match="unknown activation 'swish'"):
        NumpyActor([torch.zeros(2, 2)], "swish", False)
    with pytest.raises(ValueError, match="unknown activation"):
        QNetwork(4, 2, (8,), activation="swish")


@pytest.mark.parametrize("name,dueling", list(itertools.product(FAST, (False, True))))
def test_numpy_acting_matches_the_torch_forward(name, dueling):
    torch.manual_seed(0)
    net = QNetwork(4, 3, (16, 8), activation=name, dueling=dueling)
    flat = flatten_parameters(net)
    actor = NumpyActor(list(net.parameters()), name, dueling)
    obs = np.random.default_rng(0).standard_normal((7, 4)).astype(np.float32) * 2
    for _ in range(2):  # and again after an in-place update of the flat weights
        with torch.no_grad():
            expected = net(torch.from_numpy(obs)).numpy()
        np.testing.assert_allclose(actor.q_values(obs), expected, rtol=1e-5, atol=1e-6)
        with torch.no_grad():
            flat.mul_(-1.5)
