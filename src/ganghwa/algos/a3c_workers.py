"""Where A3C's actor-learners run: worker processes on this machine, or Ray actors.

Both backends give the coordinator the same thing from `poll`: the global step, the episodes
that ended, and the workers that died and were replaced. A worker that dies (killed, out of
memory) is replaced up to `max_restarts` times, with fresh seeds; one that raises an error
stops the run with that error, since a replacement would only raise it again.

- local: torch.multiprocessing (spawn). The global weights and the optimizer state live in
  shared memory and each worker applies its own gradients to them, without a lock: Hogwild
  (Recht et al. 2011), as in Mnih et al.'s A3C.
- ray: each worker is a Ray actor; the coordinator applies each gradient as it arrives and
  sends that worker the new weights, while the others keep working. Ray restarts a dead actor
  (max_restarts); `ray.init` joins the cluster in RAY_ADDRESS, or starts a local instance.

Workers never outlive the coordinator: a local worker ends when its coordinator does, SIGKILL
included (ray_setup.start_worker_process), and `stop` kills the Ray actors and shuts down the
Ray instance this process started, whichever way the run ends.
"""

from __future__ import annotations

import os
import queue
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
import torch.multiprocessing as mp

from ganghwa.algos.actor_learner import ActorLearner, GlobalOptimizer
from ganghwa.config import A3CConfig
from ganghwa.errors import Diverged, GanghwaError
from ganghwa.ray_setup import check_workers, start_ray, start_worker_process

WORKER_MEMORY = 330 * 2**20
"""Memory one A3C worker process takes: the resident set (VmRSS) of each of the 2 local
workers of `ganghwa train a3c CartPole-v1 --workers 2`, read from /proc/<pid>/status after
15 s of training, was 304-328 MiB (torch, gymnasium and the A2C learner imported; 225 MiB
of it its own, the rest shared libraries). Envs with images take more."""


def check_worker_count(cfg: A3CConfig) -> None:
    """Refuse a --workers whose processes cannot fit in memory; warn about more than CPUs."""
    check_workers(cfg.workers, WORKER_MEMORY, cfg.backend, f"{cfg.workers} A3C worker")


@dataclass
class Poll:
    """What happened since the last poll."""

    step: int
    updates: int
    episodes: list[tuple[float, int]] = field(default_factory=list)
    metrics: dict[str, float] = field(default_factory=dict)  # the last loss and its parts
    restarts: list[tuple[int, str]] = field(default_factory=list)  # (worker, reason)


def _hogwild_worker(cfg: A3CConfig, worker: int, incarnation: int, flat: torch.nn.Parameter,
                    state: dict[str, torch.Tensor], counts: Any, start_step: int, stop: Any,
                    reports: Any, total: int, coordinator: int) -> None:
    """A local worker's loop: pull the shared weights, compute, apply to shared memory.

    `counts` is a lock-free shared array of (steps, gradients) per worker; each worker writes
    only its own pair, so a worker killed mid-write cannot leave a lock held. A diverged loss
    is reported with the global step it happened at, and nothing of it is applied.
    """
    start_worker_process(coordinator)
    torch.set_num_threads(1)
    try:
        learner = ActorLearner(cfg, worker, incarnation, start_step)
        optimizer = GlobalOptimizer(cfg, flat, state)
        step = start_step + sum(counts[0::2])
        while not stop.is_set() and step < total:
            result = learner.compute(flat.detach(), step)
            optimizer.apply(result.grad, step / total)
            counts[2 * worker] += result.steps
            counts[2 * worker + 1] += 1
            step = start_step + sum(counts[0::2])
            if result.episodes:
                reports.put(("episodes", worker, result.episodes, result.metrics))
        learner.close()
    except Diverged as e:
        reports.put(("diverged", worker, str(e), {}))
        raise SystemExit(1) from None
    except GanghwaError as e:  # its message names the cause (EnvError: the env's own code)
        reports.put(("error", worker, str(e), {"exit_code": e.exit_code}))
        raise SystemExit(1) from None
    except Exception as e:  # reported, then the process ends with exit code 1
        reports.put(("error", worker, f"{type(e).__name__}: {e}", {}))
        raise SystemExit(1) from None


def _failure(worker: int, message: str, extra: dict[str, Any]) -> GanghwaError:
    """A worker's error for the coordinator to raise, with the exit code its own had."""
    error = GanghwaError(f"A3C worker {worker} failed: {message}")
    error.exit_code = int(extra.get("exit_code", GanghwaError.exit_code))
    return error


