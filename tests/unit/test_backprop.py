"""ManualBackprop against a hand-worked example and against autograd, for every switch."""

import itertools

import numpy as np
import pytest
import torch

from ganghwa import DQN
from ganghwa.algos.dqn import td_loss_and_grad
from ganghwa.fastpath.backprop import ManualBackprop, flatten_parameters, param_views
from ganghwa.nets import QNetwork


def test_td_loss_and_grad_by_hand():
    q = torch.tensor([1.0, 0.0, 5.0])
    target = torch.tensor([0.5, 3.0, 5.0])  # errors 0.5, -3, 0
    # Huber(δ=1): 0.5·0.25 = 0.125, |−3| − 0.5 = 2.5, 0 → mean 2.625/3; grads clip(e)/3
    loss, grad = td_loss_and_grad(q, target, "huber")
    assert loss.item() == pytest.approx(2.625 / 3)
    assert torch.allclose(grad, torch.tensor([0.5, -1.0, 0.0]) / 3)
    # squared: (0.25 + 9 + 0)/3; grads 2e/3
    loss, grad = td_loss_and_grad(q, target, "mse")
    assert loss.item() == pytest.approx(9.25 / 3)
    assert torch.allclose(grad, torch.tensor([1.0, -6.0, 0.0]) / 3)
    # importance weights (1, 0.5, 2) scale each term and its gradient:
    # Huber (0.125·1 + 2.5·0.5 + 0)/3 = 1.375/3; grads (0.5·1, −1·0.5, 0)/3
    w = torch.tensor([1.0, 0.5, 2.0])
    loss, grad = td_loss_and_grad(q, target, "huber", w)
    assert loss.item() == pytest.approx(1.375 / 3)
    assert torch.allclose(grad, torch.tensor([0.5, -0.5, 0.0]) / 3)
    # squared (0.25·1 + 9·0.5)/3 = 4.75/3; grads (1·1, −6·0.5, 0)/3
    loss, grad = td_loss_and_grad(q, target, "mse", w)
    assert loss.item() == pytest.approx(4.75 / 3)
    assert torch.allclose(grad, torch.tensor([1.0, -3.0, 0.0]) / 3)


def test_one_hidden_unit_network_by_hand():
    # 1 input, 1 hidden ReLU unit, 2 actions. x = 2: h = relu(0.5·2 + 0) = 1, Q = (3·1 + 1, −1·1)
    net = QNetwork(1, 2, (1,))
    with torch.no_grad():
        values = ([[0.5]], [0.0], [[3.0], [-1.0]], [1.0, 0.0])
        for p, v in zip(net.parameters(), values, strict=True):
            p.copy_(torch.tensor(v))
    weights = list(net.parameters())
    grads = [torch.empty_like(p) for p in weights]
    bp = ManualBackprop(net, grads, batch_size=1)
    q = bp.forward(torch.tensor([[2.0]]), weights, keep=True)
    assert torch.allclose(q, torch.tensor([[4.0, -1.0]]))
    # dL/dQ = (1, 0): dW2 = (h, 0) = (1, 0), db2 = (1, 0), dh = 3, dW1 = 3·x = 6, db1 = 3
    bp.backward(torch.tensor([[1.0, 0.0]]), weights)
    expected = ([[6.0]], [3.0], [[1.0], [0.0]], [1.0, 0.0])
    for g, e in zip(grads, expected, strict=True):
        assert torch.allclose(g, torch.tensor(e))


@pytest.mark.parametrize("activation,dueling,double,loss,weighted", list(itertools.product(
    ("relu", "tanh"), (False, True), (False, True), ("huber", "mse"), (False, True))))
def test_manual_gradient_matches_autograd(activation, dueling, double, loss, weighted):
    model = DQN("CartPole-v1", activation=activation, dueling=dueling, double=double,
                loss=loss, hidden=(8, 6), batch_size=16, seed=1, device="cpu")
    gen = torch.Generator().manual_seed(0)
    n = 40
    model.replay_buffer.add(torch.randn(n, 4, generator=gen).numpy(),
                            torch.randint(0, 2, (n,), generator=gen).numpy(),
                            torch.randn(n, generator=gen).numpy(),
                            torch.randn(n, 4, generator=gen).numpy(),
                            (torch.rand(n, generator=gen) < 0.3).float().numpy())
    with torch.no_grad():  # a target net that differs from the online one
        model.target_net.requires_grad_(False)
        for p in model.target_net.parameters():
            p.add_(0.1 * torch.randn(p.shape, generator=gen))
    batch = model.replay_buffer.sample(16, np.random.default_rng(0))
    grad = model._flat.grad
    grad.fill_(7.0)  # stale values must be overwritten, not accumulated
    weights = torch.rand(16, generator=gen) if weighted else None  # prioritized replay's
    manual_loss, manual_error = model._loss_and_grad(batch, weights)
    manual = grad.clone()
    grad.zero_()
    reference, td_error = model._compute_loss(batch, weights)  # autograd through the nn.Module
    reference.backward()
    assert manual_loss.item() == pytest.approx(reference.item(), rel=1e-6)
    if weighted:
        assert torch.allclose(manual_error, td_error, atol=1e-6)
    else:
        assert manual_error is None
    assert grad.abs().max() > 0
    assert torch.allclose(manual, grad, atol=1e-6, rtol=1e-5)


def test_flat_parameters_are_shared_views():
    net = QNetwork(3, 2, (4,))
    before = [p.detach().clone() for p in net.parameters()]
    flat = flatten_parameters(net)
    assert flat.numel() == sum(p.numel() for p in before)
    for p, b in zip(net.parameters(), before, strict=True):
        assert torch.equal(p, b)
    with torch.no_grad():
        flat.fill_(2.0)
    assert all(torch.equal(p, torch.full_like(p, 2.0)) for p in net.parameters())
    views = param_views(flat.grad, list(net.parameters()))
    assert [v.shape for v in views] == [p.shape for p in net.parameters()]
    assert all(p.grad is not None and p.grad.data_ptr() == v.data_ptr()
               for p, v in zip(net.parameters(), views, strict=True))


@pytest.mark.parametrize("activation,dueling",
                         list(itertools.product(("relu", "tanh"), (False, True))))
def test_numpy_actor_matches_the_torch_network_through_updates(activation, dueling, tmp_path):
    # The numpy views must follow the weights through Adam steps, target copies and a load.
    model = DQN("CartPole-v1", hidden=(16, 8), activation=activation, dueling=dueling,
                batch_size=8, learning_starts=0, seed=3, device="cpu").learn(200)
    obs = np.random.default_rng(0).standard_normal((5, 4)).astype(np.float32)
    with torch.no_grad():
        expected = model.q_net(torch.from_numpy(obs)).numpy()
    assert model._numpy_actor is not None
    np.testing.assert_allclose(model._numpy_actor.q_values(obs), expected, rtol=1e-5, atol=1e-6)
    model.save(tmp_path / "m.pt")
    other = DQN("CartPole-v1", hidden=(16, 8), activation=activation, dueling=dueling, seed=9)
    other.load_state(torch.load(tmp_path / "m.pt", weights_only=True))
    assert other._numpy_actor is not None
    np.testing.assert_allclose(other._numpy_actor.q_values(obs), expected, rtol=1e-5, atol=1e-6)
