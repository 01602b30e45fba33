"""Dataclass configs, presets as TOML data, and `--set key=value` parsing with validation.

A config is resolved in layers (`resolve`): dataclass defaults < preset `[algo]` < preset
`[algo."ENV"]` < command-line flags < `--set` overrides. The resolved config is written to
every run folder, so a run can be reproduced or resumed from its folder alone.

Every check of a single value is declared beside the field, as data: `hp(..., gt=0)` or
`hp(..., choices=("huber", "mse"))`. `BaseConfig.validate()` is the one place that runs them
and words the errors; a config's `check()` holds only what relates two fields.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import tomli_w

from ganghwa.errors import GanghwaError, did_you_mean

C = TypeVar("C", bound="BaseConfig")

RULES = ("choices", "ge", "gt", "le", "lt", "hint")
"""The metadata keys of a field's declared check, besides its help text."""


def hp(default: Any, help: str, choices: tuple[str, ...] | str | None = None, *,
       ge: float | None = None, gt: float | None = None, le: float | None = None,
       lt: float | None = None, hint: str | None = None) -> Any:
    """A config field with its help text and its check, both shown by `ganghwa list --config`.

    `ge`, `gt`, `le`, `lt` bound the value (each element, for a tuple, which must then be
    non-empty); None, where the field allows it, passes. `choices` lists the allowed strings,
    or is "activations" for the keys of ganghwa.activations.ACTIVATIONS. `hint` is a
    short reason added to the error. A field redeclared only for a new default (no bounds, no
    choices) keeps the check of its nearest parent.
    """
    metadata = {"help": help, "choices": choices, "ge": ge, "gt": gt, "le": le, "lt": lt,
                "hint": hint}
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default), metadata=metadata)
    return field(default=default, metadata=metadata)


def field_rules(cls: type, name: str) -> dict[str, Any]:
    """The declared check of field `name` ({} if none): from its nearest definition in cls's
    MRO that declares bounds or choices, so PPOConfig's redeclared `lr` keeps ActorCriticFields'
    gt=0. The hint travels with the bounds or choices it explains."""
    for klass in cls.__mro__:
        own = vars(klass).get("__dataclass_fields__", {})
        if name in vars(klass).get("__annotations__", {}) and name in own:
            meta = own[name].metadata
            rules = {k: meta[k] for k in RULES if meta.get(k) is not None}
            if rules.keys() - {"hint"}:
                return rules
    return {}


def _choices(declared: tuple[str, ...] | str) -> tuple[str, ...]:
    if declared != "activations":
        return tuple(declared)
    from ganghwa.activations import ACTIVATIONS  # the one table (torch-free to import)

    return tuple(ACTIVATIONS)


def _bound(rules: dict[str, Any]) -> str:
    """The allowed values in words: "positive", "at least 1", "in (0, 1]", "one of a, b"."""
    if "choices" in rules:
        return f"one of {', '.join(_choices(rules['choices']))}"
    ge, gt, le, lt = (rules.get(k) for k in ("ge", "gt", "le", "lt"))
    lower, upper = (ge if gt is None else gt), (le if lt is None else lt)
    if ge is not None and ge == le:
        return f"exactly {ge}"
    if lower is not None and upper is not None:
        return f"in {'[' if gt is None else '('}{lower}, {upper}{']' if lt is None else ')'}"
    if ge is not None:
        return "0 or more" if ge == 0 else f"at least {ge}"
    if gt is not None:
        return "positive" if gt == 0 else f"more than {gt}"
    return f"at most {le}" if lt is None else f"less than {lt}"


def _within(value: Any, rules: dict[str, Any]) -> bool:
    """Whether value meets every bound; NaN, None and non-numbers meet none."""
    try:
        return ((rules.get("ge") is None or value >= rules["ge"])
                and (rules.get("gt") is None or value > rules["gt"])
                and (rules.get("le") is None or value <= rules["le"])
                and (rules.get("lt") is None or value < rules["lt"]))
    except TypeError:
        return False


def _optional(cls: type, name: str) -> bool:
    return type(None) in typing.get_args(_hints(cls)[name])


def _allowed(cls: type, name: str, rules: dict[str, Any]) -> str:
    """The allowed values in words, for errors and for `ganghwa list --config`."""
    text = _bound(rules)
    if isinstance(_default(cls, name), tuple):
        text = f"non-empty, each {text}"
    return f"{text} or none" if _optional(cls, name) else text


def _default(cls: type, name: str) -> Any:
    f = cls.__dataclass_fields__[name]  # type: ignore[attr-defined]
    return f.default if f.default is not dataclasses.MISSING else f.default_factory()


def _as_set_value(value: Any) -> str:
    """A value as `--set key=VALUE` takes it: 256,256  true  none."""
    if isinstance(value, tuple):
        return ",".join(str(v) for v in value)
    if isinstance(value, bool):
        return str(value).lower()
    return _fmt(value)


def _check_field(cls: type, name: str, value: Any) -> None:
    """Raise the one-line error for a value outside the field's declared bounds or choices."""
    rules = field_rules(cls, name)
    if not rules or (value is None and _optional(cls, name)):
        return
    close = ""
    if "choices" in rules:
        choices = _choices(rules["choices"])
        if value in choices:
            return
        close = did_you_mean(str(value), choices)
    else:
        items = value if isinstance(value, tuple) else (value,)
        if items and all(_within(v, rules) for v in items):
            return
    allowed = _allowed(cls, name, rules)
    verb = "lie" if allowed.startswith("in ") else "be"
    got = repr(value) if isinstance(value, str) else str(value)
    hint = f" ({rules['hint']})" if "hint" in rules else ""
    raise GanghwaError(f"{name} must {verb} {allowed}, got {got}; e.g. --set "
                       f"{name}={_as_set_value(_default(cls, name))}{hint}"
                       + (f".{close}" if close else ""))


