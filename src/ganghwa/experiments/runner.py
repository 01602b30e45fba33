"""Run a sweep's tasks: on a local process pool (the default) or as Ray tasks.

Each task finishes one run folder (`run_task`): a finished run is skipped, a run cut short is
resumed from its latest.pt, anything else starts afresh; so running the same sweep again
finishes exactly what is missing.

Local: `workers` processes, started once (Python, torch and Gymnasium are imported once per
worker, not per run), each running one task at a time on one torch thread. The workers ignore
SIGINT: a terminal's Ctrl-C reaches the whole process group, and the driver alone decides.
On Ctrl-C, SIGTERM or SIGHUP the driver hands out nothing more and sends SIGTERM to the busy
workers, whose runs save a checkpoint and stop (runtime.InterruptFlag); finished runs are
never touched. A worker that dies (the OOM killer, a kill -9) is replaced and its task runs
again, resuming from its checkpoint.

Ray (`--backend ray`, joining RAY_ADDRESS as A3C and the GA do): each task is a Ray task with
num_cpus=1 and max_retries=2, so a task whose worker dies is retried, and resumes from its
checkpoint. Files: with `files="shared"` (the default) the tasks write into the experiment
folder, which must be the same path on every node (one machine, or a shared filesystem).
With `files="collect"` a task runs in a temporary folder on its node and returns the run
folder as a tar archive, which the driver unpacks into the experiment folder (a cut-short run
is sent along, so it resumes there); a retried collected task starts from what was sent.
"""

from __future__ import annotations

import contextlib
import io
import os
import shutil
import signal
import sys
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ganghwa.errors import GanghwaError
from ganghwa.experiments.folder import run_dir, state
from ganghwa.experiments.plan import Task, check

RETRIES = 2
"""How many times a task whose worker died is run again."""


@dataclass
class Result:
    """What one task did: "skipped" (already finished), "done", "solved", "interrupted" or
    "failed", with the final evaluation's mean and the wall time it took here."""

    folder: str
    status: str
    seconds: float = 0.0
    mean: float | None = None
    error: str = ""


# ---------------------------------------------------------------- one task, in a worker

def run_task(task: Task, root: str | Path) -> Result:
    """Finish the task's run folder under `root`, whatever state it was left in."""
    from ganghwa.pipeline import execute, prepare_resume, train_run
    from ganghwa.run import Run

    started = time.perf_counter()
    path = run_dir(Path(root), task)
    try:
        found = state(path)
        if found == "done":
            return Result(task.folder, "skipped")
        if found == "partial":
            prepared = prepare_resume(path, finish=True)
            assert not isinstance(prepared, str)
            run, agent = prepared
            outcome = execute(agent, run)
        else:
            cfg = check(task)
            if path.exists():  # started, but killed before its first checkpoint
                stale = Run(path)
                stale.lock()  # refuses if another process holds it
                if state(path) != "new":  # it finished or saved meanwhile: next time
                    stale.unlock()
                    return Result(task.folder, "failed", error=f"{path} changed while "
                                  "this sweep looked at it; run the sweep again")
                stale.remove()
            outcome = train_run(cfg, out=path.parent, name=path.name)
    except GanghwaError as e:
        return Result(task.folder, "failed", time.perf_counter() - started, error=str(e))
    except Exception as e:
        return Result(task.folder, "failed", time.perf_counter() - started,
                      error=f"{type(e).__name__}: {e}")
    return Result(task.folder, outcome.stop_reason, time.perf_counter() - started,
                  outcome.evaluation.get("mean"))


# ---------------------------------------------------------------- the local pool

def _worker(inbox: Any, outbox: Any, index: int, parent: int) -> None:
    """A pool process: run tasks until told to stop (None). A SIGTERM outside a run's own
    handler (runtime.InterruptFlag) is noted; the driver repeats it until the run stops."""
    from ganghwa.ray_setup import die_with_parent

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    die_with_parent(parent)
    stop: list[bool] = []
    signal.signal(signal.SIGTERM, lambda *_: stop.append(True))
    while True:
        item = inbox.get()
        if item is None:
            return
        number, task, root = item
        result = (Result(task.folder, "interrupted") if stop else run_task(task, root))
        outbox.put((index, number, result))


