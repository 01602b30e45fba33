# %% [markdown] lang="en"
# # 3. DQN on CartPole
#
# A Q-table has a row per state; CartPole's state is four real numbers, so DQN replaces the
# table with a network $Q_\theta(s, \cdot)$ and keeps the Q-learning target
# $y = r + \gamma \max_{a'} Q_{\bar\theta}(s', a')$. Three pieces make it stable:
#
# - a **replay memory**, so that one batch mixes many episodes;
# - a **target network** $Q_{\bar\theta}$, a slowly refreshed copy that holds the target still;
# - an **ε-greedy schedule** that explores early and exploits later.
#
# Then: the PyTorch tutorial's recipe against ganghwa's tuned one over 10 seeds, and Double and
# Dueling DQN.

# %% [markdown] lang="ko"
# # 3. CartPole의 DQN
#
# Q-테이블은 상태마다 행이 하나인데, CartPole의 상태는 실수 네 개입니다. 그래서 DQN은 테이블을
# 신경망 $Q_\theta(s, \cdot)$로 바꾸고 Q-러닝의 목표값 $y = r + \gamma \max_{a'} Q_{\bar\theta}(s', a')$
# 는 그대로 씁니다. 학습을 안정시키는 부품이 셋 있습니다.
#
# - **리플레이 메모리**: 한 배치에 여러 에피소드가 섞이게 합니다.
# - **타깃 네트워크** $Q_{\bar\theta}$: 천천히 갱신되는 복사본으로 목표값을 붙잡아 둡니다.
# - **ε-탐욕 스케줄**: 초반에는 탐험하고 나중에는 활용합니다.
#
# 그다음에는 PyTorch 튜토리얼의 설정과 ganghwa의 튜닝된 설정을 시드 10개로 비교하고, Double DQN과
# Dueling DQN을 봅니다.

# %%
import matplotlib.pyplot as plt
import numpy as np

import ganghwa
from ganghwa.buffers import ReplayBuffer
from ganghwa.notebook import budget, quick
from ganghwa.schedules import exponential, linear, multiplicative

RUNS = "runs"

# %% [markdown] lang="en"
# ## Replay memory
#
# A preallocated ring of transitions $(s, a, r, s', \text{terminated})$: when it is full, the
# oldest are overwritten. A batch is drawn uniformly, with replacement, as in Mnih et al. (2015).

# %% [markdown] lang="ko"
# ## 리플레이 메모리
#
# 전이 $(s, a, r, s', \text{종료 여부})$를 미리 할당한 고리 버퍼에 담습니다. 가득 차면 가장 오래된
# 것부터 덮어씁니다. 배치는 Mnih 등(2015)처럼 복원 추출로 균등하게 뽑습니다.

# %%
memory = ReplayBuffer(capacity=5, obs_shape=(4,))
rng = np.random.default_rng(0)
for t in range(7):  # seven transitions into five slots: the first two are overwritten
    obs = np.full((1, 4), t, dtype=np.float32)
    memory.add(obs, np.array([t % 2]), np.array([1.0]), obs + 1, np.array([0.0]))
print("stored:", sorted(memory.obs[:, 0].astype(int).tolist()))
batch = memory.sample(3, rng)
print("a batch of 3:", batch.obs.shape, batch.actions.tolist(), batch.rewards.tolist())
assert sorted(memory.obs[:, 0].astype(int).tolist()) == [2, 3, 4, 5, 6]

# %% [markdown] lang="en"
# ## Three ε schedules
#
# Stable-Baselines3 and CleanRL anneal ε linearly; the PyTorch tutorial decays it exponentially
# per step; many lecture notes multiply it by 0.999 after every update. The same names are
# `exploration=linear|exponential|multiplicative` in every DQN preset.

# %% [markdown] lang="ko"
# ## 세 가지 ε 스케줄
#
# Stable-Baselines3와 CleanRL은 ε를 선형으로 줄이고, PyTorch 튜토리얼은 스텝마다 지수적으로 줄이며,
# 많은 강의 노트는 업데이트마다 0.999를 곱합니다. 모든 DQN 프리셋에서 같은 이름
# `exploration=linear|exponential|multiplicative`로 고릅니다.

