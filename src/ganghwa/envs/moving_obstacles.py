"""MovingObstacles: Deep SARSA's grid, where obstacles slide left and right."""

from __future__ import annotations

from typing import Any

import gymnasium as gym
import numpy as np

from ganghwa.envs.drawing import COLORS, Renderer, draw_disc, grid_image
from ganghwa.errors import GanghwaError

MOVES = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))  # stay, up, down, left, right


class MovingObstacles(gym.Env[np.ndarray, np.int64]):
    """Reach the goal across rows of obstacles that move one cell per step and bounce at walls.

    Too many states for a Q-table (the obstacles' positions and directions multiply the
    agent's cells), so a network approximates Q from features: the lecture's Deep SARSA task.

    ### Layout
    A `size`×`size` grid (default 5). The agent starts top-left, the goal is bottom-right, and
    `n_obstacles` obstacles (default 3) each patrol one row between them. Each reset draws
    every obstacle's column and direction at random.

    ### Action space
    `Discrete(5)`: 0 stay, 1 up, 2 down, 3 left, 4 right. Moves off the grid keep the agent in
    place.

    ### Observation space
    `Box(3 + 4 * n_obstacles)`, 15 numbers with 3 obstacles, as in the lecture: the goal's
    position relative to the agent (columns, rows) and its label +1; then for each obstacle
    its relative position, its label -1 and its direction (-1 left, +1 right).

    ### Rewards
    +1 on reaching the goal, -1 on meeting an obstacle (on its cell, or passing through it),
    `step_reward` (default -0.01) otherwise: a small cost, so that waiting is never free
    (with 0, Deep SARSA learned to dither and reached the goal less often: docs/tabular.md).

    ### Episode end
    Terminated at the goal or on an obstacle; registered with a 100-step time limit.

    ### Version history
    v0: first version.
    """

    metadata: dict[str, Any] = {  # noqa: RUF012 (gymnasium declares it so)
        "render_modes": ["ansi", "rgb_array", "human"],
        "render_fps": 4}

    def __init__(self, size: int = 5, n_obstacles: int = 3, step_reward: float = -0.01,
                 render_mode: str | None = None):
        if size < 3 or not 1 <= n_obstacles <= size - 2:
            raise GanghwaError(f"need size >= 3 and 1 <= n_obstacles <= size - 2, got size={size}, "
                             f"n_obstacles={n_obstacles}")
        self.size, self.n_obstacles, self.step_reward = size, n_obstacles, float(step_reward)
        self.render_mode = render_mode
        span = float(size - 1)
        dim = 3 + 4 * n_obstacles
        self.observation_space = gym.spaces.Box(-span, span, shape=(dim,), dtype=np.float32)
        self.action_space = gym.spaces.Discrete(5)
        self.goal = np.array([size - 1, size - 1])
        # obstacle rows spread between the start row and the goal row
        self.rows = np.linspace(1, size - 2, n_obstacles).round().astype(int)
        self.agent = np.zeros(2, dtype=int)
        self.cols = np.zeros(n_obstacles, dtype=int)
        self.dirs = np.ones(n_obstacles, dtype=int)
        self._renderer = Renderer(render_mode, "ganghwa MovingObstacles",
                                  self.metadata["render_fps"])

    def _obs(self) -> np.ndarray:
        obs = np.empty(3 + 4 * self.n_obstacles, dtype=np.float32)
        obs[0] = self.goal[1] - self.agent[1]
        obs[1] = self.goal[0] - self.agent[0]
        obs[2] = 1.0
        for i in range(self.n_obstacles):
            obs[3 + 4 * i: 7 + 4 * i] = (self.cols[i] - self.agent[1],
                                         self.rows[i] - self.agent[0], -1.0, self.dirs[i])
        return obs

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.agent[:] = 0
        self.cols = self.np_random.integers(0, self.size, self.n_obstacles)
        self.dirs = self.np_random.choice(np.array([-1, 1]), self.n_obstacles)
        if self.render_mode == "human":
            self.render()
        return self._obs(), {}

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        before = self.agent.copy()
        self.agent = np.clip(self.agent + MOVES[int(action)], 0, self.size - 1)
        old_cols = self.cols.copy()
        bounce = (self.cols + self.dirs < 0) | (self.cols + self.dirs >= self.size)
        self.dirs = np.where(bounce, -self.dirs, self.dirs)
        self.cols = self.cols + self.dirs
        on_row = self.rows == self.agent[0]
        hit = bool(np.any(on_row & (self.cols == self.agent[1])))
        # passing through: the agent and an obstacle swapped cells in one step
        swapped = (self.rows == before[0]) & (old_cols == self.agent[1]) \
            & (self.cols == before[1]) & (before[0] == self.agent[0])
        hit = hit or bool(np.any(swapped))
        reached = bool(np.array_equal(self.agent, self.goal))
        reward = 1.0 if reached else -1.0 if hit else self.step_reward
        if self.render_mode == "human":
            self.render()
        return self._obs(), reward, reached or hit, False, {"hit": hit}

    def render(self) -> Any:
        return self._renderer.render(self._text, self._frame)

    def _text(self) -> str:
        grid = np.full((self.size, self.size), ".")
        grid[self.goal[0], self.goal[1]] = "G"
        for r, c, d in zip(self.rows, self.cols, self.dirs, strict=True):
            grid[r, c] = ">" if d > 0 else "<"
        grid[self.agent[0], self.agent[1]] = "A"
        return "\n".join("".join(row) for row in grid) + "\n"

    def _frame(self) -> np.ndarray:
        colors = np.full((self.size, self.size, 3), COLORS["empty"], dtype=np.uint8)
        colors[self.goal[0], self.goal[1]] = COLORS["goal"]
        frame = grid_image(colors)
        for r, c in zip(self.rows, self.cols, strict=True):
            draw_disc(frame, int(r), int(c), COLORS["trap"])
        draw_disc(frame, int(self.agent[0]), int(self.agent[1]), COLORS["agent"], radius=0.28)
        return frame

    def close(self) -> None:
        self._renderer.close()
