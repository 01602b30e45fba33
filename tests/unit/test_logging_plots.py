import math

import numpy as np
import pytest
from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

from ganghwa import plots
from ganghwa.logging import Logger, metric_label, metric_tag
from ganghwa.run import Run, read_progress

PPO = ("policy_loss", "value_loss", "entropy", "approx_kl", "clip_fraction")


def _header(run):
    return run.progress_path.read_text().splitlines()[0].split(",")


def _rows(run):
    return [line.split(",") for line in run.progress_path.read_text().splitlines()[1:]]


@pytest.mark.parametrize("metrics", [("epsilon", "td_loss"), PPO, ("epsilon",), ()])
def test_csv_header_is_the_fixed_columns_around_the_metrics(tmp_path, metrics):
    run = Run.create(tmp_path, "ppo", "CartPole-v1", 0)
    Logger(run, 100, progress=False, metrics=metrics).close()
    assert _header(run) == ["step", "episode", "return", "length", *metrics, "time"]


def test_generation_runs_keep_the_generation_header(tmp_path):
    run = Run.create(tmp_path, "ga", "CartPole-v1", 0)
    logger = Logger(run, 10, progress=False, generations=True)
    logger.generation(1, 500, np.array([1.0, 2.0, 6.0]))
    logger.close()
    assert _header(run) == ["step", "generation", "fitness_min", "fitness_mean", "fitness_max",
                            "time"]
    assert _rows(run)[0][:5] == ["500", "1", "1", "3", "6"]


def test_update_values_land_in_the_next_episode_rows(tmp_path):
    run = Run.create(tmp_path, "ppo", "CartPole-v1", 0)
    logger = Logger(run, 1000, progress=False, metrics=("policy_loss", "entropy"))
    logger.episode(10, 1, 10.0, 10)  # before any update: empty cells
    logger.update(20, policy_loss=-0.25, entropy=0.69)
    logger.episode(30, 2, 20.0, 20)
    logger.episode(40, 3, 30.0, 10)  # no new update: the latest values again
    logger.update(50, policy_loss=0.5)
    logger.episode(60, 4, 25.0, 20, entropy=0.6)  # given at the episode: that value
    logger.close()
    assert [r[:6] for r in _rows(run)] == [
        ["10", "1", "10", "10", "", ""],
        ["30", "2", "20", "20", "-0.25", "0.69"],
        ["40", "3", "30", "10", "-0.25", "0.69"],
        ["60", "4", "25", "20", "0.5", "0.6"],
    ]


def test_nan_is_an_empty_cell_and_reads_back_as_nan(tmp_path):
    run = Run.create(tmp_path, "dqn", "CartPole-v1", 0)
    logger = Logger(run, 1000, progress=False)
    logger.episode(10, 1, 10.0, 10, epsilon=1.0, td_loss=math.nan)
    logger.episode(20, 2, 12.0, 10, epsilon=0.5, td_loss=0.125)
    logger.close()
    assert [r[4:6] for r in _rows(run)] == [["1", ""], ["0.5", "0.125"]]
    progress = read_progress(run.progress_path)
    assert math.isnan(progress["td_loss"][0]) and progress["td_loss"][1] == 0.125


def test_the_bar_shows_the_metrics_the_algorithm_has():
    dqn = Logger(None, 100, progress=False)
    dqn.episode(10, 1, 10.0, 10, epsilon=0.05, td_loss=math.nan)
    dqn.episode(20, 2, 20.0, 10, epsilon=0.05, td_loss=0.3125)
    assert dqn.stats.endswith("ep 2  return 15.0  eps 0.050  td_loss 0.312")
    ppo = Logger(None, 100, progress=False, metrics=("policy_loss", "entropy"))
    ppo.episode(10, 1, 10.0, 10)
    assert ppo.stats.endswith("ep 1  return 10.0  policy_loss -  entropy -")
    ppo.update(20, policy_loss=-0.5, entropy=0.69)
    assert "  eps " not in ppo.stats and ppo.stats.endswith("policy_loss -0.5  entropy 0.69")


