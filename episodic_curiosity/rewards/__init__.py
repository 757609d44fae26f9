"""Intrinsic rewards, all behind rewards.base.IntrinsicReward; PPO sees only that interface."""
