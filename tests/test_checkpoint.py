import pytest
import torch

from episodic_curiosity import checkpoint
from episodic_curiosity.errors import UsageError


def test_round_trip_restores_tensors_counters_and_rng(tmp_path):
    net = torch.nn.Linear(3, 2)
    torch.manual_seed(5)
    rng = checkpoint.rng_state()
    expected_draw = torch.rand(3)
    checkpoint.save(tmp_path, 1024, {"network": net.state_dict(), "update": 4, "rng": rng})
    state = checkpoint.load_latest(tmp_path)
    assert state["step"] == 1024 and state["update"] == 4
    restored = torch.nn.Linear(3, 2)
    restored.load_state_dict(state["network"])
    assert torch.equal(restored.weight, net.weight)
    checkpoint.restore_rng_state(state["rng"])
    assert torch.equal(torch.rand(3), expected_draw)


def test_keeps_only_newest_and_leaves_no_temporaries(tmp_path):
    for step in (1, 2, 3, 4):
        checkpoint.save(tmp_path, step, {}, keep=2)
    assert checkpoint.list_steps(tmp_path) == [3, 4]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt_000000000003.pt",
                                                         "ckpt_000000000004.pt"]


def test_corrupt_checkpoint_is_a_usage_error(tmp_path):
    path = checkpoint.save(tmp_path, 8, {"network": {"w": torch.zeros(1000)}})
    path.write_bytes(path.read_bytes()[:100])
    with pytest.raises(UsageError, match="corrupt"):
        checkpoint.load_latest(tmp_path)


def test_foreign_file_is_a_usage_error(tmp_path):
    torch.save({"weights": 1}, checkpoint.path_for(tmp_path, 3))
    with pytest.raises(UsageError, match="not a format"):
        checkpoint.load_latest(tmp_path)


def test_empty_directory_means_fresh_run(tmp_path):
    assert checkpoint.load_latest(tmp_path / "missing") is None