@dataclass
class BaseConfig:
    """What every algorithm's run needs: the env, the budget, seeding, evaluation and devices."""

    algo: str = hp("dqn", "algorithm name")
    env_id: str = hp("CartPole-v1", "Gymnasium id or module:Class of the environment")
    env_kwargs: dict[str, Any] = hp({}, "keyword arguments for the env's constructor "  # noqa: RUF009
                                    "(--env-kw map_name=8x8 is_slippery=false)")
    preset: str = hp("none", "preset the config was resolved from")
    seed: int = hp(0, "seed for Python, numpy, torch and the envs")
    total_steps: int = hp(100_000, "env steps to train for (summed over vector envs)", ge=1)
    num_envs: int = hp(1, "number of envs stepped together (gymnasium SyncVectorEnv)", ge=1)
    device: str = hp("auto", "torch device: auto picks cuda when present", ("auto", "cpu", "cuda"))
    threads: int = hp(0, "torch CPU threads; 0 = OMP_NUM_THREADS if set, else 1 (a busy second "
                          "core slows 2 threads 7x)", ge=0)
    eval_every: int = hp(10_000, "greedy evaluation every N env steps (keeps best.pt); 0 = off",
                         ge=0)
    eval_episodes: int = hp(5, "episodes per evaluation during training", ge=1)
    final_eval_episodes: int = hp(20, "episodes of the greedy evaluation at the end (eval.json)",
                                  ge=1)
    stop_at: float | None = hp(None, "stop once the greedy evaluation mean reaches this return")
    checkpoint_every: int = hp(10_000, "write checkpoints/latest.pt every N env steps", ge=1)
    checkpoint_seconds: float = hp(300.0, "also write latest.pt every N seconds of wall time, "
                                   "the first after min(N, 60) s: a hard kill loses at most "
                                   "that; 0 = by steps only", ge=0)
    video: bool = hp(True, "record a video of the greedy agent at the end")

    def validate(self) -> None:
        """Raise a one-line GanghwaError naming the field and the fix for the first value no run
        can use: every field's declared bounds and choices, then the config's `check()`."""
        for f in dataclasses.fields(self):
            _check_field(type(self), f.name, getattr(self, f.name))
        self.check()

    def check(self) -> None:
        """Checks that relate two or more fields; a config overrides this where it has any."""


def field_help(cls: type[BaseConfig]) -> list[tuple[str, str, str]]:
    """(name, default, help) for every field, the help ending in the allowed values
    ("learning rate (positive)"): the table behind `ganghwa list --config`."""
    rows = []
    for f in dataclasses.fields(cls):
        rules = field_rules(cls, f.name)
        allowed = f" ({_allowed(cls, f.name, rules)})" if rules else ""
        rows.append((f.name, _fmt(_default(cls, f.name)), f.metadata.get("help", "") + allowed))
    return rows


def _fmt(value: Any) -> str:
    return "none" if value is None else str(value)


def parse_literal(text: str) -> Any:
    """A command-line value as TOML reads it (true, 3, 0.5, [1, 2]); anything else is a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_env_kwargs(pairs: list[str]) -> dict[str, Any]:
    """`["map_name=8x8", "is_slippery=false"]` -> {"map_name": "8x8", "is_slippery": False}.

    A key given with different values: the last wins, and a warning says so."""
    given = _parse_pairs(pairs, "--env-kw", "is_slippery=false", lambda key: key)
    return {key: parse_literal(value) for key, value in given.items()}


def _parse_pairs(pairs: list[str], flag: str, example: str,
                 name: Callable[[str], str]) -> dict[str, str]:
    """key=value strings -> {name(key): the last value}, warning of a key repeated with
    different values; a pair with no `=` or no key is a one-line error naming `example`."""
    given: dict[str, list[str]] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise GanghwaError(f"{flag} takes key=value, got {pair!r}; e.g. {flag} {example}")
        given.setdefault(name(key.strip()), []).append(value.strip())
    _warn_repeated(flag, given)
    return {key: values[-1] for key, values in given.items()}


def _warn_repeated(flag: str, given: dict[str, list[str]]) -> None:
    """One warning per key given more than once with different values: the last one wins."""
    from ganghwa.errors import warn  # here, not above, to leave the shared import block alone

    for key, values in given.items():
        if len(set(values)) > 1:
            times = "twice" if len(values) == 2 else f"{len(values)} times"
            seen = f"{', '.join(values[:-1])}, then {values[-1]}"
            warn(f"{flag} {key} given {times} ({seen}); using {key}={values[-1]}")


# ---------------------------------------------------------------- coercion of --set values

def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def coerce(cls: type[BaseConfig], key: str, value: Any) -> Any:
    """Turn a TOML or command-line value into the field's type, or raise a one-line error."""
    hints = _hints(cls)
    if key not in hints:
        raise GanghwaError(f"unknown setting {key!r} for {cls.__name__}.{did_you_mean(key, hints)}"
                           " See `ganghwa list --config` for all settings.")
    return _coerce_to(hints[key], key, value)


