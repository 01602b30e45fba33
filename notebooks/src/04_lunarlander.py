# %% [markdown] lang="en"
# # 4. LunarLander, and reading an evaluation
#
# LunarLander-v3: eight numbers (position, velocity, angle, angular velocity, two leg contacts),
# four actions (nothing, left engine, main engine, right engine). Landing on the pad between the
# flags earns 100–140, a crash −100, firing the main engine −0.3 a frame. An episode of **200 or
# more** counts as solved.
#
# The same DQN as on CartPole, with the tuned LunarLander recipe. Then the question every lab
# report has to answer: *how good is this agent, really?*

# %% [markdown] lang="ko"
# # 4. LunarLander, 그리고 평가 읽기
#
# LunarLander-v3의 관측은 숫자 여덟 개(위치, 속도, 각도, 각속도, 두 다리의 접촉)이고 행동은 네
# 가지(아무것도 안 함, 왼쪽 엔진, 주 엔진, 오른쪽 엔진)입니다. 깃발 사이 착륙장에 내리면 100–140,
# 추락하면 −100, 주 엔진을 켜면 프레임마다 −0.3입니다. 에피소드 리턴이 **200 이상**이면 풀었다고
# 봅니다.
#
# CartPole과 같은 DQN에 튜닝된 LunarLander 설정을 씁니다. 그다음에는 모든 실험 보고서가 답해야 하는
# 질문, *이 에이전트는 실제로 얼마나 좋은가?*를 다룹니다.

# %%
import matplotlib.pyplot as plt
import numpy as np

import ganghwa
from ganghwa import DQN
from ganghwa.evaluation import evaluate
from ganghwa.notebook import budget, quick

RUNS = "runs"

# %% [markdown] lang="en"
# ## Training
#
# The tuned recipe: a 256-256 network, Double DQN with 3-step returns, ε from 1 to 0.1 over 36k
# steps, and a greedy evaluation of 10 episodes every 10k steps that keeps the best network as
# `best.pt` and stops the run at a mean of 250, within 100k steps. On two CPU cores it takes a
# few minutes.

# %% [markdown] lang="ko"
# ## 학습
#
# 튜닝된 설정은 256-256 신경망, 3-스텝 리턴을 쓰는 Double DQN, 3만 6천 스텝 동안 1에서 0.1로
# 줄어드는 ε, 그리고 1만 스텝마다 10 에피소드씩 탐욕 정책을 평가해 가장 좋은 신경망을 `best.pt`로
# 남기고 평균 250에서 멈추는 규칙이며, 10만 스텝 안에서 끝납니다. CPU 코어 두 개에서 몇 분
# 걸립니다.

# %%
run = ganghwa.train("dqn", "LunarLander-v3", preset="tuned", steps=budget(100_000, 3_000),
                    out=RUNS, progress=True)
run.show()

# %% [markdown] lang="en"
# ## Reading the evaluation
#
# `eval.json` (the table above) rates `best.pt` over 20 greedy episodes on seeds the training
# never saw, and the network as it was at the end ("final policy") on the same seeds. They
# differ when the run kept learning, or unlearning, after its best evaluation. Three questions:
#
# 1. **Which network?** `best.pt` was chosen because it scored well on 10 episodes: part of
#    that score is luck, so its own score is optimistic. A fresh evaluation on new seeds is not.
# 2. **How many episodes?** The spread of one episode's return is wide; the mean of 20 still
#    moves by several points. Below: 100 fresh episodes, and a bootstrap CI of their mean.
# 3. **Mean or share?** "Solved" is about the mean; a lab report should also give the share
#    of episodes that land (≥ 200), and the worst ones.

