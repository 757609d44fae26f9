"""R-network: a siamese ResNet-18 embedding and a comparator giving P(reachable within k steps).

The comparator's first layer is linear in each embedding after a per-feature BN-ReLU, so it splits
into `project_left(a) + project_right(b)`: episodic memory stores `project_right` of each frame once
and compares a new frame against 200 slots with only the remaining layers.
"""

import gin
import torch
from torch import nn


class _BasicBlock(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                          nn.BatchNorm2d(cout))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNetEmbedding(nn.Module):
    """ResNet with [2, 2, 2, 2] basic blocks (ResNet-18 at width 64) -> `embedding_size` features."""

    def __init__(self, width=64, blocks=(2, 2, 2, 2), embedding_size=512):
        super().__init__()
        layers = [nn.Conv2d(3, width, 7, 2, 3, bias=False), nn.BatchNorm2d(width), nn.ReLU(),
                  nn.MaxPool2d(3, 2, 1)]
        cin = width
        for stage, count in enumerate(blocks):
            cout = width * 2 ** stage
            for b in range(count):
                layers.append(_BasicBlock(cin, cout, 2 if stage and not b else 1))
                cin = cout
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, embedding_size)]
        self.net = nn.Sequential(*layers)

    def forward(self, obs):
        """uint8 NHWC frames -> [B, embedding_size]."""
        return self.net(obs.permute(0, 3, 1, 2).float().div_(255.0))


class Comparator(nn.Module):
    """concat -> BN-ReLU -> 4 x (Dense, BN, ReLU) -> Dense 2 (logits of [unreachable, reachable])."""

    def __init__(self, embedding_size=512, hidden=512):
        super().__init__()
        self.bn_left = nn.BatchNorm1d(embedding_size)
        self.bn_right = nn.BatchNorm1d(embedding_size)
        self.first = nn.Linear(2 * embedding_size, hidden)
        head = [nn.BatchNorm1d(hidden), nn.ReLU()]
        for _ in range(3):
            head += [nn.Linear(hidden, hidden), nn.BatchNorm1d(hidden), nn.ReLU()]
        self.head = nn.Sequential(*head, nn.Linear(hidden, 2))
        self.embedding_size = embedding_size

    def project_left(self, a):
        weight = self.first.weight[:, :self.embedding_size]
        return torch.relu(self.bn_left(a)) @ weight.T + self.first.bias

    def project_right(self, b):
        weight = self.first.weight[:, self.embedding_size:]
        return torch.relu(self.bn_right(b)) @ weight.T

    def forward(self, a, b):
        return self.head(self.project_left(a) + self.project_right(b))


@gin.configurable
class RNetwork(nn.Module):
    """Siamese embedding + comparator. `width` 64 is ResNet-18; 'rnet_small.gin' uses 16."""

    def __init__(self, width: int = 64, embedding_size: int = 512):
        super().__init__()
        self.config = {"width": width, "embedding_size": embedding_size}
        self.embedding = ResNetEmbedding(width, embedding_size=embedding_size)
        self.comparator = Comparator(embedding_size)
        self.to(memory_format=torch.channels_last)

    def forward(self, x1, x2):
        """Logits [B, 2] for frame pairs; class 1 = reachable."""
        return self.comparator(self.embedding(x1), self.embedding(x2))

    def similarity_to_memory(self, query_left, memory_right):
        """P(reachable) of each query against memory slots: [N, H] x [N, M, H] -> [N, M].

        `query_left` = comparator.project_left(embedding), `memory_right` = project_right(...).
        """
        n, m, h = memory_right.shape
        hidden = (query_left[:, None, :] + memory_right).reshape(n * m, h)
        return torch.softmax(self.comparator.head(hidden), -1)[:, 1].reshape(n, m)
