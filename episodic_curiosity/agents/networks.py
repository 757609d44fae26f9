"""The policy/value network, shared by both heads: its torso is chosen by the observation shape.

84x84 RGB frames: Nature CNN + 512 fc (the paper's PPO). MiniGrid's symbolic 7x7x3 view: RIDE's
MiniGrid trunk (three 3x3 stride-2 convs of 32, ELU) + fc.
"""

import numpy as np
import torch
from torch import nn


def _init(layer, gain=np.sqrt(2), bias=0.0):
    nn.init.orthogonal_(layer.weight, gain)
    nn.init.constant_(layer.bias, bias)
    return layer


class NatureCNN(nn.Module):
    """uint8 NHWC frames -> 512 features. Scaling and layout change happen here, on the device."""

    def __init__(self, obs_shape):
        super().__init__()
        height, width, channels = obs_shape
        self.convs = nn.Sequential(
            _init(nn.Conv2d(channels, 32, 8, stride=4)), nn.ReLU(),
            _init(nn.Conv2d(32, 64, 4, stride=2)), nn.ReLU(),
            _init(nn.Conv2d(64, 64, 3, stride=1)), nn.ReLU(), nn.Flatten())
        with torch.no_grad():
            flat = self.convs(torch.zeros(1, channels, height, width)).shape[1]
        self.fc = nn.Sequential(_init(nn.Linear(flat, 512)), nn.ReLU())
        self.out_features = 512

    def forward(self, obs):
        x = obs.permute(0, 3, 1, 2).float().div_(255.0)
        return self.fc(self.convs(x))


SYMBOLIC_HIDDEN = (256,)


class MiniGridNet(nn.Module):
    """Symbolic 7x7x3 views (object, colour, state indices) -> features.

    The conv trunk is RIDE's MinigridPolicyNet's (inputs unscaled, as there); RIDE follows it with
    two fc layers of 1024 and an LSTM. This feed-forward PPO uses `hidden` (one layer of 256: the
    two of 1024 cost 4x the update time on a 2-core CPU for no gain on the small tasks).
    """

    def __init__(self, obs_shape, hidden=SYMBOLIC_HIDDEN):
        super().__init__()
        channels = obs_shape[2]
        gain = nn.init.calculate_gain("relu")
        self.convs = nn.Sequential(
            _init(nn.Conv2d(channels, 32, 3, stride=2, padding=1), gain), nn.ELU(),
            _init(nn.Conv2d(32, 32, 3, stride=2, padding=1), gain), nn.ELU(),
            _init(nn.Conv2d(32, 32, 3, stride=2, padding=1), gain), nn.ELU(), nn.Flatten())
        with torch.no_grad():
            flat = self.convs(torch.zeros(1, channels, *obs_shape[:2])).shape[1]
        layers = []
        for size in hidden:
            layers += [_init(nn.Linear(flat, size), gain), nn.ReLU()]
            flat = size
        self.fc = nn.Sequential(*layers)
        self.out_features = flat

    def forward(self, obs):
        return self.fc(self.convs(obs.permute(0, 3, 1, 2).float()))


def is_symbolic(obs_shape) -> bool:
    """MiniGrid's 7x7 symbolic views are far smaller than any frame the pixel torso takes."""
    return min(obs_shape[:2]) < 32


class RecurrentCore(nn.Module):
    """One LSTM or GRU layer after the torso, its state reset where an episode starts.

    The state is a tuple of [1, B, size] tensors ((h, c) for an LSTM, (h,) for a GRU). `starts`
    [T, B] marks the observations that begin an episode: the state is zeroed before them, so no
    gradient or memory crosses an episode boundary.
    """

    def __init__(self, kind: str, in_features: int, size: int):
        super().__init__()
        self.kind, self.size = kind, size
        self.rnn = (nn.LSTM if kind == "lstm" else nn.GRU)(in_features, size)
        for name, param in self.rnn.named_parameters():
            if "bias" in name:
                nn.init.constant_(param, 0.0)
            else:
                nn.init.orthogonal_(param, 1.0)

    def initial_state(self, batch: int, device) -> tuple:
        zeros = torch.zeros(1, batch, self.size, device=device)
        return (zeros, zeros.clone()) if self.kind == "lstm" else (zeros,)

    def forward(self, features, state: tuple, starts):
        """One step (acting): features [1, B, F], starts [1, B] -> (outputs [1, B, size], the
        state after), the state zeroed first where an episode starts."""
        keep = (1.0 - starts[0]).view(1, -1, 1)
        out, state = self.rnn(features, tuple(s * keep for s in state) if self.kind == "lstm"
                              else state[0] * keep)
        return out, state if self.kind == "lstm" else (state,)

    def replay(self, features, state: tuple, starts):
        """Whole sequences (the update): features [T, B, F], starts [T, B] -> outputs
        [T, B, size], each episode piece run from its own start: the first piece of each env
        from `state` (unless it starts an episode), every other from zeros, so no memory or
        gradient crosses an episode start.

        The pieces are padded side by side into one batch and run in one fused RNN call
        (padding only follows a piece's last step, so it never reaches a kept output). On the
        CPU a call per step measured ~30x slower, and packed sequences ~20x (their backward
        zero-fills the whole input gradient at every step)."""
        steps, batch = starts.shape
        pieces = _Pieces(starts)
        padded = features.new_zeros(pieces.longest, pieces.count, features.shape[-1])
        padded[pieces.offset, pieces.piece] = features.transpose(0, 1).reshape(steps * batch, -1)
        first = pieces.carries_state.view(1, -1, 1)
        start_state = tuple(s[:, pieces.env] * first for s in state)
        out, _ = self.rnn(padded, start_state if self.kind == "lstm" else start_state[0])
        return out[pieces.offset, pieces.piece].view(batch, steps, -1).transpose(0, 1)


