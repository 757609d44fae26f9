"""Collection: the vectorised env, the policy acting on it and the intrinsic reward -> a rollout.

The collector owns what lives across updates on the env side (the current observations and
done flags) and fills a `Rollout` with `num_steps` transitions per env. The learner never sees an
env; the loop never sees a transition.
"""

import numpy as np
import torch
from torch.profiler import record_function

from episodic_curiosity.agents.rollout import Acting, HostToDevice, Rollout
from episodic_curiosity.rewards.base import IntrinsicReward, NoIntrinsicReward


class Collector:
    """Steps `vec_env` with `network`'s policy and fills `rollout`, one step of every env at a
    time (DoubleBufferedCollector is the other implementation of the same interface: `start`,
    `warmup`, `collect`, `last_value`, `obs`, `done`).

    Args:
      intrinsic: the run's intrinsic reward (NoIntrinsicReward: plain PPO).
      two_stream: the bonus is a reward stream of its own (`rollout.int_rewards`; the trainer's
        decision, from the reward's `separate_stream`); otherwise it is added to the task reward.
      reward_scale: multiplies the task reward the learner sees (0: the no-reward scenarios).
      bootstrap_time_limits: a time limit is not a terminal state: add gamma * V(final obs) to the
        last reward of a truncated episode. The original treats every episode end as terminal
        (baselines PPO), so the paper's gin files leave this off.
      clip_task_reward: the learner sees sign(task reward) (Atari: DQN's and RND's clipping).
    """

    def __init__(self, vec_env, network, rollout: Rollout, device, gamma: float,
                 intrinsic: IntrinsicReward | None = None, reward_scale: float = 1.0,
                 bootstrap_time_limits: bool = False, clip_task_reward: bool = False,
                 two_stream: bool = False):
        self.env, self.network, self.rollout, self.device = vec_env, network, rollout, device
        self.gamma, self.intrinsic = gamma, intrinsic or NoIntrinsicReward()
        self.reward_scale, self.bootstrap_time_limits = reward_scale, bootstrap_time_limits
        self.clip_task_reward, self.two_stream = clip_task_reward, two_stream
        self.to_device = HostToDevice(device)
        self.acting = Acting(network, vec_env.num_envs, device)  # carries a recurrent state
        self.obs = None
        self.done = None

    def start(self):
        """Resets every env; the intrinsic reward sees the first observations."""
        self.obs, infos = self.env.reset()
        self.acting.reset()
        self.intrinsic.begin(self.obs, infos)
        self.done = torch.zeros(self.env.num_envs, device=self.device)

    def warmup(self, env_steps: int) -> None:
        """Random-policy steps whose observations only feed the intrinsic reward's statistics
        (RND's observation normalisation: 50 rollouts in the paper); nothing is learned or logged.
        """
        num_envs = self.env.num_envs
        for _ in range(-(-env_steps // num_envs)):
            actions = np.random.randint(0, self.env.action_space.n, num_envs)
            self.obs, _, terminated, truncated, _ = self.env.step(actions)
            self.intrinsic.warmup(self.obs)
        self.done = torch.as_tensor(terminated | truncated, dtype=torch.float32,
                                    device=self.device)

    def collect(self) -> list[dict]:
        """Fills the rollout; returns the `info["episode"]` of every episode that ended."""
        finished = []
        self.rollout.start_state = self.acting.snapshot()
        for t in range(self.rollout.num_steps):
            prev_obs = self.obs
            actions = self._act(t, slice(None), self.obs, self.done)
            with record_function("env.step"):
                stepped = self.env.step(actions)
            finished += self._finish(t, prev_obs, actions, stepped)
        return finished

    def _act(self, t: int, rows, obs, done) -> np.ndarray:
        """The policy on `obs` (envs `rows`) at step t, recorded in the rollout; the actions."""
        with record_function("policy.act"):
            rollout, obs = self.rollout, self.to_device(obs)  # one copy, shared
            rollout.obs[t, rows] = obs
            rollout.dones[t, rows] = done
            actions, logprobs, values = self.acting(obs, done, rows=rows)
            rollout.actions[t, rows], rollout.logprobs[t, rows] = actions, logprobs
            rollout.values[t, rows] = values
            return actions.cpu().numpy()

    def _finish(self, t: int, prev_obs, actions, stepped) -> list[dict]:
        """Step t's rewards (task, bonus) and episode ends, once every env has stepped."""
        rollout = self.rollout
        self.obs, reward, terminated, truncated, infos = stepped
        reward = reward * self.reward_scale
        if self.clip_task_reward:
            reward = np.sign(reward)
        with record_function("intrinsic_reward"):
            bonus = self.intrinsic.compute(prev_obs, actions, self.obs, terminated, truncated,
                                           infos)
        if self.two_stream:
            rollout.int_rewards[t] = torch.as_tensor(bonus, dtype=torch.float32,
                                                     device=self.device)
        else:
            reward = reward + bonus
        reward = torch.as_tensor(reward, dtype=torch.float32, device=self.device)
        if self.bootstrap_time_limits and truncated.any():
            reward += self._truncation_bootstrap(truncated, infos)
        rollout.rewards[t] = reward
        self.done = torch.as_tensor(terminated | truncated, dtype=torch.float32,
                                    device=self.device)
        return [info["episode"] for info in infos if "episode" in info]

    def _truncation_bootstrap(self, truncated, infos) -> torch.Tensor:
        """gamma * V(final observation) where an episode hit its time limit, 0 elsewhere."""
        bonus = torch.zeros(len(truncated), device=self.device)
        rows = np.flatnonzero(truncated)
        final = np.stack([infos[i]["final_obs"] for i in rows])
        # The state after the episode's last step is the one its final observation follows.
        final_values = self.acting.value(final, rows=torch.as_tensor(rows, device=self.device))
        if final_values.dim() == 2:  # two heads: the time limit ends the extrinsic stream only
            final_values = final_values[:, 0]
        bonus[torch.as_tensor(rows, device=self.device)] = self.gamma * final_values
        return bonus

    @torch.no_grad()
    def last_value(self) -> torch.Tensor:
        """V of the observations after the rollout, for bootstrapping its tail."""
        return self.acting.value(self.obs, self.done)


class DoubleBufferedCollector(Collector):
    """The envs' two halves (along worker boundaries; needs >= 2 workers) step in their workers
    in turn while the policy acts on the other half. Same transitions per env as Collector for
    the same actions; the policy's random draws come in a different order."""

    def __init__(self, vec_env, *args, **kwargs):
        super().__init__(vec_env, *args, **kwargs)
        self.parts = vec_env.parts(2)

    def collect(self) -> list[dict]:
        """Each part's workers step while the policy acts on the other part and the intrinsic
        reward scores the previous step; per env the transitions are the plain loop's."""
        steps, finished = self.rollout.num_steps, []
        self.rollout.start_state = self.acting.snapshot()
        actions = [self._act(0, part, self.obs[part], self.done[part]) for part in self.parts]
        for i in range(len(self.parts)):
            self.env.step_async(i, actions[i])
        for t in range(steps):
            prev_obs, results, next_actions = self.obs, [], []
            for i, part in enumerate(self.parts):
                with record_function("env.step"):
                    part_results = self.env.step_wait(i)
                results += part_results
                if t + 1 < steps:
                    obs, _, terminated, truncated, _ = self.env.stack(part_results)
                    done = torch.as_tensor(terminated | truncated, dtype=torch.float32,
                                           device=self.device)
                    next_actions.append(self._act(t + 1, part, obs, done))
                    self.env.step_async(i, next_actions[-1])
            finished += self._finish(t, prev_obs, np.concatenate(actions),
                                     self.env.stack(results))
            actions = next_actions
        return finished


def make_collector(vec_env, *args, double_buffered: bool = False, **kwargs) -> Collector:
    """The plain or the double-buffered collector (`train_policy.double_buffered`)."""
    return (DoubleBufferedCollector if double_buffered else Collector)(vec_env, *args, **kwargs)

