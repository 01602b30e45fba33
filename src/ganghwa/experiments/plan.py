"""What a sweep runs: `--seeds`, `--variant` and `--grid` read into one task per (variant, seed).

    --seeds 0-9                                  seeds 0 to 9; also 0,3,7 or 0-4,10-14
    --variant tuned:preset=tuned                 a name, then a preset and/or settings
    --variant 'small:hidden=64,64 lr=5e-4'       settings are --set pairs, space-separated
    --grid lr=1e-3,5e-4 --grid batch_size=64,128 every combination, for every variant

Every variant is checked by resolving its config for the first seed (unknown keys, presets and
bad values fail here, in one line, before any run starts).
"""

from __future__ import annotations

import itertools
import re
import shlex
from dataclasses import dataclass, field
from typing import Any

from ganghwa.config import BaseConfig
from ganghwa.errors import GanghwaError

NAME = re.compile(r"^[A-Za-z0-9_.=+-]+$")
MAX_SEEDS = 10_000


@dataclass(frozen=True)
class Variant:
    """One setting of the sweep: a preset (None: the CLI's default) and --set values."""

    name: str
    preset: str | None = None
    settings: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"preset": self.preset, "settings": dict(self.settings)}


@dataclass(frozen=True)
class Task:
    """One run of the sweep: its variant, seed and run folder name."""

    algo: str
    env: str
    variant: Variant
    seed: int
    steps: int | None = None
    env_kwargs: dict[str, Any] = field(default_factory=dict)

    @property
    def folder(self) -> str:
        return f"{self.variant.name}-s{self.seed}"


def parse_seeds(text: str) -> list[int]:
    """"0-9" -> [0..9]; "0,3,7"; "0-4,10-14"; each seed once, in order."""
    seeds: list[int] = []
    for part in text.split(","):
        match = re.fullmatch(r"\s*(\d+)\s*(?:-\s*(\d+)\s*)?", part)
        if not match or (match.group(2) and int(match.group(2)) < int(match.group(1))):
            raise GanghwaError(f"--seeds {text!r} is not a seed range; use 0-9, 0,3,7 or "
                               "0-4,10-14 (whole numbers, ranges low-high)")
        low = int(match.group(1))
        high = int(match.group(2)) if match.group(2) else low
        if high - low >= MAX_SEEDS:
            raise GanghwaError(f"--seeds {text!r} asks for {high - low + 1} seeds; at most "
                               f"{MAX_SEEDS} per sweep")
        seeds.extend(s for s in range(low, high + 1) if s not in seeds)
    return seeds


def parse_variant(text: str) -> Variant:
    """"name:preset=tuned lr=1e-3" -> Variant("name", "tuned", {"lr": "1e-3"})."""
    name, sep, body = text.partition(":")
    if not sep:
        name, body = "", text
    try:
        pairs = shlex.split(body)
    except ValueError as e:
        raise GanghwaError(f"--variant {text!r}: {e}; e.g. --variant tuned:preset=tuned") from None
    preset: str | None = None
    settings: dict[str, str] = {}
    for pair in pairs:
        key, eq, value = pair.partition("=")
        key = key.strip().replace("-", "_")
        if not eq or not key or not value:
            raise GanghwaError(f"--variant {text!r}: {pair!r} is not key=value; e.g. "
                               "--variant 'small:preset=tuned hidden=64,64'")
        if key == "preset":
            preset = value
        else:
            settings[key] = value
    name = name.strip() or "_".join(pairs) or "default"
    if not NAME.match(name):
        raise GanghwaError(f"--variant name {name!r} may hold letters, digits and _ . = + - "
                           "only (it names run folders); e.g. --variant tuned:preset=tuned")
    return Variant(name, preset, settings)


def parse_grid(texts: list[str]) -> list[dict[str, str]]:
    """["lr=1e-3,5e-4", "batch_size=64,128"] -> the 4 combinations, as --set values."""
    axes: list[tuple[str, list[str]]] = []
    for text in texts:
        key, eq, values = text.partition("=")
        key = key.strip().replace("-", "_")
        choices = [v.strip() for v in values.split(",")]
        if not eq or not key or not all(choices):
            raise GanghwaError(f"--grid {text!r} is not key=v1,v2,...; e.g. --grid "
                               "lr=1e-3,5e-4 (a list setting like hidden goes in --variant)")
        if key in dict(axes):
            raise GanghwaError(f"--grid names {key} twice; give its values once, comma-separated")
        axes.append((key, choices))
    keys = [key for key, _ in axes]
    return [dict(zip(keys, combo, strict=True))
            for combo in itertools.product(*(values for _, values in axes))]


def variants(variant_texts: list[str], grid_texts: list[str]) -> list[Variant]:
    """The sweep's variants: each --variant (or one default) times each grid point."""
    base = [parse_variant(t) for t in variant_texts] or [Variant("default")]
    names = [v.name for v in base]
    repeated = sorted({n for n in names if names.count(n) > 1})
    if repeated:
        raise GanghwaError(f"--variant name {repeated[0]!r} is given twice; name each variant "
                           "once")
    if not grid_texts:
        return base
    points = parse_grid(grid_texts)
    return [Variant(v.name + "".join(f"-{k}={value}" for k, value in point.items()) if
                    len(base) > 1 or v.name != "default" else
                    "-".join(f"{k}={value}" for k, value in point.items()),
                    v.preset, {**v.settings, **point})
            for v in base for point in points]


def check(task: Task) -> BaseConfig:
    """The task's resolved config: a bad key, preset or value fails here, in one line."""
    from ganghwa.pipeline import configure

    flags = {"seed": task.seed, "steps": task.steps, "env_kwargs": task.env_kwargs or None}
    try:
        cfg, _ = configure(task.algo, task.env, task.variant.preset, flags,
                           task.variant.settings)
    except GanghwaError as e:
        raise GanghwaError(f"variant {task.variant.name!r}: {e}") from None
    return cfg


def tasks(algo: str, env: str, seeds: list[int], variant_list: list[Variant],
          steps: int | None = None, env_kwargs: dict[str, Any] | None = None) -> list[Task]:
    """One task per (variant, seed), each variant checked once before anything runs."""
    if not seeds:
        raise GanghwaError("--seeds names no seed; e.g. --seeds 0-9")
    planned = [Task(algo, env, v, s, steps, dict(env_kwargs or {}))
               for v in variant_list for s in seeds]
    for v in variant_list:
        check(next(t for t in planned if t.variant is v))
    return planned
