# %% [markdown] lang="en"
# # 5. REINFORCE, A2C, PPO and A3C
#
# Instead of values, learn the policy $\pi_\theta(a|s)$ itself, by gradient ascent on the
# expected return:
#
# $$\nabla_\theta J = \mathbb{E}\big[\nabla_\theta \log \pi_\theta(a_t|s_t)\, \hat A_t\big]$$
#
# The methods differ in $\hat A_t$, the estimate of how much better $a_t$ was than usual, and in
# how they collect data:
#
# | method | $\hat A_t$ | data |
# |---|---|---|
# | REINFORCE | $G_t - b(s_t)$, the Monte Carlo return less a learned baseline | whole episodes |
# | A2C | GAE from a critic $V(s)$ | short rollouts of 8 envs in step |
# | PPO | GAE, with a clipped probability ratio | rollouts reused for several epochs |
# | A3C | A2C's gradient | workers that update one shared network without waiting |
#
# First the two estimates, checked by hand; then each method on CartPole, over 10 seeds.

# %% [markdown] lang="ko"
# # 5. REINFORCE, A2C, PPO, A3C
#
# 가치 대신 정책 $\pi_\theta(a|s)$ 자체를 배웁니다. 기대 리턴에 대해 경사 상승을 합니다.
#
# $$\nabla_\theta J = \mathbb{E}\big[\nabla_\theta \log \pi_\theta(a_t|s_t)\, \hat A_t\big]$$
#
# 방법마다 $\hat A_t$(행동 $a_t$가 평소보다 얼마나 좋았는지의 추정)와 데이터를 모으는 방식이
# 다릅니다.
#
# | 방법 | $\hat A_t$ | 데이터 |
# |---|---|---|
# | REINFORCE | 몬테카를로 리턴에서 학습한 기준선을 뺀 $G_t - b(s_t)$ | 에피소드 전체 |
# | A2C | 비평가 $V(s)$로 구한 GAE | 환경 8개를 함께 돌린 짧은 롤아웃 |
# | PPO | GAE와 잘라 낸(clipped) 확률비 | 롤아웃을 여러 에포크 재사용 |
# | A3C | A2C의 그래디언트 | 기다리지 않고 하나의 공유 신경망을 갱신하는 워커들 |
#
# 먼저 두 추정값을 손으로 확인하고, 각 방법을 CartPole에서 시드 10개로 돌립니다.

# %%
import numpy as np

import ganghwa
from ganghwa.buffers import compute_gae, discounted_returns
from ganghwa.notebook import budget, quick

RUNS = "runs"
SEEDS = f"0-{budget(9, 1)}"

# %% [markdown] lang="en"
# ## Returns and GAE, by hand
#
# Three rewards of 1 with γ = 0.9, the episode ending after the third:
# $G_2 = 1$, $G_1 = 1 + 0.9 = 1.9$, $G_0 = 1 + 0.9 \cdot 1.9 = 2.71$.
#
# GAE with a critic that says $V = 0.5$ everywhere, λ = 0.5: the TD errors are
# $\delta_t = r_t + \gamma V(s_{t+1}) - V(s_t) = 1 + 0.45 - 0.5 = 0.95$ for $t = 0, 1$ and
# $\delta_2 = 1 - 0.5 = 0.5$ (terminal), and $A_t = \delta_t + \gamma\lambda A_{t+1}$:
# $A_2 = 0.5$, $A_1 = 0.95 + 0.45 \cdot 0.5 = 1.175$, $A_0 = 0.95 + 0.45 \cdot 1.175 = 1.47875$.

# %% [markdown] lang="ko"
# ## 리턴과 GAE를 손으로
#
# γ = 0.9에서 보상 1을 세 번 받고 세 번째에서 에피소드가 끝나면
# $G_2 = 1$, $G_1 = 1 + 0.9 = 1.9$, $G_0 = 1 + 0.9 \cdot 1.9 = 2.71$입니다.
#
# 모든 곳에서 $V = 0.5$라고 말하는 비평가와 λ = 0.5로 GAE를 구하면, TD 오차는 $t = 0, 1$에서
# $\delta_t = r_t + \gamma V(s_{t+1}) - V(s_t) = 1 + 0.45 - 0.5 = 0.95$, 종료인 $t = 2$에서
# $\delta_2 = 1 - 0.5 = 0.5$이고, $A_t = \delta_t + \gamma\lambda A_{t+1}$이므로
# $A_2 = 0.5$, $A_1 = 0.95 + 0.45 \cdot 0.5 = 1.175$, $A_0 = 0.95 + 0.45 \cdot 1.175 = 1.47875$입니다.

