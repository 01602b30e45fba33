"""C51's projection onto the support, against a 3-atom example worked by hand."""

import torch

from ganghwa.algos.dqn import categorical_projection

SUPPORT = torch.tensor([-1.0, 0.0, 1.0])  # v_min -1, v_max 1, Δz 1


def project(probs, reward, terminated=0.0, gamma=0.5):
    return categorical_projection(torch.tensor([probs]), torch.tensor([reward]),
                                  torch.tensor([terminated]), gamma, SUPPORT)[0]


def test_three_atoms_by_hand():
    """p = (0.2, 0.3, 0.5), r = 0.5, γ = 0.5: Tz = 0.5 + 0.5·(-1, 0, 1) = (0, 0.5, 1), so
    b = (1, 1.5, 2). Atom 0 lands on atom 1 (0.2), atom 1 splits evenly between atoms 1 and 2
    (0.15 each), atom 2 lands on atom 2 (0.5): (0, 0.35, 0.65). Its mean 0.65 is
    r + γ·E[z] = 0.5 + 0.5·0.3."""
    target = project([0.2, 0.3, 0.5], 0.5)
    assert torch.allclose(target, torch.tensor([0.0, 0.35, 0.65]))
    assert torch.isclose((target * SUPPORT).sum(), torch.tensor(0.65))


def test_a_terminal_transition_puts_all_mass_at_the_reward():
    # no bootstrap: every atom moves to r = 0.5, halfway between atoms 1 and 2
    assert torch.allclose(project([0.2, 0.3, 0.5], 0.5, terminated=1.0),
                          torch.tensor([0.0, 0.5, 0.5]))
    assert torch.allclose(project([0.2, 0.3, 0.5], -0.25, terminated=1.0),
                          torch.tensor([0.25, 0.75, 0.0]))


def test_targets_beyond_the_support_are_clipped_to_its_ends():
    assert torch.allclose(project([0.2, 0.3, 0.5], 5.0), torch.tensor([0.0, 0.0, 1.0]))
    assert torch.allclose(project([0.2, 0.3, 0.5], -5.0), torch.tensor([1.0, 0.0, 0.0]))


def test_a_batch_with_per_transition_discounts_keeps_each_row_a_distribution():
    gen = torch.Generator().manual_seed(0)
    probs = torch.softmax(torch.randn(64, 3, generator=gen), dim=1)
    rewards = torch.randn(64, generator=gen)
    terminated = (torch.rand(64, generator=gen) < 0.2).float()
    discounts = 0.9 ** torch.randint(1, 4, (64,), generator=gen).float()  # n-step: γ^m
    target = categorical_projection(probs, rewards, terminated, discounts, SUPPORT)
    assert torch.allclose(target.sum(dim=1), torch.ones(64)) and (target >= 0).all()
    # where r + γ^m (1 - done) z stays inside the support, the mean is kept exactly
    inside = (rewards.abs() + discounts * (1 - terminated)) <= 1
    expected = rewards + discounts * (1 - terminated) * (probs * SUPPORT).sum(dim=1)
    assert torch.allclose((target * SUPPORT).sum(dim=1)[inside], expected[inside], atol=1e-6)
