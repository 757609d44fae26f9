"""Episodic curiosity (EC) and its online variant (ECO): bonus = alpha * (beta - similarity).

Each frame is embedded once; its comparator projection is compared with every memory slot in one
batched call, and stored if novel. Numbers are the paper's (Savinov et al. 2019, Sec. 2, and the
original code).

The R-network sees the scenario's raw view (`info["raw_obs"]`, 120x160 like the paper's DMLab
frames; the env factories keep it with `env_factories.keep_raw_obs = True`), or with
`view = 'policy'` the policy's 84x84 observation (cheaper; not the paper's).
"""

from typing import Annotated

import gin
import numpy as np
import torch

from episodic_curiosity import distributed, validation
from episodic_curiosity.errors import UsageError
from episodic_curiosity.rewards.base import IntrinsicReward
from episodic_curiosity.rewards.episodic_memory import EpisodicMemory
from episodic_curiosity.rnet.model import RNetwork
from episodic_curiosity.rnet.offline import load_rnet
from episodic_curiosity.rnet.pairs import pairs_per_pass
from episodic_curiosity.rnet.training import RTrainer
from episodic_curiosity.validation import (Count, Flag, Index, OptionalCount, Precision, Real, Unit,
                                           number_in, one_of)

VIEWS = ("raw", "policy")


def bonus_from_similarity(similarity, alpha, beta):
    """The paper's curiosity bonus b = alpha * (beta - C)."""
    return alpha * (beta - similarity)


def view_frames(view, obs, infos):
    """The frames the R-network sees for a batch of observations and their infos."""
    if view == "policy":
        return np.asarray(obs)
    if any("raw_obs" not in info for info in infos):
        raise UsageError("EpisodicCuriosity.view = 'raw' needs the raw frames: bind "
                         "env_factories.keep_raw_obs = True (the ppo_plus_ec / ppo_plus_eco gin "
                         "files do), or use --preset=rnet_policy_view")
    return np.stack([info["raw_obs"] for info in infos])


def view_shape(view, scenario, policy_shape=(84, 84, 3)):
    return tuple(scenario.raw_shape) if view == "raw" else tuple(policy_shape)