def _coerce_to(tp: Any, key: str, value: Any) -> Any:
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin in (types.UnionType, typing.Union):
        is_none = value is None or (isinstance(value, str)
                                    and value.lower() in ("none", "null", ""))
        if is_none and type(None) in args:
            return None
        inner = [a for a in args if a is not type(None)]
        return _coerce_to(inner[0], key, value)
    if origin is dict:
        if isinstance(value, dict):
            return dict(value)
        if isinstance(value, str):
            return parse_env_kwargs([p for p in value.split(",") if p.strip()])
        raise GanghwaError(f"{key} takes key=value pairs such as map_name=8x8; got {value!r}")
    if origin is tuple:
        items = value
        if isinstance(value, str):
            items = [v for v in value.strip("()[] ").split(",") if v.strip()]
        if not isinstance(items, list | tuple):
            raise GanghwaError(f"{key} takes a list such as 64,64; got {value!r}")
        return tuple(_coerce_to(args[0], key, v) for v in items)
    try:
        if tp is bool:
            if isinstance(value, bool):
                return value
            text = str(value).lower()
            if text in ("true", "1", "yes", "on"):
                return True
            if text in ("false", "0", "no", "off"):
                return False
            raise ValueError
        if tp is int:
            if isinstance(value, bool) or (isinstance(value, float) and not value.is_integer()):
                raise ValueError
            return int(float(value)) if isinstance(value, str) and "e" in value.lower() \
                else int(value)
        if tp is float:
            if isinstance(value, bool):
                raise ValueError
            return float(value)
        if tp is str:
            if not isinstance(value, str):
                raise ValueError
            return value
    except (TypeError, ValueError):
        name = getattr(tp, "__name__", str(tp))
        raise GanghwaError(f"{key} takes a {name}, got {value!r}; e.g. --set {key}="
                           f"{ {'int': '1000', 'float': '0.001', 'bool': 'true'}.get(name, 'x')}")\
            from None
    raise GanghwaError(f"{key}: unsupported type {tp}")  # pragma: no cover


def parse_set(pairs: list[str]) -> dict[str, str]:
    """`["lr=1e-3", "hidden=64,64"]` -> {"lr": "1e-3", "hidden": "64,64"}.

    A key given with different values: the last wins, and a warning says so."""
    return _parse_pairs(pairs, "--set", "lr=0.001", lambda key: key.replace("-", "_"))


def apply(cfg: C, values: dict[str, Any]) -> C:
    """A copy of cfg with values coerced to the field types.

    RL-Zoo's schedule strings work where the config has a matching `<key>_schedule` field:
    lr = "lin_0.001" means lr 0.001 with lr_schedule "linear" (falling to 0 by the end).
    """
    cls = type(cfg)
    names = {f.name for f in dataclasses.fields(cls)}
    expanded: dict[str, Any] = {}
    for key, value in values.items():
        schedule = f"{key}_schedule"
        if schedule in names and schedule not in values:  # a plain number means constant
            linear = isinstance(value, str) and value.startswith("lin_")
            expanded[schedule] = "linear" if linear else "constant"
            value = value[len("lin_"):] if linear else value
        expanded[key] = value
    return dataclasses.replace(cfg, **{k: coerce(cls, k, v) for k, v in expanded.items()})


# ---------------------------------------------------------------- presets (TOML data files)

def preset_dir() -> Path:
    return Path(str(resources.files("ganghwa") / "presets"))


def preset_names() -> list[str]:
    return sorted(p.stem for p in preset_dir().glob("*.toml"))


def load_preset(name: str) -> dict[str, Any]:
    """A preset by name (presets/NAME.toml), or a preset file's path (`ganghwa tune`'s
    best.toml, a copy of your own)."""
    if name.endswith(".toml"):
        try:
            return parse_toml(Path(name).read_text(), name)
        except (OSError, UnicodeDecodeError) as e:
            raise GanghwaError(f"cannot read preset file {name} ({e}); pass a preset name or "
                               "a .toml file") from None
    path = preset_dir() / f"{name}.toml"
    if not path.is_file():
        raise GanghwaError(f"unknown preset {name!r}.{did_you_mean(name, preset_names())} "
                           f"Presets: {', '.join(preset_names())}")
    with path.open("rb") as f:
        return tomllib.load(f)


def preset_values(name: str, algo: str | tuple[str, ...], env_id: str, *,
                  _chain: tuple[str, ...] = ()) -> tuple[dict[str, Any], bool]:
    """The preset's settings for algo on env_id, and whether the preset names that env.

    Scalars under `[algo]` apply to every env; a table `[algo."ENV"]` adds env-specific ones.
    `algo` may list several sections, later ones winning: ("tabular", "sarsa") reads the
    settings all tabular methods share, then SARSA's own. A top-level `extends = "OTHER"`
    reads OTHER's settings first, for the algorithms this preset has a section for
    (rainbow.toml is tuned.toml's DQN plus its switches).
    """
    preset = load_preset(name)
    sections = (algo,) if isinstance(algo, str) else algo
    values: dict[str, Any] = {}
    covered = False
    parent = _extended(name, preset, sections, _chain)
    if parent is not None:
        values, covered = preset_values(parent, algo, env_id, _chain=(*_chain, name))
    for section in sections:
        data = preset.get(section, {})
        base = {k: v for k, v in data.items() if not isinstance(v, dict)}
        env_tables = {k: v for k, v in data.items() if isinstance(v, dict)}
        values.update({**base, **env_tables.get(env_id, {})})
        covered = covered or env_id in env_tables or bool(base)
    return values, covered