# %%
t = np.arange(0, 10_000, 10)
fig, ax = plt.subplots(figsize=(7, 3.5))
ax.plot(t, [linear(x, 1.0, 0.04, 8_000) for x in t], label="linear, 1 → 0.04 over 8k (tuned)")
ax.plot(t, [exponential(x, 0.9, 0.05, 1_000) for x in t], label="exponential, 1000 (tutorial)")
ax.plot(t, [multiplicative(x, 1.0, 0.999, 0.01) for x in t], label="× 0.999 per update (lecture)")
ax.set_xlabel("env steps")
ax.set_ylabel("ε")
ax.legend()
plt.show()

# %% [markdown] lang="en"
# ## One tuned run
#
# The tuned preset (RL-Zoo's recipe with a Double DQN target) evaluates the greedy policy every
# 2,000 steps and stops once 20 episodes all reach 500. `run.show()` shows the evaluation of
# `best.pt`, the learning curve and a video of the greedy agent.

# %% [markdown] lang="ko"
# ## 튜닝된 설정으로 한 번
#
# 튜닝된 프리셋(RL-Zoo의 설정에 Double DQN 목표값)은 2,000 스텝마다 탐욕 정책을 평가하고, 20
# 에피소드가 모두 500에 닿으면 멈춥니다. `run.show()`는 `best.pt`의 평가, 학습 곡선, 탐욕 에이전트의
# 동영상을 보여 줍니다.

# %%
run = ganghwa.train("dqn", "CartPole-v1", preset="tuned", steps=budget(100_000, 1_500),
                    out=RUNS, progress=True)
run.show()

# %%
if not quick():
    assert run.evaluation["mean"] >= 475, run.evaluation

# %% [markdown] lang="en"
# ### The TD target, computed
#
# A batch from the run's replay memory, and the Double DQN target for it:
# $y = r + \gamma (1 - \text{terminated})\, Q_{\bar\theta}(s', \arg\max_{a'} Q_\theta(s', a'))$.
# The TD error $Q_\theta(s, a) - y$ is what the Huber loss shrinks. (After training, the
# pipeline loads `best.pt` into the agent, so its target network is an exact copy now; during
# training it lags `target_update_interval` updates behind.)

# %% [markdown] lang="ko"
# ### TD 목표값 계산하기
#
# 실행의 리플레이 메모리에서 뽑은 배치와 그 배치의 Double DQN 목표값
# $y = r + \gamma (1 - \text{종료})\, Q_{\bar\theta}(s', \arg\max_{a'} Q_\theta(s', a'))$입니다.
# TD 오차 $Q_\theta(s, a) - y$를 Huber 손실이 줄입니다. (학습이 끝나면 파이프라인이 `best.pt`를
# 에이전트에 불러오므로 지금은 타깃 네트워크가 똑같은 복사본입니다. 학습 중에는
# `target_update_interval`번의 업데이트만큼 뒤처져 있습니다.)

# %%
import torch

from ganghwa.algos.dqn import td_target

agent = run.agent
batch = agent.replay_buffer.sample(5, np.random.default_rng(1))
with torch.no_grad():
    q_taken = agent.q_net(batch.obs).gather(1, batch.actions[:, None])[:, 0]
    y = td_target(batch.rewards, batch.terminated, agent.config.gamma,
                  agent.target_net(batch.next_obs), agent.q_net(batch.next_obs))
print("Q(s, a):  ", q_taken.numpy().round(2))
print("target y: ", y.numpy().round(2))
print("TD error: ", (q_taken - y).numpy().round(3))

# %% [markdown] lang="en"
# ## The tutorial's recipe against the tuned one, over 10 seeds
#
# One seed tells little: the same recipe solves CartPole on one seed and fails on the next.
# `ganghwa.sweep` trains each (variant, seed) as an ordinary run folder; `.show()` pools the
# seeds of each variant. Both variants get the same budget of 30k steps. The IQM is the mean of
# the middle half of the seeds' final evaluations, with a 95% bootstrap CI (rliable).

