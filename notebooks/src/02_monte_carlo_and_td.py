# %% [markdown] lang="en"
# # 2. Monte Carlo, SARSA and Q-learning
#
# Without the model, the agent learns Q(s, a) from its own episodes, choosing ε-greedily:
#
# | method | update |
# |---|---|
# | Monte Carlo | $Q(s,a) \mathrel{+}= \alpha\,(G - Q(s,a))$ at the first visit, $G$ the return that followed |
# | SARSA | $Q(s,a) \mathrel{+}= \alpha\,(r + \gamma Q(s',a') - Q(s,a))$, $a'$ the action taken next |
# | Q-learning | $Q(s,a) \mathrel{+}= \alpha\,(r + \gamma \max_{a'} Q(s',a') - Q(s,a))$ |
#
# Two experiments:
#
# 1. **The cliff** (Sutton & Barto, Example 6.6): SARSA earns more *while learning* than
#    Q-learning, though Q-learning learns the better path: **Figure 6.4**.
# 2. **FrozenLake**: the three methods over 10 seeds, with an interquartile mean and its 95% CI.

# %% [markdown] lang="ko"
# # 2. 몬테카를로, SARSA, Q-러닝
#
# 모델이 없으면 에이전트는 ε-탐욕으로 행동하며 자기 에피소드로부터 Q(s, a)를 배웁니다.
#
# | 방법 | 갱신 |
# |---|---|
# | 몬테카를로 | 첫 방문에서 $Q(s,a) \mathrel{+}= \alpha\,(G - Q(s,a))$, $G$는 그 뒤에 받은 리턴 |
# | SARSA | $Q(s,a) \mathrel{+}= \alpha\,(r + \gamma Q(s',a') - Q(s,a))$, $a'$는 실제로 다음에 한 행동 |
# | Q-러닝 | $Q(s,a) \mathrel{+}= \alpha\,(r + \gamma \max_{a'} Q(s',a') - Q(s,a))$ |
#
# 실험은 두 가지입니다.
#
# 1. **절벽**(Sutton & Barto 예제 6.6): Q-러닝이 더 좋은 경로를 배우지만, *학습하는 동안* 받는
#    보상은 SARSA가 더 많습니다. **그림 6.4**입니다.
# 2. **FrozenLake**: 세 방법을 시드 10개로 돌려 사분위 평균(IQM)과 95% 신뢰구간으로 비교합니다.

# %%
import matplotlib.pyplot as plt
import numpy as np

import ganghwa
from ganghwa.notebook import budget, quick
from ganghwa.run import read_progress

RUNS = "runs"

# %% [markdown] lang="en"
# ## The cliff
#
# `CliffWalking-v1` is a 4×12 grid. Each move costs −1; stepping onto the cliff along the bottom
# costs −100 and sends the agent back to the start. As in the book: ε = 0.1 throughout, γ = 1,
# and a constant step size α = 0.5 (the value of Shangtong Zhang's reproduction of the figure).
# We keep the first 500 episodes of each run and average over seeds.

# %% [markdown] lang="ko"
# ## 절벽
#
# `CliffWalking-v1`은 4×12 격자입니다. 한 번 움직일 때마다 −1이고, 아래쪽 절벽에 발을 디디면 −100을
# 받고 출발점으로 돌아갑니다. 책처럼 ε = 0.1을 끝까지 유지하고, γ = 1, 일정한 스텝 크기 α = 0.5
# (Shangtong Zhang이 그림을 재현한 값)를 씁니다. 각 실행의 처음 500 에피소드를 시드에 대해
# 평균합니다.

# %%
SEEDS = budget(10, 3)
EPISODES = 500
CLIFF = dict(steps=20_000, alpha=0.5, alpha_end=None, eps_start=0.1, eps_end=0.1, gamma=1.0,
             video=False, out=RUNS)
online = {}
cliff_runs = {}
for algo in ("sarsa", "q_learning"):
    returns = []
    for seed in range(SEEDS):
        run = ganghwa.train(algo, "CliffWalking-v1", seed=seed, **CLIFF)
        returns.append(read_progress(run.run.progress_path)["return"][:EPISODES])
        cliff_runs[algo] = run
    online[algo] = np.array(returns)  # (seeds, episodes): the return of each training episode
    print(f"{algo}: mean online return over episodes 100-500: {online[algo][:, 100:].mean():.1f}")

# %%
def smooth(x: np.ndarray, window: int = 10) -> np.ndarray:
    return np.convolve(x, np.ones(window) / window, mode="valid")


fig, ax = plt.subplots(figsize=(7, 4))
for algo, label in (("sarsa", "SARSA"), ("q_learning", "Q-learning")):
    ax.plot(smooth(online[algo].mean(axis=0)), label=label)
ax.set_ylim(-100, 0)
ax.set_xlabel("episode")
ax.set_ylabel("sum of rewards during episode")
ax.set_title(f"Figure 6.4 again: CliffWalking, ε = 0.1, mean of {SEEDS} seeds")
ax.legend()
plt.show()