def test_a_metric_the_logger_was_not_given_is_an_error(tmp_path):
    logger = Logger(None, 100, progress=False, metrics=("epsilon",))
    with pytest.raises(ValueError, match="td_loss"):
        logger.episode(1, 1, 1.0, 1, td_loss=0.1)
    with pytest.raises(ValueError, match="entropy"):
        logger.update(1, entropy=0.1)


def test_tensorboard_tags_follow_cleanrl_for_ppo_metrics(tmp_path):
    run = Run.create(tmp_path, "ppo", "CartPole-v1", 0)
    logger = Logger(run, 1000, progress=False, metrics=PPO)
    logger.update(128, policy_loss=-0.01, value_loss=4.0, entropy=0.69, approx_kl=0.003,
                  clip_fraction=0.1)
    logger.update(256, policy_loss=-0.02, value_loss=math.nan, entropy=0.68, approx_kl=0.004,
                  clip_fraction=0.2)
    logger.episode(300, 1, 21.0, 21)
    logger.close()
    events = EventAccumulator(str(run.path))
    events.Reload()
    assert set(events.Tags()["scalars"]) == {
        "losses/policy_loss", "losses/value_loss", "losses/entropy", "losses/approx_kl",
        "losses/clip_fraction", "charts/episodic_return", "charts/episodic_length",
        "charts/SPS"}
    assert [(e.step, e.value) for e in events.Scalars("losses/clip_fraction")] == [
        (128, pytest.approx(0.1)), (256, pytest.approx(0.2))]
    assert [e.step for e in events.Scalars("losses/value_loss")] == [128]  # NaN not sent
    assert [e.value for e in events.Scalars("charts/episodic_return")] == [21.0]


def test_dqn_tensorboard_has_epsilon_and_td_loss_per_episode(tmp_path):
    run = Run.create(tmp_path, "dqn", "CartPole-v1", 0)
    logger = Logger(run, 1000, progress=False)
    logger.episode(10, 1, 10.0, 10, epsilon=0.9, td_loss=0.5)
    logger.close()
    events = EventAccumulator(str(run.path))
    events.Reload()
    assert {"charts/epsilon", "losses/td_loss"} <= set(events.Tags()["scalars"])


def test_unknown_metrics_get_a_losses_tag_and_their_own_label():
    assert metric_tag("kl_penalty") == "losses/kl_penalty"
    assert metric_label("kl_penalty") == "kl_penalty"
    assert metric_tag("epsilon") == "charts/epsilon"
    assert metric_label("td_loss") == "mean TD loss"


def test_resuming_an_old_format_run_keeps_its_rows_under_a_wider_header(tmp_path):
    run = Run.create(tmp_path, "dqn", "CartPole-v1", 0)
    run.progress_path.write_text("step,episode,return,length,epsilon,loss,time\n"
                                 "10,1,9,10,0.9,0.5,0.1\n")
    logger = Logger(run, 1000, start_step=10, progress=False)
    logger.episode(20, 2, 11.0, 10, epsilon=0.8, td_loss=0.25)
    logger.close()
    progress = read_progress(run.progress_path)
    assert _header(run) == ["step", "episode", "return", "length", "epsilon", "loss", "td_loss",
                            "time"]
    assert progress["loss"][0] == 0.5 and math.isnan(progress["loss"][1])
    assert math.isnan(progress["td_loss"][0]) and progress["td_loss"][1] == 0.25
    assert progress["epsilon"] == [0.9, 0.8]


# plots


@pytest.fixture
def figures(monkeypatch):
    """The figures plot_runs would have saved, for their panels."""
    captured = []

    def save(fig, out):
        captured.append(fig)
        return out

    monkeypatch.setattr(plots, "save_png", save)
    return captured


def _panels(fig):
    return [(ax.get_ylabel(), ax.get_yscale()) for ax in fig.axes]


def _logged_run(tmp_path, algo, metrics, rows):
    run = Run.create(tmp_path, algo, "CartPole-v1", 0)
    logger = Logger(run, 1000, progress=False, metrics=metrics)
    for i, values in enumerate(rows, start=1):
        logger.episode(10 * i, i, float(i), 10, **values)
    logger.close()
    return run.path


