"""Checkpoints for every agent: save, restore and load, atomically, read with weights_only.

    best.pt    {"format", "algo", "config", "step", <the agent's state(full=False)>}
    latest.pt  the same, plus "counters" and the agent's state(full=True): a resume

The agent only says what its state is (agent.state / agent.load_state); this module owns the
file format, the counters and the checks that a checkpoint belongs where it is loaded.
"""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ganghwa.agent import COUNTERS, Agent
from ganghwa.errors import GanghwaError
from ganghwa.run import atomic_write_bytes

CHECKPOINT_FORMAT = "ganghwa-checkpoint-1"


def save_checkpoint(state: dict[str, Any], path: Path) -> None:
    """torch.save through a buffer, then an atomic rename."""
    buffer = io.BytesIO()
    torch.save({"format": CHECKPOINT_FORMAT, **state}, buffer)
    atomic_write_bytes(Path(path), buffer.getvalue())


def load_checkpoint(path: Path) -> dict[str, Any]:
    """torch.load(weights_only=True): a checkpoint can hold tensors and plain data, never code."""
    path = Path(path)
    if not path.is_file():
        raise GanghwaError(f"no checkpoint at {path}; train first or pick another run")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as e:
        reason = str(e).splitlines()[0][:120] if str(e) else type(e).__name__
        raise GanghwaError(f"checkpoint {path} is corrupt or not a ganghwa checkpoint ({reason}); "
                           "use the other checkpoint in that folder or train again") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise GanghwaError(f"{path} is not a ganghwa checkpoint; train again to create one")
    return state


def save(agent: Agent, path: str | Path, full: bool = False) -> None:
    """The agent's policy (or, full, everything a resume needs) and its config."""
    state = {"algo": agent.config.algo, "config": dataclasses.asdict(agent.config),
             "step": agent.step, **agent.state(full)}
    if full:
        state["counters"] = {k: getattr(agent, k) for k in COUNTERS if hasattr(agent, k)}
    save_checkpoint(state, Path(path))


def restore(agent: Agent, state: dict[str, Any]) -> None:
    """Put a checkpoint back into an agent built with its config."""
    try:
        agent.load_state(state)
    except (RuntimeError, KeyError, ValueError) as e:
        reason = str(e).splitlines()[0][:100] if str(e) else type(e).__name__
        raise GanghwaError(f"the checkpoint does not match this network or config ({reason}); "
                           "load it with the config it was trained with") from None
    for name, value in state.get("counters", {}).items():
        setattr(agent, name, value)


def build(state: dict[str, Any], cls: type | None = None, spaces: Any = None,
          **overrides: Any) -> Any:
    """A new agent of the checkpoint's algorithm and config, with its state restored."""
    from ganghwa.config import apply
    from ganghwa.registry import get_algo

    spec = get_algo(str(state.get("algo")))
    agent_cls = spec.agent_class()
    if cls is not None and agent_cls is not cls:
        raise GanghwaError(f"the checkpoint holds a {spec.name!r} model, not a "
                           f"{cls.__name__} one; load it with {agent_cls.__name__}.load")
    config = apply(spec.config(), {**state["config"], **overrides})
    agent = agent_cls(config=config, spaces=spaces)
    restore(agent, state)
    return agent


def load(path: str | Path, cls: type | None = None, **overrides: Any) -> Any:
    """An agent from best.pt or latest.pt (the latter restores training too)."""
    return build(load_checkpoint(Path(path)), cls, **overrides)


def load_as(cls: type, path: str | Path, **settings: Any) -> Any:
    """`Cls.load(path, **settings)` for every agent class (`load = classmethod(load_as)`):
    an agent from `save`, best.pt or latest.pt; a full checkpoint restores training too."""
    return load(path, cls, **settings)


def network_state(net: torch.nn.Module, optimizer: torch.optim.Optimizer,
                  generator: torch.Generator, full: bool) -> dict[str, Any]:
    """The state of an agent that is one network, its optimizer and a sampling RNG (the
    policy-gradient methods): the network; full adds the optimizer and the RNG."""
    state: dict[str, Any] = {"net": net.state_dict()}
    if full:
        state.update(optimizer=optimizer.state_dict(), rng={"torch": generator.get_state()})
    return state


def load_network_state(state: dict[str, Any], net: torch.nn.Module,
                       optimizer: torch.optim.Optimizer, generator: torch.Generator) -> None:
    """The inverse of network_state, for either kind."""
    net.load_state_dict(state["net"])
    if "optimizer" in state:
        optimizer.load_state_dict(state["optimizer"])
        generator.set_state(state["rng"]["torch"])


def load_policy(state: dict[str, Any], spaces: Any = None
                ) -> Callable[[np.ndarray], np.ndarray]:
    """The greedy policy of a checkpoint, for evaluation and video."""
    agent = build(state, spaces=spaces)
    return lambda obs: agent.policy(obs, True)