class _Pieces:
    """The episode pieces of [T, B] sequences: a piece begins at t = 0 or an episode start and
    runs to the next start or the end. Positions are numbered env by env (b * T + t)."""

    def __init__(self, starts):
        steps, batch = starts.shape
        begins = starts.transpose(0, 1).bool().clone()  # [B, T]
        begins[:, 0] = True
        flat = begins.flatten()
        self.piece = torch.cumsum(flat.long(), 0) - 1  # each position's piece
        begin_at = torch.nonzero(flat).flatten()  # each piece's first position
        self.count = int(begin_at.numel())
        ends = torch.cat([begin_at[1:], begin_at.new_tensor([steps * batch])])
        self.lengths = ends - begin_at
        self.longest = int(self.lengths.max())
        self.offset = torch.arange(steps * batch, device=starts.device) - begin_at[self.piece]
        self.env = torch.div(begin_at, steps, rounding_mode="floor")
        # A piece at t = 0 that does not start an episode continues the state it was given.
        self.carries_state = ((begin_at % steps == 0) & (starts[0, self.env] == 0)).float()


class ActorCritic(nn.Module):
    """obs_shape: (height, width, channels) of the scenario's observations (RGB 3, Atari 4
    stacked gray frames). value_heads: 1, or 2 for two reward streams (extrinsic, intrinsic).
    recurrent: 'none', or an 'lstm' / 'gru' core of `recurrent_size` between the torso and the
    heads (`PPOConfig.recurrent`); its state travels with the caller (`initial_state`, `step`,
    `sequence`)."""

    def __init__(self, obs_shape, num_actions, value_heads: int = 1, recurrent: str = "none",
                 recurrent_size: int = 256):
        super().__init__()
        self.obs_shape, self.num_actions = tuple(obs_shape), num_actions
        self.value_heads = value_heads
        self.torso = MiniGridNet(obs_shape) if is_symbolic(obs_shape) else NatureCNN(obs_shape)
        features = self.torso.out_features
        self.core = (None if recurrent == "none" else
                     RecurrentCore(recurrent, features, recurrent_size))
        features = recurrent_size if self.core else features
        self.policy = _init(nn.Linear(features, num_actions), gain=0.01)
        self.value = _init(nn.Linear(features, value_heads), gain=1.0)
        # NHWC frames permuted to NCHW are already channels_last in memory; matching the conv
        # weights to it measured 7% faster updates and 33% faster acting on the 2-core CPU.
        self.to(memory_format=torch.channels_last)

    @property
    def recurrent(self) -> bool:
        return self.core is not None

    def initial_state(self, batch: int, device=None) -> tuple:
        """The state of `batch` fresh episodes (an empty tuple for a feed-forward network)."""
        if self.core is None:
            return ()
        return self.core.initial_state(batch, device or next(self.parameters()).device)

    def _heads(self, features):
        value = self.value(features)
        return self.policy(features), value.squeeze(-1) if self.value_heads == 1 else value

    def forward(self, obs):
        """Returns (logits, value): value [B], or [B, 2] with two heads. Feed-forward only: a
        recurrent network needs its state (`step`)."""
        if self.core is not None:
            raise TypeError("a recurrent ActorCritic acts through step(obs, state, starts)")
        return self._heads(self.torso(obs))

    def step(self, obs, state: tuple, starts):
        """One step of a batch: obs [B, ...], starts [B] -> (logits, value, state after)."""
        if self.core is None:
            return *self.forward(obs), state
        features, state = self.core(self.torso(obs).unsqueeze(0), state, starts.unsqueeze(0))
        return *self._heads(features[0]), state

    def sequence(self, obs, state: tuple, starts):
        """A rollout's env sequences replayed from their start `state`: obs [T, B, ...],
        starts [T, B] -> (logits [T, B, A], value [T, B] or [T, B, H])."""
        steps, batch = obs.shape[:2]
        features = self.torso(obs.flatten(0, 1))
        if self.core is not None:
            features = self.core.replay(features.view(steps, batch, -1), state, starts)
        logits, value = self._heads(features.reshape(steps * batch, -1))
        return logits.view(steps, batch, -1), value.view(steps, batch, *value.shape[1:])


def _recurrent_of(network_state: dict) -> tuple[str, int]:
    """('lstm' | 'gru' | 'none', size) from a checkpoint's keys: an LSTM's input weights stack
    four gates, a GRU's three."""
    if "core.rnn.weight_hh_l0" not in network_state:
        return "none", 256
    gates, size = network_state["core.rnn.weight_hh_l0"].shape
    return ("lstm" if gates == 4 * size else "gru"), size


def load_actor_critic(network_state: dict, obs_shape, num_actions) -> ActorCritic:
    """An ActorCritic holding a checkpoint's `network` state, with as many value heads as it was
    trained with (two for the two-stream methods: RND, dynamics curiosity) and its recurrent
    core, if it had one."""
    heads = network_state["value.weight"].shape[0] if "value.weight" in network_state else 1
    recurrent, size = _recurrent_of(network_state)
    network = ActorCritic(obs_shape, num_actions, value_heads=heads, recurrent=recurrent,
                          recurrent_size=size)
    network.load_state_dict(network_state)
    return network
