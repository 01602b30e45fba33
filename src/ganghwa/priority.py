"""Proportional prioritized replay (Schaul et al. 2016): a sum tree over the buffer's slots.

    P(i) = p_i^α / Σ_k p_k^α          p_i = |δ_i| + ε, new transitions get the largest p so far
    w_i  = (N · P(i))^(-β) / max_j w_j   β annealed to 1 over training

Written here because no well-kept library offers a vectorised sum tree for a numpy buffer:
SB3 has no prioritized replay (its PRs were closed), Tianshou's lives inside its own Batch
types, and torchrl's needs its C++ extension and its own storages. Every operation is
vectorised over a batch: an update writes the leaves and recomputes the parents level by
level (log2 N numpy operations, whatever the batch), a sample walks all its values down the
tree together.
"""

from __future__ import annotations

import numpy as np


class SumTree:
    """Non-negative priorities of `capacity` slots; sampling proportional to them.

    The tree is an array: node k has children 2k and 2k+1, the leaves start at `self.leaves`
    (capacity rounded up to a power of two), and node 1 holds the total. Parents are always
    recomputed as the sum of their children, so no rounding error builds up over updates.
    """

    def __init__(self, capacity: int):
        if capacity < 1:
            raise ValueError(f"a sum tree needs at least one slot, got {capacity}")
        self.capacity = capacity
        self.leaves = 1 << max(0, (capacity - 1).bit_length())
        self.tree = np.zeros(2 * self.leaves)

    @property
    def total(self) -> float:
        return float(self.tree[1])

    def priorities(self, idx: np.ndarray) -> np.ndarray:
        return self.tree[np.asarray(idx) + self.leaves]

    def update(self, idx: np.ndarray, priorities: np.ndarray) -> None:
        """Set the priorities of slots `idx` (a slot given twice keeps its last value)."""
        idx = np.asarray(idx, dtype=np.int64)
        priorities = np.asarray(priorities, dtype=np.float64)
        if idx.size == 0:
            return
        if idx.min() < 0 or idx.max() >= self.capacity:
            raise IndexError(f"slots {idx.min()}..{idx.max()} outside 0..{self.capacity - 1}")
        if not np.all(np.isfinite(priorities)) or priorities.min() < 0:
            raise ValueError("priorities must be finite and non-negative")
        nodes = idx + self.leaves
        self.tree[nodes] = priorities  # numpy assigns repeated indices in order: the last wins
        nodes = np.unique(nodes >> 1)
        nodes = nodes[nodes >= 1]  # a one-slot tree is its own root
        while nodes.size:
            self.tree[nodes] = self.tree[2 * nodes] + self.tree[2 * nodes + 1]
            nodes = np.unique(nodes[nodes > 1] >> 1)

    def find(self, values: np.ndarray) -> np.ndarray:
        """The slot where each cumulative value in [0, total) falls: the first leaf whose
        running sum exceeds it."""
        wanted = np.asarray(values, dtype=np.float64)
        values = wanted.copy()
        node = np.ones(len(values), dtype=np.int64)
        while node[0] < self.leaves:  # every leaf is at the same depth
            left = self.tree[2 * node]
            right = values >= left
            values -= np.where(right, left, 0.0)
            node = 2 * node + right
        slots = node - self.leaves
        # Rounding can carry a value just past the last positive leaf of a subtree, onto a
        # slot of priority 0 (an empty or never-written one). Those few are placed again by
        # an exact search over the leaves: a zero-priority slot is never returned.
        bad = self.tree[node] <= 0
        if bad.any():
            cumulative = np.cumsum(self.tree[self.leaves:self.leaves + self.capacity])
            target = np.minimum(wanted[bad], cumulative[-1])
            slots[bad] = np.minimum(np.searchsorted(cumulative, target, side="right"),
                                    np.flatnonzero(cumulative == cumulative[-1])[0])
        return slots

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """n slots, stratified: one uniform draw in each of n equal slices of the total (as in
        Schaul et al.), which lowers the variance of a batch without changing P(i)."""
        total = self.total
        if total <= 0:
            raise ValueError("every priority is zero: nothing to sample")
        values = (np.arange(n) + rng.random(n)) * (total / n)
        return self.find(np.minimum(values, np.nextafter(total, 0.0)))


def importance_weights(probabilities: np.ndarray, size: int, beta: float) -> np.ndarray:
    """w_i = (N · P(i))^(-β), divided by the batch's largest weight so that w ≤ 1 (as
    Dopamine and the paper's Atari code do): the loss is only ever scaled down."""
    weights = (size * np.asarray(probabilities, dtype=np.float64)) ** -beta
    return weights / weights.max()


class Priorities:
    """The priorities of a replay buffer's slots, and the batches and weights they give.

    New transitions get the largest priority seen so far, so that each is replayed at least
    about once; after an update a sampled slot's priority is its new |TD error| + eps.
    """

    def __init__(self, capacity: int, alpha: float, beta: float, eps: float):
        self.tree = SumTree(capacity)
        self.alpha, self.beta, self.eps = alpha, beta, eps
        self.max_priority = 1.0

    def added(self, slots: np.ndarray) -> None:
        self.tree.update(slots, np.full(len(slots), self.max_priority ** self.alpha))

    def removed(self, slots: np.ndarray) -> None:
        """Slots that hold no transition any more (a frame buffer's overwritten stacks)."""
        self.tree.update(slots, np.zeros(len(slots)))

    def sample(self, n: int, size: int, rng: np.random.Generator, progress: float
               ) -> tuple[np.ndarray, np.ndarray]:
        """(slots, importance weights) of a batch; β goes linearly from its start to 1 as
        `progress` (the share of the budget done) goes from 0 to 1."""
        slots = self.tree.sample(n, rng)
        probabilities = self.tree.priorities(slots) / self.tree.total
        beta = self.beta + (1.0 - self.beta) * min(max(progress, 0.0), 1.0)
        return slots, importance_weights(probabilities, size, beta)

    def update(self, slots: np.ndarray, td_errors: np.ndarray) -> None:
        priorities = np.abs(td_errors).astype(np.float64) + self.eps
        self.max_priority = max(self.max_priority, float(priorities.max()))
        self.tree.update(slots, priorities ** self.alpha)

    def state_dict(self) -> dict[str, object]:
        import torch

        return {"tree": torch.from_numpy(self.tree.tree.copy()), "max": self.max_priority}

    def load_state_dict(self, state: dict[str, object]) -> None:
        tree = state["tree"]
        if tuple(tree.shape) != self.tree.tree.shape:  # type: ignore[attr-defined]
            raise ValueError(f"the priorities are for {tree.shape[0] // 2} slots, this buffer "  # type: ignore[attr-defined]
                             f"has {self.tree.leaves}")
        self.tree.tree[:] = tree.numpy()  # type: ignore[attr-defined]
        self.max_priority = float(state["max"])  # type: ignore[arg-type]