@gin.configurable(denylist=["num_envs", "scenario", "device", "rnet"])
class EpisodicCuriosity(IntrinsicReward):
    """EC with a fixed, offline-trained R-network loaded from `r_network_path`.

    memory_replacement: 'random' (the paper's) or 'fifo' (the original's noreward scenarios).
    view: 'raw' (the paper's) or 'policy' (the policy's 84x84 frame).
    precision: 'fp32' (the paper's) or 'bf16': the R-network's embedding and comparator under
      bf16 autocast, for hardware with bf16 units (GPUs; CPUs with AVX512-BF16 or AMX, see
      /proc/cpuinfo); memory vectors stay fp32. Measured on a fixed batch
      (tests/test_episodic_curiosity.py): max |bonus change| 2.5e-4 (width 8), 9.4e-4 (ResNet-18)
      on CPU, 1.1e-3 (ResNet-18, H100): similarity within 0.04. On this project's AVX512-BF16
      CPU, PPO+EC trains 1.2-1.4x (width 16), 1.6-1.8x (ResNet-18) faster; a CPU without bf16 units
      emulates it (~11x slower, an earlier machine). Not faster at the paper's 12 frames per
      step on an H100 (benchmarks/gpu_kernels.py: embedding 3.1 ms bf16 vs 1.7 ms fp32).
    compile_scan: torch.compile the comparison of each frame with the memory (dynamic in the
      number of filled slots; the first call compiles, seconds on a CPU, which needs a C++
      compiler). Same numbers up to float rounding (1e-7 measured); on this project's 2-core CPU
      the scan of 12 x 200 slots took 20-22% less time (fp32 25.4 -> 20.5 ms, bf16 13.0 -> 10.2).
    """

    stat_names = ("bonus_mean", "memory_fill", "added_fraction")

    def __init__(self, num_envs, scenario, device, r_network_path: str | None = None,
                 rnet: RNetwork | None = None, memory_capacity: Count = 200,
                 percentile: Annotated[float, number_in(0.0, 100.0)] = 90.0,
                 novelty_threshold: Unit = 0.5, alpha: Real = 0.030172, beta: Real = 0.5,
                 memory_replacement: str = "random",
                 view: Annotated[str, one_of("raw", "policy")] = "raw",
                 precision: Precision = "fp32",
                 compile_scan: Flag = False, seed: Index = 0):
        super().__init__(num_envs, scenario, device)
        if view not in VIEWS:
            raise UsageError(f"EpisodicCuriosity.view must be one of {VIEWS}, got {view!r}")
        validation.choice(*validation.PRECISIONS)("EpisodicCuriosity.precision", precision)
        self.view, self.precision = view, precision
        self.rnet = rnet if rnet is not None else load_rnet(r_network_path, device)
        self.rnet.eval()
        self.compile_scan, self._compiled = compile_scan, (None, None)
        if view == "raw":
            self._check_shape(scenario.raw_shape)
        self.alpha, self.beta = alpha, beta
        self.percentile, self.novelty_threshold = percentile, novelty_threshold
        self.rng = np.random.default_rng(seed)
        try:
            self.memory = EpisodicMemory(num_envs, memory_capacity, self.rnet.memory_dim, device,
                                         self.rng, memory_replacement)
        except ValueError as e:
            raise UsageError(f"EpisodicCuriosity.memory_replacement: {e}") from e

    def _check_shape(self, shape):
        trained_on = (getattr(self.rnet, "config", None) or {}).get("input_shape")
        if trained_on and tuple(trained_on) != tuple(shape):
            raise UsageError(
                f"the R-network was trained on {tuple(trained_on)} frames but this run feeds it "
                f"{tuple(shape)} (EpisodicCuriosity.view = {self.view!r}); train it on this view "
                "or pick the view it was trained on")

    def _autocast(self):
        return torch.autocast(torch.device(self.device).type, dtype=torch.bfloat16,
                              enabled=self.precision == "bf16")

    @torch.no_grad()
    def _embed(self, frames):
        """(left projection, right projection) of a batch of frames: one embedding per frame."""
        self.rnet.eval()
        with self._autocast():
            left, right = self.rnet.embed(torch.as_tensor(frames, device=self.device))
        return left.float(), right.float()

    def _scan(self):
        """The current R-network's memory scan, compiled once per network when asked."""
        if not self.compile_scan:
            return self.rnet.similarity_to_memory
        if self._compiled[0] is not self.rnet:
            self._compiled = (self.rnet, torch.compile(self.rnet.similarity_to_memory,
                                                       dynamic=True))
        return self._compiled[1]

    def _similarity(self, left):
        with self._autocast():
            return self.memory.similarity(self._scan(), left,
                                          self.percentile).float().cpu().numpy()

    def begin(self, obs, infos):
        frames = view_frames(self.view, obs, infos)
        self._check_shape(frames.shape[1:])
        self._start_episodes(frames)

    def _start_episodes(self, frames):
        _, right = self._embed(frames)
        self.memory.reset(range(self.num_envs))
        self.memory.add(range(self.num_envs), right)

    def bonus_scale(self) -> float:
        """Multiplies the bonus: 1 for EC (ECO: 0 until its R-network has trained)."""
        return 1.0

    def compute(self, obs, actions, next_obs, terminated, truncated, infos):
        done = np.asarray(terminated) | np.asarray(truncated)
        return self._bonus(view_frames(self.view, next_obs, infos), done)

    @torch.no_grad()
    def _bonus(self, frames, done):
        left, right = self._embed(frames)
        similarity = self._similarity(left)
        bonus = bonus_from_similarity(similarity, self.alpha, self.beta).astype(np.float32)
        bonus *= self.bonus_scale()
        bonus[done] = 0.0
        novel = (similarity < self.novelty_threshold) & ~done
        self.memory.add(np.flatnonzero(novel), right[torch.as_tensor(novel)])
        # A new episode starts with an empty memory holding its first frame.
        self.memory.reset(np.flatnonzero(done))
        self.memory.add(np.flatnonzero(done), right[torch.as_tensor(done)])
        live = max(int((~done).sum()), 1)
        self._record(bonus_mean=bonus.mean(), memory_fill=self.memory.fill,
                     added_fraction=novel.sum() / live)
        self.last_similarity, self.last_novel = similarity, novel  # for the report card
        return bonus