def _extended(name: str, preset: dict[str, Any], sections: tuple[str, ...],
              chain: tuple[str, ...] = ()) -> str | None:
    """The preset that `name` extends for these sections, if any (never one of its own
    descendants: a loop is an error)."""
    base = preset.get("extends")
    if base is None or not any(section in preset for section in sections):
        return None
    if not isinstance(base, str) or base == name or base in chain:
        raise GanghwaError(f"preset {name!r}: extends must name another preset, not "
                           f"{base!r} (presets extend in a chain, never a loop)")
    return base


def preset_envs(name: str, algo: str | tuple[str, ...], *, _chain: tuple[str, ...] = ()
                ) -> list[str]:
    preset = load_preset(name)
    sections = (algo,) if isinstance(algo, str) else algo
    base = _extended(name, preset, sections, _chain)
    inherited = preset_envs(base, algo, _chain=(*_chain, name)) if base is not None else []
    return sorted({k for s in sections for k, v in preset.get(s, {}).items()
                   if isinstance(v, dict)} | set(inherited))


# ---------------------------------------------------------------- resolving a config in layers

def resolve(config_cls: type[C], sections: str | tuple[str, ...], algo: str,
            env_id: str | None, preset: str | None, flags: Mapping[str, Any],
            overrides: Mapping[str, Any] | Sequence[str], *,
            default_preset: str | None = "tuned") -> tuple[C, str]:
    """The validated config and a note: defaults < preset < flags < overrides.

    `sections` are the preset tables to read (("tabular", "sarsa")); `env_id` None means the
    config's default env. `flags` maps fields to typed values, None meaning "not given";
    `overrides` are `--set` values, as "key=value" strings or already parsed. With no `preset`,
    `default_preset` applies where it covers the env, else the general defaults do and the note
    says so; a named preset that does not cover the env is an error. `default_preset=None`
    (the Python API) uses no preset unless one is named; the preset "none" is no preset.
    """
    env = env_id or config_cls().env_id
    set_values = dict(overrides) if isinstance(overrides, Mapping) else parse_set(list(overrides))
    name = default_preset if preset is None else preset
    values: dict[str, Any] = {}
    note = ""
    if name is not None and name != "none":
        values, covered = preset_values(name, sections, env)
        if not covered:
            if preset is not None:
                names = ", ".join(preset_envs(name, sections)) or "no envs"
                raise GanghwaError(f"preset {name!r} has no {algo} settings for {env} (it "
                                   f"covers {names}); drop --preset to use the general defaults")
            values, note = {}, f"no {name} preset for {env}: using the general defaults"
            name = "none"
    given = {k: v for k, v in flags.items() if v is not None}
    cfg = apply(config_cls(), values)
    cfg = apply(cfg, {**given, "algo": algo, "env_id": env, "preset": name or "none"})
    cfg = apply(cfg, set_values)
    cfg.validate()
    return cfg, note


# ---------------------------------------------------------------- the resolved config file

def to_toml(cfg: BaseConfig) -> str:
    """The resolved config as TOML; None is written as "none" (TOML has no null)."""
    data = {k: ("none" if v is None else list(v) if isinstance(v, tuple) else v)
            for k, v in dataclasses.asdict(cfg).items()}
    return tomli_w.dumps(data)


TOML_MAX_BYTES = 1 << 20
TOML_MAX_DEPTH = 16


def parse_toml(text: str, source: str = "config.toml") -> dict[str, Any]:
    """TOML text as a dict, or one line saying why not. ganghwa's configs are flat and small,
    so a file over a megabyte or a key nested deeper than TOML_MAX_DEPTH is refused before
    parsing: tomllib's time grows with the square of a dotted key's depth (a 100,000-level
    key runs for minutes), and deep nesting overflows the stack."""
    if len(text) > TOML_MAX_BYTES:
        raise GanghwaError(f"{source} is {len(text):,} bytes; a ganghwa config is a few "
                           "hundred, so it is refused: fix or delete it")
    for number, line in enumerate(text.splitlines(), 1):
        key = line.split("=", 1)[0] if "=" in line else line
        if key.count(".") > TOML_MAX_DEPTH or key.count("[") > TOML_MAX_DEPTH + 2:
            raise GanghwaError(f"{source} line {number}: a key nested more than "
                               f"{TOML_MAX_DEPTH} levels deep; ganghwa's settings are flat "
                               "(key = value): fix or delete the file")
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, RecursionError, ValueError) as e:
        reason = str(e).splitlines()[0] if str(e) else type(e).__name__
        raise GanghwaError(f"{source} is not valid TOML ({reason}); fix or delete it") from None


def from_toml(cls: type[C], text: str, source: str = "config.toml") -> C:
    data = parse_toml(text, source)
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise GanghwaError(f"{source} has settings {cls.__name__} does not know: "
                           f"{', '.join(map(repr, unknown[:5]))} (algo = {data.get('algo')!r}); "
                           "a run keeps the algorithm it was trained with: put its algo back, "
                           "or start a new run with `ganghwa train`")
    cfg = apply(cls(), data)
    cfg.validate()
    return cfg


# ---------------------------------------------------------------- algorithm configs

PG_DEVICE = "the policy-gradient methods run on the CPU: their networks are too small to gain " \
    "from a GPU"


