# %% [markdown] lang="en"
# # 1. MDPs, the Q-table and the grid world: dynamic programming
#
# When the model of the world is known — for each state $s$ and action $a$, the probability of
# each next state and its reward — the value of a policy can be computed, not learned. This
# chapter does it three ways with ganghwa:
#
# 1. **Policy evaluation** of the random policy on Sutton & Barto's 4×4 grid (Example 4.1),
#    sweep by sweep, reproducing **Figure 4.1** exactly.
# 2. **Policy iteration and value iteration** on the lecture's 5×5 grid world with traps.
# 3. **RoadTrip**: Seoul to Busan, where the road that looks shorter is not.
#
# Every env here follows Gymnasium's toy-text convention, `P[s][a] = [(prob, next_state, reward,
# terminated), ...]`, so the same code solves FrozenLake or your own grid.

# %% [markdown] lang="ko"
# # 1. MDP, Q-테이블, 그리드 월드: 동적 계획법
#
# 환경의 모델, 즉 상태 $s$에서 행동 $a$를 했을 때 다음 상태와 보상이 나올 확률을 안다면 정책의
# 가치는 학습하지 않고 계산할 수 있습니다. 이 장에서는 ganghwa로 세 가지를 해 봅니다.
#
# 1. Sutton & Barto의 4×4 격자(예제 4.1)에서 무작위 정책을 **정책 평가**합니다. 스윕을 한 번씩
#    반복하며 **그림 4.1**의 값을 그대로 재현합니다.
# 2. 함정이 있는 강의의 5×5 그리드 월드에서 **정책 반복과 가치 반복**을 합니다.
# 3. **RoadTrip**: 서울에서 부산까지, 가까워 보이는 길이 실제로는 더 먼 문제입니다.
#
# 여기의 환경은 모두 Gymnasium toy-text의 규약 `P[s][a] = [(확률, 다음 상태, 보상, 종료 여부), ...]`
# 을 따르므로, 같은 코드로 FrozenLake나 직접 만든 격자도 풀 수 있습니다.

# %%
import gymnasium as gym
import matplotlib.pyplot as plt
import numpy as np

import ganghwa
from ganghwa.algos.tabular import model_arrays, q_from_v

RUNS = "runs"  # every run folder of this notebook goes here

# %% [markdown] lang="en"
# ## Sutton & Barto's 4×4 grid
#
# Two terminal corners (`G`), fourteen other cells, four moves; a move off the grid leaves the
# agent where it is. **Every** transition gives reward −1, including the last one, and γ = 1: the
# value of a cell is minus the expected number of moves to a corner. ganghwa's GridWorld takes the
# map as rows (`S` only marks where episodes start; it is an ordinary cell) and the rewards as
# keywords.

# %% [markdown] lang="ko"
# ## Sutton & Barto의 4×4 격자
#
# 종료 칸(`G`)이 두 모서리에 있고, 나머지 칸이 14개, 행동은 상하좌우 네 가지입니다. 격자 밖으로
# 나가려 하면 제자리에 머뭅니다. 마지막 이동까지 **모든** 전이의 보상이 −1이고 γ = 1이므로, 한
# 칸의 가치는 모서리까지 걸리는 이동 횟수 기댓값에 음수를 붙인 값입니다. ganghwa의 GridWorld는
# 지도를 문자열 행으로 받고(`S`는 에피소드가 시작하는 칸일 뿐 평범한 칸입니다) 보상은 키워드로
# 받습니다.

# %%
SUTTON_GRID = dict(desc="GS../..../..../...G", step_reward=-1.0, goal_reward=-1.0)
env = gym.make("ganghwa/GridWorld-v0", render_mode="ansi", **SUTTON_GRID)
env.reset(seed=0)
print(env.render(), env.observation_space, env.action_space)
T, R = model_arrays(env.unwrapped.P, 16, 4)  # T[s, a, s'] and the expected reward R[s, a]
print("R[s=1] (left, down, right, up):", R[1])

# %% [markdown] lang="en"
# ## Policy evaluation, one sweep at a time
#
# The Bellman expectation backup for the uniform random policy π(a|s) = 1/4:
#
# $$V_{k+1}(s) = \sum_a \pi(a|s) \Big( R(s,a) + \gamma \sum_{s'} T(s,a,s')\, V_k(s') \Big)$$
#
# `q_from_v` is the bracket, for every state and action at once. Below are $V_k$ for the values
# of $k$ that Figure 4.1 prints, rounded as the book rounds them.

# %% [markdown] lang="ko"
# ## 정책 평가, 스윕 한 번씩
#
# 균등 무작위 정책 π(a|s) = 1/4에 대한 벨만 기대 방정식의 백업입니다.
#
# $$V_{k+1}(s) = \sum_a \pi(a|s) \Big( R(s,a) + \gamma \sum_{s'} T(s,a,s')\, V_k(s') \Big)$$
#
# `q_from_v`가 괄호 안을 모든 상태와 행동에 대해 한 번에 계산합니다. 아래는 그림 4.1이 보여 주는
# $k$ 값들의 $V_k$를 책과 같은 방식으로 반올림한 것입니다.

