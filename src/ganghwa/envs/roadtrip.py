"""RoadTrip: the lecture's Seoul-to-Busan route choice as a deterministic shortest-path MDP."""

from __future__ import annotations

import itertools
from typing import Any

import gymnasium as gym
import numpy as np

from ganghwa.envs.drawing import Renderer

CITIES = ("Seoul", "Wonju", "Daejeon", "Andong", "Daegu", "Gwangju", "Busan")
ROADS: dict[str, dict[str, float]] = {
    "Seoul": {"Wonju": 25, "Daejeon": 50},
    "Wonju": {"Andong": 40, "Daegu": 70},
    "Daejeon": {"Daegu": 15, "Gwangju": 20},
    "Andong": {"Busan": 50, "Daegu": 35},
    "Daegu": {"Busan": 30},
    "Gwangju": {"Busan": 15},
    "Busan": {},
}
"""One-way roads toward Busan. Shortest distances to Busan: Wonju 90 (via Andong), Daejeon 35
(via Gwangju), so from Seoul 25 + 90 = 115 through Wonju against 50 + 35 = 85 through Daejeon,
the lecture's numbers."""
NO_ROAD_PENALTY = -100.0
POSITIONS = {  # longitude, latitude: only for the picture
    "Seoul": (126.98, 37.57), "Wonju": (127.95, 37.34), "Daejeon": (127.38, 36.35),
    "Andong": (128.73, 36.57), "Daegu": (128.60, 35.87), "Gwangju": (126.85, 35.16),
    "Busan": (129.08, 35.18),
}


class RoadTrip(gym.Env[np.int64, np.int64]):
    """Drive from Seoul to Busan on the shortest route: the lecture's example of planning.

    Going to Wonju first looks good (25 against 50 to Daejeon), but the rest of the way is
    longer; the value of each choice, not its immediate cost, decides.

    ### Action space
    `Discrete(7)`: the city to drive to next (0 Seoul, 1 Wonju, 2 Daejeon, 3 Andong, 4 Daegu,
    5 Gwangju, 6 Busan).

    ### Observation space
    `Discrete(7)`: the city the agent is in. Episodes start in Seoul.

    ### Rewards
    Minus the road's length. Asking for a city with no road from here keeps the agent where it
    is and costs 100.

    ### Episode end
    Terminated on reaching Busan; registered with a 20-step time limit.

    ### Transition model
    `P[s][a] = [(1.0, next_state, reward, terminated)]`, deterministic.

    ### Version history
    v0: first version.
    """

    metadata: dict[str, Any] = {  # noqa: RUF012 (gymnasium declares it so)
        "render_modes": ["ansi", "rgb_array", "human"],
        "render_fps": 2}

    def __init__(self, render_mode: str | None = None):
        self.observation_space = gym.spaces.Discrete(len(CITIES))
        self.action_space = gym.spaces.Discrete(len(CITIES))
        self.state_labels = CITIES
        self.action_labels = tuple(f"→{c}" for c in CITIES)
        self.render_mode = render_mode
        self.P: dict[int, dict[int, list[tuple[float, int, float, bool]]]] = {}
        for s, city in enumerate(CITIES):
            self.P[s] = {}
            for a, dest in enumerate(CITIES):
                if city == "Busan":
                    self.P[s][a] = [(1.0, s, 0.0, True)]
                elif dest in ROADS[city]:
                    self.P[s][a] = [(1.0, a, -float(ROADS[city][dest]), dest == "Busan")]
                else:
                    self.P[s][a] = [(1.0, s, NO_ROAD_PENALTY, False)]
        self.s = 0
        self.route = [0]
        self._renderer = Renderer(render_mode, "ganghwa RoadTrip", self.metadata["render_fps"])

    def reset(self, *, seed: int | None = None, options: dict[str, Any] | None = None
              ) -> tuple[np.int64, dict[str, Any]]:
        super().reset(seed=seed)
        self.s, self.route = 0, [0]
        if self.render_mode == "human":
            self.render()
        return np.int64(self.s), {}

    def step(self, action: Any) -> tuple[np.int64, float, bool, bool, dict[str, Any]]:
        _, self.s, reward, terminated = self.P[self.s][int(action)][0]
        if self.route[-1] != self.s:
            self.route.append(self.s)
        if self.render_mode == "human":
            self.render()
        return np.int64(self.s), reward, terminated, False, {}

    def render(self) -> Any:
        return self._renderer.render(self._text, self._frame)

    def _text(self) -> str:
        km = sum(ROADS[CITIES[a]][CITIES[b]] for a, b in itertools.pairwise(self.route))
        return " → ".join(CITIES[c] for c in self.route) + f"  ({km:g})\n"

    def _frame(self) -> np.ndarray:
        """The road map with distances, the route so far in blue and the car as a dot."""
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure

        fig = Figure(figsize=(4, 4), dpi=80)
        canvas = FigureCanvasAgg(fig)
        ax = fig.add_axes((0, 0, 1, 1))
        ax.set_xlim(126.4, 129.6)
        ax.set_ylim(34.8, 37.9)
        ax.axis("off")
        on_route = set(itertools.pairwise(self.route))
        for a, dests in ROADS.items():
            for b, km in dests.items():
                (x0, y0), (x1, y1) = POSITIONS[a], POSITIONS[b]
                used = (CITIES.index(a), CITIES.index(b)) in on_route
                ax.plot([x0, x1], [y0, y1], color="tab:blue" if used else "0.7",
                        linewidth=3 if used else 1.5)
                ax.text((x0 + x1) / 2, (y0 + y1) / 2, f"{km:g}", fontsize=8, color="0.3")
        for city, (x, y) in POSITIONS.items():
            here = CITIES.index(city) == self.s
            ax.plot(x, y, "o", color="tab:red" if here else "black", markersize=10 if here else 5)
            ax.text(x + 0.05, y + 0.06, city, fontsize=9)
        canvas.draw()
        return np.asarray(canvas.buffer_rgba())[..., :3].copy()

    def close(self) -> None:
        self._renderer.close()
