"""The experiment folder: `experiments/<name>/manifest.json` and one run folder per task.

    experiments/dqn-CartPole-v1/
      manifest.json        algo, env, steps, the variants and seeds (what reruns add to)
      runs/tuned-s0/       an ordinary run folder (eval, plot, resume, compare accept it)
      runs/tutorial-s0/
      compare.csv, compare.png   what `ganghwa compare` wrote

A run's state is read from its files, never stored: eval.json means finished, a latest.pt
without it means cut short (resumed next time), anything else is started afresh.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from ganghwa.errors import GanghwaError
from ganghwa.experiments.plan import Task, Variant
from ganghwa.run import atomic_write_text

MANIFEST = "manifest.json"


def default_name(algo: str, env: str) -> str:
    return f"{algo}-{env.replace('/', '_').replace(':', '_')}"


def run_dir(root: Path, task: Task) -> Path:
    return root / "runs" / task.folder


def state(path: Path) -> str:
    """"done", "partial" (a checkpoint to resume) or "new"."""
    if (path / "eval.json").is_file():
        return "done"
    if (path / "checkpoints" / "latest.pt").is_file():
        return "partial"
    return "new"


def write_manifest(root: Path, algo: str, env: str, tasks: list[Task],
                   command: list[str] | None = None) -> dict[str, Any]:
    """Create or extend the manifest. A rerun may add variants and seeds; it may not change
    the algorithm, the env, the budget or an existing variant's settings."""
    path = root / MANIFEST
    new_variants = {t.variant.name: t.variant.as_dict() for t in tasks}
    steps = tasks[0].steps if tasks else None
    env_kwargs = tasks[0].env_kwargs if tasks else {}
    if path.is_file():
        try:
            manifest = json.loads(path.read_text())
        except (OSError, ValueError) as e:
            raise GanghwaError(f"cannot read {path} ({e}); move the folder away or pass "
                               "--name for a new experiment") from None
        for key, value in (("algo", algo), ("env", env), ("steps", steps),
                           ("env_kwargs", env_kwargs)):
            if manifest.get(key) != value:
                raise GanghwaError(f"{root} holds an experiment with {key} "
                                   f"{manifest.get(key)!r}, not {value!r}; pass --name for a "
                                   "new experiment")
        for name, variant in new_variants.items():
            old = manifest["variants"].get(name)
            if old is not None and old != variant:
                raise GanghwaError(f"variant {name!r} of {root} was {old}, not {variant}; give "
                                   "the changed variant another name")
        manifest["variants"].update(new_variants)
        manifest["seeds"] = sorted(set(manifest["seeds"]) | {t.seed for t in tasks})
    else:
        manifest = {"algo": algo, "env": env, "steps": steps, "env_kwargs": env_kwargs,
                    "variants": new_variants, "seeds": sorted({t.seed for t in tasks})}
    if command is not None:
        manifest["command"] = command
    try:
        root.mkdir(parents=True, exist_ok=True)
        (root / "runs").mkdir(exist_ok=True)
        atomic_write_text(path, json.dumps(manifest, indent=2) + "\n")
    except OSError as e:
        raise GanghwaError(f"cannot write {path} ({e.strerror or e}); pass --out with a folder "
                           "you can write to") from None
    return manifest


def manifest_tasks(root: Path) -> list[Task]:
    """Every task the manifest names (all variants × all seeds)."""
    manifest = json.loads((root / MANIFEST).read_text())
    return [Task(manifest["algo"], manifest["env"],
                 Variant(name, v["preset"], v["settings"]), seed, manifest["steps"],
                 manifest.get("env_kwargs") or {})
            for name, v in manifest["variants"].items() for seed in manifest["seeds"]]