def test_dqn_plot_has_return_epsilon_and_log_td_loss(tmp_path, figures):
    run = _logged_run(tmp_path, "dqn", ("epsilon", "td_loss"),
                      [{"epsilon": 1.0, "td_loss": math.nan}, {"epsilon": 0.5, "td_loss": 0.3},
                       {"epsilon": 0.1, "td_loss": 0.02}])
    plots.plot_runs([run], tmp_path / "curve.png")
    assert _panels(figures[0]) == [("episode return", "linear"), ("epsilon", "linear"),
                                   ("mean TD loss", "log")]


def test_ppo_plot_has_a_panel_per_loss_and_no_epsilon(tmp_path, figures):
    run = Run.create(tmp_path, "ppo", "CartPole-v1", 0)
    logger = Logger(run, 1000, progress=False, metrics=PPO)
    for i in range(1, 4):
        logger.update(10 * i, policy_loss=-0.01 * i, value_loss=2.0 / i, entropy=0.69,
                      approx_kl=0.01, clip_fraction=0.1)
        logger.episode(10 * i + 5, i, float(i), 10)
    logger.close()
    plots.plot_runs([run.path], tmp_path / "curve.png")
    assert _panels(figures[0]) == [
        ("episode return", "linear"), ("policy loss", "linear"), ("value loss", "log"),
        ("entropy", "linear"), ("approx KL", "linear"), ("clip fraction", "linear")]


def test_tabular_plot_has_no_loss_panel(tmp_path, figures):
    run = _logged_run(tmp_path, "q_learning", ("epsilon",),
                      [{"epsilon": 0.1}, {"epsilon": 0.1}])
    plots.plot_runs([run], tmp_path / "curve.png")
    assert _panels(figures[0]) == [("episode return", "linear"), ("epsilon", "linear")]
    assert figures[0].axes[-1].get_xlabel() == "env steps"


def test_a_metric_column_without_any_number_draws_no_panel(tmp_path, figures):
    run = _logged_run(tmp_path, "dqn", ("epsilon", "td_loss"),
                      [{"epsilon": 1.0, "td_loss": math.nan}])  # learning had not started
    plots.plot_runs([run], tmp_path / "curve.png")
    assert _panels(figures[0]) == [("episode return", "linear"), ("epsilon", "linear")]


def test_old_format_progress_still_plots_its_loss(tmp_path, figures):
    run = tmp_path / "old-dqn"
    run.mkdir()
    (run / "progress.csv").write_text("step,episode,return,length,epsilon,loss,time\n"
                                      "10,1,9,10,1,,0.1\n20,2,12,10,0.5,0.4,0.2\n"
                                      "30,3,15,10,0.1,0.2,0.3\n")
    plots.plot_runs([run], tmp_path / "curve.png")
    assert _panels(figures[0]) == [("episode return", "linear"), ("epsilon", "linear"),
                                   ("loss", "log")]


def test_overlaid_algorithms_get_the_union_of_their_metrics(tmp_path, figures):
    dqn = _logged_run(tmp_path, "dqn", ("epsilon", "td_loss"),
                      [{"epsilon": 0.5, "td_loss": 0.3}])
    a2c = _logged_run(tmp_path, "a2c", ("policy_loss", "entropy"),
                      [{"policy_loss": 0.1, "entropy": 0.6}])
    plots.plot_runs([dqn, a2c], tmp_path / "curve.png")
    fig = figures[0]
    assert [label for label, _ in _panels(fig)] == [
        "episode return", "epsilon", "mean TD loss", "policy loss", "entropy"]
    assert [len(ax.lines) for ax in fig.axes[1:]] == [1, 1, 1, 1]  # each run where it has data


def test_plot_runs_writes_a_png(tmp_path):
    run = _logged_run(tmp_path, "ppo", PPO, [{"entropy": 0.6}, {"entropy": 0.5}])
    out = plots.plot_runs([run], tmp_path / "curve.png")
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