class _Pool:
    """`workers` processes, each with its own inbox, so the driver knows who runs what."""

    def __init__(self, workers: int):
        import multiprocessing

        self.ctx = multiprocessing.get_context("spawn")
        self.outbox = self.ctx.Queue()
        self.slots: list[list[Any]] = []  # [process, inbox, task number or None]
        for index in range(workers):
            self.slots.append([None, None, None])
            self._start(index)

    def _start(self, index: int) -> None:
        inbox = self.ctx.Queue()
        # Not daemonic: a run may start processes of its own (A3C's and the GA's workers),
        # which a daemonic process may not; die_with_parent ends it with the driver instead.
        process = self.ctx.Process(target=_worker,
                                   args=(inbox, self.outbox, index, os.getpid()), daemon=False)
        from ganghwa.runtime import spawnable_main

        with ignoring_sigint(), spawnable_main():
            process.start()
        self.slots[index] = [process, inbox, None]

    def idle(self) -> list[int]:
        return [i for i, slot in enumerate(self.slots) if slot[2] is None]

    def busy(self) -> list[int]:
        return [i for i, slot in enumerate(self.slots) if slot[2] is not None]

    def give(self, index: int, number: int, task: Task, root: Path) -> None:
        self.slots[index][2] = number
        self.slots[index][1].put((number, task, str(root)))

    def dead(self) -> list[tuple[int, int]]:
        """(worker, task number) of each busy worker that died; it is restarted."""
        found = []
        for index, slot in enumerate(self.slots):
            if slot[2] is not None and not slot[0].is_alive():
                found.append((index, slot[2]))
                self._start(index)
        return found

    def signal_busy(self, signum: int) -> None:
        for index in self.busy():
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.slots[index][0].pid, signum)

    def close(self) -> None:
        for _, inbox, *_ in self.slots:
            with contextlib.suppress(Exception):
                inbox.put(None)
        for process, *_ in self.slots:
            process.join(timeout=10)
            if process.is_alive():
                process.kill()


def run_local(tasks: list[Task], root: Path, workers: int,
              report: Callable[[Task, Result], None], stop: list[int]) -> list[Result]:
    """Every task on `workers` local processes; `stop` gets a signal number to end early."""
    pool = _Pool(max(1, min(workers, len(tasks))))
    results: dict[int, Result] = {}
    retries: dict[int, int] = {}
    waiting = list(range(len(tasks)))
    last_signal = 0.0
    try:
        while waiting or pool.busy():
            if stop and time.monotonic() - last_signal > 1.0:
                # repeated until each run stops: a run still starting has no handler yet, and
                # a second Ctrl-C or SIGTERM from the user kills the runs where they are
                pool.signal_busy(signal.SIGTERM if len(stop) == 1 else signal.SIGKILL)
                waiting, last_signal = [], time.monotonic()
            while waiting and pool.idle() and not stop:
                number = waiting.pop(0)
                pool.give(pool.idle()[0], number, tasks[number], root)
            try:
                index, number, result = pool.outbox.get(timeout=0.2)
            except Exception:  # queue.Empty: look after the dead, then wait again
                for _, number in pool.dead():
                    retries[number] = retries.get(number, 0) + 1
                    if retries[number] <= RETRIES and not stop:
                        waiting.insert(0, number)
                    else:
                        results[number] = Result(tasks[number].folder, "failed",
                                                 error="its worker process died")
                        report(tasks[number], results[number])
                continue
            if pool.slots[index][2] == number:
                pool.slots[index][2] = None
            if number not in results:  # not a late result of a worker declared dead
                results[number] = result
                report(tasks[number], result)
    finally:
        pool.close()
    return [results[i] for i in sorted(results)]


# ---------------------------------------------------------------- Ray

def _pack(path: Path) -> bytes | None:
    if not path.is_dir():
        return None
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.add(path, arcname=path.name, filter=lambda m: None if m.name.endswith(".lock")
                else m)
    return buffer.getvalue()


def _unpack(data: bytes, parent: Path) -> None:
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        tar.extractall(parent, filter="data")


