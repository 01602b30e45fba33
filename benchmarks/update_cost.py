"""Microseconds per DQN gradient step: ManualBackprop against autograd, in one process; and
(--switches) the cost of each of DQN's switches, Rainbow's parts among them.

    python benchmarks/update_cost.py                  # 256-256, batch 128, torch's threads
    python benchmarks/update_cost.py --threads 1 --hidden 128 128
    python benchmarks/update_cost.py --switches       # plain, +PER, +n-step, +C51, ...

Both paths share everything else (sampling, clipping, fused Adam); the autograd path is the
one `--set compile=true` uses, without compiling. They alternate in rounds so that noise from
the shared machine hits both alike.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np
import torch

from ganghwa import DQN

SWITCHES = {
    "plain (fast path)": {},
    "plain, autograd": {"fast_path": False},
    "+dueling": {"dueling": True},
    "+PER": {"prioritized": True},
    "+n-step 3": {"n_step": 3},
    "+C51 (51 atoms)": {"distributional": True},
    "+noisy": {"noisy": True},
    "all (Rainbow)": {"prioritized": True, "n_step": 3, "distributional": True, "noisy": True,
                      "dueling": True},
}


def filled(settings: dict, args: argparse.Namespace) -> DQN:
    """A DQN with 10,000 random CartPole-shaped transitions in its memory (priorities and
    n-step discounts set as its own storing would set them)."""
    model = DQN("CartPole-v1", hidden=tuple(args.hidden), batch_size=args.batch,
                threads=args.threads, max_grad_norm=10.0, device="cpu", **settings)
    rng = np.random.default_rng(0)
    n = 10_000
    extra = {"discounts": np.full(n, 0.99**3, dtype=np.float32)} if model.n_step_window else {}
    if model.priorities is not None:
        model.priorities.added(model.replay_buffer.slots(n))
    model.replay_buffer.add(rng.standard_normal((n, 4), dtype=np.float32),
                            rng.integers(0, 2, n), rng.standard_normal(n, dtype=np.float32),
                            rng.standard_normal((n, 4), dtype=np.float32),
                            (rng.random(n) < 0.05).astype(np.float32), **extra)
    return model


def microseconds_per_update(model: DQN, updates: int) -> float:
    """After 50 warm-up updates, the mean time of `updates` more."""
    for _ in range(50):
        model.update()
    start = time.perf_counter()
    for _ in range(updates):
        model.update()
    return (time.perf_counter() - start) / updates * 1e6


def switch_costs(args: argparse.Namespace) -> None:
    models = {name: filled(settings, args) for name, settings in SWITCHES.items()}
    timings: dict[str, list[float]] = {name: [] for name in models}
    for _ in range(args.rounds):
        for name, model in models.items():
            timings[name].append(microseconds_per_update(model, args.updates))
    base = statistics.median(timings["plain (fast path)"])
    print(f"hidden {args.hidden}, batch {args.batch}, {torch.get_num_threads()} thread(s), "
          f"{args.rounds} alternating rounds of {args.updates} updates")
    print("| switches | path | µs per update (median) | × plain |")
    print("|---|---|---|---|")
    for name, values in timings.items():
        path = "autograd" if models[name].fast_path_off else "fast path"
        median = statistics.median(values)
        print(f"| {name} | {path} | {median:.0f} | {median / base:.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--hidden", type=int, nargs="+", default=[256, 256])
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--threads", type=int, default=0, help="0: ganghwa's own choice")
    parser.add_argument("--updates", type=int, default=1000, help="per round")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--switches", action="store_true",
                        help="time each switch of the one DQN instead (alternating rounds)")
    args = parser.parse_args()
    if args.switches:
        return switch_costs(args)
    model = filled({"double": False}, args)
    manual = model._backprop  # None makes update() take autograd's path (uncompiled)
    assert manual is not None, model.fast_path_off
    timings: dict[str, list[float]] = {"manual": [], "autograd": []}
    for _ in range(args.rounds):
        for name in timings:
            model._backprop = manual if name == "manual" else None
            timings[name].append(microseconds_per_update(model, args.updates))
    print(f"hidden {args.hidden}, batch {args.batch}, {torch.get_num_threads()} thread(s)")
    for name, values in timings.items():
        print(f"{name:9s} median {statistics.median(values):6.0f} µs per update "
              f"(rounds: {', '.join(f'{v:.0f}' for v in values)})")


if __name__ == "__main__":
    main()
