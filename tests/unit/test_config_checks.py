"""The checks declared in the config fields' metadata, and resolve()'s layering of a config."""

import dataclasses
import sys
import types
import typing

import pytest

from ganghwa.config import (
    A2CConfig,
    A3CConfig,
    BaseConfig,
    DeepSarsaConfig,
    DQNConfig,
    GAConfig,
    PPOConfig,
    ReinforceConfig,
    TabularConfig,
    field_help,
    field_rules,
    hp,
    resolve,
)
from ganghwa.errors import GanghwaError

CONFIGS = (DQNConfig, TabularConfig, DeepSarsaConfig, ReinforceConfig, A2CConfig, PPOConfig,
           A3CConfig, GAConfig)


def error(cfg: BaseConfig) -> str:
    with pytest.raises(GanghwaError) as info:
        cfg.validate()
    message = str(info.value)
    assert "\n" not in message
    return message


def _base_type(cls: type, name: str) -> type:
    hint = typing.get_type_hints(cls)[name]
    args = [a for a in typing.get_args(hint) if a is not type(None)]
    return args[0] if typing.get_origin(hint) in (types.UnionType, typing.Union) else hint


def _ranges() -> list[tuple[type[BaseConfig], str]]:
    return [(cls, f.name) for cls in CONFIGS for f in dataclasses.fields(cls)
            if field_rules(cls, f.name).keys() & {"ge", "gt", "le", "lt"}]


def _outside_and_boundary(rules: dict, step: float) -> tuple[list[float], list[float]]:
    """Values just outside each declared bound, and the boundary (or just inside an open one)."""
    outside, inside = [], []
    if rules.get("ge") is not None:
        outside.append(rules["ge"] - step)
        inside.append(rules["ge"])
    if rules.get("gt") is not None:
        outside.append(rules["gt"])
        upper = rules.get("le", rules.get("lt"))
        inside.append(rules["gt"] + (step if upper is None else (upper - rules["gt"]) / 2))
    if rules.get("le") is not None:
        outside.append(rules["le"] + step)
        inside.append(rules["le"])
    if rules.get("lt") is not None:
        outside.append(rules["lt"])
        inside.append(rules["lt"] - step)
    return outside, inside


@pytest.mark.parametrize("cls, name", _ranges(), ids=lambda x: getattr(x, "__name__", x))
def test_each_declared_range_rejects_outside_and_accepts_the_boundary(cls, name, monkeypatch):
    monkeypatch.setattr(cls, "check", lambda self: None)  # the field alone, not cross-field
    rules = field_rules(cls, name)
    is_tuple = isinstance(getattr(cls(), name), tuple)
    element = int if is_tuple else _base_type(cls, name)
    outside, inside = _outside_and_boundary(rules, 1 if element is int else 0.5)
    wrap = (lambda v: (element(v),)) if is_tuple else element
    for value in outside:
        message = error(cls(**{name: wrap(value)}))
        assert message.startswith(f"{name} must ") and f"got {wrap(value)}" in message
        assert f"--set {name}=" in message
    for value in inside:
        cls(**{name: wrap(value)}).validate()


def test_messages_name_the_range_the_value_and_the_fix():
    assert error(DQNConfig(lr=-1.0)) == "lr must be positive, got -1.0; e.g. --set lr=0.001"
    assert error(TabularConfig(gamma=1.5)) == ("gamma must lie in [0, 1], got 1.5; e.g. --set "
                                               "gamma=0.99")
    assert error(DQNConfig(tau=0.0)) == "tau must lie in (0, 1], got 0.0; e.g. --set tau=1.0"
    assert error(A2CConfig(total_steps=0)).startswith("total_steps must be at least 1, got 0")
    assert error(DQNConfig(learning_starts=-1)).startswith("learning_starts must be 0 or more")
    assert "got nan" in error(DQNConfig(lr=float("nan")))


@dataclasses.dataclass
class Toy(BaseConfig):
    """Bounds no shipped config uses yet, worded the same way."""

    below: float = hp(0.5, "below one", lt=1)
    small: int = hp(3, "at most five", le=5)
    above: float = hp(1.0, "above a half", gt=0.5)
    window: float = hp(0.5, "open window", gt=0, lt=1)


@pytest.mark.parametrize("name, value, expected", [
    ("below", 1.0, "below must be less than 1, got 1.0; e.g. --set below=0.5"),
    ("small", 6, "small must be at most 5, got 6; e.g. --set small=3"),
    ("above", 0.5, "above must be more than 0.5, got 0.5; e.g. --set above=1.0"),
    ("window", 0.0, "window must lie in (0, 1), got 0.0; e.g. --set window=0.5"),
])
def test_every_kind_of_bound_is_worded(name, value, expected):
    assert error(Toy(**{name: value})) == expected
    Toy().validate()