def _ray_task(task: Task, root: str, packed: bytes | None, collect: bool
              ) -> tuple[Result, bytes | None]:
    """A Ray task: the run in the shared experiment folder, or in a temporary one whose
    result goes back to the driver as a tar archive."""
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    if not collect:
        return run_task(task, root), None
    with tempfile.TemporaryDirectory(prefix="ganghwa-sweep-") as scratch:
        (Path(scratch) / "runs").mkdir()
        if packed:
            _unpack(packed, Path(scratch) / "runs")
        result = run_task(task, scratch)
        return result, _pack(run_dir(Path(scratch), task))


def run_ray(tasks: list[Task], root: Path, report: Callable[[Task, Result], None],
            stop: list[int], files: str = "shared") -> list[Result]:
    """Every task as a Ray task with one CPU; a task whose worker dies is retried."""
    from ganghwa.ray_setup import start_ray

    if files not in ("shared", "collect"):
        raise GanghwaError(f"--ray-files must be shared or collect, got {files!r}")
    results: dict[int, Result] = {}
    for number, task in enumerate(tasks):
        if state(run_dir(root, task)) == "done":
            results[number] = Result(task.folder, "skipped")
            report(task, results[number])
    if len(results) == len(tasks):
        return [results[i] for i in sorted(results)]
    ray, started = start_ray(1)
    collect = files == "collect"
    remote = ray.remote(num_cpus=1, max_retries=RETRIES)(_ray_task)
    refs = {remote.remote(task, str(root), _pack(run_dir(root, task)) if collect else None,
                          collect): number for number, task in enumerate(tasks)
            if number not in results}
    cancelled = False
    try:
        while refs:
            if stop and not cancelled:
                for ref in refs:
                    ray.cancel(ref)  # a running task gets SIGINT's handler: it saves
                cancelled = True
            ready, _ = ray.wait(list(refs), num_returns=1, timeout=0.2)
            for ref in ready:
                number = refs.pop(ref)
                try:
                    result, data = ray.get(ref)
                except Exception as e:  # cancelled, or died RETRIES + 1 times
                    name = type(e).__name__
                    result, data = Result(tasks[number].folder, "interrupted" if stop else
                                          "failed", error=name), None
                if data:
                    target = run_dir(root, tasks[number])
                    with tempfile.TemporaryDirectory(dir=root) as incoming:
                        _unpack(data, Path(incoming))
                        shutil.rmtree(target, ignore_errors=True)
                        os.replace(Path(incoming) / target.name, target)
                results[number] = result
                report(tasks[number], result)
    finally:
        if started:
            ray.shutdown()
    return [results[i] for i in sorted(results)]


# ---------------------------------------------------------------- the driver

STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM, signal.SIGHUP)


@contextlib.contextmanager
def ignoring_sigint() -> Any:
    """SIGINT ignored while child processes start: they inherit it, so a Ctrl-C during their
    start is not a KeyboardInterrupt traceback in each of them."""
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


@contextlib.contextmanager
def stop_signals() -> Any:
    """A list that gets the number of every stop signal the driver receives."""
    stop: list[int] = []
    previous = {}
    for signum in STOP_SIGNALS:
        if signal.getsignal(signum) is signal.SIG_IGN:  # nohup: stays ignored
            continue
        previous[signum] = signal.signal(signum, lambda n, _f: stop.append(n))
    try:
        yield stop
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)


def run_all(tasks: list[Task], root: Path, backend: str = "local", workers: int = 1,
            report: Callable[[Task, Result], None] | None = None, files: str = "shared"
            ) -> tuple[list[Result], int]:
    """Run the tasks; returns their results and the stop signal's number (0 if none came)."""
    report = report or (lambda task, result: None)
    with stop_signals() as stop:
        if backend == "ray":
            results = run_ray(tasks, root, report, stop, files)
        elif backend == "local":
            results = run_local(tasks, root, workers, report, stop)
        else:
            raise GanghwaError(f"--backend must be local or ray, got {backend!r}")
    sys.stdout.flush()
    return results, (stop[0] if stop else 0)
