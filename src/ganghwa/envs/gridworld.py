"""GridWorld: the lecture's 5×5 grid, or any map, with its transition model P for DP."""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from typing import Any

import gymnasium as gym
import numpy as np

from ganghwa.envs.drawing import CELL, COLORS, Renderer, draw_disc, grid_image
from ganghwa.errors import GanghwaError

LECTURE_MAP = ("S....", "..X..", ".XG..", ".....", ".....")
"""The lecture's grid world: start top-left, traps at (1, 2) and (2, 1), the goal at (2, 2)."""

# FrozenLake's action order, so that one arrow table serves both.
MOVES = ((0, -1), (1, 0), (0, 1), (-1, 0))  # left, down, right, up
ARROWS = "←↓→↑"
FRAME_PIXELS = 1024
CELL_KINDS = {"S": "start", ".": "empty", "G": "goal", "X": "trap", "#": "wall"}


def parse_map(grid_map: Sequence[str] | str) -> tuple[str, ...]:
    """Rows of S . G X # (a string may separate rows with '/'); bad maps raise GanghwaError."""
    rows = tuple(grid_map.split("/")) if isinstance(grid_map, str) else tuple(grid_map)
    if not rows or any(len(r) != len(rows[0]) for r in rows) or not rows[0]:
        raise GanghwaError(f"grid map {'/'.join(rows)!r} is not a rectangle; give rows of equal "
                           "length, e.g. desc=S..X/...G")
    bad = sorted({c for r in rows for c in r} - set(CELL_KINDS))
    if bad:
        raise GanghwaError(f"grid map has unknown cells {''.join(bad)!r}; use S (start), "
                           ". (empty), G (goal), X (trap) and # (wall)")
    text = "".join(rows)
    if text.count("S") != 1:
        raise GanghwaError(f"grid map needs exactly one start S, found {text.count('S')}")
    if "G" not in text:
        raise GanghwaError("grid map has no goal G; add one, e.g. desc=S..X/...G")
    if not _reachable(rows):
        raise GanghwaError("the goal G cannot be reached from the start S (walls # and traps X "
                           "block every path); open a path in the map")
    return rows


def _reachable(rows: tuple[str, ...]) -> bool:
    n_rows, n_cols = len(rows), len(rows[0])
    start = next((r, c) for r in range(n_rows) for c in range(n_cols) if rows[r][c] == "S")
    seen, todo = {start}, deque([start])
    while todo:
        r, c = todo.popleft()
        if rows[r][c] == "G":
            return True
        for dr, dc in MOVES:
            nr, nc = r + dr, c + dc
            if 0 <= nr < n_rows and 0 <= nc < n_cols and (nr, nc) not in seen \
                    and rows[nr][nc] not in "#X":
                seen.add((nr, nc))
                todo.append((nr, nc))
    return False