# %%
def as_printed(values: np.ndarray) -> np.ndarray:
    """One decimal, halves rounded up, as the book prints (-1.75 as -1.7)."""
    return np.floor(values.reshape(4, 4) * 10 + 0.5) / 10


random_policy = np.full((16, 4), 0.25)
V = np.zeros(16)
V_k = {0: V}
for k in range(1, 11):
    V = (random_policy * q_from_v(T, R, V, gamma=1.0)).sum(axis=1)
    V_k[k] = V

fig, axes = plt.subplots(1, 5, figsize=(15, 3.2))
for ax, k in zip(axes, (0, 1, 2, 3, 10), strict=True):
    grid = as_printed(V_k[k])
    ax.imshow(grid, cmap="viridis", vmin=-10, vmax=0)
    for (r, c), v in np.ndenumerate(grid):
        ax.text(c, r, f"{v:.1f}", ha="center", va="center", color="k" if v > -3 else "w")
    ax.set_title(f"k = {k}")
    ax.set_xticks([])
    ax.set_yticks([])
plt.show()

# %% [markdown] lang="en"
# ### The check against the book
#
# Figure 4.1 of Sutton & Barto (2nd edition, p. 77), typed in from the book. It prints one
# decimal and rounds halves up (−1.75 shows as −1.7), so we round the same way before comparing.
# The notebook stops here if a single cell differs.

# %% [markdown] lang="ko"
# ### 책과 맞춰 보기
#
# Sutton & Barto(2판, 77쪽)의 그림 4.1을 책에서 옮겨 적었습니다. 책은 소수 한 자리까지 쓰고 0.5는
# 올림(−1.75를 −1.7로)하므로, 같은 방식으로 반올림해서 비교합니다. 한 칸이라도 다르면 노트북이
# 여기서 멈춥니다.

# %%
FIGURE_4_1 = {
    1: [[0.0, -1.0, -1.0, -1.0], [-1.0, -1.0, -1.0, -1.0],
        [-1.0, -1.0, -1.0, -1.0], [-1.0, -1.0, -1.0, 0.0]],
    2: [[0.0, -1.7, -2.0, -2.0], [-1.7, -2.0, -2.0, -2.0],
        [-2.0, -2.0, -2.0, -1.7], [-2.0, -2.0, -1.7, 0.0]],
    3: [[0.0, -2.4, -2.9, -3.0], [-2.4, -2.9, -3.0, -2.9],
        [-2.9, -3.0, -2.9, -2.4], [-3.0, -2.9, -2.4, 0.0]],
    10: [[0.0, -6.1, -8.4, -9.0], [-6.1, -7.7, -8.4, -8.4],
         [-8.4, -8.4, -7.7, -6.1], [-9.0, -8.4, -6.1, 0.0]],
}
V_PI = [[0, -14, -20, -22], [-14, -18, -20, -20], [-20, -20, -18, -14], [-22, -20, -14, 0]]



for k, printed in FIGURE_4_1.items():
    assert np.array_equal(as_printed(V_k[k]), np.array(printed)), f"k={k} differs from Figure 4.1"
print("V_1, V_2, V_3 and V_10 equal Figure 4.1, cell by cell")

# %% [markdown] lang="en"
# ### k = ∞: the converged values, through the whole pipeline
#
# `policy_evaluation` sweeps until no value moves by more than θ = 1e-10. Through `ganghwa.train`
# it writes a run folder like any other training: the value map with the greedy arrows, the
# Q-table, an evaluation and a video. The last column of Figure 4.1 is whole numbers.

# %% [markdown] lang="ko"
# ### k = ∞: 수렴한 값, 파이프라인 전체로
#
# `policy_evaluation`은 어떤 값도 θ = 1e-10보다 더 변하지 않을 때까지 스윕합니다. `ganghwa.train`
# 으로 돌리면 다른 학습과 똑같이 실행 폴더를 남깁니다. 탐욕 행동 화살표가 있는 가치 지도, Q-테이블,
# 평가, 동영상입니다. 그림 4.1의 마지막 열은 정수입니다.

# %%
evaluation = ganghwa.train("policy_evaluation", "ganghwa/GridWorld-v0", env_kwargs=SUTTON_GRID,
                           gamma=1.0, out=RUNS)
V_inf = evaluation.agent.values.reshape(4, 4)
print(V_inf.round(6))
assert np.allclose(V_inf, V_PI, atol=1e-6), "V_pi differs from Figure 4.1's k = inf"
print(f"V_pi equals Figure 4.1 (largest gap {np.abs(V_inf - V_PI).max():.1e}),",
      f"after {evaluation.agent.step} sweeps")
evaluation.show().values()