@gin.configurable(denylist=["num_envs", "scenario", "device"])
class EpisodicCuriosityOnline(EpisodicCuriosity):
    """ECO: the R-network trains online on the policy's own frames; no bonus before it has trained.

    The frame history is a ring buffer of `history_steps` vector steps; every `retrain_period`
    vector steps the R-network trains `epochs` passes over the pairs drawn from it (about one per
    4 frames, 95% for training, 5% for the logged validation accuracy), as the original.
    steps_per_epoch: None = a full pass (the original's ~2.7k batches at the defaults); a number
      caps the batches per epoch (this project's first version: 100).
    memory_before_training: True (the original's): the memory runs with the untrained network
      and the bonus is scaled to 0 until the first training; False: no memory until then.
    Weights, optimizer and schedule are checkpointed; the history is not (it refills after a
    resume). Its size is history_steps x num_envs frames of the view: 60000 x 12 x 120x160x3
    bytes = 41 GB at the defaults (15 GB with view = 'policy').
    """

    stat_names = EpisodicCuriosity.stat_names + ("rnet_accuracy", "rnet_trainings")

    def __init__(self, num_envs, scenario, device, history_steps: Count = 60000,
                 retrain_period: Count = 60000, epochs: Count = 10,
                 steps_per_epoch: OptionalCount = None, memory_before_training: bool = True,
                 view: Annotated[str, one_of("raw", "policy")] = "raw",
                 precision: Precision = "fp32",
                 compile_scan: Flag = False, seed: Index = 0):
        super().__init__(num_envs, scenario, device, view=view, precision=precision,
                         compile_scan=compile_scan, seed=seed,
                         rnet=RNetwork(input_shape=view_shape(view, scenario)).to(device))
        self.trainer = RTrainer(self.rnet, device)
        self.history_steps, self.retrain_period = history_steps, retrain_period
        self.epochs, self.steps_per_epoch = epochs, steps_per_epoch
        self.memory_before_training = memory_before_training
        self.history = None  # allocated on the first frame: [history_steps, num_envs, H, W, C]
        self.history_starts = np.zeros((history_steps, num_envs), bool)
        self.written = 0  # vector steps written to the history (ring position = written % size)
        self.steps_since_training = 0
        self.trainings = 0
        self.last_accuracy = float("nan")

    def _check_shape(self, shape):
        """ECO trains on whatever view it is given."""

    def _remember(self, frames, starts):
        if self.history is None:
            self.history = np.zeros((self.history_steps,) + frames.shape, np.uint8)
        position = self.written % self.history_steps
        self.history[position] = frames
        self.history_starts[position] = starts
        self.written += 1
        self.steps_since_training += 1

    def begin(self, obs, infos):
        frames = view_frames(self.view, obs, infos)
        self._remember(frames, np.ones(self.num_envs, bool))
        self._start_episodes(frames)

    def bonus_scale(self):
        return 1.0 if self.trainings > 0 else 0.0

    def compute(self, obs, actions, next_obs, terminated, truncated, infos):
        done = np.asarray(terminated) | np.asarray(truncated)
        frames = view_frames(self.view, next_obs, infos)
        self._remember(frames, done)
        if self.trainings == 0 and not self.memory_before_training:
            bonus = np.zeros(self.num_envs, np.float32)
        else:
            bonus = self._bonus(frames, done)
        self._record(rnet_accuracy=self.last_accuracy, rnet_trainings=self.trainings)
        return bonus

    def _episodes(self):
        """Flat frame indices of the history in time order per env, and the episode lengths."""
        size = min(self.written, self.history_steps)
        times = (np.arange(self.written - size, self.written) % self.history_steps)
        order, lengths = [], []
        for env in range(self.num_envs):
            starts = self.history_starts[times, env].copy()
            starts[0] = True
            bounds = np.flatnonzero(starts).tolist() + [size]
            lengths += [b - a for a, b in zip(bounds[:-1], bounds[1:])]
            order.append(times * self.num_envs + env)
        return np.concatenate(order), np.asarray(lengths)

    def update(self, step):
        if self.steps_since_training < self.retrain_period:
            return
        order, lengths = self._episodes()
        flat = self.history.reshape((-1,) + self.history.shape[2:])

        class _Frames:
            def __getitem__(self, idx):
                return flat[order[idx]]

        frames = _Frames()
        first, second, labels = self.trainer.sample(lengths, max(pairs_per_pass(lengths), 2),
                                                    self.rng)
        train = (95 * len(labels)) // 100
        # Many ranks: each steps the shared R-network as often as the one with fewest pairs.
        batches = train // self.trainer.batch_size
        if self.steps_per_epoch is not None:
            batches = min(batches, self.steps_per_epoch)
        batches = distributed.min_over_ranks(batches)
        for _ in range(self.epochs):
            self.trainer.train_epoch(frames, first[:train], second[:train], labels[:train],
                                     self.rng, batches)
        if train < len(labels):
            predicted = self.trainer.probabilities(frames, first[train:], second[train:]) > 0.5
            self.last_accuracy = float((predicted == labels[train:]).mean())
        self.trainings += 1
        self.steps_since_training = 0
        self.rnet.eval()

    def state_dict(self):
        return {"trainer": self.trainer.state_dict(), "trainings": self.trainings,
                "steps_since_training": self.steps_since_training,
                "last_accuracy": self.last_accuracy, "rng": self.rng.bit_generator.state}

    def load_state_dict(self, state):
        self.trainer.load_state_dict(state["trainer"])
        self.trainings, self.last_accuracy = state["trainings"], state["last_accuracy"]
        self.steps_since_training = state["steps_since_training"]
        self.rng.bit_generator.state = state["rng"]
        self.rnet.eval()
