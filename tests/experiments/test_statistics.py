"""compare's statistics against hand computations on fixed numbers, and the sweep's plan."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from ganghwa.errors import GanghwaError
from ganghwa.experiments import compare
from ganghwa.experiments.plan import parse_grid, parse_seeds, parse_variant, variants

pytest.importorskip("rliable")


def fake(label: str, finals: list[float], evaluations: list[list[tuple[int, float]]] | None = None
         ) -> compare.Group:
    runs = []
    for i, final in enumerate(finals):
        evals = evaluations[i] if evaluations else []
        progress = {"step": [float(s) for s, _ in evals], "time": [s / 100 for s, _ in evals],
                    "return": [m for _, m in evals]}
        runs.append(compare.RunData(Path(f"{label}-s{i}"), {"seed": i}, final, evals, progress))
    return compare.Group(label, runs)


def test_iqm_and_its_ci_match_a_hand_computation():
    # 8 seeds: IQM is the mean of the middle four, (3 + 4 + 5 + 6) / 4 = 4.5
    scores = [8.0, 1.0, 7.0, 2.0, 6.0, 3.0, 5.0, 4.0]
    groups = [fake("a", scores), fake("b", [10.0] * 4)]
    rows = compare.statistics(groups, threshold=5.0, reps=4000)
    a, b = rows
    assert a["iqm"] == pytest.approx(4.5)
    assert a["mean"] == pytest.approx(4.5) and a["std"] == pytest.approx(np.std(scores))
    assert a["solved"] == 4 and b["solved"] == 4 and a["seeds"] == 8
    # An independent percentile bootstrap of the IQM (numpy, resampling the 8 seeds): rliable's
    # interval must agree within the Monte Carlo error of 4,000 resamples.
    rng = np.random.default_rng(1)
    draws = rng.choice(scores, size=(20_000, 8))
    draws.sort(axis=1)
    iqms = draws[:, 2:6].mean(axis=1)
    low, high = np.percentile(iqms, [2.5, 97.5])
    assert a["iqm_low"] == pytest.approx(low, abs=0.3)
    assert a["iqm_high"] == pytest.approx(high, abs=0.3)
    # every seed of b beats every seed of a: P(b > a) is 1, and so is its whole interval
    assert b["p_improvement"] == 1.0 and b["p_low"] == 1.0 and b["p_high"] == 1.0
    # identical scores: no spread, so the interval is the point
    assert (b["iqm"], b["iqm_low"], b["iqm_high"]) == (10.0, 10.0, 10.0)


def test_the_same_runs_give_the_same_intervals_and_leave_numpys_generator_alone():
    """rliable resamples with numpy's global generator, ignoring its random_state: compare
    seeds it for the call and puts it back, so a table can be reproduced."""
    groups = [fake("a", [8.0, 1.0, 7.0, 2.0, 6.0, 3.0, 5.0, 4.0]), fake("b", [9.0, 2.0, 6.0])]
    np.random.seed(123)
    expected_next = np.random.rand()
    np.random.seed(123)
    first = compare.statistics(groups, threshold=5.0, reps=500)
    assert np.random.rand() == expected_next  # the caller's generator, as it was
    np.random.rand(7)  # a different global state before the second call
    assert compare.statistics(groups, threshold=5.0, reps=500) == first


def test_probability_of_improvement_counts_ties_as_half():
    # P(X > Y) + P(X = Y) / 2 over all pairs: x = [1, 2], y = [1, 2] -> (0 + .5 + 1 + .5) / 4
    rows = compare.statistics([fake("y", [1.0, 2.0]), fake("x", [1.0, 2.0])], None, reps=500)
    assert rows[1]["p_improvement"] == pytest.approx(0.5)
    assert rows[0]["solved"] is None


def test_steps_and_time_to_threshold_are_the_first_evaluation_that_reaches_it():
    evals = [[(1000, 100.0), (2000, 480.0), (3000, 500.0)],
             [(1000, 490.0), (2000, 200.0)],
             [(1000, 10.0), (2000, 20.0)]]
    rows = compare.statistics([fake("a", [500.0, 480.0, 20.0], evals)], 475.0, reps=200)
    # seeds 0 and 1 reach 475 at steps 2000 and 1000: the median is 1500; seed 2 never does
    assert rows[0]["steps_to_threshold"] == 1500 and rows[0]["reached_threshold"] == 2
    assert rows[0]["seconds_to_threshold"] == pytest.approx(15.0)  # time = step / 100 above


def test_groups_are_what_differs_between_configs_with_the_seed_pooled():
    runs = [compare.RunData(Path(f"r{i}"), {"seed": i, "lr": lr, "gamma": 0.99,
                                            "device": dev}, 1.0, [], {})
            for i, (lr, dev) in enumerate([(1e-3, "cpu"), (1e-3, "cuda"), (5e-4, "cpu")])]
    groups = compare.group(runs)
    assert [g.label for g in groups] == ["lr=0.001", "lr=0.0005"]
    assert [len(g.runs) for g in groups] == [2, 1]


def test_seed_ranges_variants_and_grids():
    assert parse_seeds("0-3") == [0, 1, 2, 3]
    assert parse_seeds("0,3,7") == [0, 3, 7]
    assert parse_seeds("0-1,5-6,1") == [0, 1, 5, 6]
    v = parse_variant("small:preset=tuned hidden=64,64 lr=5e-4")
    assert (v.name, v.preset, v.settings) == ("small", "tuned", {"hidden": "64,64",
                                                                  "lr": "5e-4"})
    assert parse_grid(["lr=1,2", "batch_size=3,4"]) == [
        {"lr": "1", "batch_size": "3"}, {"lr": "1", "batch_size": "4"},
        {"lr": "2", "batch_size": "3"}, {"lr": "2", "batch_size": "4"}]
    names = [v.name for v in variants(["a:lr=1", "b:lr=2"], ["gamma=0.9,0.99"])]
    assert names == ["a-gamma=0.9", "a-gamma=0.99", "b-gamma=0.9", "b-gamma=0.99"]
    assert [v.name for v in variants([], ["lr=1,2"])] == ["lr=1", "lr=2"]


@pytest.mark.parametrize("text", ["0-x", "5-2", "", "1,,2", "-3"])
def test_a_malformed_seed_range_is_refused(text):
    with pytest.raises(GanghwaError, match="is not a seed range"):
        parse_seeds(text)


@pytest.mark.parametrize("texts", [["lr"], ["lr=1,,2"], ["=1,2"], ["lr=1", "lr=2"]])
def test_a_malformed_grid_is_refused(texts):
    with pytest.raises(GanghwaError, match="--grid"):
        parse_grid(texts)


def test_no_variant_and_no_grid_is_one_default_variant():
    assert [v.name for v in variants([], [])] == ["default"]


def test_an_experiments_variants_stay_apart_even_with_the_same_config(tmp_path):
    """Two variants that resolve to the same settings are still two groups: pooling them
    would count every seed twice and narrow the interval."""
    (tmp_path / "manifest.json").write_text("{}")
    runs = [compare.RunData(tmp_path / "runs" / f"{v}-s{seed}", {"seed": seed, "lr": 1e-3},
                            1.0, [], {}) for v in ("a", "b") for seed in (0, 1)]
    groups = compare.group(runs)
    assert [(g.label, len(g.runs)) for g in groups] == [("a", 2), ("b", 2)]


def test_runs_of_other_algorithms_are_named_by_the_algorithm_then_by_their_own_choices():
    """REINFORCE, A2C and PPO have different fields (and other values of the shared ones);
    the groups are named reinforce, a2c and ppo, and two PPOs by what tells them apart."""
    def run(i, algo, **config):
        return compare.RunData(Path(f"r{i}"), {"seed": i, "algo": algo, "env_id": "CartPole-v1",
                                               **config}, 1.0, [], {})
    runs = [run(0, "reinforce", lr=1e-3, baseline=True), run(1, "a2c", lr=7e-4, gae_lambda=1.0),
            run(2, "ppo", lr=1e-3, gae_lambda=0.8), run(3, "ppo", lr=1e-3, gae_lambda=0.95),
            run(4, "ppo", lr=1e-3, gae_lambda=0.8)]
    groups = compare.group(runs)
    assert [(g.label, len(g.runs)) for g in groups] == [
        ("reinforce", 1), ("a2c", 1), ("ppo gae_lambda=0.8", 2), ("ppo gae_lambda=0.95", 1)]


def test_steps_to_threshold_iqm_counts_an_unsolved_seed_at_its_budget():
    """Steps of 8 seeds: 1000..6000 at the first evaluation ≥ 475, two never (budget 10k).
    Sorted: 1k 2k 3k 4k 5k 6k 10k 10k; the IQM is the mean of the middle four, 4500."""
    evals = [[(s, 500.0)] for s in (1000, 2000, 3000, 4000, 5000, 6000)] + \
        [[(5000, 100.0), (10_000, 200.0)]] * 2
    group = fake("a", [500.0] * 6 + [200.0] * 2, evals)
    for run in group.runs:
        run.config["total_steps"] = 10_000
    row = compare.statistics([group], 475.0, reps=2000)[0]
    assert row["steps_iqm"] == pytest.approx(4500.0)
    assert row["steps_low"] < 4500.0 < row["steps_high"] <= 10_000
    assert compare.statistics([group], None, reps=100)[0].get("steps_iqm") is None
