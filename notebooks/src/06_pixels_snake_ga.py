# %% [markdown] lang="en"
# # 6. CarRacing from pixels, Snake as your own env, and a genetic algorithm
#
# Three ways beyond a vector of numbers and a gradient:
#
# 1. **CarRacing from pixels**: the same DQN, with a convolutional network reading frames.
# 2. **Snake**: a game written as a Gymnasium env, checked with Gymnasium's `check_env`, then
#    trained like any other.
# 3. **A genetic algorithm** that evolves the weights of a policy network, with no gradient at
#    all.

# %% [markdown] lang="ko"
# # 6. 픽셀로 배우는 CarRacing, 직접 만든 환경 Snake, 유전 알고리즘
#
# 숫자 벡터와 그래디언트를 넘어서는 세 가지입니다.
#
# 1. **픽셀로 배우는 CarRacing**: 같은 DQN이 합성곱 신경망으로 화면을 읽습니다.
# 2. **Snake**: Gymnasium 환경으로 만든 게임을 Gymnasium의 `check_env`로 검사하고 다른 환경처럼
#    학습합니다.
# 3. **유전 알고리즘**: 그래디언트 없이 정책 신경망의 가중치를 진화시킵니다.

# %%
import gymnasium as gym
import matplotlib.pyplot as plt
from gymnasium.utils.env_checker import check_env

import ganghwa
from ganghwa.envs.snake import Snake
from ganghwa.notebook import budget, quick

RUNS = "runs"

# %% [markdown] lang="en"
# ## CarRacing: what the network sees
#
# `ganghwa/CarRacing-v0` is Gymnasium's CarRacing-v3 behind Gymnasium's own wrappers: each
# action is held for 4 frames, the picture turns grey, shrinks to 84×84, and the last 4 are
# stacked, so that one observation shows the motion. Five discrete actions: nothing, left,
# right, gas, brake.

# %% [markdown] lang="ko"
# ## CarRacing: 신경망이 보는 화면
#
# `ganghwa/CarRacing-v0`은 Gymnasium의 CarRacing-v3에 Gymnasium 자체 래퍼를 씌운 것입니다. 행동
# 하나를 4 프레임 동안 유지하고, 화면을 흑백으로 바꿔 84×84로 줄인 다음 마지막 4장을 쌓아서 관측
# 하나로 움직임이 보이게 합니다. 행동은 다섯 가지(가만히, 왼쪽, 오른쪽, 가속, 브레이크)입니다.

# %%
env = gym.make("ganghwa/CarRacing-v0")
obs, _ = env.reset(seed=0)
for _ in range(20):
    obs, *_ = env.step(3)  # gas
env.close()
print(obs.shape, obs.dtype)
fig, axes = plt.subplots(1, 4, figsize=(10, 2.8))
for i, ax in enumerate(axes):
    ax.imshow(obs[i], cmap="gray")
    ax.set_title(f"frame t-{3 - i}")
    ax.axis("off")
plt.show()

# %% [markdown] lang="en"
# ### A short training
#
# The tuned recipe is the Nature DQN's CNN with a replay memory that stores each frame once.
# On a CPU it makes about 30 agent steps a second, so a run that drives well (100k steps and
# more) takes hours; with `device="cuda"` it is much faster. Here a few thousand steps show the
# pipeline: the curve, the evaluation and the video of an agent that has only begun to learn.

# %% [markdown] lang="ko"
# ### 짧은 학습
#
# 튜닝된 설정은 Nature DQN의 CNN과 프레임을 한 번씩만 저장하는 리플레이 메모리입니다. CPU에서는 초당
# 에이전트 스텝이 30개쯤이라, 운전을 잘하는 실행(10만 스텝 이상)은 몇 시간 걸립니다.
# `device="cuda"`이면 훨씬 빠릅니다. 여기서는 수천 스텝으로 파이프라인을 봅니다. 이제 막 배우기
# 시작한 에이전트의 곡선, 평가, 동영상입니다.

# %%
car = ganghwa.train("dqn", "ganghwa/CarRacing-v0", preset="tuned", steps=budget(3_000, 150),
                    learning_starts=budget(1_000, 50), buffer_size=10_000, eval_every=0,
                    final_eval_episodes=budget(3, 1), out=RUNS, progress=True)
