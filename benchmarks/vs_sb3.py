"""ganghwa against Stable-Baselines3, side by side on one machine, alternating by seed.

SB3 keeps torch's default thread count (all cores), which is its faster setting here; ganghwa
chooses its own (runtime.set_threads). Each training runs in a fresh process, one at a
time: ganghwa seed 0, SB3 seed 0, ganghwa seed 1, ... so that load on a shared machine falls
on both libraries alike. Both are evaluated by the same code: 20 greedy episodes seeded
seed+100000..., "solved" means a mean >= the threshold.

    python benchmarks/vs_sb3.py --env CartPole-v1 --seeds 5             # solve race
    python benchmarks/vs_sb3.py --env CartPole-v1 --mode raw --steps 20000  # steps/s
    python benchmarks/vs_sb3.py --env LunarLander-v3 --seeds 5 --libs ganghwa
    python benchmarks/vs_sb3.py --env LunarLander-v3 --seeds 10 --steps 100000 --set n_step=3
    python benchmarks/vs_sb3.py --algo a2c --seeds 5                  # A2C time to solve
    python benchmarks/vs_sb3.py --algo ppo --seeds 5                  # PPO time to solve

A2C and PPO run RL-Zoo's CartPole recipes on both sides (a2c.yml: 8 envs, SB3's defaults;
ppo.yml: 8 envs × 32 steps, 20 epochs of 256, γ 0.98, λ 0.8, lin_0.001, lin_0.2) with
RL-Zoo's budgets (500k, 100k), and both stop at the same rule: a 20-episode greedy evaluation
every 10k env steps (seeds seed+10000...), stopping once its mean reaches 500, that is once all
20 episodes balance to the time limit (as the tuned DQN preset stops). A stop at 475 let
policies through on a lucky evaluation: on 10 seeds, 5 of ganghwa's A2C stops and 2 of SB3's
then failed the fresh check below. Wall time includes the evaluations.

Needs the bench extra: pip install -e ".[bench]".
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import time
from pathlib import Path
from typing import Any

# RL-Zoo's tuned DQN hyperparameters (rl-baselines3-zoo hyperparams/dqn.yml).
RL_ZOO = {
    "CartPole-v1": dict(total=50_000, learning_rate=2.3e-3, batch_size=64, buffer_size=100_000,
                        learning_starts=1000, gamma=0.99, target_update_interval=10,
                        train_freq=256, gradient_steps=128, exploration_fraction=0.16,
                        exploration_final_eps=0.04, net_arch=[256, 256]),
    "LunarLander-v3": dict(total=100_000, learning_rate=6.3e-4, batch_size=128,
                           buffer_size=50_000, learning_starts=0, gamma=0.99,
                           target_update_interval=250, train_freq=4, gradient_steps=-1,
                           exploration_fraction=0.12, exploration_final_eps=0.1,
                           net_arch=[256, 256]),
}
THRESHOLD = {"CartPole-v1": 475.0, "LunarLander-v3": 200.0}
# The identical configuration for the raw-speed comparison (same work per env step).
RAW = dict(learning_rate=1e-3, batch_size=128, buffer_size=100_000, learning_starts=1000,
           gamma=0.99, target_update_interval=1000, train_freq=4, gradient_steps=1,
           exploration_fraction=0.1, exploration_final_eps=0.05, net_arch=[256, 256])
EVAL_EPISODES, EVAL_SEED = 20, 100_000
# The race to solve for the on-policy methods: the same evaluation and stop rule on both sides.
PG_BUDGET = {"a2c": 500_000, "ppo": 100_000}
PG_EVAL_EVERY, PG_EVAL_SEED, PG_STOP = 10_000, 10_000, 500.0


def run_ganghwa_pg(algo: str, env_id: str, seed: int, steps: int | None) -> dict[str, Any]:
    from ganghwa.config import apply, preset_values
    from ganghwa.registry import get_algo

    entry = get_algo(algo)
    values, _ = preset_values("tuned", algo, env_id)
    cfg = apply(entry.config(), {**values, "seed": seed, "env_id": env_id,
                                 "total_steps": steps or PG_BUDGET[algo],
                                 "eval_every": PG_EVAL_EVERY, "eval_episodes": EVAL_EPISODES,
                                 "stop_at": PG_STOP})
    agent = entry.agent_class()(config=cfg)  # A2C, or PPO (A2C's loop with PPOConfig)
    start = time.perf_counter()  # learn() only, as for SB3 below (and as SB3's fps counts)
    agent.learn(cfg.total_steps, progress=False)
    seconds = time.perf_counter() - start
    return _finish("ganghwa", env_id, seed, agent.step, seconds, agent.policy)


def run_sb3_pg(algo: str, env_id: str, seed: int, steps: int | None) -> dict[str, Any]:
    import numpy as np
    from stable_baselines3 import A2C as SB3A2C
    from stable_baselines3 import PPO as SB3PPO
    from stable_baselines3.common.callbacks import BaseCallback
    from stable_baselines3.common.env_util import make_vec_env

    from ganghwa.evaluation import evaluate

    class StopWhenSolved(BaseCallback):
        """ganghwa's periodic evaluation and stop rule, applied to the SB3 model."""

        def _on_step(self) -> bool:
            every, n = PG_EVAL_EVERY, self.training_env.num_envs
            if self.num_timesteps // every == (self.num_timesteps - n) // every:
                return True
            mean = evaluate(policy, env_id, EVAL_EPISODES, seed + PG_EVAL_SEED).mean
            return mean < PG_STOP

    envs = make_vec_env(env_id, n_envs=8, seed=seed)
    if algo == "a2c":  # RL-Zoo's a2c.yml for CartPole-v1: n_envs 8, the rest SB3's defaults
        model: Any = SB3A2C("MlpPolicy", envs, ent_coef=0.0, seed=seed, device="cpu", verbose=0)
    else:  # RL-Zoo's ppo.yml for CartPole-v1; lin_X is progress_remaining * X
        model = SB3PPO("MlpPolicy", envs, n_steps=32, batch_size=256, gae_lambda=0.8,
                       gamma=0.98, n_epochs=20, ent_coef=0.0,
                       learning_rate=lambda remaining: remaining * 1e-3,
                       clip_range=lambda remaining: remaining * 0.2, seed=seed, device="cpu",
                       verbose=0)

    def policy(obs: np.ndarray) -> np.ndarray:
        return model.predict(obs, deterministic=True)[0]

    start = time.perf_counter()
    model.learn(steps or PG_BUDGET[algo], callback=StopWhenSolved())
    seconds = time.perf_counter() - start
    return _finish("sb3", env_id, seed, model.num_timesteps, seconds, policy)


