"""Dataclass configs, presets as TOML data, and `--set key=value` parsing with validation.

A config is resolved in layers: dataclass defaults < preset `[algo]` < preset `[algo."ENV"]`
< command-line flags < `--set` overrides. The resolved config is written to every run folder,
so a run can be reproduced or resumed from its folder alone.
"""

from __future__ import annotations

import dataclasses
import tomllib
import types
import typing
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

import tomli_w

from ganghwa.errors import GanghwaError, did_you_mean

C = TypeVar("C", bound="BaseConfig")


def hp(default: Any, help: str, choices: tuple[str, ...] | None = None) -> Any:
    """A config field whose help text shows in `ganghwa list --config` and in errors."""
    if isinstance(default, dict):
        return field(default_factory=lambda: dict(default),
                     metadata={"help": help, "choices": choices})
    return field(default=default, metadata={"help": help, "choices": choices})


@dataclass
class BaseConfig:
    """What every algorithm's run needs: the env, the budget, seeding, evaluation and devices."""

    algo: str = hp("dqn", "algorithm name")
    env_id: str = hp("CartPole-v1", "Gymnasium id or module:Class of the environment")
    env_kwargs: dict[str, Any] = hp({}, "keyword arguments for the env's constructor "  # noqa: RUF009
                                    "(--env-kw map_name=8x8 is_slippery=false)")
    preset: str = hp("none", "preset the config was resolved from")
    seed: int = hp(0, "seed for Python, numpy, torch and the envs")
    total_steps: int = hp(100_000, "env steps to train for (summed over vector envs)")
    num_envs: int = hp(1, "number of envs stepped together (gymnasium SyncVectorEnv)")
    device: str = hp("auto", "torch device: auto picks cuda when present", ("auto", "cpu", "cuda"))
    threads: int = hp(0, "torch CPU threads; 0 chooses from the network and batch size")
    eval_every: int = hp(10_000, "greedy evaluation every N env steps (keeps best.pt); 0 = off")
    eval_episodes: int = hp(5, "episodes per evaluation during training")
    final_eval_episodes: int = hp(20, "episodes of the greedy evaluation at the end (eval.json)")
    stop_at: float | None = hp(None, "stop once the greedy evaluation mean reaches this return")
    checkpoint_every: int = hp(10_000, "write checkpoints/latest.pt every N env steps")
    video: bool = hp(True, "record a video of the greedy agent at the end")

    def validate(self) -> None:
        """Raise GanghwaError naming the fix for values no run can use."""
        positive = ("total_steps", "num_envs", "eval_episodes", "final_eval_episodes",
                    "checkpoint_every")
        for name in positive:
            if getattr(self, name) < 1:
                raise GanghwaError(f"{name} must be at least 1, got {getattr(self, name)}; "
                                   f"use --set {name}=<positive integer>")
        for name in ("eval_every", "threads"):
            if getattr(self, name) < 0:
                raise GanghwaError(f"{name} must be 0 or more, got {getattr(self, name)}")
        for f in dataclasses.fields(self):
            choices = f.metadata.get("choices")
            value = getattr(self, f.name)
            if choices and value not in choices:
                raise GanghwaError(f"{f.name}={value!r} is not one of {', '.join(choices)}."
                                   f"{did_you_mean(str(value), choices)}")


def field_help(cls: type[BaseConfig]) -> list[tuple[str, str, str]]:
    """(name, default, help) for every field: the table behind `ganghwa list --config`."""
    return [(f.name, _fmt(f.default if f.default is not dataclasses.MISSING
                          else f.default_factory()),  # type: ignore[operator]
             f.metadata.get("help", "")) for f in dataclasses.fields(cls)]


def _fmt(value: Any) -> str:
    return "none" if value is None else str(value)


def parse_literal(text: str) -> Any:
    """A command-line value as TOML reads it (true, 3, 0.5, [1, 2]); anything else is a string."""
    try:
        return tomllib.loads(f"v = {text}")["v"]
    except tomllib.TOMLDecodeError:
        return text


