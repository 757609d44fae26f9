"""PPO (clipped objective, GAE, value clipping, entropy bonus), CleanRL-readable, in PyTorch.

Defaults are the paper's DMLab PPO numbers (Savinov et al. 2019, appendix, and the original
code's PPO settings); every one is a gin parameter.

Two reward streams (RND's, the curiosity study's): when the intrinsic reward is a separate stream
the network has an extrinsic and an intrinsic value head, each stream gets its own GAE (the
intrinsic one non-episodic, its rewards normalised by `normalizers.IntrinsicRewardNormalizer`),
and the policy follows `ext_coef * A_ext + int_coef * A_int`.
"""

import dataclasses

import gin
import torch
from torch import nn
from torch.distributions import Categorical

from episodic_curiosity import distributed, validation
from episodic_curiosity.agents.normalizers import IntrinsicRewardNormalizer
from episodic_curiosity.errors import UsageError
from episodic_curiosity.validation import Count, Real, RecurrentCore, Unit


@gin.configurable
@dataclasses.dataclass
class PPOConfig:
    num_envs: int = 12  # parallel environments
    num_steps: int = 256  # rollout length per env per update
    num_minibatches: int = 4  # minibatches per epoch
    update_epochs: int = 4  # passes over each rollout
    gamma: float = 0.99  # discount
    gae_lambda: float = 0.95  # GAE lambda
    learning_rate: float = 1.9307e-4  # Adam lr, annealed linearly to 0 when `anneal` is set
    clip_coef: float = 0.1  # PPO clip range, annealed like the lr
    anneal: bool = True  # linear annealing of lr and clip range over the run
    ent_coef: float = 0.0010941  # entropy bonus
    vf_coef: float = 0.5  # value loss weight
    clip_value_loss: bool = True  # clip the value update like the policy's (baselines PPO)
    max_grad_norm: float = 0.5  # global gradient-norm clip
    adam_eps: float = 1e-5  # Adam epsilon (baselines / CleanRL)
    norm_adv: bool = True  # normalise advantages per minibatch
    # Two-stream learning only (intrinsic reward as its own stream); defaults are RND's.
    gamma_int: Unit = 0.99  # discount of the intrinsic stream (`gamma` is the extrinsic one)
    ext_coef: Real = 2.0  # weight of the extrinsic advantages
    int_coef: Real = 1.0  # weight of the intrinsic advantages
    int_episodic: bool = False  # intrinsic returns stop at episode ends (RND, the study: no)
    normalize_int_reward: bool = True  # divide by the std of the per-env intrinsic returns
    # A recurrent core between the torso and the heads: 'lstm' or 'gru' of `recurrent_size`
    # units, its state reset at episode starts; the update replays whole env sequences from the
    # rollout's start state (truncated BPTT over `num_steps`). 'none' (feed-forward) is the
    # original EC PPO's default (policy_architecture 'cnn'; its 'lstm' option: baselines'
    # nlstm = 256). The seeds' own agents: RND's 'rnn' policy, a GRU of 256 (memsize 128 x
    # enlargement 2, policies/cnn_gru_policy_dynamics.py); RIDE's MiniGrid net, 2 LSTM layers of
    # 1024 (src/models.py). Every method defaults to 'none' here: docs/training.md.
    recurrent: RecurrentCore = "none"
    recurrent_size: Count = 256
    # 'bf16': the update's forward passes under bf16 autocast (a GPU option; losses, gradients
    # and weights stay fp32). 'fp32' is the paper's.
    precision: str = "fp32"

    def __post_init__(self):
        """A bad binding is one UsageError here, before any run directory is written."""
        for name in ("num_envs", "num_steps", "num_minibatches", "update_epochs"):
            validation.integer(f"PPOConfig.{name}", getattr(self, name), 1)
        for name in ("gamma", "gae_lambda"):
            validation.real(f"PPOConfig.{name}", getattr(self, name), 0.0, 1.0)
        for name in ("learning_rate", "clip_coef", "adam_eps"):
            validation.real(f"PPOConfig.{name}", getattr(self, name), 0.0, low_open=True)
        for name in ("ent_coef", "vf_coef", "max_grad_norm"):  # max_grad_norm 0: no clipping
            validation.real(f"PPOConfig.{name}", getattr(self, name), 0.0)
        validation.choice(*validation.PRECISIONS)("PPOConfig.precision", self.precision)
        if self.recurrent != "none" and self.num_minibatches > self.num_envs:
            raise UsageError(
                f"PPOConfig.num_minibatches = {self.num_minibatches} is more than num_envs = "
                f"{self.num_envs}: a recurrent policy's minibatches are whole env sequences; "
                "lower num_minibatches or raise num_envs")
        if self.num_minibatches > self.batch_size:
            raise UsageError(
                f"PPOConfig.num_minibatches = {self.num_minibatches} is more than the batch of "
                f"{self.batch_size} samples (num_envs x num_steps); lower it")

    @property
    def batch_size(self):
        return self.num_envs * self.num_steps

    @property
    def minibatch_size(self):
        return self.batch_size // self.num_minibatches


