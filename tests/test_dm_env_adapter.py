import numpy as np

from episodic_curiosity import envs
from episodic_curiosity.envs.dm_env_adapter import DmEnvAdapter


def test_episode_through_the_dm_env_api():
    env = DmEnvAdapter(envs.make_env("doom_basic", envs.Split.TEST, 0))
    assert env.action_spec().num_values == 3
    assert env.observation_spec().shape == (84, 84, 3)
    timestep = env.reset()
    assert timestep.first()
    steps, total = 0, 0.0
    while not timestep.last():
        timestep = env.step(0)
        env.observation_spec().validate(timestep.observation)
        total += timestep.reward
        steps += 1
    assert steps == 75 and timestep.discount == 1.0  # a time limit, not a terminal state
    assert total < -250
    assert env.step(0).first()  # stepping after the end starts a new episode
    env.close()