@dataclass
class ExplorationConfig:
    """Discount and epsilon-greedy schedule, shared by the value-based methods (a mixin)."""

    gamma: float = hp(0.99, "discount factor", ge=0, le=1)
    exploration: str = hp("linear", "epsilon schedule",
                          ("linear", "exponential", "multiplicative"))
    eps_start: float = hp(1.0, "initial epsilon", ge=0, le=1)
    eps_end: float = hp(0.05, "final (floor) epsilon", ge=0, le=1)
    eps_duration: int = hp(10_000, "linear: units from eps_start to eps_end", ge=1)
    eps_decay: float = hp(1_000.0, "exponential: time constant of end + (start-end) e^(-t/decay)",
                          gt=0)
    eps_factor: float = hp(0.999, "multiplicative: eps = max(end, start * factor^t)", gt=0, le=1)
    eps_unit: str = hp("step", "what t counts for the schedule", ("step", "update", "episode"))


@dataclass
class DQNConfig(ExplorationConfig, BaseConfig):
    """DQN with switches: Double, Dueling, hard or Polyak target, three epsilon schedules.

    The defaults are robust general-purpose settings for small discrete-action envs
    (classic control, LunarLander, a user's own env); presets refine them per env.
    """

    hidden: tuple[int, ...] = hp((256, 256), "hidden layer sizes of the Q-network MLP (after "
                                 "the CNN on image observations)", ge=1)
    network: str = hp("auto", "Q-network body: a CNN for image observations, an MLP for flat "
                      "ones; auto picks by the observation", ("auto", "mlp", "cnn"))
    activation: str = hp("relu", "hidden activation", "activations")
    init: str = hp("default", "weight init: torch default, He-uniform (Keras) or orthogonal",
                   ("default", "he_uniform", "orthogonal"))
    dueling: bool = hp(False, "dueling head: Q = V + A - mean(A)")
    double: bool = hp(True, "Double DQN target: online argmax, target-network value")
    loss: str = hp("huber", "TD loss", ("huber", "mse"))
    lr: float = hp(1e-3, "learning rate", gt=0)
    optimizer: str = hp("adam", "optimizer", ("adam", "adamw"))
    amsgrad: bool = hp(False, "AMSGrad variant of Adam/AdamW")
    weight_decay: float = hp(0.0, "weight decay (AdamW's torch default is 0.01)")
    max_grad_norm: float | None = hp(10.0, "clip the gradient norm to this; none = off", gt=0)
    grad_clip_value: float | None = hp(None, "clip each gradient element to ±value; none = off",
                                       gt=0)
    batch_size: int = hp(128, "minibatch size", ge=1)
    buffer_size: int = hp(100_000, "replay memory capacity in transitions", ge=1)
    learning_starts: int = hp(1_000, "env steps collected before the first update", ge=0)
    train_freq: int = hp(4, "update every N steps (or episodes, see train_freq_unit)", ge=1)
    train_freq_unit: str = hp("step", "unit of train_freq", ("step", "episode"))
    gradient_steps: int = hp(1, "gradient steps each time training is due", ge=1)
    target_update_interval: int = hp(500, "target update every N units", ge=1)
    target_update_unit: str = hp("step", "unit of target_update_interval",
                                 ("step", "update", "episode"))
    tau: float = hp(1.0, "target update weight: 1.0 = hard copy, <1 = Polyak averaging",
                    gt=0, le=1)
    distributional: bool = hp(False, "C51 (Bellemare et al. 2017): a categorical return "
                              "distribution per action on n_atoms atoms from v_min to v_max, "
                              "trained by cross-entropy to its projected target")
    n_atoms: int = hp(51, "C51: atoms of the support", ge=2, le=1001)
    v_min: float = hp(-100.0, "C51: lowest return on the support")
    v_max: float = hp(100.0, "C51: highest return on the support")
    noisy: bool = hp(False, "noisy nets (Fortunato et al. 2018): factorised Gaussian noise "
                     "on the fully connected weights explores instead of epsilon (ε is 0)")
    noisy_sigma0: float = hp(0.5, "noisy nets: initial σ = noisy_sigma0 / √fan_in", gt=0)
    n_step: int = hp(1, "n-step returns: bootstrap after n rewards, γ^n (1 = one-step DQN)",
                     ge=1, le=100)
    prioritized: bool = hp(False, "proportional prioritized replay (Schaul et al. 2016): "
                           "sample by |TD error|, importance weights in the loss")
    per_alpha: float = hp(0.6, "prioritized replay: P(i) ∝ p_i^alpha (0 = uniform)", ge=0, le=1)
    per_beta: float = hp(0.4, "prioritized replay: importance-weight exponent at the start, "
                         "annealed linearly to 1 over total_steps", ge=0, le=1)
    per_eps: float = hp(1e-6, "prioritized replay: p_i = |TD error| + per_eps", gt=0)
    reward_scale: float = hp(1.0, "stored reward = env reward * reward_scale")
    terminal_reward: float | None = hp(None, "replace the reward on termination (not time-out)")
    compile: bool = hp(False, "torch.compile the update step (pays on GPU, rarely on CPU)")
    fast_path: bool = hp(True, "the CPU fast path where it supports the network (hand-written "
                         "backward, numpy acting, fused Adam); false: autograd and torch.optim")

    def check(self) -> None:
        if self.v_min >= self.v_max:
            raise GanghwaError(f"v_min ({self.v_min}) must be below v_max ({self.v_max}); "
                               "e.g. --set v_min=-100 v_max=100")
        if self.batch_size > self.buffer_size:
            raise GanghwaError(f"batch_size ({self.batch_size}) is larger than buffer_size "
                               f"({self.buffer_size}); lower --set batch_size or raise "
                               "--set buffer_size")


