"""Curiosity-driven exploration in PyTorch: episodic curiosity (reachability) and its peers."""

__version__ = "0.1.0"
