"""PPO learner, rollout collection, evaluation and the policy training loop."""