def compute_gae(rewards, values, dones, last_value, last_done, gamma, gae_lambda):
    """Generalised advantage estimation over a [T, N] rollout.

    dones[t] = 1 means the observation at step t starts a new episode (the previous one ended), so
    no value is bootstrapped across it. Returns (advantages, returns), both [T, N].
    """
    num_steps = rewards.shape[0]
    advantages = torch.zeros_like(rewards)
    last_gae = torch.zeros_like(last_value)
    for t in reversed(range(num_steps)):
        if t == num_steps - 1:
            next_nonterminal, next_value = 1.0 - last_done, last_value
        else:
            next_nonterminal, next_value = 1.0 - dones[t + 1], values[t + 1]
        delta = rewards[t] + gamma * next_value * next_nonterminal - values[t]
        last_gae = delta + gamma * gae_lambda * next_nonterminal * last_gae
        advantages[t] = last_gae
    return advantages, advantages + values


def policy_loss(new_logprob, old_logprob, advantages, clip_coef):
    """Clipped surrogate objective (to minimise); also returns the clip fraction and approx. KL."""
    log_ratio = new_logprob - old_logprob
    ratio = log_ratio.exp()
    unclipped = -advantages * ratio
    clipped = -advantages * torch.clamp(ratio, 1 - clip_coef, 1 + clip_coef)
    with torch.no_grad():
        clip_fraction = ((ratio - 1).abs() > clip_coef).float().mean()
        approx_kl = ((ratio - 1) - log_ratio).mean()
    return torch.max(unclipped, clipped).mean(), clip_fraction, approx_kl


def value_loss(new_value, old_value, returns, clip_coef, clip):
    """0.5 * squared error, optionally the max of clipped and unclipped errors (baselines PPO)."""
    unclipped = (new_value - returns) ** 2
    if not clip:
        return 0.5 * unclipped.mean()
    clipped_value = old_value + torch.clamp(new_value - old_value, -clip_coef, clip_coef)
    return 0.5 * torch.max(unclipped, (clipped_value - returns) ** 2).mean()


def heads_value_loss(new_value, old_value, returns, clip_coef, clip):
    """`value_loss` of one head ([B]) or the sum over heads ([B, H], RND's ext + int)."""
    if new_value.dim() == 1:
        return value_loss(new_value, old_value, returns, clip_coef, clip)
    return sum(value_loss(new_value[:, h], old_value[:, h], returns[:, h], clip_coef, clip)
               for h in range(new_value.shape[1]))


def two_stream_gae(ext_rewards, int_rewards, values, dones, last_value, last_done,
                   config: PPOConfig):
    """Per-stream GAE; returns (combined advantages [T, N], returns [T, N, 2] as ext, int).

    values / last_value carry the two heads in their last axis. The intrinsic stream ignores
    episode ends unless `int_episodic` ("death is not the end").
    """
    ext_adv, ext_ret = compute_gae(ext_rewards, values[..., 0], dones, last_value[..., 0],
                                   last_done, config.gamma, config.gae_lambda)
    int_dones, int_last_done = ((dones, last_done) if config.int_episodic else
                                (torch.zeros_like(dones), torch.zeros_like(last_done)))
    int_adv, int_ret = compute_gae(int_rewards, values[..., 1], int_dones, last_value[..., 1],
                                   int_last_done, config.gamma_int, config.gae_lambda)
    advantages = config.ext_coef * ext_adv + config.int_coef * int_adv
    return advantages, torch.stack([ext_ret, int_ret], -1)


def normalized(advantages: torch.Tensor) -> torch.Tensor:
    """(A - mean) / (std + 1e-8), mean and (unbiased) std over every rank's minibatch."""
    if not distributed.active():
        return (advantages - advantages.mean()) / (advantages.std() + 1e-8)
    a = advantages.detach().to(torch.float64)
    sums = distributed.all_reduce_sum(torch.stack([a.sum(), (a * a).sum(),
                                                   torch.tensor(float(a.numel()), dtype=a.dtype,
                                                                device=a.device)]))
    total, squares, n = sums.tolist()
    mean = total / n
    std = max((squares - n * mean * mean) / max(n - 1, 1), 0.0) ** 0.5
    return (advantages - mean) / (std + 1e-8)


