"""The run folder: resolved config, atomic checkpoints, progress.csv, and finding runs again.

    runs/<algo>-<env>-s<seed>-<time>/
        config.toml  progress.csv  events.out.tfevents.*  curve.png  eval.json  videos/
        checkpoints/latest.pt  checkpoints/best.pt
"""

from __future__ import annotations

import contextlib
import csv
import errno
import fcntl
import io
import json
import os
import re
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from ganghwa.errors import GanghwaError, warn


class DiskFull(GanghwaError):
    """A write found no space (or quota) left: the file it would replace is kept."""

    exit_code = 1


def _umask() -> int:
    """The process's umask, read from /proc where Linux shows it (setting it to read it back,
    the portable way, races with other threads)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    except (OSError, ValueError):
        pass
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()
"""What open() would give a new file: mkstemp makes 0600, which hides a run's files from the
group that shares the folder."""

PROGRESS_FIELDS = ("step", "episode", "return", "length")
"""progress.csv's first columns, one row per episode; the algorithm's metrics follow
(`Logger(metrics=...)`: epsilon, td_loss, policy_loss, ...), then `time`."""
GENERATION_FIELDS = ("step", "generation", "fitness_min", "fitness_mean", "fitness_max", "time")
"""The GA's progress.csv: one row per generation (`step` counts env steps of fitness episodes)."""


TEMP_SUFFIX = ".tmp"


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename: readers never see half a file.

    A full disk leaves the old file as it was and raises DiskFull with the size it needed; a
    kill mid-write leaves a `.NAME.*.tmp` file, which the next run in the folder removes
    (Run.lock)."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=TEMP_SUFFIX)
    except OSError as e:
        raise write_error(e, path, len(data)) from None
    try:
        with os.fdopen(fd, "wb") as f:
            os.fchmod(f.fileno(), _FILE_MODE)
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException as e:
        Path(tmp).unlink(missing_ok=True)
        if isinstance(e, OSError):
            raise write_error(e, path, len(data)) from None
        raise


def write_error(e: OSError, path: Path, size: int, atomic: bool = True) -> GanghwaError:
    """One line for a write that failed: a full disk with the space needed (`size` bytes, 0
    when unknown), or the reason. Only an `atomic` write (temp file, rename) keeps the file
    it would have replaced; an append (progress.csv) may have left part of a row."""
    from ganghwa.resources import human_bytes

    if e.errno in (errno.ENOSPC, errno.EDQUOT):
        kept = "the previous version is kept; " if atomic and path.exists() else ""
        need = f" ({human_bytes(size)})" if size else ""
        more = "at least that much" if size else "some space"
        return DiskFull(f"no space left on the device of {path.parent} to write {path.name}"
                        f"{need}; {kept}free {more} and run again")
    reason = e.strerror or type(e).__name__
    fix = ("; pick a folder you can write to" if e.errno in
           (errno.EACCES, errno.EPERM, errno.EROFS, errno.ENOTDIR) else "")
    return GanghwaError(f"cannot write {path} ({reason}){fix}")


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")


