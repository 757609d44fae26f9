"""Episodic curiosity (EC) and its online variant (ECO): bonus = alpha * (beta - similarity).

Each frame is embedded once; its comparator projection is compared with every memory slot in one
batched call, and stored if novel. Numbers are the paper's (DESIGN.md, "The algorithm").
"""

import gin
import numpy as np
import torch

from episodic_curiosity.rewards.base import IntrinsicReward
from episodic_curiosity.rewards.episodic_memory import EpisodicMemory
from episodic_curiosity.rnet.model import RNetwork
from episodic_curiosity.rnet.offline import load_rnet
from episodic_curiosity.rnet.training import RTrainer


def bonus_from_similarity(similarity, alpha, beta):
    """The paper's curiosity bonus b = alpha * (beta - C)."""
    return alpha * (beta - similarity)


@gin.configurable(denylist=["num_envs", "scenario", "device", "rnet"])
class EpisodicCuriosity(IntrinsicReward):
    """EC with a fixed, offline-trained R-network loaded from `r_network_path`."""

    stat_names = ("bonus_mean", "memory_fill", "added_fraction")

    def __init__(self, num_envs, scenario, device, r_network_path: str | None = None,
                 rnet: RNetwork | None = None, memory_capacity: int = 200,
                 percentile: float = 90.0, novelty_threshold: float = 0.5,
                 alpha: float = 0.030172, beta: float = 0.5, seed: int = 0):
        super().__init__(num_envs, scenario, device)
        self.rnet = rnet if rnet is not None else load_rnet(r_network_path, device)
        self.rnet.eval()
        self.alpha, self.beta = alpha, beta
        self.percentile, self.novelty_threshold = percentile, novelty_threshold
        self.rng = np.random.default_rng(seed)
        self.memory = EpisodicMemory(num_envs, memory_capacity,
                                     self.rnet.comparator.first.out_features, device, self.rng)

    @torch.no_grad()
    def _embed(self, frames):
        """(left projection, right projection) of a batch of frames: one embedding per frame."""
        self.rnet.eval()
        embedding = self.rnet.embedding(torch.as_tensor(frames, device=self.device))
        comparator = self.rnet.comparator
        return comparator.project_left(embedding), comparator.project_right(embedding)

    def begin(self, obs, infos):
        _, right = self._embed(obs)
        self.memory.reset(range(self.num_envs))
        self.memory.add(range(self.num_envs), right)

    def active(self) -> bool:
        return True

    @torch.no_grad()
    def compute(self, obs, actions, next_obs, terminated, truncated, infos):
        done = np.asarray(terminated) | np.asarray(truncated)
        if not self.active():
            return np.zeros(self.num_envs, np.float32)
        left, right = self._embed(next_obs)
        similarity = self.memory.similarity(self.rnet.similarity_to_memory, left,
                                            self.percentile).cpu().numpy()
        bonus = bonus_from_similarity(similarity, self.alpha, self.beta).astype(np.float32)
        bonus[done] = 0.0
        novel = (similarity < self.novelty_threshold) & ~done
        self.memory.add(np.flatnonzero(novel), right[torch.as_tensor(novel)])
        # A new episode starts with an empty memory holding its first frame.
        self.memory.reset(np.flatnonzero(done))
        self.memory.add(np.flatnonzero(done), right[torch.as_tensor(done)])
        live = max(int((~done).sum()), 1)
        self._record(bonus_mean=bonus.mean(), memory_fill=self.memory.fill,
                     added_fraction=novel.sum() / live)
        return bonus


@gin.configurable(denylist=["num_envs", "scenario", "device"])
class EpisodicCuriosityOnline(EpisodicCuriosity):
    """ECO: the R-network trains online on the policy's own frames; no bonus before it has trained.

    The frame history is a ring buffer of `history_steps` vector steps; every `retrain_period`
    vector steps the R-network trains `epochs` x `steps_per_epoch` batches of pairs from it. Weights,
    optimizer and schedule are checkpointed; the history is not (it refills after a resume).
    """

    stat_names = EpisodicCuriosity.stat_names + ("rnet_accuracy", "rnet_trainings")

    def __init__(self, num_envs, scenario, device, history_steps: int = 60000,
                 retrain_period: int = 60000, epochs: int = 10, steps_per_epoch: int = 100,
                 seed: int = 0):
        super().__init__(num_envs, scenario, device, rnet=RNetwork().to(device), seed=seed)
        self.trainer = RTrainer(self.rnet, device)
        self.history_steps, self.retrain_period = history_steps, retrain_period
        self.epochs, self.steps_per_epoch = epochs, steps_per_epoch
        self.history = None  # allocated on the first frame: [history_steps, num_envs, H, W, C]
        self.history_starts = np.zeros((history_steps, num_envs), bool)
        self.written = 0  # vector steps written to the history (ring position = written % size)
        self.steps_since_training = 0
        self.trainings = 0
        self.last_accuracy = float("nan")

    def _remember(self, frames, starts):
        if self.history is None:
            self.history = np.zeros((self.history_steps,) + frames.shape, np.uint8)
        position = self.written % self.history_steps
        self.history[position] = frames
        self.history_starts[position] = starts
        self.written += 1
        self.steps_since_training += 1

    def begin(self, obs, infos):
        self._remember(obs, np.ones(self.num_envs, bool))
        super().begin(obs, infos)

    def active(self):
        return self.trainings > 0

    def compute(self, obs, actions, next_obs, terminated, truncated, infos):
        self._remember(next_obs, np.asarray(terminated) | np.asarray(truncated))
        bonus = super().compute(obs, actions, next_obs, terminated, truncated, infos)
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

        for _ in range(self.epochs):
            result = self.trainer.train_steps(_Frames(), lengths, self.steps_per_epoch, self.rng)
        self.last_accuracy = result["accuracy"]
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