class PPOLearner:
    """Owns the network and optimizer; `update` does the epochs of minibatch steps on a rollout.

    two_stream: the rollout's intrinsic rewards are a stream of their own (the network then has
    two value heads); the learner owns the intrinsic-reward normaliser, saved with it.

    Many ranks (distributed.py): each updates on its own rollout, with the advantages normalised
    by the statistics of all ranks' minibatches and the gradients averaged over ranks before
    clipping, so R ranks x E envs make the update of 1 rank x R*E envs on the same data.
    """

    def __init__(self, network: nn.Module, config: PPOConfig, two_stream: bool = False):
        self.network, self.config, self.two_stream = network, config, two_stream
        distributed.broadcast_module(network)  # rank 0's initial weights on every rank
        self.optimizer = torch.optim.Adam(network.parameters(), lr=config.learning_rate,
                                          eps=config.adam_eps)
        device = next(network.parameters()).device
        self.int_normalizer = (IntrinsicRewardNormalizer(config.num_envs, config.gamma_int, device)
                               if two_stream and config.normalize_int_reward else None)

    @property
    def recurrent(self) -> bool:
        """The network has a recurrent core: its minibatches are whole env sequences."""
        return getattr(self.network, "recurrent", False)

    def advantages(self, rollout, last_value, last_done):
        """(advantages, returns) of a filled rollout, one stream or two."""
        c = self.config
        if not self.two_stream:
            return compute_gae(rollout.rewards, rollout.values, rollout.dones, last_value,
                               last_done, c.gamma, c.gae_lambda)
        int_rewards = rollout.int_rewards
        if self.int_normalizer is not None:
            int_rewards = self.int_normalizer(int_rewards)
        return two_stream_gae(rollout.rewards, int_rewards, rollout.values, rollout.dones,
                              last_value, last_done, c)

    def schedule(self, progress: float):
        """Sets the annealed lr for training progress in [0, 1]; returns the clip range."""
        frac = 1.0 - progress if self.config.anneal else 1.0
        self.optimizer.param_groups[0]["lr"] = frac * self.config.learning_rate
        return frac * self.config.clip_coef

    def _autocast(self, device):
        return torch.autocast(device.type, dtype=torch.bfloat16,
                              enabled=self.config.precision == "bf16")

    def update(self, batch: dict, clip_coef: float) -> dict:
        """batch: obs, actions, logprobs, values, advantages, returns; flat [T*N] tensors
        (`Rollout.flat`), or [T, N] env sequences with their starts and start state
        (`Rollout.sequences`) for a recurrent network."""
        c = self.config
        stats = []
        for _ in range(c.update_epochs):
            for logits, new_value, mb in self._minibatches(batch):
                dist = Categorical(logits=logits.float(), validate_args=False)
                advantages = mb["advantages"]
                if c.norm_adv:
                    advantages = normalized(advantages)
                pg_loss, clip_fraction, approx_kl = policy_loss(
                    dist.log_prob(mb["actions"]), mb["logprobs"], advantages, clip_coef)
                v_loss = heads_value_loss(new_value.float(), mb["values"], mb["returns"],
                                          clip_coef, c.clip_value_loss)
                entropy = dist.entropy().mean()
                loss = pg_loss - c.ent_coef * entropy + c.vf_coef * v_loss
                self.optimizer.zero_grad(set_to_none=True)
                loss.backward()
                distributed.average_gradients(self.network.parameters())
                if c.max_grad_norm:  # 0: no clipping (RND)
                    nn.utils.clip_grad_norm_(self.network.parameters(), c.max_grad_norm)
                self.optimizer.step()
                stats.append(torch.stack([pg_loss, v_loss, entropy, clip_fraction, approx_kl]))
        means = torch.stack(stats).mean(0).tolist()
        return dict(zip(["policy_loss", "value_loss", "entropy", "clip_fraction", "approx_kl"],
                        means))

    def _minibatches(self, batch: dict):
        """One epoch's (logits, values, minibatch targets): random samples, or whole env
        sequences replayed from their start state for a recurrent network."""
        if "state" in batch:
            yield from self._sequence_minibatches(batch)
            return
        size = batch["actions"].shape[0]
        minibatch = size // self.config.num_minibatches
        order = torch.randperm(size, device=batch["actions"].device)
        for start in range(0, size - minibatch + 1, minibatch):
            idx = order[start:start + minibatch]
            with self._autocast(batch["obs"].device):
                logits, value = self.network(batch["obs"][idx])
            yield logits, value, {k: batch[k][idx] for k in _TARGETS}

    def _sequence_minibatches(self, batch: dict):
        num_envs = batch["actions"].shape[1]
        envs = num_envs // self.config.num_minibatches
        order = torch.randperm(num_envs, device=batch["actions"].device)
        for start in range(0, num_envs - envs + 1, envs):
            idx = order[start:start + envs]
            state = tuple(s[:, idx] for s in batch["state"])
            with self._autocast(batch["obs"].device):
                logits, value = self.network.sequence(batch["obs"][:, idx], state,
                                                         batch["starts"][:, idx])
            yield (logits.flatten(0, 1), value.flatten(0, 1),
                   {k: batch[k][:, idx].flatten(0, 1) for k in _TARGETS})


_TARGETS = ("actions", "logprobs", "values", "advantages", "returns")
