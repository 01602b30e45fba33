"""A genetic algorithm that evolves policy-network weights (the tutorial's CarRacing GA).

The population is an (N, D) float32 array of flat weight vectors for one QNetwork shape (an
MLP, or a CNN on image observations) whose greedy action is the argmax of its outputs. Each
generation: fitness = mean return over k episodes (the same k seeds for everyone, so that
individuals are compared on the same episodes), evaluated in parallel by a process pool or
Ray actors; then genetic.next_generation. progress.csv gets min, mean and max fitness.
"""

from __future__ import annotations

import dataclasses
import math
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np
import torch

from ganghwa.algos.actor_critic import policy_loader
from ganghwa.algos.dqn import check_spaces, greedy_actions
from ganghwa.config import GAConfig, apply
from ganghwa.envs import env_spaces, make_env
from ganghwa.errors import GanghwaError
from ganghwa.evaluation import EvalResult, capped, evaluate, play
from ganghwa.fastpath.backprop import NumpyActor, flatten_parameters
from ganghwa.genetic import next_generation
from ganghwa.nets import QNetwork, input_scale
from ganghwa.run import GENERATION_FIELDS, Run, load_checkpoint, save_checkpoint
from ganghwa.runtime import seed_everything
from ganghwa.session import learning_session

FITNESS_SEED = 1_000_000
"""Generation g plays seeds seed + FITNESS_SEED + g*k ... + k - 1: above the evaluation seeds
(seed + 10000 ... and seed + 100000 ..., evaluation.py), so no fitness episode is ever one the
fittest is evaluated on."""


def policy_network(cfg: GAConfig, obs_space: gym.Space, action_space: gym.Space) -> QNetwork:
    assert obs_space.shape is not None and isinstance(action_space, gym.spaces.Discrete)
    return QNetwork(obs_space.shape, int(action_space.n), cfg.hidden, cfg.activation,
                    pixel_scale=input_scale(obs_space))


class FitnessEvaluator:
    """One env and one network: plays individuals' episodes greedily (in a worker process, a
    Ray actor, or this process when there is one worker)."""

    def __init__(self, cfg: GAConfig):
        torch.set_num_threads(1)
        self.env = capped(make_env(cfg.env_id, env_kwargs=cfg.env_kwargs))
        self.net = policy_network(cfg, self.env.observation_space, self.env.action_space)
        self.flat = flatten_parameters(self.net.requires_grad_(False))
        self.start = int(self.env.action_space.start)  # type: ignore[attr-defined]
        # numpy acting for an MLP (~3x cheaper per step than torch for small nets)
        self.numpy_actor = (None if self.net.is_image else
                            NumpyActor(list(self.net.parameters()), cfg.activation, False))

    def policy(self, obs: np.ndarray) -> np.ndarray:
        if self.numpy_actor is not None:
            return self.numpy_actor.q_values(obs).argmax(axis=1) + self.start
        return greedy_actions(self.net, obs, self.start)

    def __call__(self, genes: np.ndarray, first_seed: int, episodes: int
                 ) -> tuple[np.ndarray, int]:
        """Returns of each individual (rows of genes) on seeds first_seed..+episodes-1, and
        the env steps taken."""
        returns = np.zeros((len(genes), episodes))
        steps = 0
        for i, individual in enumerate(genes):
            self.flat.data.copy_(torch.from_numpy(individual))
            result = play(self.env, self.policy, episodes, first_seed, close=False)
            returns[i] = result.returns
            steps += int(result.lengths.sum())
        return returns, steps


_EVALUATOR: FitnessEvaluator | None = None


def _init_pool_worker(cfg: GAConfig) -> None:
    global _EVALUATOR
    _EVALUATOR = FitnessEvaluator(cfg)


def _pool_evaluate(genes: np.ndarray, first_seed: int, episodes: int
                   ) -> tuple[np.ndarray, int]:
    assert _EVALUATOR is not None
    return _EVALUATOR(genes, first_seed, episodes)