class LocalWorkers:
    """Worker processes sharing the global weights and optimizer state (Hogwild)."""

    def __init__(self, cfg: A3CConfig, optimizer: GlobalOptimizer, step: int, updates: int,
                 total: int):
        self.cfg, self.optimizer, self.total = cfg, optimizer, total
        self.ctx = mp.get_context("spawn")
        optimizer.share_memory()
        self.start_step, self.start_updates = step, updates
        self.counts = self.ctx.RawArray("q", 2 * cfg.workers)
        self.stop_event = self.ctx.Event()
        self.reports = self.ctx.Queue()
        self.procs: dict[int, Any] = {}
        self.incarnations = [0] * cfg.workers
        self.failed: dict[int, GanghwaError] = {}  # what each failed worker reported

    def start(self) -> None:
        for worker in range(self.cfg.workers):
            self._spawn(worker)

    def _spawn(self, worker: int) -> None:
        proc = self.ctx.Process(
            target=_hogwild_worker, daemon=True, name=f"a3c-worker-{worker}",
            args=(self.cfg, worker, self.incarnations[worker], self.optimizer.flat,
                  self.optimizer.state, self.counts, self.start_step, self.stop_event,
                  self.reports, self.total, os.getpid()))
        from ganghwa.runtime import spawnable_main

        with spawnable_main():  # a `python -` script's main is no file
            proc.start()
        self.procs[worker] = proc

    def pids(self) -> list[int]:
        return [p.pid for p in self.procs.values()]

    def poll(self, timeout: float) -> Poll:
        out = Poll(0, 0)
        try:
            item = self.reports.get(timeout=timeout)
            while True:
                kind, worker, payload, metrics = item
                if kind == "diverged":  # the other workers' rollouts since do not matter
                    raise Diverged(payload)
                if kind == "error":
                    self.failed[worker] = _failure(worker, payload, metrics)
                else:
                    out.episodes.extend(payload)
                    out.metrics = metrics
                item = self.reports.get_nowait()
        except queue.Empty:
            pass
        for worker, proc in self.procs.items():
            if proc.is_alive() or proc.exitcode == 0:
                continue
            if proc.exitcode == 1:  # it raised: its report may still be on the way
                raise self._error_of(worker)
            if self.incarnations[worker] >= self.cfg.max_restarts:
                raise GanghwaError(f"A3C worker {worker} died {self.cfg.max_restarts + 1} times "
                                   f"(exit code {proc.exitcode}); raise --set max_restarts or "
                                   "look for what kills it (memory?)")
            self.incarnations[worker] += 1
            out.restarts.append((worker, f"exit code {proc.exitcode}"))
            self._spawn(worker)
        out.step, out.updates = self.totals()
        return out

    def totals(self) -> tuple[int, int]:
        """Env steps and gradients so far, over all workers (and earlier runs)."""
        return (self.start_step + sum(self.counts[0::2]),
                self.start_updates + sum(self.counts[1::2]))

    def _error_of(self, worker: int) -> GanghwaError:
        """The error a worker that exited with code 1 reported."""
        try:
            while worker not in self.failed:
                kind, sender, payload, extra = self.reports.get(timeout=2.0)
                if kind == "diverged":
                    return Diverged(payload)
                if kind == "error":
                    self.failed[sender] = _failure(sender, payload, extra)
        except queue.Empty:
            return GanghwaError(f"A3C worker {worker} failed: exit code 1")
        return self.failed[worker]

    def stop(self) -> None:
        """Ask the workers to finish their rollout, and kill those still running after 10 s
        (SIGKILL: a worker ignores the stop signals, which are the coordinator's)."""
        self.stop_event.set()
        try:
            for proc in self.procs.values():
                proc.join(timeout=10)
        finally:  # a second Ctrl-C while waiting still ends them
            for proc in self.procs.values():
                if proc.is_alive():
                    proc.kill()
                    proc.join()
            self.reports.close()


class _RayActorLearner:
    """The Ray actor around an ActorLearner: numpy in and out."""

    def __init__(self, cfg: A3CConfig, worker: int, start_step: int):
        import ray

        torch.set_num_threads(1)
        # Ray reruns this in a replacement for a dead actor: fresh seeds keep the replacement
        # off its predecessor's path, and its first result says that it is one.
        self.replaced = ray.get_runtime_context().was_current_actor_reconstructed
        self.learner = ActorLearner(cfg, worker, os.getpid() if self.replaced else 0,
                                    start_step)

    def pid(self) -> int:
        return os.getpid()

    def compute(self, weights: np.ndarray, step: int
                ) -> tuple[np.ndarray, int, list[tuple[float, int]], dict[str, float], bool]:
        result = self.learner.compute(torch.from_numpy(weights), step)
        replaced, self.replaced = self.replaced, False
        return result.grad.numpy(), result.steps, result.episodes, result.metrics, replaced


