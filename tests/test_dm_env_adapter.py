"""The dm_env adapter under dm_env's own conformance tests (`dm_env.test_utils`), on a VizDoom and a
maze scenario, with episodes that end by termination (discount 0) and by truncation (discount 1)."""

import unittest

import dm_env
import gymnasium as gym
import numpy as np
from dm_env import test_utils

from episodic_curiosity import envs
from episodic_curiosity.envs.dm_env_adapter import DmEnvAdapter

MOVE_LEFT, MOVE_RIGHT, ATTACK = 0, 1, 2  # doom_basic's buttons
MAZE_STEPS = 20  # a short time limit, so the conformance sequence sees truncations


def aim_and_shoot(obs):
    """doom_basic's monster is the red blob: turn towards it, shoot when it is centred."""
    red = (obs[..., 0].astype(int) - obs[..., 1] > 60) & (obs[..., 0] > 100)
    columns = np.flatnonzero(red.any(0))
    if len(columns) == 0:
        return ATTACK
    offset = columns.mean() - obs.shape[1] / 2
    return MOVE_LEFT if offset < -3 else MOVE_RIGHT if offset > 3 else ATTACK


class _Recording:
    """Keeps every TimeStep the mixin sees, for the end-of-episode assertions."""

    def reset_environment(self):
        step = super().reset_environment()
        self.steps = [step]
        return step

    def step_environment(self, action=None):
        step = super().step_environment(action)
        self.steps = getattr(self, "steps", []) + [step]
        return step

    def ends(self):
        return {float(s.discount) for s in getattr(self, "steps", []) if s.last()}


class DoomBasicConformance(_Recording, test_utils.EnvironmentTestMixin, unittest.TestCase):
    """Episodes end by termination: a closed-loop aim kills the monster in a few steps."""

    def make_object_under_test(self):
        return DmEnvAdapter(envs.make_env("doom_basic", envs.Split.TEST, 0), seed=0)

    def make_action_sequence(self):
        for _ in range(60):
            yield aim_and_shoot(self.steps[-1].observation)

    def test_episodes_end_by_termination(self):
        self.test_longer_action_sequence()
        self.assertEqual(self.ends(), {0.0})


class MazeConformance(_Recording, test_utils.EnvironmentTestMixin, unittest.TestCase):
    """dense1 under a short time limit: a truncation, then the agent is put on the goal, which
    ends the episode (termination), then the next episode starts."""

    def make_object_under_test(self):
        env = gym.wrappers.TimeLimit(envs.make_env("dense1", envs.Split.TEST, 0), MAZE_STEPS)
        self._maze = env.unwrapped
        return DmEnvAdapter(env, seed=0)

    def make_action_sequence(self):
        for _ in range(MAZE_STEPS + 3):
            yield 0
        goal = next(i for i in self._maze.plan.items if i.kind == "goal")
        self._maze.agent.pos = self._maze._center(goal.cell)  # teleported onto the goal
        yield 8  # fire: a no-op move; the touch ends the episode
        yield 0

    def test_episodes_end_by_truncation_and_termination(self):
        self.test_longer_action_sequence()
        self.assertEqual(self.ends(), {0.0, 1.0})
        self.assertEqual(self.steps[-1].step_type, dm_env.StepType.FIRST)


def test_specs_and_a_time_limit_episode():
    env = DmEnvAdapter(envs.make_env("doom_basic", envs.Split.TEST, 0))
    assert env.action_spec().num_values == 3
    assert env.observation_spec().shape == (84, 84, 3)
    assert env.reward_spec().dtype == np.float32 and env.discount_spec().dtype == np.float32
    timestep = env.reset()
    assert timestep.first()
    steps, total = 0, 0.0
    while not timestep.last():
        timestep = env.step(MOVE_LEFT)
        env.observation_spec().validate(timestep.observation)
        env.reward_spec().validate(timestep.reward)
        total += timestep.reward
        steps += 1
    assert steps == 75 and timestep.discount == 1.0  # a time limit, not a terminal state
    assert total < -250
    assert env.step(0).first()  # stepping after the end starts a new episode
    env.close()