def test_a_tuple_range_bounds_each_element_and_needs_one():
    assert error(DQNConfig(hidden=(64, 0))) == ("hidden must be non-empty, each at least 1, got "
                                                "(64, 0); e.g. --set hidden=256,256")
    assert "got ()" in error(GAConfig(hidden=()))
    DQNConfig(hidden=(1,)).validate()


def test_none_skips_the_range_of_an_optional_field():
    DQNConfig(max_grad_norm=None, stop_at=None).validate()
    TabularConfig(alpha_end=None).validate()
    assert error(TabularConfig(alpha_end=0.0)).startswith("alpha_end must be positive or none")
    assert error(PPOConfig(clip_range=-0.1)).startswith("clip_range must be positive or none")
    assert "lr must be positive, got None" in error(DQNConfig(lr=None))  # not optional


def test_a_redeclared_default_keeps_the_parents_check():
    assert "lr" in vars(PPOConfig)["__annotations__"]  # PPO redeclares lr with its own default
    assert error(PPOConfig(lr=0.0)) == "lr must be positive, got 0.0; e.g. --set lr=0.0003"
    assert error(TabularConfig(eps_start=2.0)).startswith("eps_start must lie in [0, 1]")


@pytest.mark.parametrize("cls", [c for c in CONFIGS if "activation" in
                                 {f.name for f in dataclasses.fields(c)}])
def test_activation_choices_are_the_activation_table(cls, monkeypatch):
    assert field_rules(cls, "activation")["choices"] == "activations"
    message = error(cls(activation="no_such_activation"))
    assert message.startswith("activation must be one of relu, tanh")
    assert "got 'no_such_activation'" in message
    fake = types.ModuleType("ganghwa.activations")
    fake.ACTIVATIONS = {"relu": None, "tanh": None, "swish": None}  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "ganghwa.activations", fake)
    cls(activation="swish").validate()
    assert "one of relu, tanh, swish" in dict((n, h) for n, _, h in field_help(cls))["activation"]


def test_choices_suggest_the_closest():
    message = error(DQNConfig(loss="hubr"))
    assert message == ("loss must be one of huber, mse, got 'hubr'; e.g. --set loss=huber. "
                       "Did you mean 'huber'?")


@pytest.mark.parametrize("cls, hint", [
    (ReinforceConfig, "REINFORCE plays whole episodes on one env"),
    (TabularConfig, "tabular methods step one env"),
    (DeepSarsaConfig, "Deep SARSA learns from one env"),
    (GAConfig, "use --workers"),
])
def test_num_envs_is_fixed_at_one_and_the_hint_says_why(cls, hint):
    message = error(cls(num_envs=4))
    assert message.startswith("num_envs must be exactly 1, got 4; e.g. --set num_envs=1 (")
    assert hint in message
    cls(num_envs=1).validate()


@pytest.mark.parametrize("cls", [ReinforceConfig, A2CConfig, PPOConfig, A3CConfig])
def test_policy_gradient_configs_refuse_cuda(cls):
    message = error(cls(device="cuda"))
    assert message.startswith("device must be one of auto, cpu, got 'cuda'")
    assert "their networks are too small to gain from a GPU" in message
    cls(device="cpu").validate()


def test_value_based_configs_accept_cuda():
    DQNConfig(device="cuda").validate()
    assert error(DQNConfig(device="tpu")).startswith("device must be one of auto, cpu, cuda")


def test_the_population_hint_names_its_minimum():
    message = error(GAConfig(population=1))
    assert message.startswith("population must be at least 2, got 1; e.g. --set population=50")
    assert "at least 2 individuals" in message


@pytest.mark.parametrize("cfg, fragment", [
    (DQNConfig(batch_size=256, buffer_size=100), "larger than buffer_size"),
    (GAConfig(elites=50, population=50), "elites must be less than population (50), got 50"),
    (A3CConfig(n_epochs=2), "A3C takes one gradient per rollout"),
    (A3CConfig(clip_range=0.2), "A3C takes one gradient per rollout"),
])
def test_cross_field_checks_run_after_the_fields(cfg, fragment):
    assert fragment in error(cfg)


def test_only_base_config_defines_validate():
    for cls in CONFIGS:
        owners = [k for k in cls.__mro__ if "validate" in vars(k)]
        assert owners == [BaseConfig]


def test_field_help_shows_the_range_beside_the_help():
    rows = {name: help_text for name, _, help_text in field_help(DQNConfig)}
    assert rows["lr"] == "learning rate (positive)"
    assert rows["gamma"] == "discount factor (in [0, 1])"
    assert rows["max_grad_norm"].endswith("(positive or none)")
    assert rows["hidden"].endswith("(non-empty, each at least 1)")
    assert rows["loss"] == "TD loss (one of huber, mse)"
    assert rows["seed"] == "seed for Python, numpy, torch and the envs"
    assert dict((n, h) for n, _, h in field_help(ReinforceConfig))["num_envs"].endswith(
        "(exactly 1)")