TABULAR_ALGOS = ("value_iteration", "policy_iteration", "policy_evaluation", "mc", "sarsa",
                 "expected_sarsa", "q_learning")


@dataclass
class TabularConfig(ExplorationConfig, BaseConfig):
    """Dynamic programming and tabular control: the algo name picks the method.

    The defaults hold on any table, without a preset. The budget grows with the table
    (`auto_steps`); ε falls linearly from 1 to 0.01 over the first half of it, so that every
    state-action pair is tried before the greedy policy takes over, and α from 0.2 to 0.01
    over all of it, so that noisy returns average out. Both change at the start of each
    episode. With the schedules annealed, the final Q-table is the one to keep: best.pt is
    the final policy unless `eval_every` asks for periodic evaluations. The textbook's constant
    ε = α = 0.1 is `--set eps_start=0.1 eps_end=0.1 alpha=0.1 alpha_end=none`.
    """

    DP_ALGOS = ("value_iteration", "policy_iteration", "policy_evaluation")
    # The auto budget: AUTO_VISITS env steps per state-action pair (Taxi-v4, deterministic,
    # learns with 100; rainy Taxi and slippery lakes want more), never fewer than
    # AUTO_MIN_STEPS (a few seconds; slippery FrozenLake 8x8 needs thousands a pair) nor more
    # than AUTO_MAX_STEPS (under a minute).
    AUTO_VISITS = 500
    AUTO_MIN_STEPS = 1_000_000
    AUTO_MAX_STEPS = 10_000_000

    algo: str = hp("q_learning", "tabular method", TABULAR_ALGOS)
    env_id: str = hp("ganghwa/GridWorld-v0", "Gymnasium id or module:Class of the environment")
    total_steps: int = hp(0, "env steps to train for (model-free methods); 0 = auto: 500 per "
                          "state-action pair, from 1M to 10M", ge=0)
    num_envs: int = hp(1, "number of envs: one", ge=1, le=1, hint="tabular methods step one env")
    eval_every: int = hp(0, "greedy evaluation every N env steps (keeps best.pt); 0 = off: "
                         "best.pt is the final policy, the one the annealed ε and α lead to")
    final_eval_episodes: int = hp(100, "episodes of the greedy evaluation at the end (eval.json)",
                                  ge=1)
    checkpoint_every: int = hp(1_000_000, "write checkpoints/latest.pt every N env steps")
    alpha: float = hp(0.2, "step size α of the updates", gt=0)
    alpha_end: float | None = hp(0.01, "anneal α linearly to this over total_steps; none = "
                                 "constant", gt=0)
    q_init: float = hp(0.0, "initial value of every Q(s, a)")
    theta: float = hp(1e-10, "DP: stop when no value changes more than this in a sweep", gt=0)
    max_sweeps: int = hp(100_000, "DP: give up after this many sweeps", ge=1)
    eps_start: float = hp(1.0, "initial epsilon")
    eps_end: float = hp(0.01, "final (floor) epsilon")
    eps_duration: int = hp(0, "linear: steps from eps_start to eps_end; 0 = the first half of "
                           "the budget", ge=0)
    eps_unit: str = hp("step", "what t counts for the schedule", ("step", "episode"))

    def check(self) -> None:
        if (self.eps_duration == 0 and self.eps_unit == "episode"
                and self.exploration == "linear"):
            raise GanghwaError("eps_duration=0 (half the budget) counts env steps, not "
                               "episodes; with eps_unit=episode give --set eps_duration=N")
        if self.stop_at is not None and not self.eval_every:
            raise GanghwaError("stop_at is checked by the periodic greedy evaluations, which "
                               "eval_every=0 turns off; add --set eval_every=50000")

    @classmethod
    def auto_steps(cls, n_states: int, n_actions: int) -> int:
        """total_steps=0's budget: AUTO_VISITS steps per state-action pair, within
        [AUTO_MIN_STEPS, AUTO_MAX_STEPS]."""
        return min(max(cls.AUTO_VISITS * n_states * n_actions, cls.AUTO_MIN_STEPS),
                   cls.AUTO_MAX_STEPS)

    def resolve_auto(self, env: Any) -> tuple[TabularConfig, str]:
        """This config with total_steps=0 (auto) sized to env's table, and the note that says
        so ("" when the budget was given, for DP, and for an env without a table: its check
        says why)."""
        n_states = getattr(env.observation_space, "n", None)
        n_actions = getattr(env.action_space, "n", None)
        if self.total_steps or n_states is None or n_actions is None:
            return self, ""
        n_states, n_actions = int(n_states), int(n_actions)
        steps = self.auto_steps(n_states, n_actions)
        cfg = dataclasses.replace(self, total_steps=steps)
        if self.algo in self.DP_ALGOS:
            return cfg, ""
        rule = f"{self.AUTO_VISITS} steps a pair × {n_states} states × {n_actions} actions"
        if steps == self.AUTO_MIN_STEPS:
            rule = f"{n_states} states × {n_actions} actions, at least {steps}"
        elif steps == self.AUTO_MAX_STEPS:
            rule = f"{n_states} states × {n_actions} actions, at most {steps}"
        return cfg, f"total_steps={steps} (auto: {rule})"