# %% [markdown] lang="en"
# The arrows are the greedy policy *with respect to* $V_\pi$ of the random policy. One step of
# improvement already heads straight for a corner: that is the idea of policy iteration.
#
# ## Policy iteration and value iteration on the lecture's grid
#
# The lecture's 5×5 grid: start top-left, two traps (−1), the goal (+1), γ = 0.9.
#
# - **Policy iteration** evaluates a policy fully, improves it greedily, and repeats until the
#   policy no longer changes.
# - **Value iteration** folds the two into one backup, $V(s) \leftarrow \max_a (R + \gamma T V)$.
#
# Both end at the optimal values $V^*$, so the two value maps must agree.

# %% [markdown] lang="ko"
# 화살표는 무작위 정책의 $V_\pi$에 대한 탐욕 정책입니다. 한 번만 개선해도 곧장 모서리로 향합니다.
# 이것이 정책 반복의 아이디어입니다.
#
# ## 강의의 격자에서 정책 반복과 가치 반복
#
# 강의의 5×5 격자입니다. 왼쪽 위에서 출발하고, 함정 두 개(−1)와 목표(+1)가 있으며 γ = 0.9입니다.
#
# - **정책 반복**은 정책을 끝까지 평가하고, 탐욕적으로 개선하기를 정책이 더 바뀌지 않을 때까지
#   반복합니다.
# - **가치 반복**은 둘을 하나의 백업 $V(s) \leftarrow \max_a (R + \gamma T V)$로 합칩니다.
#
# 둘 다 최적 가치 $V^*$에 도달하므로 두 가치 지도가 같아야 합니다.

# %%
iteration = {algo: ganghwa.train(algo, "ganghwa/GridWorld-v0", gamma=0.9, out=RUNS)
             for algo in ("policy_iteration", "value_iteration")}
V_policy = iteration["policy_iteration"].agent.values
V_value = iteration["value_iteration"].agent.values
assert np.allclose(V_policy, V_value, atol=1e-8)
print("policy iteration:", iteration["policy_iteration"].agent.step, "evaluation sweeps;",
      "value iteration:", iteration["value_iteration"].agent.step, "sweeps; the same V*")
iteration["value_iteration"].show()

# %% [markdown] lang="en"
# ### A slippery floor
#
# With `slip=0.2` the intended move happens 80% of the time; otherwise the agent slides sideways.
# The optimal policy now keeps its distance from the traps, and the values drop.

# %% [markdown] lang="ko"
# ### 미끄러운 바닥
#
# `slip=0.2`이면 의도한 방향으로 80%만 움직이고, 나머지는 옆으로 미끄러집니다. 이제 최적 정책은
# 함정에서 거리를 두고, 가치는 낮아집니다.

# %%
slippery = ganghwa.train("value_iteration", "ganghwa/GridWorld-v0", gamma=0.9,
                         env_kwargs={"slip": 0.2}, out=RUNS)
start = 0  # the top-left cell
print(f"V*(start): {V_value[start]:.3f} on a dry floor, "
      f"{slippery.agent.values[start]:.3f} on a slippery one")
assert slippery.agent.values[start] < V_value[start]
slippery.show().values()

# %% [markdown] lang="en"
# ## RoadTrip: Seoul to Busan
#
# Each city is a state and each road an action; the reward is minus its length. From Seoul,
# Wonju is closer (25 against 50 to Daejeon), but the rest of the way from Wonju is longer. With
# γ = 1 the value of Seoul is minus the shortest distance.

# %% [markdown] lang="ko"
# ## RoadTrip: 서울에서 부산까지
#
# 도시가 상태, 도로가 행동이고 보상은 도로 길이에 음수를 붙인 값입니다. 서울에서는 원주가 더
# 가깝지만(대전 50에 비해 25), 원주에서 부산까지 남은 길이 더 깁니다. γ = 1이면 서울의 가치는
# 최단 거리에 음수를 붙인 값입니다.

# %%
trip = ganghwa.train("value_iteration", "ganghwa/RoadTrip-v0", gamma=1.0, out=RUNS)
print("V*(Seoul) =", trip.agent.values[0])
assert trip.agent.values[0] == -85.0  # 50 to Daejeon + 20 to Gwangju + 15 to Busan
trip.show().q_table()

# %% [markdown] lang="en"
# ## What to try
#
# - Change the map: `env_kwargs={"desc": "S..X/.#../...G"}`, or a larger one.
# - Lower γ on the 4×4 grid: policy evaluation then converges for any policy.
# - `ganghwa solve value_iteration ganghwa/GridWorld-v0 --gamma 0.9` does the same in a terminal.

# %% [markdown] lang="ko"
# ## 더 해 볼 것
#
# - 지도를 바꿔 보세요: `env_kwargs={"desc": "S..X/.#../...G"}`, 또는 더 큰 지도.
# - 4×4 격자에서 γ를 낮춰 보세요. 그러면 어떤 정책이든 정책 평가가 수렴합니다.
# - 터미널에서는 `ganghwa solve value_iteration ganghwa/GridWorld-v0 --gamma 0.9`로 같은 일을 합니다.