class LocalPool:
    """Fitness on this machine: in this process for one worker, else a spawned process pool.
    The population is cut into 4 chunks per worker, so one slow chunk (long episodes of good
    individuals) does not leave the other workers idle."""

    def __init__(self, cfg: GAConfig):
        self.workers = cfg.workers
        if cfg.workers == 1:
            self.evaluator: FitnessEvaluator | None = FitnessEvaluator(cfg)
            self.pool: ProcessPoolExecutor | None = None
        else:
            import multiprocessing as mp
            self.evaluator = None
            self.pool = ProcessPoolExecutor(cfg.workers, mp_context=mp.get_context("spawn"),
                                            initializer=_init_pool_worker, initargs=(cfg,))

    def evaluate(self, population: np.ndarray, first_seed: int, episodes: int
                 ) -> tuple[np.ndarray, int]:
        if self.evaluator is not None:
            return self.evaluator(population, first_seed, episodes)
        assert self.pool is not None
        chunks = np.array_split(population, min(len(population), 4 * self.workers))
        n = len(chunks)
        results = list(self.pool.map(_pool_evaluate, chunks, [first_seed] * n, [episodes] * n))
        return (np.concatenate([r for r, _ in results]), sum(s for _, s in results))

    def close(self) -> None:
        if self.pool is not None:
            self.pool.shutdown(cancel_futures=True)


class RayPool:
    """Fitness on Ray actors (one CPU each), on this machine or RAY_ADDRESS's cluster; chunks
    go to whichever actor is free, so faster machines take more."""

    def __init__(self, cfg: GAConfig):
        from ganghwa.ray_setup import start_ray

        self.ray, self.owns_ray = start_ray(cfg.workers)
        actor_cls = self.ray.remote(num_cpus=1)(FitnessEvaluator)
        self.actors = [actor_cls.remote(cfg) for _ in range(cfg.workers)]

    def evaluate(self, population: np.ndarray, first_seed: int, episodes: int
                 ) -> tuple[np.ndarray, int]:
        ray = self.ray
        chunks = np.array_split(population, min(len(population), 4 * len(self.actors)))
        results: list[Any] = [None] * len(chunks)
        pending: dict[Any, tuple[int, Any]] = {}
        free, todo = list(self.actors), list(range(len(chunks)))
        try:
            while todo or pending:
                while free and todo:
                    actor, index = free.pop(), todo.pop(0)
                    ref = actor.__call__.remote(chunks[index], first_seed, episodes)
                    pending[ref] = (index, actor)
                ready, _ = ray.wait(list(pending), num_returns=1)
                index, actor = pending.pop(ready[0])
                results[index] = ray.get(ready[0])
                free.append(actor)
        except ray.exceptions.RayError as e:
            cause = getattr(e, "cause", None) or str(e).strip().splitlines()[-1]
            raise GanghwaError(f"a GA fitness actor failed: {cause}") from None
        return (np.concatenate([r for r, _ in results]), sum(s for _, s in results))

    def close(self) -> None:
        for actor in self.actors:
            self.ray.kill(actor)
        if self.owns_ray:
            self.ray.shutdown()