# %% [markdown] lang="ko"
# ## 평가 읽기
#
# `eval.json`(위의 표)은 학습에 쓰지 않은 시드로 `best.pt`를 탐욕적으로 20 에피소드 평가하고, 학습이
# 끝났을 때의 신경망("final policy")도 같은 시드로 평가합니다. 최고 평가 뒤에도 계속 배웠거나 오히려
# 잊어버렸다면 둘이 다릅니다. 질문은 세 가지입니다.
#
# 1. **어떤 신경망인가?** `best.pt`는 10 에피소드에서 점수가 좋아서 뽑혔습니다. 그 점수에는 운이
#    섞여 있으므로 자기 점수는 낙관적입니다. 새 시드로 다시 평가하면 그렇지 않습니다.
# 2. **몇 에피소드인가?** 한 에피소드 리턴의 편차는 큽니다. 20 에피소드의 평균도 몇 점씩 움직입니다.
#    아래에서는 새 에피소드 100개로 평가하고, 그 평균의 부트스트랩 신뢰구간을 구합니다.
# 3. **평균인가, 비율인가?** "풀었다"는 평균의 이야기입니다. 실험 보고서에는 착륙한(≥ 200)
#    에피소드의 비율과 가장 나쁜 에피소드도 적어야 합니다.

# %%
agent = DQN.load(run.run.best)  # best.pt, loaded with weights_only=True like every checkpoint
episodes = budget(100, 5)
fresh = evaluate(agent.policy, "LunarLander-v3", episodes=episodes, seed=500_000)
returns = fresh.returns
resampled = np.random.default_rng(0).choice(returns, (10_000, len(returns))).mean(axis=1)
low, high = np.percentile(resampled, [2.5, 97.5])
print(f"eval.json ({run.evaluation['episodes']} episodes): {run.evaluation['mean']:.1f} ± "
      f"{run.evaluation['std']:.1f}")
print(f"{episodes} fresh episodes: mean {returns.mean():.1f}, 95% CI [{low:.1f}, {high:.1f}], "
      f"{(returns >= 200).mean():.0%} of episodes at 200 or more, worst {returns.min():.1f}")

fig, ax = plt.subplots(figsize=(7, 3.5))
ax.hist(returns, bins=20, color="tab:blue")
ax.axvline(200, color="grey", linestyle=":", label="200: solved")
ax.axvline(returns.mean(), color="tab:red", label=f"mean {returns.mean():.0f}")
ax.set_xlabel("episode return")
ax.set_ylabel("episodes")
ax.legend()
plt.show()

# %%
if not quick():
    assert returns.mean() >= 200, returns.mean()

# %% [markdown] lang="en"
# ## The learning curve is not the evaluation
#
# The curve plots the returns of *training* episodes, played with ε-greedy exploration
# (ε = 0.1 at the end), so it lies below the greedy evaluation. The evaluations made during
# training are in `evaluations.csv`, which the curve marks.

# %% [markdown] lang="ko"
# ## 학습 곡선은 평가가 아닙니다
#
# 곡선은 ε-탐욕으로 탐험하며(마지막에 ε = 0.1) 플레이한 *학습* 에피소드의 리턴이므로 탐욕 평가보다
# 낮습니다. 학습 중에 한 평가는 `evaluations.csv`에 있고, 곡선에 함께 표시됩니다.

# %%
from ganghwa.run import read_progress

progress = read_progress(run.run.progress_path)
evaluations = read_progress(run.run.evaluations_path) if run.run.evaluations_path.exists() else {}
print(f"training episodes: {len(progress['return'])}, last 100 mean "
      f"{np.mean(progress['return'][-100:]):.1f}")
print("greedy evaluations during training (step: mean):",
      dict(zip(evaluations.get("step", []), evaluations.get("mean", []), strict=True)))

# %% [markdown] lang="en"
# ## What to try
#
# - `ganghwa eval last --episodes 100` and `ganghwa record last` do the same from a terminal.
# - `ganghwa report runs --lang ko --out report.html`: the lab report, with this run's video.
# - PPO on LunarLander: `ganghwa.train("ppo", "LunarLander-v3")` (chapter 5's method).

# %% [markdown] lang="ko"
# ## 더 해 볼 것
#
# - 터미널에서는 `ganghwa eval last --episodes 100`과 `ganghwa record last`가 같은 일을 합니다.
# - `ganghwa report runs --lang ko --out report.html`: 이 실행의 동영상이 들어간 실험 보고서.
# - LunarLander의 PPO: `ganghwa.train("ppo", "LunarLander-v3")`(5장의 방법).
