"""Collection: the vectorised env, the policy acting on it and the intrinsic reward -> a rollout.

The collector owns what lives across updates on the env side (the current observations and
done flags) and fills a `Rollout` with `num_steps` transitions per env. The learner never sees an
env; the loop never sees a transition.
"""

import numpy as np
import torch

from episodic_curiosity.agents.rollout import Rollout, act


class Collector:
    """Steps `vec_env` with `network`'s policy and fills `rollout`.

    Args:
      reward_scale: multiplies the task reward the learner sees (0: the no-reward scenarios).
      bootstrap_time_limits: a time limit is not a terminal state: add gamma * V(final obs) to the
        last reward of a truncated episode. The original treats every episode end as terminal
        (baselines PPO), so the paper's gin files leave this off.
      clip_task_reward: the learner sees sign(task reward) (Atari: DQN's and RND's clipping).

    A bonus module with `separate_stream` fills `rollout.int_rewards`; any other adds its bonus to
    the task reward.
    """

    def __init__(self, vec_env, network, rollout: Rollout, device, gamma: float,
                 bonus_module=None, reward_scale: float = 1.0,
                 bootstrap_time_limits: bool = False, clip_task_reward: bool = False):
        self.env, self.network, self.rollout, self.device = vec_env, network, rollout, device
        self.gamma, self.bonus_module = gamma, bonus_module
        self.reward_scale, self.bootstrap_time_limits = reward_scale, bootstrap_time_limits
        self.clip_task_reward = clip_task_reward
        self.obs = None
        self.done = None

    def start(self):
        """Resets every env; the intrinsic reward sees the first observations."""
        self.obs, infos = self.env.reset()
        if self.bonus_module is not None:
            self.bonus_module.begin(self.obs, infos)
        self.done = torch.zeros(self.env.num_envs, device=self.device)

    def warmup(self, env_steps: int) -> None:
        """Random-policy steps whose observations only feed the intrinsic reward's statistics
        (RND's observation normalisation: 50 rollouts in the paper); nothing is learned or logged.
        """
        num_envs = self.env.num_envs
        for _ in range(-(-env_steps // num_envs)):
            actions = np.random.randint(0, self.env.action_space.n, num_envs)
            self.obs, _, terminated, truncated, _ = self.env.step(actions)
            self.bonus_module.warmup(self.obs)
        self.done = torch.as_tensor(terminated | truncated, dtype=torch.float32,
                                    device=self.device)

    def collect(self) -> list[dict]:
        """Fills the rollout; returns the `info["episode"]` of every episode that ended."""
        finished = []
        for t in range(self.rollout.num_steps):
            finished += self._step(t)
        return finished

    def _step(self, t: int) -> list[dict]:
        rollout = self.rollout
        rollout.obs[t] = torch.as_tensor(self.obs, device=self.device)
        rollout.dones[t] = self.done
        actions, logprobs, values = act(self.network, self.obs, self.device)
        rollout.actions[t], rollout.logprobs[t], rollout.values[t] = actions, logprobs, values
        prev_obs, actions = self.obs, actions.cpu().numpy()
        self.obs, reward, terminated, truncated, infos = self.env.step(actions)
        reward = reward * self.reward_scale
        if self.clip_task_reward:
            reward = np.sign(reward)
        if self.bonus_module is not None:
            bonus = self.bonus_module.compute(prev_obs, actions, self.obs, terminated, truncated,
                                              infos)
            if self.bonus_module.separate_stream:
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
        _, _, final_values = act(self.network, final, self.device)
        if final_values.dim() == 2:  # two heads: the time limit ends the extrinsic stream only
            final_values = final_values[:, 0]
        bonus[torch.as_tensor(rows, device=self.device)] = self.gamma * final_values
        return bonus

    @torch.no_grad()
    def last_value(self) -> torch.Tensor:
        """V of the observations after the rollout, for bootstrapping its tail."""
        _, value = self.network(torch.as_tensor(self.obs, device=self.device))
        return value
