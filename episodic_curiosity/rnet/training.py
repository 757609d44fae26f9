"""Training the R-network on frame pairs: the step shared by offline (train_r) and online (ECO)."""

import gin
import numpy as np
import torch
from torch import nn

from episodic_curiosity.rnet.pairs import sample_pairs


@gin.configurable(denylist=["rnet", "device"])
class RTrainer:
    """Adam on cross-entropy of reachable / unreachable pairs (lr 1e-4, batch 64 in the paper)."""

    def __init__(self, rnet, device, learning_rate: float = 1e-4, batch_size: int = 64,
                 k: int = 5, negative_gap: int = 5):
        self.rnet, self.device = rnet, device
        self.batch_size, self.k, self.negative_gap = batch_size, k, negative_gap
        self.optimizer = torch.optim.Adam(rnet.parameters(), lr=learning_rate)

    def pairs(self, frames, episode_lengths, num_pairs, rng):
        """(x1, x2, labels) tensors sampled from `frames` (indexable by an index array)."""
        first, second, labels = sample_pairs(episode_lengths, num_pairs, rng, self.k,
                                             self.negative_gap)
        to = lambda a: torch.as_tensor(np.ascontiguousarray(a), device=self.device)
        return to(frames[first]), to(frames[second]), to(labels)

    def train_steps(self, frames, episode_lengths, num_steps, rng) -> dict:
        """`num_steps` Adam steps on fresh batches; returns mean loss and accuracy."""
        self.rnet.train()
        losses, correct = [], []
        for _ in range(num_steps):
            x1, x2, labels = self.pairs(frames, episode_lengths, self.batch_size, rng)
            logits = self.rnet(x1, x2)
            loss = nn.functional.cross_entropy(logits, labels)
            self.optimizer.zero_grad(set_to_none=True)
            loss.backward()
            self.optimizer.step()
            losses.append(loss.item())
            correct.append((logits.argmax(-1) == labels).float().mean().item())
        return {"loss": float(np.mean(losses)), "accuracy": float(np.mean(correct))}

    @torch.no_grad()
    def accuracy(self, frames, episode_lengths, num_pairs, seed=0) -> float:
        """Accuracy on a fixed set of pairs (fixed seed: comparable across epochs)."""
        self.rnet.eval()
        rng = np.random.default_rng(seed)
        correct = 0
        for start in range(0, num_pairs, 256):
            x1, x2, labels = self.pairs(frames, episode_lengths, min(256, num_pairs - start), rng)
            correct += (self.rnet(x1, x2).argmax(-1) == labels).sum().item()
        return correct / num_pairs

    def state_dict(self):
        return {"rnet": self.rnet.state_dict(), "optimizer": self.optimizer.state_dict()}

    def load_state_dict(self, state):
        self.rnet.load_state_dict(state["rnet"])
        self.optimizer.load_state_dict(state["optimizer"])
