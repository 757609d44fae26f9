"""The two-stream learner's intrinsic-reward normaliser (RND's, done right): a discounted return
filtered per env over time, never reset at episode ends, and the intrinsic reward divided by the
std of those filtered returns over all envs and steps."""

import torch

from episodic_curiosity.running_stats import RunningMeanStd


class IntrinsicRewardNormalizer:
    """Divides [T, N] intrinsic rewards by the running std of their per-env discounted returns.

    The filter runs along time for each env (`returns = returns * gamma + r_t`), across rollouts
    and across episode boundaries: the intrinsic stream is non-episodic. (CleanRL's RND port
    iterates the transposed array, filtering across envs instead of time.)
    """

    def __init__(self, num_envs: int, gamma: float, device="cpu"):
        self.gamma = gamma
        self.returns = torch.zeros(num_envs, dtype=torch.float64, device=device)
        self.stats = RunningMeanStd(device=device)

    def __call__(self, rewards: torch.Tensor) -> torch.Tensor:
        filtered = torch.empty_like(rewards, dtype=torch.float64)
        for t in range(rewards.shape[0]):
            self.returns = self.returns * self.gamma + rewards[t].to(torch.float64)
            filtered[t] = self.returns
        self.stats.update(filtered.flatten())
        return (rewards / self.stats.var.sqrt()).to(rewards.dtype)

    def state_dict(self) -> dict:
        return {"returns": self.returns.cpu(), "stats": self.stats.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.returns = state["returns"].to(self.returns.device)
        self.stats.load_state_dict(state["stats"])
