"""Snake: the classic game on a small board, as a Gymnasium env (the tutorial's own game)."""

from __future__ import annotations

from collections import deque
from typing import Any

import gymnasium as gym
import numpy as np

from ganghwa.envs.drawing import COLORS, Renderer, draw_disc, grid_image
from ganghwa.errors import GanghwaError

# headings clockwise: up, right, down, left, as (row, col) steps
HEADINGS = np.array([(-1, 0), (0, 1), (1, 0), (0, -1)])
TURN = (0, -1, 1)  # action 0 straight, 1 turn left, 2 turn right (added to the heading index)
EMPTY, BODY, HEAD, FOOD = 0, 1, 2, 3


class Snake(gym.Env[np.ndarray, np.int64]):
    """Steer a growing snake to the food without hitting a wall or itself.

    ### Board
    `size`×`size` cells (default 20). The snake starts as its head alone (length 1) in the
    middle, heading up; one piece of food lies on a random free cell.

    ### Action space
    `Discrete(3)`, relative to the heading: 0 straight on, 1 turn left, 2 turn right. The
    snake cannot reverse into itself, and the same action means the same thing in every
    heading, which is what makes the compact features below enough.

    ### Observation space
    `obs_mode="features"` (default): `Box(0, 1, (11,), float32)`, for an MLP:

    | index | meaning |
    |---|---|
    | 0-2 | danger (wall or body) one cell straight ahead, to the left, to the right |
    | 3-6 | heading one-hot: up, right, down, left |
    | 7-10 | food is above, below, left of, right of the head |

    `obs_mode="pixels"`: `Box(0, 255, (size, size, 3), uint8)`, the board as a small
    channels-last image for a CNN: channel 0 the body, 1 the head, 2 the food.

    ### Rewards
    +1 for eating (the snake grows by one cell), -1 for dying, 0 otherwise.

    ### Episode end
    Terminated on hitting a wall or the body, or when the snake fills the board. Truncated
    after `size * size` steps without eating, so that a policy that circles forever ends.
    `info` carries `length` (cells of snake) and `score` (food eaten).

    ### Version history
    v0: first version.
    """

    metadata: dict[str, Any] = {  # noqa: RUF012 (gymnasium declares it so)
        "render_modes": ["ansi", "rgb_array", "human"],
        "render_fps": 10}

    def __init__(self, size: int = 20, obs_mode: str = "features",
                 render_mode: str | None = None):
        if size < 4:
            raise GanghwaError(f"Snake needs size >= 4, got {size}; e.g. --env-kw size=20")
        if obs_mode not in ("features", "pixels"):
            raise GanghwaError(f"obs_mode must be features or pixels, got {obs_mode!r}; "
                               "e.g. --env-kw obs_mode=pixels")
        if render_mode is not None and render_mode not in self.metadata["render_modes"]:
            raise GanghwaError(f"render_mode must be one of ansi, rgb_array, human; got "
                               f"{render_mode!r}")
        self.size, self.obs_mode, self.render_mode = size, obs_mode, render_mode
        self.action_space = gym.spaces.Discrete(3)
        if obs_mode == "features":
            self.observation_space = gym.spaces.Box(0.0, 1.0, shape=(11,), dtype=np.float32)
        else:
            self.observation_space = gym.spaces.Box(0, 255, shape=(size, size, 3),
                                                    dtype=np.uint8)
        self.board = np.zeros((size, size), dtype=np.int8)
        self.body: deque[tuple[int, int]] = deque()  # head first
        self.heading = 0
        self.food = (0, 0)
        self.hunger = 0
        self.score = 0
        self._renderer = Renderer(render_mode, "ganghwa Snake", self.metadata["render_fps"])

    # ------------------------------------------------------------------ dynamics

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[np.ndarray, dict[str, Any]]:
        super().reset(seed=seed)
        self.board[:] = EMPTY
        head = (self.size // 2, self.size // 2)
        self.body = deque([head])
        self.board[head] = HEAD
        self.heading, self.hunger, self.score = 0, 0, 0
        self._place_food()
        if self.render_mode == "human":
            self.render()
        return self._obs(), self._info()

    def step(self, action: Any) -> tuple[np.ndarray, float, bool, bool, dict[str, Any]]:
        if not self.action_space.contains(action):
            raise ValueError(f"action must be 0, 1 or 2, got {action!r}")
        self.heading = (self.heading + TURN[int(action)]) % 4
        head = self.body[0]
        new = (head[0] + int(HEADINGS[self.heading][0]), head[1] + int(HEADINGS[self.heading][1]))
        eats = new == self.food
        if self._blocked(new, eats):
            if self.render_mode == "human":
                self.render()
            return self._obs(), -1.0, True, False, self._info()
        self.board[head] = BODY
        if not eats:  # the tail moves on first, so the head may take its cell
            self.board[self.body.pop()] = EMPTY
        self.body.appendleft(new)
        self.board[new] = HEAD
        reward, terminated = 0.0, False
        if eats:
            self.score += 1
            self.hunger = 0
            reward = 1.0
            terminated = len(self.body) == self.size * self.size
            if not terminated:
                self._place_food()
        else:
            self.hunger += 1
        truncated = not terminated and self.hunger >= self.size * self.size
        if self.render_mode == "human":
            self.render()
        return self._obs(), reward, terminated, truncated, self._info()

    def _blocked(self, cell: tuple[int, int], growing: bool = False) -> bool:
        """A wall or the body; the tail's cell is free unless the snake grows this step."""
        r, c = cell
        if not (0 <= r < self.size and 0 <= c < self.size):
            return True
        if self.board[r, c] in (BODY, HEAD):
            return growing or cell != self.body[-1]
        return False

    def _place_food(self) -> None:
        free = np.flatnonzero(self.board.ravel() == EMPTY)
        index = int(free[self.np_random.integers(len(free))])
        self.food = (index // self.size, index % self.size)
        self.board[self.food] = FOOD

    # ------------------------------------------------------------------ observations

    def _obs(self) -> np.ndarray:
        if self.obs_mode == "pixels":
            image = np.zeros((self.size, self.size, 3), dtype=np.uint8)
            image[..., 0] = (self.board == BODY) * 255
            image[..., 1] = (self.board == HEAD) * 255
            image[..., 2] = (self.board == FOOD) * 255
            return image
        obs = np.zeros(11, dtype=np.float32)
        head = self.body[0]
        for i, turn in enumerate(TURN):
            step = HEADINGS[(self.heading + turn) % 4]
            cell = (head[0] + int(step[0]), head[1] + int(step[1]))
            obs[i] = self._blocked(cell, growing=cell == self.food)
        obs[3 + self.heading] = 1.0
        obs[7:11] = (self.food[0] < head[0], self.food[0] > head[0],
                     self.food[1] < head[1], self.food[1] > head[1])
        return obs

    def _info(self) -> dict[str, Any]:
        return {"length": len(self.body), "score": self.score}

    # ------------------------------------------------------------------ rendering

    def render(self) -> Any:
        return self._renderer.render(self._text, self._frame)

    def _text(self) -> str:
        chars = np.array([".", "o", "@", "*"])[self.board]
        border = "+" + "-" * self.size + "+"
        rows = ["|" + "".join(row) + "|" for row in chars]
        return "\n".join([border, *rows, border]) + f"\nlength {len(self.body)}\n"

    def _frame(self) -> np.ndarray:
        cell = max(8, 480 // self.size)
        colors = np.full((self.size, self.size, 3), COLORS["empty"], dtype=np.uint8)
        colors[self.board == BODY] = COLORS["goal"]
        frame = grid_image(colors, cell)
        draw_disc(frame, *self.food, COLORS["trap"], cell=cell)
        draw_disc(frame, *self.body[0], COLORS["agent"], cell=cell, radius=0.45)
        return frame

    def close(self) -> None:
        self._renderer.close()
