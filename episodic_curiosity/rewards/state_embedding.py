"""A state embedding phi trained with inverse (and optionally forward) dynamics losses.

Shared by RIDE (forward + inverse, as in its code), NGU's controllable embedding and E3B (inverse
only). The modules see transitions in `compute`; `train` fits phi on those gathered since the
last PPO update, one step per update by default (RIDE: one step per learner batch of 32 x 100).
Defaults are RIDE's: RMSprop lr 1e-4, alpha 0.99, eps 1e-5, gradient norm 40, forward loss x10,
inverse loss x0.1. RIDE's losses are summed over the unroll's time steps, ours averaged: RMSprop
divides out the overall scale, and the 100:1 ratio of the two losses is kept.
"""

import gin
import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from episodic_curiosity.agents.networks import is_symbolic
from episodic_curiosity.validation import Count, NonNegative, OptionalCount, Positive, Unit


def _init(layer, gain=1.0):
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.zeros_(layer.bias)
    return layer


class StateEmbedding(nn.Module):
    """uint8 NHWC observations -> embedding.

    Symbolic 7x7x3 views: RIDE's MinigridStateEmbeddingNet (3x3 stride-2 convs of 32, 32, 128,
    ELU; inputs divided by 255 as in its code) -> 128. Pixels: RIDE's pixel embedding (four 3x3
    stride-2 convs of 32, ELU). `out_dim` adds a linear layer (NGU's 32-d controllable state).
    """

    def __init__(self, obs_shape, out_dim: int | None = None):
        super().__init__()
        gain = nn.init.calculate_gain("relu")
        widths = (32, 32, 128) if is_symbolic(obs_shape) else (32, 32, 32, 32)
        layers, channels = [], obs_shape[2]
        for width in widths:
            layers += [_init(nn.Conv2d(channels, width, 3, stride=2, padding=1), gain), nn.ELU()]
            channels = width
        self.convs = nn.Sequential(*layers, nn.Flatten())
        with torch.no_grad():
            flat = self.convs(torch.zeros(1, obs_shape[2], *obs_shape[:2])).shape[1]
        self.head = _init(nn.Linear(flat, out_dim)) if out_dim else nn.Identity()
        self.out_dim = out_dim or flat

    def forward(self, obs):
        return self.head(self.convs(obs.permute(0, 3, 1, 2).float() / 255.0))


class InverseDynamics(nn.Module):
    """(phi(s), phi(s')) -> logits of the action taken: fc 256, ReLU (RIDE's)."""

    def __init__(self, dim, num_actions):
        super().__init__()
        self.net = nn.Sequential(_init(nn.Linear(2 * dim, 256), nn.init.calculate_gain("relu")),
                                 nn.ReLU(), _init(nn.Linear(256, num_actions)))

    def forward(self, embedding, next_embedding):
        return self.net(torch.cat([embedding, next_embedding], dim=-1))


class ForwardDynamics(nn.Module):
    """(phi(s), one-hot a) -> predicted phi(s'): fc 256, ReLU (RIDE's)."""

    def __init__(self, dim, num_actions):
        super().__init__()
        self.num_actions = num_actions
        self.net = nn.Sequential(
            _init(nn.Linear(dim + num_actions, 256), nn.init.calculate_gain("relu")), nn.ReLU(),
            _init(nn.Linear(256, dim)))

    def forward(self, embedding, actions):
        one_hot = F.one_hot(actions, self.num_actions).float()
        return self.net(torch.cat([embedding, one_hot], dim=-1))


@gin.configurable(denylist=["obs_shape", "num_actions", "device"])
class DynamicsModel:
    """phi + dynamics heads + their optimizer, and the transitions awaiting training."""

    def __init__(self, obs_shape, num_actions, device, embed_dim: OptionalCount = None,
                 forward_loss_coef: NonNegative = 10.0, inverse_loss_coef: NonNegative = 0.1,
                 learning_rate: Positive = 1e-4, rmsprop_alpha: Unit = 0.99,
                 rmsprop_eps: Positive = 1e-5, max_grad_norm: Positive = 40.0,
                 steps_per_update: Count = 1, max_batch: Count = 4096):
        self.device = device
        self.embedding = StateEmbedding(obs_shape, embed_dim).to(device)
        dim = self.embedding.out_dim
        self.inverse = InverseDynamics(dim, num_actions).to(device)
        self.forward = ForwardDynamics(dim, num_actions).to(device) if forward_loss_coef else None
        self.forward_loss_coef, self.inverse_loss_coef = forward_loss_coef, inverse_loss_coef
        self.max_grad_norm, self.steps_per_update, self.max_batch = (
            max_grad_norm, steps_per_update, max_batch)
        self.optimizer = torch.optim.RMSprop(self.parameters(), lr=learning_rate,
                                             alpha=rmsprop_alpha, eps=rmsprop_eps)
        self._pending = []

    def parameters(self):
        modules = [self.embedding, self.inverse] + ([self.forward] if self.forward else [])
        return [p for m in modules for p in m.parameters()]

    @torch.no_grad()
    def embed(self, obs) -> torch.Tensor:
        return self.embedding(torch.as_tensor(np.asarray(obs), device=self.device))

    def observe(self, obs, actions, reached) -> None:
        """Keeps a batch of transitions (s, a, s') for the next `train`."""
        self._pending.append((np.array(obs), np.array(actions), np.array(reached)))

    def train(self) -> dict:
        """`steps_per_update` gradient steps on the pending transitions; returns mean losses."""
        if not self._pending:
            return {}
        obs, actions, reached = (np.concatenate(x) for x in zip(*self._pending))
        self._pending = []
        losses = []
        for _ in range(self.steps_per_update):
            # A random subset of at most max_batch (the global RNG: checkpointed).
            idx = np.random.permutation(len(obs))[:self.max_batch]
            losses.append(self._step(*(torch.as_tensor(x[idx], device=self.device)
                                       for x in (obs, actions, reached))))
        return {k: float(np.mean([loss[k] for loss in losses])) for k in losses[0]}

    def _step(self, obs, actions, reached):
        embedding, next_embedding = self.embedding(obs), self.embedding(reached)
        inverse_loss = F.cross_entropy(self.inverse(embedding, next_embedding), actions)
        loss = self.inverse_loss_coef * inverse_loss
        out = {"inverse_loss": inverse_loss.item()}
        if self.forward is not None:
            predicted = self.forward(embedding, actions)
            forward_loss = torch.linalg.vector_norm(predicted - next_embedding, dim=-1).mean()
            loss = loss + self.forward_loss_coef * forward_loss
            out["forward_loss"] = forward_loss.item()
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(self.parameters(), self.max_grad_norm)
        self.optimizer.step()
        return out

    def state_dict(self) -> dict:
        return {"embedding": self.embedding.state_dict(), "inverse": self.inverse.state_dict(),
                "forward": self.forward.state_dict() if self.forward else {},
                "optimizer": self.optimizer.state_dict(),
                "pending": list(self._pending)}

    def load_state_dict(self, state: dict) -> None:
        self.embedding.load_state_dict(state["embedding"])
        self.inverse.load_state_dict(state["inverse"])
        if self.forward is not None:
            self.forward.load_state_dict(state["forward"])
        self.optimizer.load_state_dict(state["optimizer"])
        self._pending = list(state.get("pending", []))
