"""Exploration and learning-rate schedules as pure functions of a counter.

Being pure, a schedule needs no state of its own in a checkpoint: the counter is enough.
"""

from __future__ import annotations

import math
from typing import Protocol


def linear(t: float, start: float, end: float, duration: float) -> float:
    """Anneal linearly from start to end over `duration` units, then hold end (SB3, CleanRL)."""
    frac = min(max(t, 0.0) / duration, 1.0)
    return start + frac * (end - start)


def exponential(t: float, start: float, end: float, decay: float) -> float:
    """end + (start - end) * exp(-t / decay): the PyTorch DQN tutorial's EPS_DECAY."""
    return end + (start - end) * math.exp(-t / decay)


def multiplicative(t: float, start: float, factor: float, floor: float) -> float:
    """start * factor**t, never below floor: `epsilon *= 0.999` after every update."""
    return max(floor, start * factor**t)


class EpsilonConfig(Protocol):
    exploration: str
    eps_start: float
    eps_end: float
    eps_duration: int
    eps_decay: float
    eps_factor: float


def epsilon(cfg: EpsilonConfig, t: float) -> float:
    """The configured epsilon schedule evaluated at counter value t."""
    if cfg.exploration == "linear":
        return linear(t, cfg.eps_start, cfg.eps_end, cfg.eps_duration)
    if cfg.exploration == "exponential":
        return exponential(t, cfg.eps_start, cfg.eps_end, cfg.eps_decay)
    return multiplicative(t, cfg.eps_start, cfg.eps_factor, cfg.eps_end)


def crossings(prev: int, now: int, every: int) -> int:
    """How many multiples of `every` lie in (prev, now]: periodic work with vector-env strides."""
    return now // every - prev // every