# %% [markdown] lang="ko"
# ## 튜토리얼 설정과 튜닝된 설정, 시드 10개로
#
# 시드 하나로는 알 수 있는 것이 적습니다. 같은 설정이 어떤 시드에서는 CartPole을 풀고 다음 시드에서는
# 실패합니다. `ganghwa.sweep`은 (변형, 시드)마다 평범한 실행 폴더를 만들어 학습하고, `.show()`는
# 변형별로 시드를 모아 보여 줍니다. 두 변형 모두 같은 예산 3만 스텝을 씁니다. IQM은 시드별 최종 평가
# 중 가운데 절반의 평균이며 95% 부트스트랩 신뢰구간(rliable)과 함께 나옵니다.

# %%
recipes = ganghwa.sweep("dqn", "CartPole-v1", seeds=f"0-{budget(9, 1)}",
                        variants=["tutorial:preset=pytorch-tutorial", "tuned:preset=tuned"],
                        steps=budget(30_000, 1_500), workers=2, name="tutorial-vs-tuned")
recipes.show()

# %% [markdown] lang="en"
# ## Double and Dueling DQN
#
# - **Double DQN** (van Hasselt et al., 2016): the online network picks $a'$, the target network
#   values it: $y = r + \gamma Q_{\bar\theta}(s', \arg\max_{a'} Q_\theta(s', a'))$. The max of
#   noisy estimates is biased upward; this takes the bias out.
# - **Dueling** (Wang et al., 2016): the head splits into a state value and advantages,
#   $Q = V + A - \text{mean}(A)$.
#
# Both are switches on the one DQN (`double=`, `dueling=`). Over 10 seeds, from the tuned recipe:

# %% [markdown] lang="ko"
# ## Double DQN과 Dueling DQN
#
# - **Double DQN**(van Hasselt 등, 2016): 온라인 네트워크가 $a'$를 고르고 타깃 네트워크가 그 값을
#   매깁니다. $y = r + \gamma Q_{\bar\theta}(s', \arg\max_{a'} Q_\theta(s', a'))$. 잡음 섞인 추정값의
#   최댓값은 위로 치우치는데, 이 치우침을 없앱니다.
# - **Dueling**(Wang 등, 2016): 출력부를 상태 가치와 어드밴티지로 나눕니다.
#   $Q = V + A - \text{mean}(A)$.
#
# 둘 다 하나의 DQN에 있는 스위치(`double=`, `dueling=`)입니다. 튜닝된 설정에서 시드 10개로:

# %%
switches = ganghwa.sweep("dqn", "CartPole-v1", seeds=f"0-{budget(9, 1)}",
                         variants=["dqn:preset=tuned double=false",
                                   "double:preset=tuned double=true",
                                   "double+dueling:preset=tuned double=true dueling=true"],
                         steps=budget(30_000, 1_500), workers=2, name="double-dueling")
switches.show()

# %% [markdown] lang="en"
# Read the intervals before the means: where two CIs overlap widely, ten seeds do not tell the
# variants apart, and the honest conclusion is "no difference found at this budget".
#
# ## What to try
#
# - `variants=["lecture:preset=lecture"]`: your course's recipe, as data (`ganghwa list`).
# - `ganghwa sweep` on the command line does the same, and `ganghwa report` writes the lab report.

# %% [markdown] lang="ko"
# 평균보다 구간을 먼저 읽으세요. 두 신뢰구간이 크게 겹치면 시드 10개로는 변형을 구별할 수 없고,
# 정직한 결론은 "이 예산에서는 차이를 찾지 못했다"입니다.
#
# ## 더 해 볼 것
#
# - `variants=["lecture:preset=lecture"]`: 여러분 강의의 설정을 데이터로(`ganghwa list`).
# - 터미널의 `ganghwa sweep`도 같은 일을 하고, `ganghwa report`는 실험 보고서를 씁니다.