# ---------------------------------------------------------------- resolve()

# tuned.toml's [dqn."CartPole-v1"]: lr 2.3e-3, batch_size 64, total_steps 100_000, train_freq 128
def test_resolve_layers_set_over_flags_over_preset_over_defaults():
    cfg, note = resolve(DQNConfig, ("dqn",), "dqn", "CartPole-v1", None,
                        {"total_steps": 5_000, "batch_size": 32, "seed": None, "train_freq": 8},
                        ["batch_size=16"])
    assert cfg.batch_size == 16  # --set beats a flag (and the preset's 64)
    assert cfg.total_steps == 5_000 and cfg.train_freq == 8  # a flag beats the preset
    assert cfg.lr == 2.3e-3 and cfg.hidden == (128, 128)  # the preset beats the default
    assert cfg.seed == 0 and cfg.loss == "huber"  # a None flag and no preset: the default
    assert (cfg.algo, cfg.env_id, cfg.preset, note) == ("dqn", "CartPole-v1", "tuned", "")


def test_resolve_takes_parsed_overrides_and_the_default_env():
    cfg, _ = resolve(DQNConfig, "dqn", "dqn", None, None, {}, {"lr": "0.01"})
    assert cfg.env_id == "CartPole-v1" and cfg.lr == 0.01 and cfg.preset == "tuned"
    cfg, _ = resolve(PPOConfig, "ppo", "ppo", "CartPole-v1", None, {}, ["lr=lin_0.01"])
    assert cfg.lr == 0.01 and cfg.lr_schedule == "linear"  # RL-Zoo's schedule strings work


def test_resolve_reads_shared_sections_then_the_algorithms_own():
    cfg, _ = resolve(TabularConfig, ("tabular", "sarsa"), "sarsa", "FrozenLake-v1", None, {}, [])
    assert cfg.algo == "sarsa" and cfg.alpha_end == 0.01 and cfg.total_steps == 300_000


def test_resolve_falls_back_to_the_defaults_where_the_default_preset_has_no_env():
    cfg, note = resolve(DQNConfig, ("dqn",), "dqn", "Acrobot-v1", None, {}, [])
    assert note == "no tuned preset for Acrobot-v1: using the general defaults"
    assert cfg.preset == "none" and cfg.lr == DQNConfig().lr and cfg.env_id == "Acrobot-v1"


def test_resolve_refuses_a_named_preset_that_does_not_cover_the_env():
    with pytest.raises(GanghwaError, match=r"^preset 'tuned' has no dqn settings for Acrobot-v1 "
                       r"\(it covers CartPole-v1, .*\); drop --preset to use the general"):
        resolve(DQNConfig, ("dqn",), "dqn", "Acrobot-v1", "tuned", {}, [])


def test_resolve_with_no_default_preset_uses_a_preset_only_when_named():
    cfg, note = resolve(DQNConfig, ("dqn",), "dqn", "CartPole-v1", None, {}, [],
                        default_preset=None)
    assert (cfg.lr, cfg.preset, note) == (DQNConfig().lr, "none", "")
    cfg, _ = resolve(DQNConfig, ("dqn",), "dqn", "CartPole-v1", "tuned", {}, [],
                     default_preset=None)
    assert (cfg.lr, cfg.preset) == (2.3e-3, "tuned")


def test_resolve_validates_the_result():
    with pytest.raises(GanghwaError, match=r"^lr must be positive, got -1.0"):
        resolve(DQNConfig, ("dqn",), "dqn", "CartPole-v1", None, {}, ["lr=-1"])
    with pytest.raises(GanghwaError, match="larger than buffer_size"):
        resolve(DQNConfig, ("dqn",), "dqn", "CartPole-v1", None, {"buffer_size": 10}, [])


def test_a_bad_setting_is_refused_without_importing_torch():
    """The activation table is torch-free to import, so `--set lr=-1` (and a bad activation)
    answers in well under a second instead of spending 1.7 s importing torch first."""
    import subprocess

    code = ("import sys\nfrom ganghwa.cli import main\n"
            "codes = [main(['train', 'dqn', 'CartPole-v1', '--set', 'lr=-1']),\n"
            "         main(['train', 'ppo', 'CartPole-v1', '--set', 'activation=swish'])]\n"
            "print(codes, 'torch' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            timeout=60)
    assert result.stdout.split("\n")[-2] == "[2, 2] False", (result.stdout, result.stderr)
    assert "activation must be one of relu, tanh, elu" in result.stderr
