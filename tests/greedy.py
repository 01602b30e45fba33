"""The greedy evaluation of an agent the learning tests score: its policy on seeded episodes."""

from __future__ import annotations

from typing import Any

from ganghwa.evaluation import EvalResult, evaluate


def greedy_eval(agent: Any, episodes: int, seed: int) -> EvalResult:
    """`episodes` greedy episodes of the agent's env, episode i reset with seed + i."""
    cfg = agent.config
    return evaluate(lambda obs: agent.policy(obs, True), cfg.env_id, episodes, seed,
                    cfg.env_kwargs)