@dataclass
class DeepSarsaConfig(ExplorationConfig, BaseConfig):
    """Deep SARSA: on-policy TD(0) with a network and no replay memory or target network.

    Each step updates Q(s, a) toward r + γ Q(s', a'), a' being the action the agent will take.
    """

    algo: str = hp("deep_sarsa", "algorithm name")
    env_id: str = hp("ganghwa/MovingObstacles-v0", "Gymnasium id or module:Class of the env")
    num_envs: int = hp(1, "number of envs: one", ge=1, le=1,
                       hint="Deep SARSA learns from one env, one step at a time")
    hidden: tuple[int, ...] = hp((64, 64), "hidden layer sizes of the Q-network MLP", ge=1)
    activation: str = hp("relu", "hidden activation", "activations")
    lr: float = hp(1e-3, "learning rate (Adam)", gt=0)
    eps_duration: int = hp(50_000, "linear: units from eps_start to eps_end")
    eps_unit: str = hp("step", "what t counts for the schedule", ("step", "episode"))


@dataclass
class ReinforceConfig(BaseConfig):
    """REINFORCE (Williams 1992): Monte Carlo policy gradient, with an optional learned baseline.

    loss = -mean_t log π(a_t|s_t) (G_t - b(s_t))  [+ vf_coef (G_t - V(s_t))²  - ent_coef H(π)]
    """

    algo: str = hp("reinforce", "algorithm name")
    total_steps: int = hp(200_000, "env steps to train for")
    num_envs: int = hp(1, "number of envs: one", ge=1, le=1,
                       hint="REINFORCE plays whole episodes on one env")
    device: str = hp("auto", "torch device: the CPU", ("auto", "cpu"), hint=PG_DEVICE)
    hidden: tuple[int, ...] = hp((64, 64), "hidden layer sizes of the policy and value MLPs",
                                 ge=1)
    activation: str = hp("tanh", "hidden activation", "activations")
    gamma: float = hp(0.99, "discount factor", ge=0, le=1)
    lr: float = hp(1e-3, "learning rate (Adam)", gt=0)
    episodes_per_update: int = hp(4, "episodes collected for each gradient step", ge=1)
    reward_to_go: bool = hp(True, "weight log π(a_t|s_t) by the return from t, not the "
                            "whole episode's")
    baseline: bool = hp(True, "subtract a learned state value V(s_t) from the return")
    normalize: bool = hp(True, "scale each batch's advantages to mean 0, std 1")
    vf_coef: float = hp(0.5, "weight of the baseline's squared error in the loss")
    ent_coef: float = hp(0.0, "entropy bonus weight")
    max_grad_norm: float | None = hp(0.5, "clip the gradient norm to this; none = off", gt=0)


@dataclass
class ActorCriticFields:
    """Settings A2C and PPO share (a mixin): rollouts, GAE, the loss weights, the optimizer."""

    device: str = hp("auto", "torch device: the CPU", ("auto", "cpu"), hint=PG_DEVICE)
    hidden: tuple[int, ...] = hp((64, 64), "hidden layer sizes of the policy and value MLPs",
                                 ge=1)
    activation: str = hp("tanh", "hidden activation", "activations")
    gamma: float = hp(0.99, "discount factor", ge=0, le=1)
    gae_lambda: float = hp(1.0, "GAE λ: 1 = n-step returns, 0 = one-step TD", ge=0, le=1)
    n_steps: int = hp(5, "steps per env between updates", ge=1)
    lr: float = hp(7e-4, "learning rate", gt=0)
    lr_schedule: str = hp("constant", "learning rate over training: constant, or linear to 0 "
                          "(RL-Zoo's lin_X)", ("constant", "linear"))
    optimizer: str = hp("rmsprop", "optimizer (SB3's A2C uses RMSprop)", ("rmsprop", "adam"))
    vf_coef: float = hp(0.5, "weight of the value loss")
    ent_coef: float = hp(0.0, "entropy bonus weight")
    normalize: bool = hp(False, "scale each minibatch's advantages to mean 0, std 1")
    normalize_obs: bool = hp(False, "scale observations by their running mean and std, clipped "
                             "to ±10 (SB3's VecNormalize); the statistics are in the network "
                             "and its checkpoints")
    max_grad_norm: float | None = hp(0.5, "clip the gradient norm to this; none = off", gt=0)
    n_epochs: int = hp(1, "passes over each rollout", ge=1)
    batch_size: int = hp(0, "minibatch size; 0 = the whole rollout", ge=0)
    clip_range: float | None = hp(None, "PPO's ratio clip ε; none = A2C's plain policy gradient",
                                  gt=0)
    clip_range_schedule: str = hp("constant", "clip range over training: constant, or linear "
                                  "to 0", ("constant", "linear"))


@dataclass
class A2CConfig(ActorCriticFields, BaseConfig):
    """A2C (Mnih et al. 2016, synchronous): n-step actor-critic on vector envs.

    The defaults are Stable-Baselines3's: 8 envs × 5 steps per update, RMSprop 7e-4, λ = 1
    (plain n-step returns), value coefficient 0.5, grad-norm clip 0.5, no entropy bonus.
    """

    algo: str = hp("a2c", "algorithm name")
    total_steps: int = hp(500_000, "env steps to train for (summed over vector envs)")
    num_envs: int = hp(8, "envs stepped together (gymnasium SyncVectorEnv)")


