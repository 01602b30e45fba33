"""A genetic algorithm that evolves policy-network weights (the tutorial's CarRacing GA).

The population is an (N, D) float32 array of flat weight vectors for one QNetwork shape (an
MLP, or a CNN on image observations) whose greedy action is the argmax of its outputs. Each
generation: fitness = mean return over k episodes (the same k seeds for everyone, so that
individuals are compared on the same episodes), evaluated in parallel by a process pool or
Ray actors; then genetic.next_generation. progress.csv gets min, mean and max fitness. The
pool's processes end with this one, SIGKILL included (ray_setup.start_worker_process).
"""

from __future__ import annotations

import os
from concurrent.futures import ProcessPoolExecutor
from typing import Any, ClassVar

import gymnasium as gym
import numpy as np
import torch

from ganghwa import checkpoint
from ganghwa.agent import Agent, predict, start
from ganghwa.config import GAConfig
from ganghwa.envs import make_env
from ganghwa.errors import GanghwaError
from ganghwa.evaluation import capped, play
from ganghwa.fastpath import manual_backprop_reason
from ganghwa.fastpath.backprop import NumpyActor, flatten_parameters
from ganghwa.genetic import next_generation
from ganghwa.nets import QNetwork, greedy_actions, input_scale
from ganghwa.ray_setup import check_workers, start_ray, start_worker_process
from ganghwa.run import Run
from ganghwa.session import learning_session

FITNESS_SEED = 1_000_000
"""Generation g plays seeds seed + FITNESS_SEED + g*k ... + k - 1: above the evaluation seeds
(seed + 10000 ... and seed + 100000 ..., evaluation.py), so no fitness episode is ever one the
fittest is evaluated on."""

WORKER_MEMORY = 240 * 2**20
"""Memory one fitness process takes: the resident set (VmRSS) of each of the 2 pool processes
of `ganghwa train ga CartPole-v1 --workers 2`, read from /proc/<pid>/status after 14 s, was
233 MiB (torch and gymnasium imported; 150 MiB of it its own). Envs with images take more."""


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
        # numpy acting where the fast path supports the network (~3x cheaper per step than
        # torch for small MLPs); torch otherwise
        self.numpy_actor = (None if manual_backprop_reason(self.net, torch.device("cpu")) else
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


def _init_pool_worker(cfg: GAConfig, coordinator: int) -> None:
    global _EVALUATOR
    start_worker_process(coordinator)
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
                                            initializer=_init_pool_worker,
                                            initargs=(cfg, os.getpid()))

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
    go to whichever actor is free, so faster machines take more. `close` kills the actors and
    shuts down the Ray instance this pool started."""

    def __init__(self, cfg: GAConfig):
        self.ray, self.owns_ray = start_ray(cfg.workers)
        self.actors: list[Any] = []
        try:
            actor_cls = self.ray.remote(num_cpus=1)(FitnessEvaluator)
            self.actors = [actor_cls.remote(cfg) for _ in range(cfg.workers)]
        except BaseException:
            self.close()
            raise

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
        try:
            for actor in self.actors:
                self.ray.kill(actor)
        finally:
            self.actors = []
            if self.owns_ray:
                self.owns_ray = False
                self.ray.shutdown()


class GA(Agent):
    """A population of policy networks evolved by selection, crossover and mutation.

    >>> ga = GA("CartPole-v1", population=50, selection="ranking").learn()
    >>> action, _ = ga.predict(obs)   # the fittest individual's greedy action
    """

    has_cnn: ClassVar[bool] = True
    metrics: ClassVar[tuple[str, ...]] = ()
    budget: ClassVar[tuple[str, str]] = ("generations", "generation")
    """What a resume compares: the config's generations against the generations done."""

    def __init__(self, env: str | None = None, config: GAConfig | None = None,
                 **settings: Any):
        """`env`, `preset=` and the settings refine `config` (or the defaults)."""
        obs_space, action_space = start(self, GAConfig, env, config, settings)
        cfg = self.config
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
        self.set_fittest()

    # ------------------------------------------------------------------ acting
    def set_fittest(self) -> None:
        """Load the fittest individual (the first, before any evaluation) into the network."""
        best = int(np.argmax(self.fitness)) if np.isfinite(self.fitness).any() else 0
        self.flat.data.copy_(torch.from_numpy(self.population[best]))

    def policy(self, obs: np.ndarray, deterministic: bool = True) -> np.ndarray:
        """The fittest individual's greedy actions (a GA's policy is deterministic)."""
        return greedy_actions(self.net, obs, self.action_start)

    predict = predict  # Stable-Baselines3's predict(obs, deterministic=True), agent.py

    # ------------------------------------------------------------------ evolving
    def learn(self, steps: int | None = None, run: Run | None = None,
              progress: bool = False) -> GA:
        """Evolve until `steps` generations in all (or the config's total_steps env steps)."""
        cfg = self.config
        total = cfg.generations if steps is None else steps
        if cfg.workers > 1:  # one worker plays in this process
            check_workers(cfg.workers, WORKER_MEMORY, cfg.backend, f"{cfg.workers} GA fitness")
        pool = LocalPool(cfg) if cfg.backend == "local" else RayPool(cfg)
        try:
            with learning_session(self, run, total, progress, done=self.generation,
                                  generations=True) as session:
                while (self.generation < total and self.step < cfg.total_steps
                       and not self.stop_reason):
                    if self.generation:
                        self.population = next_generation(
                            self.population, self.fitness, elites=cfg.elites,
                            selection=cfg.selection, tournament_size=cfg.tournament_size,
                            crossover_method=cfg.crossover, p_crossover=cfg.p_crossover,
                            p_mutation=cfg.p_mutation, sigma=cfg.sigma, rng=self.rng)
                    first = cfg.seed + FITNESS_SEED + self.generation * cfg.episodes
                    returns, steps_taken = pool.evaluate(self.population, first, cfg.episodes)
                    self.fitness = returns.mean(axis=1)
                    prev_step, self.step = self.step, self.step + steps_taken
                    self.generation += 1
                    self.set_fittest()
                    session.logger.generation(self.generation, self.step, self.fitness)
                    session.tick(prev_step)
        finally:
            pool.close()
        return self

    # ------------------------------------------------------------------ checkpoints
    def state(self, full: bool) -> dict[str, Any]:
        """The fittest individual's network; full adds the population, its fitness and RNG."""
        state: dict[str, Any] = {"net": self.net.state_dict()}
        if full:
            state.update(population=torch.from_numpy(self.population.copy()),
                         fitness=torch.from_numpy(self.fitness.copy()),
                         rng={"numpy": self.rng.bit_generator.state})
        return state

    def load_state(self, state: dict[str, Any]) -> None:
        if "population" not in state:
            self.net.load_state_dict(state["net"])
            return
        population = state["population"]
        if tuple(population.shape) != self.population.shape:
            raise GanghwaError("the checkpoint's population does not match this config; "
                               "resume with the config it was trained with")
        self.population = population.numpy().copy()
        self.fitness = state["fitness"].numpy().copy()
        self.rng.bit_generator.state = state["rng"]["numpy"]
        self.set_fittest()

    save = checkpoint.save
    load: Any = classmethod(checkpoint.load_as)  # Cls.load(path, **settings)