class GridWorld(gym.Env[np.int64, np.int64]):
    """A grid world with traps and walls, the first MDP of every RL course.

    ### Map
    Rows of cells: `S` start, `.` empty, `G` goal, `X` trap, `#` wall. The default is the
    lecture's 5×5 (LECTURE_MAP). Pass `desc=["S..", ".#G"]` or `desc="S../.#G"` (FrozenLake's
    name for its map; on the command line `--env-kw desc=S../.#G`).

    ### Action space
    `Discrete(4)`: 0 left, 1 down, 2 right, 3 up (FrozenLake's order).

    ### Observation space
    `Discrete(rows * cols)`: the agent's cell, `row * cols + col`.

    ### Transitions
    The intended move happens with probability `1 - slip`; otherwise the agent slides to one
    of the two perpendicular directions (`slip / 2` each). Moving into a wall or off the grid
    leaves the agent where it is. `P[s][a]` lists `(prob, next_state, reward, terminated)`, as
    gymnasium's toy-text envs do, so the DP methods can use it.

    ### Rewards
    `goal_reward` (default +1) for reaching a goal, `trap_reward` (default -1) for a trap,
    `step_reward` (default 0) for any other move. Sutton & Barto's 4×4 grid of Example 4.1 is
    `desc="GS../..../..../...G"` with every reward -1 (`step_reward=goal_reward=-1`).

    ### Episode end
    Terminated on the goal or a trap; registered with a 100-step time limit.

    ### Version history
    v0: first version.
    """

    metadata: dict[str, Any] = {  # noqa: RUF012 (gymnasium declares it so)
        "render_modes": ["ansi", "rgb_array", "human"],
        "render_fps": 4}

    def __init__(self, desc: Sequence[str] | str = LECTURE_MAP, slip: float = 0.0,
                 step_reward: float = 0.0, goal_reward: float = 1.0, trap_reward: float = -1.0,
                 render_mode: str | None = None):
        if not 0.0 <= slip < 1.0:
            raise GanghwaError(f"slip must lie in [0, 1), got {slip}")
        self.desc = parse_map(desc)
        self.grid_shape = (len(self.desc), len(self.desc[0]))
        self.action_labels = tuple(ARROWS)
        self.slip, self.step_reward = float(slip), float(step_reward)
        self.goal_reward, self.trap_reward = float(goal_reward), float(trap_reward)
        n_rows, n_cols = self.grid_shape
        n_states = n_rows * n_cols
        self.observation_space = gym.spaces.Discrete(n_states)
        self.action_space = gym.spaces.Discrete(4)
        self.render_mode = render_mode
        self.start_state = "".join(self.desc).index("S")
        self.P: dict[int, dict[int, list[tuple[float, int, float, bool]]]] = {
            s: {a: self._outcomes(s, a) for a in range(4)} for s in range(n_states)}
        self.s = self.start_state
        self.last_action: int | None = None
        self._renderer = Renderer(render_mode, "ganghwa GridWorld", self.metadata["render_fps"])

    def _cell(self, s: int) -> str:
        return self.desc[s // self.grid_shape[1]][s % self.grid_shape[1]]

    def _outcomes(self, s: int, a: int) -> list[tuple[float, int, float, bool]]:
        if self._cell(s) in "GX#":  # terminal (or unreachable) cells absorb
            return [(1.0, s, 0.0, True)]
        probs = {a: 1.0 - self.slip}
        if self.slip > 0:
            for side in ((a - 1) % 4, (a + 1) % 4):
                probs[side] = probs.get(side, 0.0) + self.slip / 2
        outcomes: dict[int, float] = {}
        for move, p in probs.items():
            nxt = self._move(s, move)
            outcomes[nxt] = outcomes.get(nxt, 0.0) + p
        result = []
        for nxt, p in outcomes.items():
            cell = self._cell(nxt)
            reward = (self.goal_reward if cell == "G" else self.trap_reward if cell == "X"
                      else self.step_reward)
            result.append((p, nxt, reward, cell in "GX"))
        return result

    def _move(self, s: int, a: int) -> int:
        n_rows, n_cols = self.grid_shape
        r, c = divmod(s, n_cols)
        nr, nc = r + MOVES[a][0], c + MOVES[a][1]
        if not (0 <= nr < n_rows and 0 <= nc < n_cols) or self.desc[nr][nc] == "#":
            return s
        return nr * n_cols + nc

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[np.int64, dict[str, Any]]:
        super().reset(seed=seed)
        self.s = self.start_state
        self.last_action = None
        if self.render_mode == "human":
            self.render()
        return np.int64(self.s), {"prob": 1.0}

    def step(self, action: Any) -> tuple[np.int64, float, bool, bool, dict[str, Any]]:
        outcomes = self.P[self.s][int(action)]
        i = int(self.np_random.choice(len(outcomes), p=[o[0] for o in outcomes])) \
            if len(outcomes) > 1 else 0
        prob, self.s, reward, terminated = outcomes[i]
        self.last_action = int(action)
        if self.render_mode == "human":
            self.render()
        return np.int64(self.s), reward, terminated, False, {"prob": prob}

    def render(self) -> Any:
        return self._renderer.render(self._text, self._frame)

    def _text(self) -> str:
        n_cols = self.grid_shape[1]
        lines = ["".join("A" if r * n_cols + c == self.s else ch for c, ch in enumerate(row))
                 for r, row in enumerate(self.desc)]
        moved = "" if self.last_action is None else f"  ({ARROWS[self.last_action]})"
        return "\n".join(lines) + moved + "\n"

    def _frame(self) -> np.ndarray:
        colors = np.array([[COLORS[CELL_KINDS[ch]] for ch in row] for row in self.desc],
                          dtype=np.uint8)
        # at most FRAME_PIXELS a side: 48-pixel cells of a 350x350 grid would be 847 MB a frame
        cell = max(2, min(CELL, FRAME_PIXELS // max(colors.shape[:2])))
        img = grid_image(colors, cell)
        r, c = divmod(self.s, self.grid_shape[1])
        draw_disc(img, r, c, COLORS["agent"], cell=cell)
        return img

    def close(self) -> None:
        self._renderer.close()