def parse_env_kwargs(pairs: list[str]) -> dict[str, Any]:
    """`["map_name=8x8", "is_slippery=false"]` -> {"map_name": "8x8", "is_slippery": False}."""
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise GanghwaError(f"--env-kw takes key=value, got {pair!r}; e.g. --env-kw "
                               "is_slippery=false")
        out[key.strip()] = parse_literal(value.strip())
    return out


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
    """`["lr=1e-3", "hidden=64,64"]` -> {"lr": "1e-3", "hidden": "64,64"}."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise GanghwaError(f"--set takes key=value, got {pair!r}; e.g. --set lr=0.001")
        out[key.strip().replace("-", "_")] = value.strip()
    return out


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
    path = preset_dir() / f"{name}.toml"
    if not path.is_file():
        raise GanghwaError(f"unknown preset {name!r}.{did_you_mean(name, preset_names())} "
                           f"Presets: {', '.join(preset_names())}")
    with path.open("rb") as f:
        return tomllib.load(f)


def preset_values(name: str, algo: str | tuple[str, ...], env_id: str
                  ) -> tuple[dict[str, Any], bool]:
    """The preset's settings for algo on env_id, and whether the preset names that env.

    Scalars under `[algo]` apply to every env; a table `[algo."ENV"]` adds env-specific ones.
    `algo` may list several sections, later ones winning: ("tabular", "sarsa") reads the
    settings all tabular methods share, then SARSA's own.
    """
    values: dict[str, Any] = {}
    covered = False
    for section in (algo,) if isinstance(algo, str) else algo:
        data = load_preset(name).get(section, {})
        base = {k: v for k, v in data.items() if not isinstance(v, dict)}
        env_tables = {k: v for k, v in data.items() if isinstance(v, dict)}
        values.update({**base, **env_tables.get(env_id, {})})
        covered = covered or env_id in env_tables or bool(base)
    return values, covered


def preset_envs(name: str, algo: str | tuple[str, ...]) -> list[str]:
    preset = load_preset(name)
    sections = (algo,) if isinstance(algo, str) else algo
    return sorted({k for s in sections for k, v in preset.get(s, {}).items()
                   if isinstance(v, dict)})


# ---------------------------------------------------------------- the resolved config file

def to_toml(cfg: BaseConfig) -> str:
    """The resolved config as TOML; None is written as "none" (TOML has no null)."""
    data = {k: ("none" if v is None else list(v) if isinstance(v, tuple) else v)
            for k, v in dataclasses.asdict(cfg).items()}
    return tomli_w.dumps(data)


def from_toml(cls: type[C], text: str) -> C:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise GanghwaError(f"config.toml is not valid TOML ({e}); fix or delete the run") from None
    cfg = apply(cls(), data)
    cfg.validate()
    return cfg


# ---------------------------------------------------------------- algorithm configs

@dataclass
class ExplorationConfig:
    """Discount and epsilon-greedy schedule, shared by the value-based methods (a mixin)."""

    gamma: float = hp(0.99, "discount factor")
    exploration: str = hp("linear", "epsilon schedule",
                          ("linear", "exponential", "multiplicative"))
    eps_start: float = hp(1.0, "initial epsilon")
    eps_end: float = hp(0.05, "final (floor) epsilon")
    eps_duration: int = hp(10_000, "linear: units from eps_start to eps_end")
    eps_decay: float = hp(1_000.0, "exponential: time constant of end + (start-end) e^(-t/decay)")
    eps_factor: float = hp(0.999, "multiplicative: eps = max(end, start * factor^t)")
    eps_unit: str = hp("step", "what t counts for the schedule", ("step", "update", "episode"))

    def validate_exploration(self) -> None:
        if not 0.0 <= self.gamma <= 1.0:
            raise GanghwaError(f"gamma must lie in [0, 1], got {self.gamma}; e.g. --set gamma=0.99")
        for name in ("eps_start", "eps_end"):
            if not 0.0 <= getattr(self, name) <= 1.0:
                raise GanghwaError(f"{name} must lie in [0, 1], got {getattr(self, name)}")
        if self.eps_duration < 1:
            raise GanghwaError(f"eps_duration must be at least 1, got {self.eps_duration}")
        if self.eps_decay <= 0 or not 0 < self.eps_factor <= 1:
            raise GanghwaError("eps_decay must be positive and eps_factor in (0, 1]")


@dataclass
class DQNConfig(ExplorationConfig, BaseConfig):
    """DQN with switches: Double, Dueling, hard or Polyak target, three epsilon schedules.

    The defaults are robust general-purpose settings for small discrete-action envs
    (classic control, LunarLander, a user's own env); presets refine them per env.
    """

    hidden: tuple[int, ...] = hp((256, 256), "hidden layer sizes of the Q-network MLP (after "
                                 "the CNN on image observations)")
    network: str = hp("auto", "Q-network body: a CNN for image observations, an MLP for flat "
                      "ones; auto picks by the observation", ("auto", "mlp", "cnn"))
    activation: str = hp("relu", "hidden activation", ("relu", "tanh"))
    init: str = hp("default", "weight init: torch default, He-uniform (Keras) or orthogonal",
                   ("default", "he_uniform", "orthogonal"))
    dueling: bool = hp(False, "dueling head: Q = V + A - mean(A)")
    double: bool = hp(True, "Double DQN target: online argmax, target-network value")
    loss: str = hp("huber", "TD loss", ("huber", "mse"))
    lr: float = hp(1e-3, "learning rate")
    optimizer: str = hp("adam", "optimizer", ("adam", "adamw"))
    amsgrad: bool = hp(False, "AMSGrad variant of Adam/AdamW")
    weight_decay: float = hp(0.0, "weight decay (AdamW's torch default is 0.01)")
    max_grad_norm: float | None = hp(10.0, "clip the gradient norm to this; none = off")
    grad_clip_value: float | None = hp(None, "clip each gradient element to ±value; none = off")
    batch_size: int = hp(128, "minibatch size")
    buffer_size: int = hp(100_000, "replay memory capacity in transitions")
    learning_starts: int = hp(1_000, "env steps collected before the first update")
    train_freq: int = hp(4, "update every N steps (or episodes, see train_freq_unit)")
    train_freq_unit: str = hp("step", "unit of train_freq", ("step", "episode"))
    gradient_steps: int = hp(1, "gradient steps each time training is due")
    target_update_interval: int = hp(500, "target update every N units")
    target_update_unit: str = hp("step", "unit of target_update_interval",
                                 ("step", "update", "episode"))
    tau: float = hp(1.0, "target update weight: 1.0 = hard copy, <1 = Polyak averaging")
    reward_scale: float = hp(1.0, "stored reward = env reward * reward_scale")
    terminal_reward: float | None = hp(None, "replace the reward on termination (not time-out)")
    compile: bool = hp(False, "torch.compile the update step (pays on GPU, rarely on CPU)")

    def validate(self) -> None:
        super().validate()
        if not self.lr > 0:
            raise GanghwaError(f"learning rate must be positive, got lr={self.lr}; "
                               "use e.g. --set lr=0.001")
        self.validate_exploration()
        if not 0.0 < self.tau <= 1.0:
            raise GanghwaError(f"tau must lie in (0, 1], got {self.tau}; 1.0 is a hard copy")
        ints = ("batch_size", "buffer_size", "train_freq", "gradient_steps",
                "target_update_interval")
        for name in ints:
            if getattr(self, name) < 1:
                raise GanghwaError(f"{name} must be at least 1, got {getattr(self, name)}")
        if self.learning_starts < 0:
            raise GanghwaError(f"learning_starts must be 0 or more, got {self.learning_starts}")
        if self.batch_size > self.buffer_size:
            raise GanghwaError(f"batch_size ({self.batch_size}) is larger than buffer_size "
                               f"({self.buffer_size}); lower --set batch_size or raise "
                               "--set buffer_size")
        if not self.hidden or min(self.hidden) < 1:
            raise GanghwaError(f"hidden needs positive layer sizes, got {self.hidden}; "
                               "e.g. --set hidden=256,256")
        for name in ("max_grad_norm", "grad_clip_value"):
            value = getattr(self, name)
            if value is not None and value <= 0:
                raise GanghwaError(f"{name} must be positive or none, got {value}")


TABULAR_ALGOS = ("value_iteration", "policy_iteration", "policy_evaluation", "mc", "sarsa",
                 "expected_sarsa", "q_learning")


@dataclass
class TabularConfig(ExplorationConfig, BaseConfig):
    """Dynamic programming and tabular control: the algo name picks the method.

    Epsilon and alpha change at the start of each episode (by the step or episode counter).
    The defaults are the textbook's: a constant epsilon of 0.1 and a step size of 0.1.
    """

    algo: str = hp("q_learning", "tabular method", TABULAR_ALGOS)
    env_id: str = hp("ganghwa/GridWorld-v0", "Gymnasium id or module:Class of the environment")
    total_steps: int = hp(100_000, "env steps to train for (model-free methods)")
    eval_every: int = hp(50_000, "greedy evaluation every N env steps (keeps best.pt); 0 = off")
    checkpoint_every: int = hp(1_000_000, "write checkpoints/latest.pt every N env steps")
    alpha: float = hp(0.1, "step size α of the updates")
    alpha_end: float | None = hp(None, "anneal α linearly to this over total_steps; none = "
                                 "constant")
    q_init: float = hp(0.0, "initial value of every Q(s, a)")
    theta: float = hp(1e-10, "DP: stop when no value changes more than this in a sweep")
    max_sweeps: int = hp(100_000, "DP: give up after this many sweeps")
    eps_start: float = hp(0.1, "initial epsilon")
    eps_end: float = hp(0.1, "final (floor) epsilon")
    eps_unit: str = hp("step", "what t counts for the schedule", ("step", "episode"))

    def validate(self) -> None:
        super().validate()
        self.validate_exploration()
        if not self.alpha > 0 or (self.alpha_end is not None and not self.alpha_end > 0):
            end = "" if self.alpha_end is None else f", alpha_end={self.alpha_end}"
            raise GanghwaError(f"the step size α must be positive, got alpha={self.alpha}{end}; "
                               "e.g. --set alpha=0.1")
        if not self.theta > 0 or self.max_sweeps < 1:
            raise GanghwaError("theta must be positive and max_sweeps at least 1")
        if self.num_envs != 1:
            raise GanghwaError("tabular methods step one env; drop --num-envs")


@dataclass
class DeepSarsaConfig(ExplorationConfig, BaseConfig):
    """Deep SARSA: on-policy TD(0) with a network and no replay memory or target network.

    Each step updates Q(s, a) toward r + γ Q(s', a'), a' being the action the agent will take.
    """

    algo: str = hp("deep_sarsa", "algorithm name")
    env_id: str = hp("ganghwa/MovingObstacles-v0", "Gymnasium id or module:Class of the env")
    hidden: tuple[int, ...] = hp((64, 64), "hidden layer sizes of the Q-network MLP")
    activation: str = hp("relu", "hidden activation", ("relu", "tanh"))
    lr: float = hp(1e-3, "learning rate (Adam)")
    eps_duration: int = hp(50_000, "linear: units from eps_start to eps_end")
    eps_unit: str = hp("step", "what t counts for the schedule", ("step", "episode"))

    def validate(self) -> None:
        super().validate()
        self.validate_exploration()
        if not self.lr > 0:
            raise GanghwaError(f"learning rate must be positive, got lr={self.lr}; "
                               "use e.g. --set lr=0.001")
        if not self.hidden or min(self.hidden) < 1:
            raise GanghwaError(f"hidden needs positive layer sizes, got {self.hidden}")
        if self.num_envs != 1:
            raise GanghwaError("Deep SARSA learns from one env, one step at a time; drop "
                               "--num-envs")


@dataclass
class ReinforceConfig(BaseConfig):
    """REINFORCE (Williams 1992): Monte Carlo policy gradient, with an optional learned baseline.

    loss = -mean_t log π(a_t|s_t) (G_t - b(s_t))  [+ vf_coef (G_t - V(s_t))²  - ent_coef H(π)]
    """

    algo: str = hp("reinforce", "algorithm name")
    total_steps: int = hp(200_000, "env steps to train for")
    hidden: tuple[int, ...] = hp((64, 64), "hidden layer sizes of the policy and value MLPs")
    activation: str = hp("tanh", "hidden activation", ("relu", "tanh"))
    gamma: float = hp(0.99, "discount factor")
    lr: float = hp(1e-3, "learning rate (Adam)")
    episodes_per_update: int = hp(4, "episodes collected for each gradient step")
    reward_to_go: bool = hp(True, "weight log π(a_t|s_t) by the return from t, not the "
                            "whole episode's")
    baseline: bool = hp(True, "subtract a learned state value V(s_t) from the return")
    normalize: bool = hp(True, "scale each batch's advantages to mean 0, std 1")
    vf_coef: float = hp(0.5, "weight of the baseline's squared error in the loss")
    ent_coef: float = hp(0.0, "entropy bonus weight")
    max_grad_norm: float | None = hp(0.5, "clip the gradient norm to this; none = off")

    def validate(self) -> None:
        super().validate()
        if not 0.0 <= self.gamma <= 1.0:
            raise GanghwaError(f"gamma must lie in [0, 1], got {self.gamma}; e.g. --set gamma=0.99")
        if not self.lr > 0:
            raise GanghwaError(f"learning rate must be positive, got lr={self.lr}; "
                               "use e.g. --set lr=0.001")
        if self.episodes_per_update < 1:
            raise GanghwaError("episodes_per_update must be at least 1")
        if self.num_envs != 1:
            raise GanghwaError("REINFORCE plays whole episodes on one env; drop --num-envs")
        if self.device == "cuda":
            raise GanghwaError("REINFORCE runs on the CPU (its networks are too small to gain "
                               "from a GPU); drop --device cuda")


@dataclass
class ActorCriticFields:
    """Settings A2C and PPO share (a mixin): rollouts, GAE, the loss weights, the optimizer."""

    hidden: tuple[int, ...] = hp((64, 64), "hidden layer sizes of the policy and value MLPs")
    activation: str = hp("tanh", "hidden activation", ("relu", "tanh"))
    gamma: float = hp(0.99, "discount factor")
    gae_lambda: float = hp(1.0, "GAE λ: 1 = n-step returns, 0 = one-step TD")
    n_steps: int = hp(5, "steps per env between updates")
    lr: float = hp(7e-4, "learning rate")
    lr_schedule: str = hp("constant", "learning rate over training: constant, or linear to 0 "
                          "(RL-Zoo's lin_X)", ("constant", "linear"))
    optimizer: str = hp("rmsprop", "optimizer (SB3's A2C uses RMSprop)", ("rmsprop", "adam"))
    vf_coef: float = hp(0.5, "weight of the value loss")
    ent_coef: float = hp(0.0, "entropy bonus weight")
    normalize: bool = hp(False, "scale each minibatch's advantages to mean 0, std 1")
    max_grad_norm: float | None = hp(0.5, "clip the gradient norm to this; none = off")
    n_epochs: int = hp(1, "passes over each rollout")
    batch_size: int = hp(0, "minibatch size; 0 = the whole rollout")
    clip_range: float | None = hp(None, "PPO's ratio clip ε; none = A2C's plain policy gradient")
    clip_range_schedule: str = hp("constant", "clip range over training: constant, or linear "
                                  "to 0", ("constant", "linear"))

    def validate_actor_critic(self) -> None:
        if getattr(self, "device", "auto") == "cuda":
            raise GanghwaError("the policy-gradient methods run on the CPU (their networks are "
                               "too small to gain from a GPU); drop --device cuda")
        if not 0.0 <= self.gamma <= 1.0 or not 0.0 <= self.gae_lambda <= 1.0:
            raise GanghwaError(f"gamma and gae_lambda must lie in [0, 1], got {self.gamma} and "
                               f"{self.gae_lambda}")
        if not self.lr > 0:
            raise GanghwaError(f"learning rate must be positive, got lr={self.lr}; "
                               "use e.g. --set lr=0.0007")
        if self.n_steps < 1 or self.n_epochs < 1 or self.batch_size < 0:
            raise GanghwaError("n_steps and n_epochs must be at least 1, batch_size 0 or more")
        if self.clip_range is not None and not self.clip_range > 0:
            raise GanghwaError(f"clip_range must be positive or none, got {self.clip_range}")


@dataclass
class A2CConfig(ActorCriticFields, BaseConfig):
    """A2C (Mnih et al. 2016, synchronous): n-step actor-critic on vector envs.

    The defaults are Stable-Baselines3's: 8 envs × 5 steps per update, RMSprop 7e-4, λ = 1
    (plain n-step returns), value coefficient 0.5, grad-norm clip 0.5, no entropy bonus.
    """

    algo: str = hp("a2c", "algorithm name")
    total_steps: int = hp(500_000, "env steps to train for (summed over vector envs)")
    num_envs: int = hp(8, "envs stepped together (gymnasium SyncVectorEnv)")

    def validate(self) -> None:
        super().validate()
        self.validate_actor_critic()


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

    def validate(self) -> None:
        super().validate()
        self.validate_actor_critic()


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
    workers: int = hp(2, "actor-learner processes (--workers)")
    backend: str = hp("local", "local: torch.multiprocessing, shared memory (Hogwild); "
                      "ray: Ray actors, joining RAY_ADDRESS's cluster if set (--backend)",
                      ("local", "ray"))
    max_restarts: int = hp(3, "replacements per worker for one that dies, before the run stops")
    n_steps: int = hp(100, "steps per worker between its gradient messages (t_max): fewer, "
                      "larger messages keep Ray's per-message cost small")
    optimizer: str = hp("adam", "the global network's optimizer; its state is shared",
                        ("rmsprop", "adam"))
    lr: float = hp(1e-3, "learning rate")
    ent_coef: float = hp(0.01, "entropy bonus weight")
    max_grad_norm: float | None = hp(40.0, "clip each worker's gradient norm; none = off")

    def validate(self) -> None:
        super().validate()
        self.validate_actor_critic()
        if self.workers < 1:
            raise GanghwaError(f"workers must be at least 1, got {self.workers}; "
                               "use --workers 2")
        if self.max_restarts < 0:
            raise GanghwaError(f"max_restarts must be 0 or more, got {self.max_restarts}")
        if self.n_epochs != 1 or self.batch_size or self.clip_range is not None:
            raise GanghwaError("A3C takes one gradient per rollout: leave n_epochs, batch_size "
                               "and clip_range at their defaults (PPO has them)")


@dataclass
class GAConfig(BaseConfig):
    """A genetic algorithm over policy-network weights (Such et al. 2017 is the deep version).

    Each generation every individual (a flat weight vector) plays `episodes` episodes greedily;
    its mean return is its fitness. The `elites` best pass on unchanged; the rest of the next
    generation are children of selected parents, crossed over and mutated (genetic.py).
    """

    algo: str = hp("ga", "algorithm name")
    total_steps: int = hp(100_000_000, "a cap on env steps, summed over all fitness episodes")
    generations: int = hp(50, "generations to evolve")
    population: int = hp(50, "individuals per generation")
    episodes: int = hp(3, "episodes per fitness evaluation (k); every individual of a "
                       "generation plays the same k seeds")
    selection: str = hp("tournament", "parent selection", ("ranking", "roulette", "tournament"))
    tournament_size: int = hp(3, "tournament: entrants per tournament")
    crossover: str = hp("uniform", "crossover of two parents' genes", ("single_point", "uniform"))
    p_crossover: float = hp(0.7, "probability that a pair of parents is crossed over")
    p_mutation: float = hp(0.1, "probability that a gene is mutated")
    sigma: float = hp(0.1, "std of the Gaussian noise a mutated gene gets")
    elites: int = hp(2, "best individuals copied unchanged into the next generation")
    hidden: tuple[int, ...] = hp((16,), "hidden layer sizes of the policy MLP (after the CNN "
                                 "on image observations)")
    network: str = hp("auto", "policy body: a CNN for image observations, an MLP for flat ones; "
                      "auto picks by the observation", ("auto", "mlp", "cnn"))
    activation: str = hp("tanh", "hidden activation", ("relu", "tanh"))
    workers: int = hp(2, "processes (or Ray actors) evaluating fitness in parallel")
    backend: str = hp("local", "local: a process pool; ray: Ray actors, joining RAY_ADDRESS's "
                      "cluster if set", ("local", "ray"))
    eval_every: int = hp(1, "greedy evaluation of the fittest individual every N env steps "
                         "(1: every generation; keeps best.pt); 0 = off")
    checkpoint_every: int = hp(1, "write checkpoints/latest.pt every N env steps (1: every "
                               "generation)")

    def validate(self) -> None:
        super().validate()
        if self.population < 2:
            raise GanghwaError(f"a population needs at least 2 individuals to select and cross "
                               f"over, got population={self.population}; e.g. --set "
                               "population=50")
        for name in ("p_crossover", "p_mutation"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise GanghwaError(f"{name} is a probability and must lie in [0, 1], got "
                                   f"{value}; e.g. --set {name}=0.1")
        if not self.sigma >= 0:
            raise GanghwaError(f"sigma must be 0 or more, got {self.sigma}; e.g. --set sigma=0.1")
        if not 0 <= self.elites < self.population:
            raise GanghwaError(f"elites must lie in [0, population), got {self.elites} with "
                               f"population={self.population}")
        for name in ("generations", "episodes", "tournament_size", "workers"):
            if getattr(self, name) < 1:
                raise GanghwaError(f"{name} must be at least 1, got {getattr(self, name)}")
        if not self.hidden or min(self.hidden) < 1:
            raise GanghwaError(f"hidden needs positive layer sizes, got {self.hidden}; "
                               "e.g. --set hidden=16")
        if self.num_envs != 1:
            raise GanghwaError("the GA plays one env per worker; use --workers, not --num-envs")