car.show()

# %% [markdown] lang="en"
# ## Snake, a game you write yourself
#
# A Gymnasium env is a class with `reset` and `step`, an `action_space` and an
# `observation_space`. ganghwa's Snake documents its MDP in its docstring, as Gymnasium's own
# envs do; here is the start of it.

# %% [markdown] lang="ko"
# ## 직접 만드는 게임, Snake
#
# Gymnasium 환경은 `reset`과 `step`, `action_space`와 `observation_space`가 있는 클래스입니다.
# ganghwa의 Snake는 Gymnasium의 환경들처럼 docstring에 MDP를 적어 둡니다. 그 앞부분입니다.

# %%
print("\n".join(Snake.__doc__.splitlines()[:30]))

# %% [markdown] lang="en"
# `check_env` plays the env through Gymnasium's API and complains about anything that breaks
# it: spaces that do not hold the observations, a `reset` that ignores its seed, and more. Run
# it on your own env before you train on it.

# %% [markdown] lang="ko"
# `check_env`는 Gymnasium API대로 환경을 돌려 보며 API를 어기는 것을 모두 지적합니다. 관측을 담지
# 못하는 공간, 시드를 무시하는 `reset` 같은 것들입니다. 직접 만든 환경을 학습하기 전에 돌려 보세요.

# %%
check_env(Snake(), skip_render_check=True)
print("Snake passes gymnasium's check_env")

snake = ganghwa.train("dqn", "ganghwa/Snake-v0", preset="tuned", steps=budget(150_000, 1_500),
                      out=RUNS, progress=True)
snake.show()

# %%
length = snake.evaluation.get("final_length_mean")
print("mean snake length of the greedy agent:", length)
if not quick():
    assert length is not None and length > 10, snake.evaluation

# %% [markdown] lang="en"
# ## A genetic algorithm
#
# A population of 50 networks (16 tanh units) as flat weight vectors. Each generation: play 3
# episodes each (the fitness), keep the 2 best as they are, choose parents by tournaments of 3,
# mix their genes (uniform crossover), and perturb 10% of the genes with Gaussian noise. The
# curve shows the min, mean and max fitness per generation; the run stops once the best network
# scores 500 on 20 greedy episodes.

# %% [markdown] lang="ko"
# ## 유전 알고리즘
#
# 신경망 50개(tanh 유닛 16개)의 집단을 평평한 가중치 벡터로 둡니다. 세대마다 각자 3 에피소드를
# 플레이하고(적합도), 가장 좋은 2개는 그대로 남기고, 3개씩 토너먼트로 부모를 고르고, 유전자를 섞고
# (균등 교차), 유전자의 10%에 가우스 잡음을 더합니다. 곡선은 세대별 최소, 평균, 최대 적합도이고,
# 가장 좋은 신경망이 탐욕 에피소드 20개에서 500을 받으면 멈춥니다.

# %%
ga = ganghwa.train("ga", "CartPole-v1", preset="tuned", generations=budget(30, 2),
                   population=budget(50, 8), out=RUNS, progress=True)
ga.show()

# %%
if not quick():
    assert ga.evaluation["mean"] >= 475, ga.evaluation

# %% [markdown] lang="en"
# ## What to try
#
# - `env_kwargs={"obs_mode": "pixels", "size": 12}`: Snake from the board as an image.
# - `ganghwa.train("ga", "LunarLander-v3", workers=2)`: evolution on a harder task.
# - Copy `ganghwa/envs/snake.py`, change a rule, register it with `gym.register`, and train.

# %% [markdown] lang="ko"
# ## 더 해 볼 것
#
# - `env_kwargs={"obs_mode": "pixels", "size": 12}`: 보드를 이미지로 보고 배우는 Snake.
# - `ganghwa.train("ga", "LunarLander-v3", workers=2)`: 더 어려운 문제에서의 진화.
# - `ganghwa/envs/snake.py`를 복사해 규칙 하나를 바꾸고 `gym.register`로 등록한 다음 학습해 보세요.