# %%
rewards = np.array([1.0, 1.0, 1.0])
ends = np.array([False, False, True])
G = discounted_returns(rewards, ends, gamma=0.9)
print("returns:", G)
assert np.allclose(G, [2.71, 1.9, 1.0])

column = rewards[:, None]  # (T, n_envs): one env
values = np.full((3, 1), 0.5)
advantages, targets = compute_gae(column, values, next_values=np.full((3, 1), 0.5),
                                  terminated=ends[:, None].astype(float),
                                  ends=ends[:, None].astype(float), gamma=0.9, lam=0.5)
print("advantages:", advantages[:, 0])
assert np.allclose(advantages[:, 0], [1.47875, 1.175, 0.5])

# %% [markdown] lang="en"
# ## Three methods over 10 seeds
#
# Each with its tuned CartPole recipe: REINFORCE with a learned baseline; A2C and PPO with
# RL-Zoo's recipes, which stop once a 20-episode greedy evaluation is perfect (500 on every
# episode). `ganghwa.show` of the three sweeps groups the runs by what differs in their
# configs, here the algorithm.

# %% [markdown] lang="ko"
# ## 세 방법을 시드 10개로
#
# 각각 튜닝된 CartPole 설정을 씁니다. REINFORCE는 학습한 기준선과 함께, A2C와 PPO는 RL-Zoo의
# 설정으로 돌리며 20 에피소드 탐욕 평가가 완벽하면(모든 에피소드에서 500) 멈춥니다. 세 스윕을
# `ganghwa.show`에 넘기면 설정에서 다른 점, 여기서는 알고리즘으로 실행을 묶습니다.

# %%
sweeps = {algo: ganghwa.sweep(algo, "CartPole-v1", seeds=SEEDS, workers=2,
                              steps=budget(None, 2_048), name=f"pg-{algo}")
          for algo in ("reinforce", "a2c", "ppo")}
comparison = ganghwa.show(*(s.root for s in sweeps.values()))
comparison

# %%
rows = {row["group"]: row for row in comparison.rows}
for group, row in rows.items():
    print(f"{group}: {row['solved']}/{row['seeds']} seeds at {comparison.threshold:g} or more, "
          f"IQM {row['iqm']:.1f}")
if not quick():
    assert all(row["solved"] >= 8 for row in rows.values()), rows

# %% [markdown] lang="en"
# ## A3C: asynchronous workers
#
# Two worker processes each play their own CartPole, compute A2C's gradient on 100-step
# rollouts, and apply it to one network in shared memory without waiting for the other
# (Hogwild). `backend="ray"` runs the same workers as Ray actors.

# %% [markdown] lang="ko"
# ## A3C: 비동기 워커
#
# 워커 프로세스 두 개가 각자 CartPole을 플레이하며 100 스텝 롤아웃으로 A2C의 그래디언트를 구하고,
# 서로 기다리지 않고 공유 메모리의 신경망 하나에 적용합니다(Hogwild). `backend="ray"`이면 같은 워커가
# Ray 액터로 돌아갑니다.

# %%
a3c = ganghwa.train("a3c", "CartPole-v1", workers=2, steps=budget(300_000, 2_000), out=RUNS)
a3c.show()

# %% [markdown] lang="en"
# ## What to try
#
# - PPO on LunarLander: `ganghwa.train("ppo", "LunarLander-v3")` (500k steps, 10 epochs a rollout).
# - GAE's λ: `variants=["lam0.8:gae_lambda=0.8", "lam0.95:gae_lambda=0.95"]` in a PPO sweep.
# - `ganghwa report experiments/pg-ppo experiments/pg-a2c --out pg.html`: the lab report.

# %% [markdown] lang="ko"
# ## 더 해 볼 것
#
# - LunarLander의 PPO: `ganghwa.train("ppo", "LunarLander-v3")`(50만 스텝, 롤아웃마다 10 에포크).
# - GAE의 λ: PPO 스윕에 `variants=["lam0.8:gae_lambda=0.8", "lam0.95:gae_lambda=0.95"]`.
# - `ganghwa report experiments/pg-ppo experiments/pg-a2c --out pg.html`: 실험 보고서.