@dataclass
class PPOConfig(ActorCriticFields, BaseConfig):
    """PPO (Schulman et al. 2017): clipped policy ratio, GAE, minibatch epochs.

    The defaults are Stable-Baselines3's: 2048 steps per env, 10 epochs of minibatches of 64,
    Adam 3e-4, λ 0.95, clip 0.2, normalised advantages.
    """

    algo: str = hp("ppo", "algorithm name")
    total_steps: int = hp(1_000_000, "env steps to train for (summed over vector envs)")
    num_envs: int = hp(1, "envs stepped together (gymnasium SyncVectorEnv)")
    gae_lambda: float = hp(0.95, "GAE λ: 1 = n-step returns, 0 = one-step TD")
    n_steps: int = hp(2048, "steps per env between updates")
    lr: float = hp(3e-4, "learning rate")
    optimizer: str = hp("adam", "optimizer", ("rmsprop", "adam"))
    normalize: bool = hp(True, "scale each minibatch's advantages to mean 0, std 1")
    n_epochs: int = hp(10, "passes over each rollout")
    batch_size: int = hp(64, "minibatch size; 0 = the whole rollout")
    clip_range: float | None = hp(0.2, "PPO's ratio clip ε; none = A2C's plain policy gradient")


@dataclass
class A3CConfig(ActorCriticFields, BaseConfig):
    """A3C (Mnih et al. 2016): asynchronous actor-learners updating one global network.

    Each worker steps its own env for n_steps, computes the actor-critic gradient on its copy
    of the weights and applies it to the global network without waiting for the others: in
    shared memory (backend local, Hogwild) or through the learner process (backend ray).
    """

    algo: str = hp("a3c", "algorithm name")
    total_steps: int = hp(200_000, "env steps to train for (summed over all workers)")
    num_envs: int = hp(1, "envs per worker, stepped together")
    workers: int = hp(2, "actor-learner processes (--workers)", ge=1)
    backend: str = hp("local", "local: torch.multiprocessing, shared memory (Hogwild); "
                      "ray: Ray actors, joining RAY_ADDRESS's cluster if set (--backend)",
                      ("local", "ray"))
    max_restarts: int = hp(3, "replacements per worker for one that dies, before the run stops",
                           ge=0)
    n_steps: int = hp(100, "steps per worker between its gradient messages (t_max): fewer, "
                      "larger messages keep Ray's per-message cost small")
    optimizer: str = hp("adam", "the global network's optimizer; its state is shared",
                        ("rmsprop", "adam"))
    lr: float = hp(1e-3, "learning rate")
    ent_coef: float = hp(0.01, "entropy bonus weight")
    max_grad_norm: float | None = hp(40.0, "clip each worker's gradient norm; none = off")

    def check(self) -> None:
        if self.n_epochs != 1 or self.batch_size or self.clip_range is not None:
            raise GanghwaError("A3C takes one gradient per rollout: leave n_epochs, batch_size "
                               "and clip_range at their defaults (PPO has them)")
        if self.normalize_obs:
            raise GanghwaError("normalize_obs=true is for A2C and PPO: A3C's workers would each "
                               "keep their own statistics; leave it false")


@dataclass
class GAConfig(BaseConfig):
    """A genetic algorithm over policy-network weights (Such et al. 2017 is the deep version).

    Each generation every individual (a flat weight vector) plays `episodes` episodes greedily;
    its mean return is its fitness. The `elites` best pass on unchanged; the rest of the next
    generation are children of selected parents, crossed over and mutated (genetic.py).
    """

    algo: str = hp("ga", "algorithm name")
    total_steps: int = hp(100_000_000, "a cap on env steps, summed over all fitness episodes")
    num_envs: int = hp(1, "number of envs per worker: one", ge=1, le=1,
                       hint="the GA plays one env per worker; use --workers")
    generations: int = hp(50, "generations to evolve", ge=1)
    population: int = hp(50, "individuals per generation", ge=2,
                         hint="a population needs at least 2 individuals to select and cross "
                         "over")
    episodes: int = hp(3, "episodes per fitness evaluation (k); every individual of a "
                       "generation plays the same k seeds", ge=1)
    selection: str = hp("tournament", "parent selection", ("ranking", "roulette", "tournament"))
    tournament_size: int = hp(3, "tournament: entrants per tournament", ge=1)
    crossover: str = hp("uniform", "crossover of two parents' genes", ("single_point", "uniform"))
    p_crossover: float = hp(0.7, "probability that a pair of parents is crossed over",
                            ge=0, le=1, hint="a probability")
    p_mutation: float = hp(0.1, "probability that a gene is mutated", ge=0, le=1,
                           hint="a probability")
    sigma: float = hp(0.1, "std of the Gaussian noise a mutated gene gets", ge=0)
    elites: int = hp(2, "best individuals copied unchanged into the next generation", ge=0)
    hidden: tuple[int, ...] = hp((16,), "hidden layer sizes of the policy MLP (after the CNN "
                                 "on image observations)", ge=1)
    network: str = hp("auto", "policy body: a CNN for image observations, an MLP for flat ones; "
                      "auto picks by the observation", ("auto", "mlp", "cnn"))
    activation: str = hp("tanh", "hidden activation", "activations")
    workers: int = hp(2, "processes (or Ray actors) evaluating fitness in parallel", ge=1)
    backend: str = hp("local", "local: a process pool; ray: Ray actors, joining RAY_ADDRESS's "
                      "cluster if set", ("local", "ray"))
    eval_every: int = hp(1, "greedy evaluation of the fittest individual every N env steps "
                         "(1: every generation; keeps best.pt); 0 = off")
    checkpoint_every: int = hp(1, "write checkpoints/latest.pt every N env steps (1: every "
                               "generation)")

    def check(self) -> None:
        if self.elites >= self.population:
            raise GanghwaError(f"elites must be less than population ({self.population}), got "
                               f"{self.elites}; e.g. --set elites=2")
