"""The run folder: resolved config, atomic checkpoints, progress.csv, and finding runs again.

    runs/<algo>-<env>-s<seed>-<time>/
        config.toml  progress.csv  events.out.tfevents.*  curve.png  eval.json  videos/
        checkpoints/latest.pt  checkpoints/best.pt
"""

from __future__ import annotations

import csv
import io
import json
import os
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from ganghwa.errors import GanghwaError

PROGRESS_FIELDS = ("step", "episode", "return", "length")
"""progress.csv's first columns, one row per episode; the algorithm's metrics follow
(`Logger(metrics=...)`: epsilon, td_loss, policy_loss, ...), then `time`."""
GENERATION_FIELDS = ("step", "generation", "fitness_min", "fitness_mean", "fitness_max", "time")
"""The GA's progress.csv: one row per generation (`step` counts env steps of fitness episodes)."""


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write to a temporary file in the same folder, then rename: readers never see half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def atomic_write_text(path: Path, text: str) -> None:
    atomic_write_bytes(path, text.encode())


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text).strip("_")


class Run:
    """A run folder and the files in it."""

    def __init__(self, path: Path):
        self.path = Path(path)

    @classmethod
    def create(cls, parent: Path, algo: str, env_id: str, seed: int) -> Run:
        stamp = time.strftime("%Y%m%d-%H%M%S")
        base = Path(parent) / f"{algo}-{_slug(env_id)}-s{seed}-{stamp}"
        path, n = base, 1
        while path.exists():
            n += 1
            path = base.with_name(f"{base.name}-{n}")
        (path / "checkpoints").mkdir(parents=True)
        return cls(path)

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

    def write_json(self, path: Path, data: Any) -> None:
        atomic_write_text(path, json.dumps(data, indent=2) + "\n")

    def truncate_progress(self, step: int) -> None:
        """Drop rows logged after `step`, so a resumed run does not repeat episodes."""
        if not self.progress_path.is_file():
            return
        with self.progress_path.open(newline="") as f:
            reader = csv.DictReader(f)
            rows = [r for r in reader if int(r["step"]) <= step]
        out = io.StringIO()
        writer = csv.DictWriter(out, reader.fieldnames or PROGRESS_FIELDS, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
        atomic_write_text(self.progress_path, out.getvalue())


def _append_row(path: Path, header: str, row: str) -> None:
    """One CSV line, and the header first if the file is new (a log only ever appended to)."""
    new = not path.exists()
    with path.open("a") as f:
        f.write((header + "\n" if new else "") + row + "\n")


def read_progress(path: Path) -> dict[str, list[float]]:
    """progress.csv as columns of floats, by whatever header it has (for plots and tests);
    an empty or missing cell is NaN."""
    with path.open(newline="") as f:
        reader = csv.DictReader(f)
        rows = list(reader)
    return {k: [float(r[k]) if r.get(k) not in (None, "") else float("nan") for r in rows]
            for k in reader.fieldnames or (*PROGRESS_FIELDS, "time")}
