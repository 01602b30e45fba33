"""Learning curves from progress.csv: return with its 100-episode moving average, loss, epsilon."""

from __future__ import annotations

import io
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

from ganghwa.errors import GanghwaError
from ganghwa.run import atomic_write_bytes, read_progress


def moving_average(values: np.ndarray, window: int = 100) -> np.ndarray:
    """Trailing mean over up to `window` points (shorter at the start, never padded with zeros)."""
    if len(values) == 0:
        return values
    csum = np.cumsum(np.insert(values.astype(float), 0, 0.0))
    idx = np.arange(1, len(values) + 1)
    lo = np.maximum(idx - window, 0)
    return (csum[idx] - csum[lo]) / (idx - lo)


def plot_runs(run_dirs: list[Path], out: Path, window: int = 100) -> Path:
    """Overlay runs in three panels against env steps; written atomically as PNG."""
    fig, (ax_ret, ax_loss, ax_eps) = plt.subplots(3, 1, figsize=(9, 9), sharex=True)
    for k, run_dir in enumerate(run_dirs):
        path = Path(run_dir) / "progress.csv"
        if not path.is_file():
            plt.close(fig)
            raise GanghwaError(f"{run_dir} has no progress.csv yet; pass a run folder that has "
                               "trained at least one episode")
        data = {key: np.asarray(v) for key, v in read_progress(path).items()}
        color = f"C{k}"
        label = Path(run_dir).name
        steps = data["step"]
        ax_ret.plot(steps, data["return"], color=color, alpha=0.25, linewidth=0.8)
        ax_ret.plot(steps, moving_average(data["return"], window), color=color, linewidth=2,
                    label=f"{label} ({window}-ep mean)")
        evaluations = Path(run_dir) / "evaluations.csv"
        if evaluations.is_file():  # greedy evaluations: what the policy does without epsilon
            ev = np.loadtxt(evaluations, delimiter=",", skiprows=1, ndmin=2)
            ax_ret.plot(ev[:, 0], ev[:, 1], "o--", color=color, markersize=4, linewidth=1,
                        label=f"{label} (greedy eval)")
        has_loss = ~np.isnan(data["loss"])
        ax_loss.plot(steps[has_loss], data["loss"][has_loss], color=color, linewidth=1)
        ax_eps.plot(steps, data["epsilon"], color=color, linewidth=1.5)
    ax_ret.set_ylabel("episode return")
    ax_ret.legend(loc="lower right", fontsize=8)
    ax_loss.set_ylabel("mean TD loss")
    ax_loss.set_yscale("log")
    ax_eps.set_ylabel("epsilon")
    ax_eps.set_xlabel("env steps")
    for ax in (ax_ret, ax_loss, ax_eps):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=110)
    plt.close(fig)
    atomic_write_bytes(Path(out), buffer.getvalue())
    return Path(out)
