"""Pixels for our small envs: coloured grid cells, discs, and a pygame window for `human` mode."""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any

import gymnasium as gym
import numpy as np

CELL = 48
MIN_DETAIL = 6
"""Cells smaller than this many pixels (big grids in bounded frames) get no grid lines, and
their discs fill the cell."""
COLORS = {
    "empty": (245, 245, 240), "wall": (60, 60, 60), "trap": (220, 80, 70),
    "goal": (90, 190, 100), "start": (190, 215, 240), "agent": (40, 90, 200),
    "line": (200, 200, 200),
}


def grid_image(cell_colors: np.ndarray, cell: int = CELL) -> np.ndarray:
    """(rows, cols, 3) uint8 colours -> an (rows*cell, cols*cell, 3) frame with grid lines."""
    img = np.repeat(np.repeat(cell_colors, cell, axis=0), cell, axis=1).astype(np.uint8)
    if cell >= MIN_DETAIL:  # lines on cells of a few pixels would hide the cells
        img[::cell, :] = COLORS["line"]
        img[:, ::cell] = COLORS["line"]
    return img


def draw_disc(img: np.ndarray, row: int, col: int, color: tuple[int, int, int],
              cell: int = CELL, radius: float = 0.35) -> None:
    """A filled circle centred in cell (row, col), in place."""
    block = img[row * cell:(row + 1) * cell, col * cell:(col + 1) * cell]
    if cell < MIN_DETAIL:  # too small for a round disc: fill the cell
        block[...] = color
        return
    yy, xx = np.ogrid[:cell, :cell]
    c = (cell - 1) / 2
    mask = (yy - c) ** 2 + (xx - c) ** 2 <= (radius * cell) ** 2
    block[mask] = color


class Renderer:
    """Gymnasium's render modes for an env that can describe itself in text and in pixels.

    `ansi` returns the text, `rgb_array` the frame, and `human` shows the frame in a pygame
    window (off-screen when there is no display).
    """

    def __init__(self, render_mode: str | None, title: str, fps: int):
        self.render_mode, self.title, self.fps = render_mode, title, fps
        self._screen: Any = None
        self._clock: Any = None

    def render(self, text: Callable[[], str], frame: Callable[[], np.ndarray]) -> Any:
        if self.render_mode == "ansi":
            return text()
        if self.render_mode is None:
            gym.logger.warn("render() called without a render_mode; pass render_mode=...")
            return None
        image = frame()
        if self.render_mode == "human":
            self._show(image)
            return None
        return image

    def _show(self, frame: np.ndarray) -> None:
        try:
            import pygame
        except ImportError as e:  # pragma: no cover - pygame comes with gymnasium[box2d]
            raise ImportError("human rendering needs pygame: pip install pygame") from e
        if self._screen is None:
            if not os.environ.get("DISPLAY"):
                os.environ.setdefault("SDL_VIDEODRIVER", "dummy")  # headless: draw off-screen
            pygame.display.init()
            pygame.display.set_caption(self.title)
            self._screen = pygame.display.set_mode((frame.shape[1], frame.shape[0]))
            self._clock = pygame.time.Clock()
        pygame.event.pump()
        surface = pygame.surfarray.make_surface(np.transpose(frame, (1, 0, 2)))
        self._screen.blit(surface, (0, 0))
        pygame.display.flip()
        self._clock.tick(self.fps)

    def close(self) -> None:
        if self._screen is not None:
            import pygame
            pygame.display.quit()
            self._screen = None