def run_ganghwa(env_id: str, seed: int, mode: str, steps: int | None,
                overrides: tuple[str, ...] = (), preset: str = "tuned") -> dict[str, Any]:
    from ganghwa import DQN, DQNConfig
    from ganghwa.config import apply, parse_set, preset_values

    if mode == "raw":
        hp = dict(total_steps=steps, hidden=(256, 256), lr=RAW["learning_rate"],
                  batch_size=RAW["batch_size"], buffer_size=RAW["buffer_size"],
                  learning_starts=RAW["learning_starts"], gamma=RAW["gamma"],
                  target_update_interval=RAW["target_update_interval"], train_freq=4,
                  gradient_steps=1, eps_duration=int(0.1 * steps), eps_end=0.05,
                  double=False, eval_every=0, max_grad_norm=10.0)
        cfg = apply(DQNConfig(), {**hp, "seed": seed, "env_id": env_id})
    else:
        values, _ = preset_values(preset, "dqn", env_id)
        cfg = apply(DQNConfig(), {**values, "seed": seed, "env_id": env_id})
        if steps:
            cfg = apply(cfg, {"total_steps": steps})
        cfg = apply(cfg, parse_set(list(overrides)))  # ganghwa's side only (--set)
        cfg.validate()
    model = DQN(env_id, config=cfg)
    start = time.perf_counter()  # learn() only, as for SB3 below (and as SB3's fps counts)
    model.learn(cfg.total_steps)
    seconds = time.perf_counter() - start
    # The final model is evaluated: when the run stopped early it is the one that reached
    # stop_at; otherwise no best-model selection is used, as for SB3.
    return _finish("ganghwa", env_id, seed, model.step, seconds, model.policy)


def run_sb3(env_id: str, seed: int, mode: str, steps: int | None) -> dict[str, Any]:
    import gymnasium as gym
    import numpy as np
    from stable_baselines3 import DQN as SB3DQN

    hp = dict(RAW if mode == "raw" else RL_ZOO[env_id])
    total = steps or int(hp.pop("total", 0)) or 50_000
    hp.pop("total", None)
    net_arch = hp.pop("net_arch")
    model = SB3DQN("MlpPolicy", gym.make(env_id), policy_kwargs={"net_arch": net_arch},
                   seed=seed, device="cpu", verbose=0, **hp)
    start = time.perf_counter()
    model.learn(total)
    seconds = time.perf_counter() - start

    def policy(obs: np.ndarray) -> np.ndarray:
        return model.predict(obs, deterministic=True)[0]

    return _finish("sb3", env_id, seed, total, seconds, policy)


def _finish(lib: str, env_id: str, seed: int, steps: int, seconds: float, policy: Any
            ) -> dict[str, Any]:
    from ganghwa.evaluation import evaluate

    result = evaluate(policy, env_id, EVAL_EPISODES, seed + EVAL_SEED)
    return {"lib": lib, "env": env_id, "seed": seed, "steps": steps, "seconds": seconds,
            "steps_per_s": steps / seconds, "eval_mean": result.mean,
            "solved": result.mean >= THRESHOLD.get(env_id, float("inf"))}