# %% [markdown] lang="en"
# The check: after the first hundred episodes, SARSA's online return is above Q-learning's, as in
# Figure 6.4 (about −25 against −50 there).

# %% [markdown] lang="ko"
# 확인: 처음 100 에피소드가 지난 뒤에는 SARSA의 학습 중 리턴이 Q-러닝보다 높습니다. 그림 6.4와
# 같습니다(그림에서는 약 −25 대 −50).

# %%
sarsa_online = online["sarsa"][:, 100:].mean()
q_online = online["q_learning"][:, 100:].mean()
assert sarsa_online > q_online + 10, (sarsa_online, q_online)
assert -40 < sarsa_online < -15 and -70 < q_online < -35, (sarsa_online, q_online)
print(f"SARSA {sarsa_online:.1f} > Q-learning {q_online:.1f}, as in Figure 6.4")

# %% [markdown] lang="en"
# ### Why: the two paths
#
# Q-learning's target assumes the greedy action next, so it learns the shortest path along the
# edge of the cliff (−13 greedy), and its ε-greedy moves keep falling off it. SARSA's target
# includes the exploring moves it will really make, so it learns the safe path one row higher
# (−17 greedy). The greedy evaluation of each run's final table shows it; so do the arrows.

# %% [markdown] lang="ko"
# ### 이유: 두 경로
#
# Q-러닝의 목표값은 다음에 탐욕 행동을 한다고 가정하므로 절벽 가장자리를 따라가는 최단 경로
# (탐욕 리턴 −13)를 배우고, ε-탐욕 행동 때문에 계속 떨어집니다. SARSA의 목표값에는 실제로 할 탐험
# 행동이 들어가므로 한 줄 위의 안전한 경로(탐욕 리턴 −17)를 배웁니다. 각 실행의 최종 테이블을
# 탐욕적으로 평가한 값과 화살표가 이를 보여 줍니다.

# %%
for algo, run in cliff_runs.items():
    print(f"{algo}: greedy return {run.evaluation['mean']:.0f}")
cliff_runs["sarsa"].show().values()

# %%
cliff_runs["q_learning"].show().values()

# %% [markdown] lang="en"
# ## FrozenLake: Monte Carlo, SARSA and Q-learning over 10 seeds
#
# The 4×4 lake is slippery: a move goes where it was meant only a third of the time. The reward
# is 1 at the goal and 0 elsewhere, so the evaluation mean is the rate of reaching the goal (the
# optimum is about 0.74). `ganghwa.sweep` trains every seed as an ordinary run folder (two at a
# time here), and `ganghwa.show` of several experiments compares them: the IQM of the final
# evaluations with its 95% bootstrap CI, and the probability that a method beats the first.
# The tuned budget is 300k steps per run.

# %% [markdown] lang="ko"
# ## FrozenLake: 몬테카를로, SARSA, Q-러닝을 시드 10개로
#
# 4×4 호수는 미끄럽습니다. 의도한 방향으로 가는 것은 세 번에 한 번뿐입니다. 목표에 닿으면 보상이
# 1이고 나머지는 0이므로 평가 평균은 목표 도달률입니다(최적은 약 0.74). `ganghwa.sweep`은 시드마다
# 평범한 실행 폴더를 만들어 학습하고(여기서는 두 개씩 동시에), 여러 실험을 `ganghwa.show`에 넘기면
# 비교합니다. 최종 평가의 IQM과 95% 부트스트랩 신뢰구간, 그리고 첫 방법보다 나을 확률입니다. 튜닝된
# 예산은 실행마다 30만 스텝입니다.

# %%
lake = {algo: ganghwa.sweep(algo, "FrozenLake-v1", seeds=f"0-{budget(9, 1)}",
                            steps=budget(300_000, 3_000), workers=2, name=f"lake-{algo}",
                            out="experiments")
        for algo in ("mc", "sarsa", "q_learning")}
comparison = ganghwa.show(*(sweep.root for sweep in lake.values()))
comparison

# %%
iqm = {row["group"]: row["iqm"] for row in comparison.rows}
print(iqm)
if not quick():  # at the full budget every method reaches the goal most times
    assert min(iqm.values()) > 0.5, iqm

# %% [markdown] lang="en"
# ## What to try
#
# - Expected SARSA: `ganghwa.train("expected_sarsa", "CliffWalking-v1", ...)`, in the cliff loop.
# - Lower ε over time (`eps_end=0.0`): then SARSA and Q-learning converge to the same path.
# - `FrozenLake8x8-v1`, or `env_kwargs={"is_slippery": False}`.

# %% [markdown] lang="ko"
# ## 더 해 볼 것
#
# - Expected SARSA: 절벽 반복문에 `ganghwa.train("expected_sarsa", "CliffWalking-v1", ...)`를 넣어 보세요.
# - ε를 점점 줄이면(`eps_end=0.0`) SARSA와 Q-러닝이 같은 경로로 수렴합니다.
# - `FrozenLake8x8-v1`, 또는 `env_kwargs={"is_slippery": False}`.