class RayWorkers:
    """Ray actors; the coordinator applies each gradient and replies with fresh weights.

    Each actor has PIPELINE calls queued, so it starts its next rollout while the coordinator
    is still applying its last gradient: the round trip through Ray is hidden, and the weights
    a rollout starts from are at most one of its own updates older. Ray itself restarts a dead
    actor (max_restarts) and retries the calls it was given (max_task_retries).

    Ray is joined or started in `start`, so that `stop`, which the coordinator calls however
    the run ends, covers everything that was started.
    """

    PIPELINE = 2

    def __init__(self, cfg: A3CConfig, optimizer: GlobalOptimizer, step: int, updates: int,
                 total: int):
        self.cfg, self.optimizer, self.total = cfg, optimizer, total
        self.step, self.updates = step, updates
        self.ray: Any = None
        self.owns_ray = False
        self.actors: list[Any] = []
        self.inflight: dict[Any, int] = {}

    def start(self) -> None:
        self.ray, self.owns_ray = start_ray(self.cfg.workers)
        actor_cls = self.ray.remote(num_cpus=1, max_restarts=self.cfg.max_restarts,
                                    max_task_retries=-1)(_RayActorLearner)
        self.actors = [actor_cls.remote(self.cfg, w, self.step)
                       for w in range(self.cfg.workers)]
        for worker in range(self.cfg.workers):
            for _ in range(self.PIPELINE):
                self._submit(worker)

    def _submit(self, worker: int) -> None:
        weights = self.optimizer.flat.detach().numpy()  # serialised at the call: a snapshot
        self.inflight[self.actors[worker].compute.remote(weights, self.step)] = worker

    def pids(self) -> list[int]:
        return self.ray.get([a.pid.remote() for a in self.actors])

    def poll(self, timeout: float) -> Poll:
        ray = self.ray
        out = Poll(0, 0)
        ready, _ = ray.wait(list(self.inflight), num_returns=1, timeout=timeout)
        for ref in ready:
            worker = self.inflight.pop(ref)
            try:
                grad, steps, episodes, metrics, replaced = ray.get(ref)
            except ray.exceptions.RayActorError as e:
                if getattr(e, "actor_init_failed", False):  # its constructor raised
                    cause = str(e).strip().splitlines()[-1]
                    raise GanghwaError(f"A3C worker {worker} failed to start: {cause}"
                                       ) from None
                raise GanghwaError(f"A3C worker {worker} died {self.cfg.max_restarts + 1} "
                                   "times; raise --set max_restarts or look for what kills it"
                                   ) from None
            except ray.exceptions.RayTaskError as e:
                if isinstance(e.cause, Diverged):
                    raise Diverged(str(e.cause)) from None
                if isinstance(e.cause, GanghwaError):
                    raise _failure(worker, str(e.cause), {"exit_code": e.cause.exit_code}
                                   ) from None
                cause = str(e.cause) if e.cause is not None else str(e).splitlines()[0]
                raise GanghwaError(f"A3C worker {worker} failed: {cause}") from None
            if replaced:
                out.restarts.append((worker, "Ray restarted the actor"))
            self.optimizer.apply(np.array(grad), self.step / self.total)
            self.step += steps
            self.updates += 1
            out.episodes.extend(episodes)
            out.metrics = metrics
            if self.step < self.total:
                self._submit(worker)
        out.step, out.updates = self.step, self.updates
        return out

    def totals(self) -> tuple[int, int]:
        return self.step, self.updates

    def stop(self) -> None:
        """Kill the actors, and shut Ray down if `start` started it; safe to call after a
        `start` that failed part way, and again."""
        ray = self.ray
        if ray is None:
            return
        try:
            # Let the calls in flight finish (a rollout or two), so that no retry follows the
            # kill; one whose actor died returns at once with its error.
            if self.inflight:
                ray.wait(list(self.inflight), num_returns=len(self.inflight), timeout=10)
        finally:
            try:
                for actor in self.actors:
                    ray.kill(actor)
            finally:
                self.actors, self.inflight = [], {}
                if self.owns_ray:
                    self.owns_ray = False
                    ray.shutdown()
