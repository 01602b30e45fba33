import pytest

from ganghwa.config import (
    DQNConfig,
    apply,
    from_toml,
    parse_set,
    preset_envs,
    preset_values,
    to_toml,
)
from ganghwa.errors import GanghwaError


def test_set_values_are_coerced_to_field_types():
    cfg = apply(DQNConfig(), parse_set(["lr=5e-4", "hidden=64,64", "double=false",
                                        "max_grad_norm=none", "buffer_size=1e4"]))
    assert cfg.lr == 5e-4 and cfg.hidden == (64, 64) and cfg.double is False
    assert cfg.max_grad_norm is None and cfg.buffer_size == 10_000


@pytest.mark.parametrize("pair, fragment", [
    ("lrr=1", "Did you mean 'lr'"),
    ("batch_size=abc", "batch_size takes a int"),
    ("double=maybe", "double takes a bool"),
    ("novalue", "key=value"),
])
def test_bad_set_values_name_the_fix(pair, fragment):
    with pytest.raises(GanghwaError, match=fragment):
        apply(DQNConfig(), parse_set([pair]))


@pytest.mark.parametrize("values, fragment", [
    ({"lr": -0.1}, "lr must be positive, got -0.1"),
    ({"batch_size": 256, "buffer_size": 100}, "larger than buffer_size"),
    ({"gamma": 1.5}, "gamma must lie in"),
    ({"loss": "l1"}, "loss must be one of huber, mse, got .l1."),
])
def test_validation(values, fragment):
    with pytest.raises(GanghwaError, match=fragment):
        apply(DQNConfig(), values).validate()


def test_config_toml_round_trip_keeps_none_and_tuples():
    cfg = apply(DQNConfig(), {"hidden": (32, 32), "stop_at": None, "terminal_reward": -100.0})
    assert from_toml(DQNConfig, to_toml(cfg)) == cfg


def test_presets_are_data_and_layer_over_defaults():
    values, covered = preset_values("pytorch-tutorial", "dqn", "CartPole-v1")
    assert covered and values["batch_size"] == 128 and values["tau"] == 0.005
    tuned, covered = preset_values("tuned", "dqn", "Acrobot-v1")
    assert not covered and tuned == {}


def test_a_preset_extends_another_for_the_algorithms_it_has_a_section_for(tmp_path):
    tuned, _ = preset_values("tuned", "dqn", "LunarLander-v3")
    rainbow, covered = preset_values("rainbow", "dqn", "LunarLander-v3")
    assert covered and rainbow["lr"] == tuned["lr"] == 6.3e-4  # from tuned
    assert rainbow["prioritized"] and rainbow["n_step"] == 3 and rainbow["v_min"] == -200
    assert preset_values("rainbow", "ppo", "LunarLander-v3") == ({}, False)  # no [ppo]
    anywhere, covered = preset_values("rainbow", "dqn", "Acrobot-v1")  # tuned has no Acrobot
    assert covered and anywhere["noisy"] and "lr" not in anywhere
    (tmp_path / "mine.toml").write_text('extends = "rainbow"\n[dqn]\nn_step = 5\n')
    mine, _ = preset_values(str(tmp_path / "mine.toml"), "dqn", "CartPole-v1")
    assert mine["n_step"] == 5 and mine["noisy"] and mine["batch_size"] == 64  # two levels
    (tmp_path / "loop.toml").write_text(f'extends = "{tmp_path / "loop.toml"}"\n[dqn]\n')
    with pytest.raises(GanghwaError, match="extends must name another preset"):
        preset_values(str(tmp_path / "loop.toml"), "dqn", "CartPole-v1")
    (tmp_path / "a.toml").write_text(f'extends = "{tmp_path / "b.toml"}"\n[dqn]\n')
    (tmp_path / "b.toml").write_text(f'extends = "{tmp_path / "a.toml"}"\n[dqn]\n')
    with pytest.raises(GanghwaError, match="never a loop"):
        preset_values(str(tmp_path / "a.toml"), "dqn", "CartPole-v1")
    with pytest.raises(GanghwaError, match="never a loop"):
        preset_envs(str(tmp_path / "a.toml"), "dqn")
    assert "LunarLander-v3" in preset_envs("rainbow", "dqn") and preset_envs("rainbow", "ppo") == []
