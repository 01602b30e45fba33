"""What a picture of a tabular env needs: its grid of cells and names for states and actions.

Our envs carry `grid_shape`, `state_labels` and `action_labels`; gymnasium's toy-text envs are
described here, since they do not.
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np

# Action names of gymnasium's toy-text envs, in their action order.
TOY_TEXT_ACTIONS = {
    "FrozenLakeEnv": "←↓→↑",
    "CliffWalkingEnv": "↑→↓←",
    "TaxiEnv": ("S", "N", "E", "W", "pick", "drop"),
}


def grid_cells(env: gym.Env) -> np.ndarray | None:
    """The env's map as a (rows, cols) array of one-letter cells, or None if not a grid."""
    u = env.unwrapped
    n_states = getattr(env.observation_space, "n", None)
    desc = getattr(u, "desc", None)
    if desc is not None and type(u).__name__ != "TaxiEnv":
        cells = np.array([[c.decode() if isinstance(c, bytes) else c for c in row]
                          for row in desc])
        return cells if cells.size == n_states else None
    if type(u).__name__ == "CliffWalkingEnv":
        rows, cols = u.shape  # type: ignore[attr-defined]
        cells = np.full((rows, cols), ".")
        cells[rows - 1, 0], cells[rows - 1, cols - 1] = "S", "G"
        cells[rows - 1, 1:cols - 1] = "C"
        return cells
    return None


def action_labels(env: gym.Env) -> list[str]:
    u = env.unwrapped
    labels = getattr(u, "action_labels", None) or TOY_TEXT_ACTIONS.get(type(u).__name__)
    n = int(getattr(env.action_space, "n", 0))
    return list(labels) if labels is not None and len(labels) == n else [str(a) for a in range(n)]


def state_labels(env: gym.Env) -> list[str]:
    u = env.unwrapped
    n = int(getattr(env.observation_space, "n", 0))
    labels = getattr(u, "state_labels", None)
    if labels is not None and len(labels) == n:
        return list(labels)
    cells = grid_cells(env)
    if cells is not None:
        cols = cells.shape[1]
        return [f"{s} ({s // cols},{s % cols})" for s in range(n)]
    return [str(s) for s in range(n)]
