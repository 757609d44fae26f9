"""What a --device name means, for every binary and the trainer alike."""

import pytest
import torch

from episodic_curiosity.devices import resolve_device
from episodic_curiosity.errors import UsageError


def test_auto_is_cuda_when_visible_else_cpu():
    assert resolve_device("auto").type == ("cuda" if torch.cuda.is_available() else "cpu")
    assert resolve_device("cpu") == torch.device("cpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="the refusal needs a machine without CUDA")
def test_cuda_without_a_gpu_is_one_usage_error():
    with pytest.raises(UsageError, match="device 'cuda:0' asked for but no CUDA GPU is visible"):
        resolve_device("cuda:0")
