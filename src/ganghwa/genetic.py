"""The genetic operators on a population of flat weight vectors, as pure numpy functions.

A population is an (N, D) array, one individual's genes per row; fitness is an (N,) array.
Each function takes the numpy Generator it draws from, so a seed fixes the whole evolution.
These are the definitions the tests check, by hand and statistically.
"""

from __future__ import annotations

import numpy as np

SELECTIONS = ("ranking", "roulette", "tournament")
CROSSOVERS = ("single_point", "uniform")


def selection_probabilities(fitness: np.ndarray, method: str) -> np.ndarray:
    """P(individual i is picked as a parent) for ranking and roulette-wheel selection.

    ranking: proportional to the rank, 1 for the worst to N for the best (linear ranking with
        the greatest pressure that still gives the worst a chance): p_i = rank_i / (N(N+1)/2).
        Ties share their mean rank. Scale-free: only the order of the fitness values counts.
    roulette: proportional to fitness shifted so the worst is 0 (returns can be negative),
        p_i = (f_i - min f) / sum_j (f_j - min f); uniform when all are equal.
    """
    fitness = np.asarray(fitness, dtype=float)
    n = len(fitness)
    if method == "ranking":
        order = np.argsort(fitness, kind="stable")
        ranks = np.empty(n)
        ranks[order] = np.arange(1, n + 1)
        for value in np.unique(fitness):  # ties: the mean of the ranks they span
            tied = fitness == value
            ranks[tied] = ranks[tied].mean()
        return ranks / ranks.sum()
    if method == "roulette":
        shifted = fitness - fitness.min()
        total = shifted.sum()
        return shifted / total if total > 0 else np.full(n, 1.0 / n)
    raise ValueError(f"no selection probabilities for {method!r}")


def select_parents(fitness: np.ndarray, count: int, method: str, rng: np.random.Generator,
                   tournament_size: int = 3) -> np.ndarray:
    """Indices of `count` parents, drawn with replacement.

    tournament: each parent is the fittest of `tournament_size` individuals drawn uniformly
    with replacement, so the one of rank r (1 = worst) wins with ((r/N)^k - ((r-1)/N)^k).
    """
    fitness = np.asarray(fitness, dtype=float)
    if method == "tournament":
        entrants = rng.integers(len(fitness), size=(count, tournament_size))
        return entrants[np.arange(count), fitness[entrants].argmax(axis=1)]
    return rng.choice(len(fitness), size=count, p=selection_probabilities(fitness, method))


def crossover(parents_a: np.ndarray, parents_b: np.ndarray, method: str, p_crossover: float,
              rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Two children per pair of parents (rows of parents_a and parents_b).

    With probability p_crossover a pair is recombined, otherwise the children are copies.
    single_point: a cut c in 1..D-1; child 1 takes a's genes before c and b's from c on,
        child 2 the other way round.
    uniform: every gene comes from a or b with probability 1/2; child 2 takes the other.
    """
    n, dim = parents_a.shape
    if method == "single_point":
        cuts = np.asarray(rng.integers(1, max(dim, 2), size=n))
        from_b = np.arange(dim)[None, :] >= cuts[:, None]
    elif method == "uniform":
        from_b = rng.random((n, dim)) < 0.5
    else:
        raise ValueError(f"unknown crossover {method!r}")
    crossed = np.asarray(rng.random(n)) < p_crossover
    from_b &= crossed[:, None]
    child_1 = np.where(from_b, parents_b, parents_a)
    child_2 = np.where(from_b, parents_a, parents_b)
    return child_1, child_2


def mutate(genes: np.ndarray, p_mutation: float, sigma: float,
           rng: np.random.Generator) -> np.ndarray:
    """Gaussian mutation: each gene, with probability p_mutation, gets N(0, sigma²) added."""
    hit = rng.random(genes.shape) < p_mutation
    return genes + hit * rng.normal(0.0, sigma, genes.shape).astype(genes.dtype)


def next_generation(population: np.ndarray, fitness: np.ndarray, *, elites: int,
                    selection: str, tournament_size: int, crossover_method: str,
                    p_crossover: float, p_mutation: float, sigma: float,
                    rng: np.random.Generator) -> np.ndarray:
    """The elites unchanged, then children of selected parents, crossed over and mutated."""
    n = len(population)
    elite_idx = np.argsort(fitness, kind="stable")[::-1][:elites]
    n_children = n - elites
    pairs = (n_children + 1) // 2
    parents = select_parents(fitness, 2 * pairs, selection, rng, tournament_size)
    child_1, child_2 = crossover(population[parents[:pairs]], population[parents[pairs:]],
                                 crossover_method, p_crossover, rng)
    children = np.concatenate([child_1, child_2])[:n_children]
    children = mutate(children, p_mutation, sigma, rng)
    return np.concatenate([population[elite_idx], children]).astype(population.dtype)
