"""Prioritized replay's sum tree and importance weights, against hand computations."""

import numpy as np
import pytest

from ganghwa.priority import SumTree, importance_weights


def test_the_tree_holds_the_sums_worked_by_hand():
    tree = SumTree(5)  # 8 leaves, 3 unused
    tree.update(np.array([0, 1, 2, 3, 4]), np.array([1.0, 2.0, 3.0, 4.0, 5.0]))
    assert tree.leaves == 8 and tree.total == 15.0
    # level above the leaves: 1+2, 3+4, 5+0, 0+0; then 3+7, 5+0; the root 15
    assert tree.tree[4:8].tolist() == [3.0, 7.0, 5.0, 0.0]
    assert tree.tree[2:4].tolist() == [10.0, 5.0]
    tree.update(np.array([3, 3]), np.array([9.0, 0.5]))  # a slot given twice keeps the last
    assert tree.priorities(np.array([3]))[0] == 0.5 and tree.total == 11.5
    # cumulative sums 1, 3, 6, 6.5, 11.5: where values fall, by hand
    assert tree.find(np.array([0.0, 0.99, 1.0, 2.99, 3.0, 6.2, 6.5, 11.49])).tolist() == \
        [0, 0, 1, 1, 2, 3, 4, 4]


def test_sampling_frequencies_match_the_priorities():
    """200,000 draws over priorities 1..8 (and a zero): a chi-square test at a fixed seed."""
    tree = SumTree(9)
    priorities = np.array([1.0, 2.0, 3.0, 4.0, 0.0, 5.0, 6.0, 7.0, 8.0])
    tree.update(np.arange(9), priorities)
    rng = np.random.default_rng(0)
    draws = np.concatenate([tree.sample(256, rng) for _ in range(800)])
    counts = np.bincount(draws, minlength=9)
    assert counts[4] == 0  # priority zero: never drawn
    expected = len(draws) * priorities / priorities.sum()
    keep = expected > 0
    chi2 = float((((counts - expected) ** 2)[keep] / expected[keep]).sum())
    assert chi2 < 20.1, chi2  # the 99th percentile of chi-square with 7 degrees of freedom
    assert np.allclose(counts / len(draws), priorities / priorities.sum(), atol=0.003)


def test_a_batch_is_stratified_over_the_total():
    """One draw per slice of the total: with 4 equal priorities and a batch of 4, each slot
    exactly once, whatever the seed."""
    tree = SumTree(4)
    tree.update(np.arange(4), np.ones(4))
    for seed in range(20):
        assert sorted(tree.sample(4, np.random.default_rng(seed)).tolist()) == [0, 1, 2, 3]


def test_unwritten_slots_are_never_sampled_even_at_the_edge_of_the_total():
    tree = SumTree(6)
    tree.update(np.array([0, 1]), np.array([0.1, 0.2]))
    just_below = np.nextafter(tree.total, 0.0)
    assert tree.find(np.array([just_below, 0.3, 10.0])).tolist() == [1, 1, 1]
    assert set(tree.sample(1000, np.random.default_rng(1)).tolist()) == {0, 1}
    one = SumTree(1)
    one.update(np.array([0]), np.array([2.0]))
    assert one.total == 2.0 and one.sample(3, np.random.default_rng(0)).tolist() == [0, 0, 0]


def test_bad_priorities_and_slots_are_refused():
    tree = SumTree(3)
    with pytest.raises(ValueError, match="every priority is zero"):
        tree.sample(2, np.random.default_rng(0))
    with pytest.raises(ValueError, match="non-negative"):
        tree.update(np.array([0]), np.array([-1.0]))
    with pytest.raises(ValueError, match="finite"):
        tree.update(np.array([0]), np.array([np.nan]))
    with pytest.raises(IndexError):
        tree.update(np.array([3]), np.array([1.0]))


def test_importance_weights_by_hand():
    """N = 4, P = (0.1, 0.2, 0.4), β = 0.5: w = (4P)^-0.5 = (1/√0.4, 1/√0.8, 1/√1.6),
    divided by the largest, 1/√0.4: (1, √0.5, 0.5)."""
    w = importance_weights(np.array([0.1, 0.2, 0.4]), 4, 0.5)
    assert np.allclose(w, [1.0, np.sqrt(0.5), 0.5])
    # β = 0: no correction; β = 1: w ∝ 1/P
    assert np.allclose(importance_weights(np.array([0.1, 0.2, 0.4]), 4, 0.0), 1.0)
    assert np.allclose(importance_weights(np.array([0.1, 0.2, 0.4]), 4, 1.0), [1, 0.5, 0.25])
