"""R-network: a siamese ResNet-18 embedding and a comparator giving P(reachable within k steps).

The paper's network (keras_resnet, "identity mappings" ResNet): pre-activation basic blocks
(BN-ReLU-conv), a final BN-ReLU before the pooling, a 1x1 convolution without BN on shortcuts that
change shape, biases on convolutions, Keras batch normalisation (momentum 0.99, epsilon 1e-3: torch
momentum 0.01) and He-normal initialisation. L2 1e-4 on the convolution kernels is applied by the
trainer (`RNetwork.conv_kernels`). `block='postactivation'` keeps this project's first network
(post-activation blocks, BN on shortcuts, torch's BN constants) for comparison and old checkpoints.

The comparator's first layer is linear in each embedding after a per-feature BN-ReLU, so it splits
into `project_left(a) + project_right(b)`: episodic memory stores `project_right` of each frame once
and compares a new frame against 200 slots with only the remaining layers.
"""

import functools

import gin
import torch
from torch import nn
from episodic_curiosity.validation import Count

BLOCKS = ("preactivation", "postactivation")
KERAS_BN = dict(momentum=0.01, eps=1e-3)  # Keras BatchNormalization(momentum=0.99, epsilon=1e-3)


class _PreActivationBlock(nn.Module):
    """BN-ReLU-conv, BN-ReLU-conv, + shortcut (1x1 conv when the shape changes)."""

    def __init__(self, cin, cout, stride, bn, first=False):
        super().__init__()
        # The first block follows the stem's BN-ReLU-maxpool: no second BN-ReLU (as keras_resnet).
        self.bn1 = None if first else bn(cin)
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1)
        self.bn2 = bn(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1)
        self.shortcut = (nn.Conv2d(cin, cout, 1, stride) if stride != 1 or cin != cout
                         else nn.Identity())

    def forward(self, x):
        out = x if self.bn1 is None else torch.relu(self.bn1(x))
        out = self.conv2(torch.relu(self.bn2(self.conv1(out))))
        return out + self.shortcut(x)


class _PostActivationBlock(nn.Module):
    """conv-BN-ReLU, conv-BN, + shortcut (1x1 conv + BN), ReLU: the project's first network."""

    def __init__(self, cin, cout, stride, bn, first=False):
        super().__init__()
        del first
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = bn(cout)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = bn(cout)
        self.shortcut = nn.Sequential()
        if stride != 1 or cin != cout:
            self.shortcut = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False), bn(cout))

    def forward(self, x):
        out = torch.relu(self.bn1(self.conv1(x)))
        return torch.relu(self.bn2(self.conv2(out)) + self.shortcut(x))


class ResNetEmbedding(nn.Module):
    """ResNet with [2, 2, 2, 2] basic blocks (ResNet-18 at width 64) -> `embedding_size` features.

    Fully convolutional up to a global average pool: any frame size (120x160 or 84x84) works.
    """

    def __init__(self, width=64, blocks=(2, 2, 2, 2), embedding_size=512,
                 block="preactivation", in_channels=3):
        super().__init__()
        pre = block == "preactivation"
        bn = functools.partial(nn.BatchNorm2d, **KERAS_BN) if pre else nn.BatchNorm2d
        block_class = _PreActivationBlock if pre else _PostActivationBlock
        layers = [nn.Conv2d(in_channels, width, 7, 2, 3, bias=pre), bn(width), nn.ReLU(),
                  nn.MaxPool2d(3, 2, 1)]
        cin = width
        for stage, count in enumerate(blocks):
            cout = width * 2 ** stage
            for b in range(count):
                layers.append(block_class(cin, cout, 2 if stage and not b else 1, bn,
                                          first=stage == 0 and b == 0))
                cin = cout
        if pre:
            layers += [bn(cin), nn.ReLU()]  # the last activation before pooling
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(cin, embedding_size)]
        self.net = nn.Sequential(*layers)

    def forward(self, obs):
        """uint8 NHWC frames -> [B, embedding_size]. (The original feeds 0-255; the stem's BN
        makes the /255 immaterial.)"""
        return self.net(obs.permute(0, 3, 1, 2).float().div_(255.0))


class Comparator(nn.Module):
    """concat -> BN-ReLU -> 4 x (Dense, BN, ReLU) -> Dense 2 (logits of [unreachable, reachable])."""

    def __init__(self, embedding_size=512, hidden=512, bn=nn.BatchNorm1d):
        super().__init__()
        self.bn_left = bn(embedding_size)
        self.bn_right = bn(embedding_size)
        self.first = nn.Linear(2 * embedding_size, hidden)
        head = [bn(hidden), nn.ReLU()]
        for _ in range(3):
            head += [nn.Linear(hidden, hidden), bn(hidden), nn.ReLU()]
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


def _he_normal(module):
    """Keras' he_normal kernels and zero biases, as the original's layers."""
    if isinstance(module, (nn.Conv2d, nn.Linear)):
        nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        if module.bias is not None:
            nn.init.zeros_(module.bias)


@gin.configurable
class RNetwork(nn.Module):
    """Siamese embedding + comparator. `width` 64 is ResNet-18; 'rnet_small.gin' uses 16.

    input_shape: the (height, width, channels) of the frames it is trained on, recorded so that a
    run feeding other frames (a policy-sized view to a raw-view network) fails at once.
    """

    def __init__(self, width: Count = 64, embedding_size: Count = 512,
                 block: str = "preactivation", input_shape=None):
        super().__init__()
        if block not in BLOCKS:
            raise ValueError(f"RNetwork.block must be one of {BLOCKS}, got {block!r}")
        self.config = {"width": width, "embedding_size": embedding_size, "block": block,
                       "input_shape": list(input_shape) if input_shape else None}
        channels = input_shape[-1] if input_shape else 3  # Atari's and Mario's stacks: 4
        self.embedding = ResNetEmbedding(width, embedding_size=embedding_size, block=block,
                                         in_channels=channels)
        bn1d = (functools.partial(nn.BatchNorm1d, **KERAS_BN) if block == "preactivation"
                else nn.BatchNorm1d)
        self.comparator = Comparator(embedding_size, bn=bn1d)
        if block == "preactivation":
            self.apply(_he_normal)
        self.to(memory_format=torch.channels_last)

    def forward(self, x1, x2):
        """Logits [B, 2] for frame pairs; class 1 = reachable."""
        return self.comparator(self.embedding(x1), self.embedding(x2))

    def conv_kernels(self):
        """The convolution kernels the paper regularises with L2 1e-4."""
        return [m.weight for m in self.modules() if isinstance(m, nn.Conv2d)]

    @property
    def memory_dim(self) -> int:
        return self.comparator.first.out_features

    def embed(self, frames):
        """(left, right) comparator projections of uint8 frames: one embedding per frame."""
        embedding = self.embedding(frames)
        return self.comparator.project_left(embedding), self.comparator.project_right(embedding)

    def similarity_to_memory(self, query_left, memory_right):
        """P(reachable) of each query against memory slots: [N, H] x [N, M, H] -> [N, M].

        `query_left` = comparator.project_left(embedding), `memory_right` = project_right(...).
        """
        n, m, h = memory_right.shape
        hidden = (query_left[:, None, :] + memory_right).reshape(n * m, h)
        return torch.softmax(self.comparator.head(hidden), -1)[:, 1].reshape(n, m)
