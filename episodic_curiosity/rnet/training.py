"""Training the R-network on frame pairs: the step shared by offline (train_r) and online (ECO)."""

import gin
import numpy as np
import torch
from torch import nn

from episodic_curiosity.rnet.pairs import sample_pairs
from episodic_curiosity.validation import Count, NonNegative, Positive


@gin.configurable(denylist=["rnet", "device"])
class RTrainer:
    """Adam on cross-entropy of reachable / unreachable pairs (lr 1e-4, batch 64 in the paper).

    conv_l2: the keras_resnet L2 penalty (1e-4 x sum of squares) on every convolution kernel;
      0 turns it off (this project's first trainer).
    pair_sampling: 'original' or 'uniform_gap' (rnet/pairs.py).
    """

    def __init__(self, rnet, device, learning_rate: Positive = 1e-4, batch_size: Count = 64,
                 k: Count = 5, negative_gap: Count = 5, conv_l2: NonNegative = 1e-4,
                 pair_sampling: str = "original"):
        self.rnet, self.device = rnet, device
        self.batch_size, self.k, self.negative_gap = batch_size, k, negative_gap
        self.conv_l2, self.pair_sampling = conv_l2, pair_sampling
        self.optimizer = torch.optim.Adam(rnet.parameters(), lr=learning_rate)

    def sample(self, episode_lengths, num_pairs, rng):
        """(first, second, labels) index arrays of `num_pairs` pairs."""
        return sample_pairs(episode_lengths, num_pairs, rng, self.k, self.negative_gap,
                            self.pair_sampling)

    def _tensors(self, frames, first, second, labels):
        to = lambda a: torch.as_tensor(np.ascontiguousarray(a), device=self.device)
        return to(frames[first]), to(frames[second]), to(labels)

    def pairs(self, frames, episode_lengths, num_pairs, rng):
        """(x1, x2, labels) tensors sampled from `frames` (indexable by an index array)."""
        return self._tensors(frames, *self.sample(episode_lengths, num_pairs, rng))

    def _step(self, x1, x2, labels):
        logits = self.rnet(x1, x2)
        loss = nn.functional.cross_entropy(logits, labels)
        penalty = (self.conv_l2 * sum(w.pow(2).sum() for w in self.rnet.conv_kernels())
                   if self.conv_l2 else 0.0)
        self.optimizer.zero_grad(set_to_none=True)
        (loss + penalty).backward()
        self.optimizer.step()
        return loss.item(), (logits.argmax(-1) == labels).float().mean().item()

    def train_steps(self, frames, episode_lengths, num_steps, rng) -> dict:
        """`num_steps` Adam steps on fresh batches; returns mean loss and accuracy."""
        self.rnet.train()
        results = [self._step(*self.pairs(frames, episode_lengths, self.batch_size, rng))
                   for _ in range(num_steps)]
        return {"loss": float(np.mean([r[0] for r in results])),
                "accuracy": float(np.mean([r[1] for r in results]))}

    def train_epoch(self, frames, first, second, labels, rng, max_batches=None) -> dict:
        """One pass over fixed pairs in a fresh shuffled order, `len // batch_size` batches (as
        Keras' fit_generator in the original's online trainer), or at most `max_batches`."""
        self.rnet.train()
        order = rng.permutation(len(labels))
        batches = len(labels) // self.batch_size
        if max_batches is not None:
            batches = min(batches, max_batches)
        results = []
        for b in range(batches):
            idx = order[b * self.batch_size:(b + 1) * self.batch_size]
            results.append(self._step(*self._tensors(frames, first[idx], second[idx],
                                                     labels[idx])))
        return {"loss": float(np.mean([r[0] for r in results])) if results else float("nan"),
                "accuracy": float(np.mean([r[1] for r in results])) if results else float("nan"),
                "batches": batches}

    @torch.no_grad()
    def probabilities(self, frames, first, second) -> np.ndarray:
        """P(reachable) of each pair, in eval mode (BN running statistics)."""
        self.rnet.eval()
        out = []
        for start in range(0, len(first), 256):
            x1, x2, _ = self._tensors(frames, first[start:start + 256],
                                      second[start:start + 256], np.zeros(0))
            out.append(torch.softmax(self.rnet(x1, x2), -1)[:, 1].float().cpu().numpy())
        return np.concatenate(out) if out else np.zeros(0, np.float32)

    def accuracy(self, frames, episode_lengths, num_pairs, seed=0) -> float:
        """Accuracy on a fixed set of pairs (fixed seed: comparable across epochs)."""
        first, second, labels = self.sample(episode_lengths, num_pairs,
                                            np.random.default_rng(seed))
        return float(((self.probabilities(frames, first, second) > 0.5) == labels).mean())

    def state_dict(self):
        return {"rnet": self.rnet.state_dict(), "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state):
        self.rnet.load_state_dict(state["rnet"])
        self.optimizer.load_state_dict(state["optimizer"])
