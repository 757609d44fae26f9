"""The torch device a `--device` / `train_policy.device` name means.

One definition for every binary and the trainer, so 'auto' and the no-GPU refusal read the same
everywhere. Imports nothing of the package but errors.py: any layer may use it.
"""

import torch

from episodic_curiosity.errors import UsageError


def resolve_device(name: str) -> torch.device:
    """'auto' -> CUDA when visible, else CPU; a CUDA name without a GPU is a UsageError."""
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise UsageError(f"device '{name}' asked for but no CUDA GPU is visible; use device='auto'")
    return torch.device(name)