def _job(args: tuple[str, str, str, int, str, int | None, tuple[str, ...], str]
         ) -> dict[str, Any]:
    algo, lib, env_id, seed, mode, steps, overrides, preset = args
    if algo != "dqn":
        return (run_ganghwa_pg if lib == "ganghwa" else run_sb3_pg)(algo, env_id, seed, steps)
    if lib == "ganghwa":
        return run_ganghwa(env_id, seed, mode, steps, overrides, preset)
    return run_sb3(env_id, seed, mode, steps)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--algo", choices=("dqn", *PG_BUDGET), default="dqn")
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--first-seed", type=int, default=0,
                        help="the first seed (to go on with a stopped race)")
    parser.add_argument("--mode", choices=("solve", "raw"), default="solve")
    parser.add_argument("--steps", type=int, help="override the step budget")
    parser.add_argument("--libs", default="ganghwa,sb3")
    parser.add_argument("--out", default="bench-out")
    parser.add_argument("--preset", default="tuned", help="ganghwa's DQN preset (solve mode)")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="ganghwa's DQN settings over the preset (solve mode; SB3 keeps "
                             "RL-Zoo's)")
    parser.add_argument("--summarize", nargs="+", metavar="LOG",
                        help="print the table of these .jsonl logs (one race stopped and "
                             "continued with --first-seed) instead of running")
    args = parser.parse_args()
    if args.summarize:
        summarize([json.loads(line) for log in args.summarize
                   for line in Path(log).read_text().splitlines() if line.strip()])
        return
    if (args.set or args.preset != "tuned") and (args.algo != "dqn" or args.mode != "solve"):
        parser.error("--set and --preset apply to the DQN solve race only")
    if args.set or args.preset != "tuned":  # one line now, not a traceback from a worker
        from ganghwa.config import DQNConfig, apply, parse_set, preset_values
        from ganghwa.errors import GanghwaError
        try:
            values, _ = preset_values(args.preset, "dqn", args.env)
            apply(apply(DQNConfig(), values), parse_set(args.set)).validate()
        except GanghwaError as e:
            parser.error(str(e))
    libs = args.libs.split(",")
    jobs = [(args.algo, lib, args.env, seed, args.mode, args.steps, tuple(args.set),
             args.preset) for seed in range(args.first_seed, args.first_seed + args.seeds)
            for lib in libs]
    out = Path(args.out)
    out.mkdir(exist_ok=True)
    log = out / f"{args.algo}-{args.env}-{args.mode}-{time.strftime('%Y%m%d-%H%M%S')}.jsonl"
    results = []
    ctx = mp.get_context("spawn")
    for job in jobs:  # one fresh process per training, strictly alternating
        with ctx.Pool(1) as pool:
            result = pool.apply(_job, (job,))
        results.append(result)
        print(json.dumps(result), flush=True)
        with log.open("a") as f:
            f.write(json.dumps(result) + "\n")
    print(f"\n{args.algo} on {args.env}, mode {args.mode}, {args.seeds} seeds (raw lines: {log})")
    summarize(results)


def summarize(results: list[dict[str, Any]]) -> None:
    """The table and the wall-time ratio with its CI, from result lines (this run's, or the
    logs given to --summarize)."""
    libs = list(dict.fromkeys(r["lib"] for r in results))
    print("| library | seeds solved | median wall time (s) | median env steps/s | eval means |")
    print("|---|---|---|---|---|")
    medians = {}
    for lib in libs:
        rows = [r for r in results if r["lib"] == lib]
        medians[lib] = statistics.median(r["seconds"] for r in rows)
        sps = statistics.median(r["steps_per_s"] for r in rows)
        means = ", ".join(f"{r['eval_mean']:.0f}" for r in rows)
        print(f"| {lib} | {sum(r['solved'] for r in rows)}/{len(rows)} | {medians[lib]:.1f} | "
              f"{sps:,.0f} | {means} |")
    if "ganghwa" in medians and "sb3" in medians:
        low, high = ratio_ci(results)
        print(f"\nwall-time ratio ganghwa/sb3 (of the medians): "
              f"{medians['ganghwa'] / medians['sb3']:.2f}, 95% CI [{low:.2f}, {high:.2f}] "
              f"(bootstrap over seeds); median env steps ganghwa "
              f"{statistics.median(r['steps'] for r in results if r['lib'] == 'ganghwa'):,.0f}"
              f", sb3 {statistics.median(r['steps'] for r in results if r['lib'] == 'sb3'):,.0f}")


def ratio_ci(results: list[dict[str, Any]]) -> tuple[float, float]:
    """The 95% CI of median(ganghwa seconds) / median(SB3 seconds), resampling each side's seeds
    (scipy's BCa bootstrap, 10,000 resamples): how much of the ratio is the seeds' luck."""
    import numpy as np
    from scipy.stats import bootstrap

    times = [np.array([r["seconds"] for r in results if r["lib"] == lib]) for lib in ("ganghwa",
                                                                                   "sb3")]
    ci = bootstrap(times, lambda g, s, axis=-1: np.median(g, axis=axis) / np.median(s, axis=axis),
                   n_resamples=10_000, random_state=0).confidence_interval
    return float(ci.low), float(ci.high)


if __name__ == "__main__":
    main()
