"""A3C env steps/s with 1 and 2 workers, for each backend, alternating in one run.

    python benchmarks/a3c_scaling.py                      # both backends, 150k steps, 2 rounds
    python benchmarks/a3c_scaling.py --backends local --steps 300000 --rounds 3
    python benchmarks/a3c_scaling.py --env LunarLander-v3 --steps 100000

No evaluation during training (eval_every 0), so the coordinator only logs. Steps/s is all
env steps over the whole `learn` call, worker start-up included (a worker imports torch and
gymnasium: about 2 s, spent in parallel). The ray backend starts one local Ray instance with
num_cpus 2 for the whole benchmark, as a test would; needs the distributed extra.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import time

from ganghwa.algos.a3c import A3C


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backends", nargs="+", default=["local", "ray"])
    parser.add_argument("--env", default="CartPole-v1")
    parser.add_argument("--steps", type=int, default=150_000)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="extra A3C settings, e.g. n_steps=50")
    args = parser.parse_args()
    from ganghwa.config import parse_set

    extra = parse_set(args.set)
    if "ray" in args.backends:
        import ray

        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    rates: dict[tuple[str, int], list[float]] = {}
    learner: dict[tuple[str, int], list[float]] = {}
    for backend in args.backends:
        for _ in range(args.rounds):
            for workers in (1, 2):
                agent = A3C(args.env, workers=workers, backend=backend, eval_every=0,
                            seed=0, **extra)
                cpu = resource.getrusage(resource.RUSAGE_SELF)
                start = time.perf_counter()
                agent.learn(args.steps)
                seconds = time.perf_counter() - start
                now = resource.getrusage(resource.RUSAGE_SELF)
                # The coordinator's own CPU time per gradient: what caps one learner's rate.
                per_update = ((now.ru_utime + now.ru_stime - cpu.ru_utime - cpu.ru_stime)
                              / max(agent.updates, 1))
                rate = agent.step / seconds
                rates.setdefault((backend, workers), []).append(rate)
                learner.setdefault((backend, workers), []).append(per_update)
                print(f"{backend} workers={workers}: {rate:,.0f} env steps/s, "
                      f"{agent.updates / seconds:,.0f} gradients/s, coordinator CPU "
                      f"{per_update * 1e6:,.0f} µs per gradient", flush=True)
    print(f"\nA3C on {args.env}, {args.steps} steps per run {extra or ''}")
    print("| backend | 1 worker (steps/s) | 2 workers (steps/s) | ratio | coordinator CPU per "
          "gradient, 2 workers |")
    print("|---|---|---|---|---|")
    for backend in args.backends:
        one = statistics.median(rates[(backend, 1)])
        two = statistics.median(rates[(backend, 2)])
        cost = statistics.median(learner[(backend, 2)]) * 1e6
        print(f"| {backend} | {one:,.0f} | {two:,.0f} | {two / one:.2f}x | {cost:,.0f} µs |")


if __name__ == "__main__":
    main()
