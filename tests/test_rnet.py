import re

import numpy as np
import pytest
import torch

from episodic_curiosity.errors import UsageError
from episodic_curiosity.rnet.model import RNetwork
from episodic_curiosity.rnet.offline import load_rnet, save_rnet
from episodic_curiosity.rnet.training import RTrainer


def test_shapes_and_resnet18_size():
    rnet = RNetwork()
    frames = torch.randint(0, 255, (4, 84, 84, 3), dtype=torch.uint8)
    assert rnet.embedding(frames).shape == (4, 512)
    assert rnet(frames, frames).shape == (4, 2)
    embedding_params = sum(p.numel() for p in rnet.embedding.parameters())
    assert 11.0e6 < embedding_params < 11.5e6  # ResNet-18 trunk (11.2M) + the 512-d projection


def test_other_load_errors_are_cut_at_a_word_never_mid_token():
    from episodic_curiosity.errors import load_error_summary
    long = RuntimeError("Error(s) in loading state_dict for RNetwork:\n\t" + " ".join(
        f"Missing key(s) in state_dict: embedding.net.{i}.weight" for i in range(20)))
    summary = load_error_summary(long)
    assert len(summary) <= 204 and summary.endswith(" ...") and "\n" not in summary
    assert summary[:-4] == " ".join(str(long).split())[:len(summary) - 4]  # a prefix, whole words
    assert summary[:-4].split()[-1] in str(long).split()  # the last word is not cut
    assert load_error_summary(RuntimeError("short  one")) == "short one"


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


def _conv_bn_layout(module):
    """The order of Conv2d / BatchNorm2d leaves, as 'C' / 'B'."""
    return "".join("C" if isinstance(m, torch.nn.Conv2d) else "B"
                   for m in module.modules()
                   if isinstance(m, (torch.nn.Conv2d, torch.nn.BatchNorm2d)))


def test_pre_activation_blocks_keras_batch_norm_and_conv_biases():
    """keras_resnet: BN-ReLU-conv blocks (the first block skips its BN: the stem just did it),
    1x1 conv shortcut without BN, a final BN-ReLU, biases on convolutions, Keras BN constants."""
    rnet = RNetwork(width=8)
    blocks = [m for m in rnet.embedding.net if hasattr(m, "shortcut")]
    assert _conv_bn_layout(blocks[0]) == "CBC"  # conv1, bn2, conv2; identity shortcut
    assert _conv_bn_layout(blocks[1]) == "BCBC"
    assert _conv_bn_layout(blocks[2]) == "BCBCC"  # stride 2: the shortcut is a bare 1x1 conv
    assert isinstance(blocks[2].shortcut, torch.nn.Conv2d)
    assert blocks[2].shortcut.kernel_size == (1, 1) and blocks[2].shortcut.stride == (2, 2)
    layers = list(rnet.embedding.net)
    assert isinstance(layers[-5], torch.nn.BatchNorm2d) and isinstance(layers[-4], torch.nn.ReLU)
    assert all(m.bias is not None for m in rnet.modules() if isinstance(m, torch.nn.Conv2d))
    norms = [m for m in rnet.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert norms and all(m.momentum == 0.01 and m.eps == 1e-3 for m in norms)


def test_conv_kernels_carry_the_papers_l2():
    rnet = RNetwork(width=8)  # not 4: oneDNN 3.12 (torch 2.13 CPU) corrupts the heap
    # in the backward of a width-4 or -6 network on 32x32 frames with one thread (a later test aborts)
    trainer = RTrainer(rnet, "cpu", learning_rate=0.0)
    assert trainer.conv_l2 == 1e-4
    frames = torch.randint(0, 255, (8, 32, 32, 3), dtype=torch.uint8)
    labels = torch.tensor([0, 1] * 4)
    trainer._step(frames, frames, labels)
    with_l2 = rnet.conv_kernels()[0].grad.clone()
    trainer.conv_l2 = 0.0
    trainer._step(frames, frames, labels)
    without = rnet.conv_kernels()[0].grad
    assert torch.allclose(with_l2 - without, 2e-4 * rnet.conv_kernels()[0].detach(), atol=1e-6)


def test_networks_saved_before_the_block_option_load_as_post_activation(tmp_path):
    old = RNetwork(width=8, block="postactivation")
    state = {"config": {"width": 8, "embedding_size": 512}, "rnet": old.state_dict()}
    torch.save(state, tmp_path / "r_network.pt")
    loaded = load_rnet(tmp_path, "cpu")
    assert loaded.config["block"] == "postactivation"


def test_offline_budget_is_the_papers_and_the_latest_network_is_kept(tmp_path):
    """2000 epochs x 100 batches of 64 pairs (200k steps), the latest network kept: the
    original's launcher takes its newest checkpoint, not the best by validation."""
    from episodic_curiosity import configuration
    from episodic_curiosity.launch import local, methods
    from episodic_curiosity.rnet import data, offline
    configuration.parse(local.gin_files(methods.get("ppo_plus_ec"), "noreward", None))
    assert [configuration.query(f"train_r.{n}", None) for n in ("epochs", "steps_per_epoch",
                                                                "keep")] == [2000, 100, "latest"]
    assert configuration.query("RTrainer.batch_size", None) == 64
    configuration.parse(local.gin_files(methods.get("ppo_plus_ec"), "noreward", "smoke"))
    assert configuration.query("train_r.epochs", None) <= 4  # the smoke preset stays small
    configuration.parse([], ["RNetwork.width = 8"])
    rng = np.random.default_rng(0)
    for split in data.SPLITS:
        data._write_shard(tmp_path / "data" / split, 0,
                          [rng.integers(0, 255, (60, 16, 16, 3), dtype=np.uint8)] * 2)
    torch.manual_seed(0)
    offline.train_r(tmp_path / "data", tmp_path / "out", "cpu", epochs=3, steps_per_epoch=1,
                    valid_pairs=16)
    configuration.parse()
    saved = torch.load(tmp_path / "out" / "r_network.pt", weights_only=False)
    assert saved["epoch"] == 3
    assert saved["config"]["input_shape"] == [16, 16, 3]


def test_frame_stacks_get_a_stem_of_their_channels(tmp_path):
    """Atari's and Mario's 84x84x4 gray stacks: the stem takes 4 channels, and a saved network
    keeps them (it crashed on a 3-channel stem before)."""
    net = RNetwork(width=8, input_shape=(84, 84, 4)).eval()
    frames = torch.randint(0, 255, (2, 84, 84, 4), dtype=torch.uint8)
    assert net(frames, frames.flip(0)).shape == (2, 2)
    save_rnet(tmp_path / "r_network.pt", net)
    assert load_rnet(tmp_path / "r_network.pt", "cpu").embedding.net[0].in_channels == 4
