import re

import numpy as np
import pytest
import torch

from episodic_curiosity.errors import UsageError
from episodic_curiosity.rnet.model import RNetwork
from episodic_curiosity.rnet.offline import load_rnet, save_rnet


def test_shapes_and_resnet18_size():
    rnet = RNetwork()
    frames = torch.randint(0, 255, (4, 84, 84, 3), dtype=torch.uint8)
    assert rnet.embedding(frames).shape == (4, 512)
    assert rnet(frames, frames).shape == (4, 2)
    embedding_params = sum(p.numel() for p in rnet.embedding.parameters())
    assert 11.0e6 < embedding_params < 11.5e6  # ResNet-18 trunk (11.2M) + the 512-d projection


def test_memory_comparison_equals_the_comparator_on_explicit_pairs():
    torch.manual_seed(0)
    rnet = RNetwork(width=8)
    rnet.train()
    rnet(torch.randint(0, 255, (16, 84, 84, 3), dtype=torch.uint8),
         torch.randint(0, 255, (16, 84, 84, 3), dtype=torch.uint8))  # non-trivial BN statistics
    rnet.eval()
    query = torch.randn(3, 512)
    memory = torch.randn(3, 7, 512)
    with torch.no_grad():
        fast = rnet.similarity_to_memory(rnet.comparator.project_left(query),
                                         rnet.comparator.project_right(memory.reshape(21, 512))
                                         .reshape(3, 7, 512))
        slow = torch.softmax(rnet.comparator(query.repeat_interleave(7, 0),
                                             memory.reshape(21, 512)), -1)[:, 1].reshape(3, 7)
    assert torch.allclose(fast, slow, atol=1e-5)


def test_load_errors_are_one_line(tmp_path):
    with pytest.raises(UsageError, match="no R-network"):
        load_rnet(tmp_path, "cpu")
    save_rnet(tmp_path / "r_network.pt", RNetwork(width=8))
    state = torch.load(tmp_path / "r_network.pt", weights_only=False)
    state["config"]["width"] = 16  # weights of width 8 under a width-16 config: wrong shapes
    torch.save(state, tmp_path / "r_network.pt")
    with pytest.raises(UsageError, match="cannot be loaded") as error:
        load_rnet(tmp_path, "cpu")
    # The parameter and both shapes survive, whole (the message used to be cut mid-token).
    assert re.search(r"size mismatch for embedding\.\S+: checkpoint torch\.Size\(\[\d+(, \d+)*\]\), "
                     r"this model torch\.Size\(\[\d+(, \d+)*\]\) \(and \d+ more\)", str(error.value))
    (tmp_path / "r_network.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(UsageError, match="cannot be loaded"):
        load_rnet(tmp_path, "cpu")


def test_a_new_generation_drops_the_shards_of_an_unfinished_one(tmp_path):
    from episodic_curiosity.rnet import data
    stale = tmp_path / "train" / "shard_00042.npy"  # from a killed run with other settings
    stale.parent.mkdir()
    np.save(stale, np.zeros((3, 84, 84, 3), np.uint8))
    np.save(tmp_path / "train" / "shard_00042.lengths.npy", np.array([3]))
    counts = data.generate(tmp_path, "doom_basic", total_steps=320, num_envs=2, num_workers=0,
                           shard_steps=1000, valid_fraction=0.5)
    assert not stale.exists() and data.is_complete(tmp_path)
    frames = data.Frames(tmp_path / "train")
    assert len(frames) == counts["train"]["frames"]
