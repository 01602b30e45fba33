"""`ganghwa solve`: a DP method on an env's known model, shown as V with arrows, the Q-table
and the greedy path (RoadTrip's route), and optionally the value map as a PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ganghwa.errors import GanghwaError

SOLVE_OPTIONS: dict[str, dict[str, Any]] = {
    "gamma": {"type": float, "default": 0.99, "help": "discount (default 0.99)"},
    "theta": {"type": float, "default": 1e-10, "help": "convergence tolerance"},
}
"""`ganghwa solve`'s options: settings of the DP methods' config."""


def greedy_path(P: Any, actions: Any, start: int, limit: int = 100
                ) -> list[tuple[int, float]] | None:
    """The (state, reward) steps the greedy policy takes from start, if the model is
    deterministic along the way (as RoadTrip's is); None otherwise."""
    path, s = [], start
    for _ in range(limit):
        outcomes = P[s][int(actions[s])]
        if len(outcomes) != 1:
            return None
        _, s, reward, terminated = outcomes[0]
        path.append((int(s), float(reward)))
        if terminated:
            return path
    return None


def solve_views(algo: str, env_id: str, settings: dict[str, Any],
                env_kwargs: dict[str, Any], png: str | None = None) -> list[Any]:
    """What `ganghwa solve` prints, as rich renderables and lines (and the PNG it writes)."""
    from ganghwa.algos.tabular import DP_ALGOS, TabularAgent, solve
    from ganghwa.envs.layout import action_labels, grid_cells, state_labels
    from ganghwa.tables import q_table, value_grid

    if algo not in DP_ALGOS:
        raise GanghwaError(f"solve runs a DP method ({', '.join(DP_ALGOS)}), not {algo!r};"
                           f" learn from experience with `ganghwa train {algo} {env_id}`")
    if png and not png.lower().endswith(".png"):
        raise GanghwaError(f"--png must end in .png, got {png}")
    agent = TabularAgent(env_id, algo=algo, env_kwargs=env_kwargs, **settings)
    cfg, env = agent.config, agent.env
    V, Q, actions, sweeps = solve(cfg.algo, env, cfg.gamma, cfg.theta, cfg.max_sweeps)
    labels = action_labels(env)
    arrows = [labels[a] for a in actions]
    cells = grid_cells(env)
    title = f"{cfg.algo} on {cfg.env_id}, γ={cfg.gamma} ({sweeps} sweeps)"
    views: list[Any] = []
    if cells is not None:
        views.append(value_grid(V, cells, arrows, f"V(s) and greedy action: {title}"))
    views.append(q_table(Q, state_labels(env), labels, f"Q(s, a): {title}"))
    start = int(env.reset(seed=0)[0])
    views.append(f"V(start) = {V[start]:.4f}; greedy action at the start: {arrows[start]}")
    path = greedy_path(env.unwrapped.P, actions, start)  # type: ignore[attr-defined]
    if path is not None:
        names, total = state_labels(env), sum(r for _, r in path)
        route = " → ".join([names[start]] + [names[s] for s, _ in path])
        views.append(f"greedy path: {route}  (return {total:g})")
    if png:
        from ganghwa.plots import plot_value_map

        if cells is None:
            raise GanghwaError(f"{cfg.env_id} is not a grid, so there is no value map to draw")
        views.append(str(plot_value_map(V, cells, arrows, Path(png), title)))
    env.close()
    return views
