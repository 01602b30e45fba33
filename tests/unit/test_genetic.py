"""The GA's operators against their definitions: by hand on small arrays, and statistically."""

from __future__ import annotations

import numpy as np
import pytest

from ganghwa.genetic import (
    crossover,
    mutate,
    next_generation,
    select_parents,
    selection_probabilities,
)

DRAWS = 200_000


def test_single_point_crossover_keeps_both_parents_genes_at_the_cut():
    a = np.arange(10, dtype=np.float32).reshape(1, 10)  # 0..9
    b = -np.arange(1, 11, dtype=np.float32).reshape(1, 10)  # -1..-10
    rng = np.random.default_rng(3)
    cut = np.random.default_rng(3).integers(1, 10, size=1)[0]  # the draw crossover makes
    c1, c2 = crossover(a, b, "single_point", 1.0, rng)
    assert np.array_equal(c1[0], np.concatenate([a[0, :cut], b[0, cut:]]))
    assert np.array_equal(c2[0], np.concatenate([b[0, :cut], a[0, cut:]]))


def test_single_point_cuts_are_uniform_and_never_at_the_ends():
    a = np.zeros((20_000, 5))
    b = np.ones((20_000, 5))
    c1, _ = crossover(a, b, "single_point", 1.0, np.random.default_rng(0))
    cuts = 5 - c1.sum(axis=1)  # genes from a before the cut
    assert set(np.unique(cuts)) == {1, 2, 3, 4}
    assert np.allclose(np.bincount(cuts.astype(int))[1:] / len(cuts), 0.25, atol=0.015)
    # each child is a prefix of one parent and a suffix of the other
    assert np.all(np.diff(c1, axis=1) >= 0)


def test_uniform_crossover_takes_each_gene_from_one_parent_and_the_other_child_gets_the_rest():
    a = np.zeros((1000, 50))
    b = np.ones((1000, 50))
    c1, c2 = crossover(a, b, "uniform", 1.0, np.random.default_rng(1))
    assert np.array_equal(c1 + c2, np.ones_like(a))  # complementary
    assert abs(c1.mean() - 0.5) < 0.01


def test_crossover_happens_with_probability_p_c():
    a = np.zeros((40_000, 8))
    b = np.ones((40_000, 8))
    c1, c2 = crossover(a, b, "single_point", 0.3, np.random.default_rng(2))
    crossed = (c1.sum(axis=1) > 0)  # a single-point child of (0s, 1s) has some 1s iff crossed
    assert abs(crossed.mean() - 0.3) < 0.01
    assert np.array_equal(c1[~crossed], a[~crossed]) and np.array_equal(c2[~crossed], b[~crossed])


def test_mutation_changes_the_expected_share_of_genes_by_gaussian_noise():
    genes = np.zeros((200, 1000), dtype=np.float32)
    mutated = mutate(genes, 0.05, 0.5, np.random.default_rng(4))
    changed = mutated != 0
    assert abs(changed.mean() - 0.05) < 0.002
    assert abs(mutated[changed].std() - 0.5) < 0.01 and abs(mutated[changed].mean()) < 0.01
    assert mutated.dtype == np.float32
    assert np.array_equal(mutate(genes, 0.0, 1.0, np.random.default_rng(0)), genes)


def test_ranking_probabilities_by_hand():
    # ranks 2, 3, 1 (worst = 1); sum 6
    assert selection_probabilities(np.array([5.0, 9.0, -3.0]), "ranking") == \
        pytest.approx([2 / 6, 3 / 6, 1 / 6])
    # a tie shares its mean rank: ranks 1.5, 1.5, 3
    assert selection_probabilities(np.array([1.0, 1.0, 4.0]), "ranking") == \
        pytest.approx([1.5 / 6, 1.5 / 6, 3 / 6])


def test_roulette_probabilities_by_hand():
    # shifted by the min (-2): 3, 0, 5 -> 3/8, 0, 5/8
    assert selection_probabilities(np.array([1.0, -2.0, 3.0]), "roulette") == \
        pytest.approx([3 / 8, 0.0, 5 / 8])
    assert selection_probabilities(np.array([7.0, 7.0]), "roulette") == pytest.approx([0.5, 0.5])


@pytest.mark.parametrize("method", ["ranking", "roulette"])
def test_selection_frequencies_match_the_probabilities(method):
    fitness = np.array([10.0, -5.0, 3.0, 30.0, 0.0])
    expected = selection_probabilities(fitness, method)
    picks = select_parents(fitness, DRAWS, method, np.random.default_rng(5))
    freq = np.bincount(picks, minlength=5) / DRAWS
    assert np.allclose(freq, expected, atol=0.005)


def test_tournament_frequencies_match_the_order_statistics():
    # rank r of N (1 = worst) wins a k-tournament drawn with replacement with
    # (r/N)^k - ((r-1)/N)^k: here N = 4, k = 3 -> 1/64, 7/64, 19/64, 37/64
    fitness = np.array([2.0, 8.0, 1.0, 5.0])  # ranks 2, 4, 1, 3
    picks = select_parents(fitness, DRAWS, "tournament", np.random.default_rng(6),
                           tournament_size=3)
    freq = np.bincount(picks, minlength=4) / DRAWS
    assert np.allclose(freq, [7 / 64, 37 / 64, 1 / 64, 19 / 64], atol=0.005)


def test_next_generation_keeps_elites_and_size():
    rng = np.random.default_rng(7)
    population = rng.normal(size=(9, 6)).astype(np.float32)
    fitness = np.arange(9.0)
    nxt = next_generation(population, fitness, elites=2, selection="ranking", tournament_size=3,
                          crossover_method="uniform", p_crossover=0.5, p_mutation=0.1,
                          sigma=0.1, rng=rng)
    assert nxt.shape == population.shape and nxt.dtype == np.float32
    assert np.array_equal(nxt[0], population[8]) and np.array_equal(nxt[1], population[7])