class GA:
    """A population of policy networks evolved by selection, crossover and mutation.

    >>> ga = GA("CartPole-v1", population=50, selection="ranking").learn()
    >>> action, _ = ga.predict(obs)   # the fittest individual's greedy action
    """

    def __init__(self, env: str | None = None, config: GAConfig | None = None, **hp: Any):
        cfg = apply(config or GAConfig(), {**({"env_id": env} if env else {}), **hp})
        cfg.validate()
        obs_space, action_space = env_spaces(cfg.env_id, cfg.env_kwargs)
        check_spaces(cfg.env_id, obs_space, action_space, "GA", cfg.network)
        self.config = cfg
        self.obs_shape = tuple(obs_space.shape or ())
        seed_everything(cfg.seed)
        self.net = policy_network(cfg, obs_space, action_space).requires_grad_(False)
        self.flat = flatten_parameters(self.net)
        self.action_start = int(action_space.start)  # type: ignore[attr-defined]
        self.rng = np.random.default_rng(cfg.seed)
        # generation 0: independent default initialisations of the network
        genes = []
        for _ in range(cfg.population):
            for module in self.net.modules():
                if hasattr(module, "reset_parameters") and module is not self.net:
                    module.reset_parameters()  # type: ignore[operator]
            genes.append(self.flat.detach().numpy().copy())
        self.population = np.stack(genes).astype(np.float32)
        self.fitness = np.full(cfg.population, -np.inf)
        self.generation = self.step = 0
        self.best_score = -math.inf
        self.elapsed = 0.0
        self.stop_reason = ""
        self.set_fittest()

    # ------------------------------------------------------------------ acting
    def set_fittest(self) -> None:
        """Load the fittest individual (the first, before any evaluation) into the network."""
        best = int(np.argmax(self.fitness)) if np.isfinite(self.fitness).any() else 0
        self.flat.data.copy_(torch.from_numpy(self.population[best]))

    def greedy_policy(self, obs: np.ndarray) -> np.ndarray:
        return greedy_actions(self.net, obs, self.action_start)

    def predict(self, obs: np.ndarray, deterministic: bool = True) -> tuple[np.ndarray, None]:
        """SB3's signature; the GA's policy is deterministic."""
        obs = np.asarray(obs)
        single = obs.shape == self.obs_shape
        actions = self.greedy_policy(obs[None] if single else obs)
        return (actions[0] if single else actions), None

    def evaluate(self, episodes: int, seed: int) -> EvalResult:
        return evaluate(self.greedy_policy, self.config.env_id, episodes, seed,
                        self.config.env_kwargs)

    # ------------------------------------------------------------------ evolving
    def learn(self, generations: int | None = None, run: Run | None = None,
              progress: bool = False) -> GA:
        """Evolve until `generations` generations in all (or total_steps env steps)."""
        cfg = self.config
        total = cfg.generations if generations is None else generations
        pool = LocalPool(cfg) if cfg.backend == "local" else RayPool(cfg)
        try:
            with learning_session(self, run, total, progress, done=self.generation,
                                  fields=GENERATION_FIELDS) as session:
                while (self.generation < total and self.step < cfg.total_steps
                       and not self.stop_reason):
                    if self.generation:
                        self.population = next_generation(
                            self.population, self.fitness, elites=cfg.elites,
                            selection=cfg.selection, tournament_size=cfg.tournament_size,
                            crossover_method=cfg.crossover, p_crossover=cfg.p_crossover,
                            p_mutation=cfg.p_mutation, sigma=cfg.sigma, rng=self.rng)
                    first = cfg.seed + FITNESS_SEED + self.generation * cfg.episodes
                    returns, steps = pool.evaluate(self.population, first, cfg.episodes)
                    self.fitness = returns.mean(axis=1)
                    prev_step, self.step = self.step, self.step + steps
                    self.generation += 1
                    self.set_fittest()
                    session.logger.generation(self.generation, self.step, self.fitness)
                    session.tick(prev_step)
        finally:
            pool.close()
        return self

    # ------------------------------------------------------------------ saving and loading
    def _model_state(self) -> dict[str, Any]:
        return {"algo": "ga", "config": dataclasses.asdict(self.config),
                "net": self.net.state_dict()}

    def save(self, path: str | Path) -> None:
        """The fittest individual's network and the config: enough to act."""
        save_checkpoint(self._model_state(), Path(path))

    def save_state(self, path: Path, elapsed: float) -> None:
        """The whole population, its fitness, counters and the RNG, for `ganghwa resume`."""
        save_checkpoint({**self._model_state(),
                         "population": torch.from_numpy(self.population.copy()),
                         "fitness": torch.from_numpy(self.fitness.copy()),
                         "counters": {"generation": self.generation, "step": self.step,
                                      "best_score": self.best_score, "elapsed": elapsed},
                         "rng": {"numpy": self.rng.bit_generator.state}}, path)

    def load_state_dict(self, state: dict[str, Any]) -> None:
        population = state.get("population")
        if population is None or tuple(population.shape) != self.population.shape:
            raise GanghwaError("the checkpoint's population does not match this config; "
                               "resume with the config it was trained with")
        self.population = population.numpy().copy()
        self.fitness = state["fitness"].numpy().copy()
        c = state["counters"]
        self.generation, self.step = c["generation"], c["step"]
        self.best_score, self.elapsed = c["best_score"], c["elapsed"]
        self.rng.bit_generator.state = state["rng"]["numpy"]
        self.set_fittest()

    @classmethod
    def load(cls, path: str | Path) -> GA:
        """A GA from best.pt (its fittest network) or latest.pt (the whole population)."""
        state = load_checkpoint(Path(path))
        if state.get("algo") != "ga":
            raise GanghwaError(f"{path} holds a {state.get('algo')!r} model, not a GA one")
        ga = cls(config=apply(GAConfig(), state["config"]))
        if "population" in state:
            ga.load_state_dict(state)
        else:
            ga.net.load_state_dict(state["net"])
        return ga


def train(cfg: GAConfig, run: Run | None, progress: bool = True,
          resume_from: dict[str, Any] | None = None) -> GA:
    """The registry's entry point: a fresh population, or one restored from latest.pt."""
    ga = GA(config=cfg)
    if resume_from is not None:
        ga.load_state_dict(resume_from)
    return ga.learn(run=run, progress=progress)


load_policy = policy_loader(GAConfig, policy_network, greedy_actions)
"""The fittest individual's greedy policy, from best.pt or latest.pt."""