class Run:
    """A run folder and the files in it."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @classmethod
    def create(cls, parent: Path, algo: str, env_id: str, seed: int,
               name: str | None = None) -> Run:
        """A new, locked run folder under `parent`, named `name` (a sweep's "tuned-s3") or
        by algorithm, env, seed and time."""
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = Path(parent) / (name or f"{algo}-{_slug(env_id)}-s{seed}-{stamp}")
        if name and base.exists():
            raise GanghwaError(f"run folder {base} already exists; resume it or remove it")
        path, n = base, 1
        while path.exists():
            n += 1
            path = base.with_name(f"{base.name}-{n}")
        try:
            Path(parent).mkdir(parents=True, exist_ok=True)
            path.mkdir()
        except FileExistsError:
            if not path.exists() or not Path(parent).is_dir():  # --out names a file
                raise GanghwaError(f"cannot create a run folder in {parent} (it is a file); "
                                   "pass --out with a folder") from None
            return cls.create(parent, algo, env_id, seed, name)  # another process took it
        except OSError as e:
            reason = e.strerror or type(e).__name__
            raise GanghwaError(f"cannot create a run folder in {parent} ({reason}); pass "
                               "--out with a folder you can write to") from None
        run = cls(path)
        try:
            (path / "checkpoints").mkdir()
            run.lock()
        except BaseException as e:
            run.remove()
            if isinstance(e, OSError):
                raise write_error(e, path / "checkpoints", 0) from None
            raise
        return run

    @classmethod
    def open(cls, path: str | Path) -> Run:
        """An existing run; 'last' means the newest folder under ./runs."""
        if str(path) == "last":
            runs = [p for p in Path("runs").glob("*/config.toml")] if Path("runs").is_dir() else []
            if not runs:
                raise GanghwaError("no runs under ./runs yet; train one with `ganghwa train`")
            return cls(max(runs, key=lambda p: p.stat().st_mtime).parent)
        run = cls(Path(path))
        if not run.path.is_dir():
            raise GanghwaError(f"run folder {path} does not exist; `ls runs/` shows the runs")
        if not run.config_path.is_file():
            raise GanghwaError(f"{path} is not a run folder (no config.toml); pass the folder "
                               "that `ganghwa train` printed")
        return run

    # one process at a time

    @property
    def lock_path(self) -> Path:
        return self.path / ".lock"

    def lock(self) -> None:
        """Hold the folder for this process (train, resume) until it exits or `unlock()`s.

        An flock, so the kernel drops it when the holder dies, however it dies: a stale lock
        is never left to take over. The file names the holder for the message a second
        process gets. Temp files of an earlier holder killed mid-write are removed here.
        """
        if getattr(self, "_lock_fd", None) is not None:
            return
        try:
            fd = os.open(self.lock_path, os.O_RDWR | os.O_CREAT, _FILE_MODE)
        except OSError as e:
            raise write_error(e, self.lock_path, 0) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.read(fd, 4096).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise GanghwaError(f"{self.path} is in use by {holder}; wait for it to end or stop "
                               "it, then run this again") from None
        self._lock_fd: int | None = fd
        command = " ".join(Path(a).name if i == 0 else a for i, a in enumerate(sys.argv[:4]))
        with contextlib.suppress(OSError):  # who holds it, for a second process: best effort
            os.ftruncate(fd, 0)
            os.write(fd, f"process {os.getpid()} ({command})\n".encode())
        self.remove_temp_files()

    def unlock(self) -> None:
        fd = getattr(self, "_lock_fd", None)
        if fd is not None:
            os.close(fd)  # closing releases the flock
            self._lock_fd = None

    def remove_temp_files(self) -> None:
        """The atomic writer's leftovers in checkpoints/ (`.latest.pt.*.tmp`, up to the size of
        a checkpoint). Only the lock holder writes there; the folder's own files (curve.png)
        may be written by a `ganghwa plot` that takes no lock, so their temps are left."""
        for tmp in (self.path / "checkpoints").glob(f".*{TEMP_SUFFIX}"):
            tmp.unlink(missing_ok=True)

    def remove(self) -> None:
        """Delete the folder (a start that failed before its first checkpoint)."""
        import shutil

        self.unlock()
        shutil.rmtree(self.path, ignore_errors=True)

    # paths
    @property
    def config_path(self) -> Path:
        return self.path / "config.toml"

    @property
    def progress_path(self) -> Path:
        return self.path / "progress.csv"

    @property
    def latest(self) -> Path:
        return self.path / "checkpoints" / "latest.pt"

    @property
    def best(self) -> Path:
        return self.path / "checkpoints" / "best.pt"

    @property
    def evaluations_path(self) -> Path:
        """Periodic greedy evaluations during training: step, mean, std."""
        return self.path / "evaluations.csv"

    def append_evaluation(self, step: int, mean: float, std: float) -> None:
        _append_row(self.evaluations_path, "step,mean,std", f"{step},{mean:.6g},{std:.6g}")

    @property
    def restarts_path(self) -> Path:
        """Workers that died and were replaced (A3C): step, worker, reason."""
        return self.path / "restarts.csv"

    def append_restart(self, step: int, worker: int, reason: str) -> None:
        _append_row(self.restarts_path, "step,worker,reason",
                    f"{step},{worker},{reason.replace(',', ';')}")

    @property
    def eval_path(self) -> Path:
        return self.path / "eval.json"

    @property
    def curve_path(self) -> Path:
        return self.path / "curve.png"

    @property
    def video_dir(self) -> Path:
        return self.path / "videos"

    def show(self) -> Any:
        """This run for a notebook: evaluation, curve, pictures and video embedded (notebook.py)."""
        from ganghwa.notebook import RunView

        return RunView(self)

    def write_json(self, path: Path, data: Any) -> None:
        atomic_write_text(path, json.dumps(data, indent=2) + "\n")

    def truncate_logs(self, step: int) -> None:
        """Cut progress.csv and evaluations.csv back to the rows of steps <= `step` (the
        checkpoint a resume starts from), so the resumed run neither repeats nor skips rows.
        A malformed row (a kill mid-line, an edit) is dropped with a warning."""
        for path in (self.progress_path, self.evaluations_path):
            if not path.is_file():
                continue
            fields, rows = read_rows(path)
            kept = [r for r in rows if float(r["step"]) <= step]
            out = io.StringIO()
            writer = csv.DictWriter(out, fields, lineterminator="\n", extrasaction="ignore")
            writer.writeheader()
            writer.writerows(kept)
            atomic_write_text(path, out.getvalue())


def _append_row(path: Path, header: str, row: str) -> None:
    """One CSV line, and the header first if the file is new (a log only ever appended to)."""
    new = not path.exists()
    with path.open("a") as f:
        f.write((header + "\n" if new else "") + row + "\n")


def _number(text: str | None) -> float:
    return float(text) if text else float("nan")


def read_rows(path: Path) -> tuple[list[str], list[dict[str, str]]]:
    """(header, rows) of one of the run's CSV logs, keeping only well-formed rows: as many
    cells as the header, numbers (or empty) in every cell, a step. Others are reported in one
    warning line and left out, so that one garbage row cannot stop a plot or a resume."""
    try:
        with path.open(newline="") as f:
            reader = csv.reader(f)
            header = next(reader, [])
            lines = list(reader)
    except (OSError, UnicodeDecodeError, csv.Error) as e:
        raise GanghwaError(f"cannot read {path} ({e}); remove it or restore it") from None
    if "step" not in header:
        raise GanghwaError(f"{path} has no 'step' column; it is not a ganghwa log")
    rows, bad = [], []
    for number, cells in enumerate(lines, 2):
        try:
            if len(cells) != len(header) or cells[header.index("step")] == "":
                raise ValueError
            for cell in cells:
                _number(cell)
        except ValueError:
            bad.append(number)
            continue
        rows.append(dict(zip(header, cells, strict=True)))
    if bad:
        shown = ", ".join(map(str, bad[:5])) + (", ..." if len(bad) > 5 else "")
        warn(f"{path}: left out {len(bad)} malformed row(s) (line {shown})")
    return header, rows


def read_progress(path: Path) -> dict[str, list[float]]:
    """progress.csv as columns of floats, by whatever header it has (for plots and tests);
    an empty or missing cell is NaN, a malformed row is left out (read_rows)."""
    header, rows = read_rows(path)
    return {k: [_number(r.get(k)) for r in rows] for k in header}
