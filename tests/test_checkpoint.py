import errno
import os
import shutil
import signal
import subprocess
import sys

import pytest
import torch

from conftest import REPO
from episodic_curiosity import checkpoint
from episodic_curiosity.errors import Stopped, UsageError, WriteFailed


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


def test_a_write_past_the_file_size_limit_keeps_the_previous_checkpoint(tmp_path):
    """A real failed write, in a subprocess limited to 200 kB files (RLIMIT_FSIZE: EFBIG)."""
    script = (
        "import resource, sys, torch\n"
        "from episodic_curiosity import checkpoint\n"
        "from episodic_curiosity.errors import WriteFailed\n"
        "resource.setrlimit(resource.RLIMIT_FSIZE, (200_000, 200_000))\n"
        "checkpoint.save(sys.argv[1], 256, {'w': torch.zeros(1000)})\n"
        "try:\n"
        "    checkpoint.save(sys.argv[1], 512, {'w': torch.zeros(100_000)})\n"
        "except WriteFailed as e:\n"
        "    print(e)\n")
    result = subprocess.run([sys.executable, "-c", script, str(tmp_path)], capture_output=True,
                            text=True, timeout=120, cwd=REPO)
    assert result.returncode == 0, result.stderr
    message = result.stdout.strip()
    assert message.startswith(f"could not write checkpoint {checkpoint.path_for(tmp_path, 512)}: "
                              "File too large; raise the file size limit (ulimit -f)")
    assert message.endswith("then rerun to resume from step 256 (ckpt_000000000256.pt, kept)")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt_000000000256.pt"]
    assert checkpoint.load_latest(tmp_path)["step"] == 256


def _disk_fills_up(monkeypatch):
    """torch.save writes part of the file, then the disk is full, as torch reports it."""
    def save(state, f):
        f.write(b"x" * 1000)
        try:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        except OSError:
            raise RuntimeError("[enforce fail at inline_container.cc:672] . unexpected pos")
    monkeypatch.setattr(checkpoint.torch, "save", save)


def test_a_full_disk_names_the_filesystem_to_free_and_removes_the_partial_file(tmp_path,
                                                                              monkeypatch):
    checkpoint.save(tmp_path, 256, {"w": torch.zeros(10)})
    _disk_fills_up(monkeypatch)
    with pytest.raises(WriteFailed) as failure:
        checkpoint.save(tmp_path, 512, {})
    message = str(failure.value)
    assert message.startswith(f"could not write checkpoint {checkpoint.path_for(tmp_path, 512)}: "
                              "No space left on device; free space on /")
    assert " MB free; a checkpoint takes about 0.0 MB)" in message
    assert "resume from step 256" in message
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ckpt_000000000256.pt"]


def test_a_removed_directory_is_named(tmp_path):
    directory = tmp_path / "checkpoints"
    directory.mkdir()
    checkpoint.save(directory, 256, {})
    shutil.rmtree(directory)
    with pytest.raises(WriteFailed, match=f"could not write checkpoint {directory}/ckpt_0+512.pt: "
                       f"No such file or directory; {directory} was removed"):
        checkpoint.save(directory, 512, {})


def test_a_stop_during_the_write_leaves_no_partial_file(tmp_path, monkeypatch):
    def save(state, f):
        f.write(b"x" * 1000)
        raise Stopped(signal.SIGINT)
    monkeypatch.setattr(checkpoint.torch, "save", save)
    with pytest.raises(Stopped):
        checkpoint.save(tmp_path, 512, {})
    assert list(tmp_path.iterdir()) == []
