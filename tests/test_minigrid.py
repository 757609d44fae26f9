"""MiniGrid scenarios: gymnasium's checker, the NoisyTV action, split-disjoint layouts."""

import numpy as np
import pytest
from gymnasium.utils.env_checker import check_env
from minigrid.core.constants import OBJECT_TO_IDX

from episodic_curiosity import envs
from episodic_curiosity.envs import minigrid, registry
from episodic_curiosity.envs.splits import Split, level_seed

RIDE_TASKS = ["multiroom_n7_s4", "multiroom_n7_s8", "multiroom_n10_s4", "multiroom_n10_s10",
              "multiroom_n12_s10", "keycorridor_s3r3", "obstructedmaze_2dlh",
              "multiroom_noisytv_n7_s4"]
NOISY = "minigrid_multiroom_noisytv_n7_s4"
DROP = 4


@pytest.mark.parametrize("name", ["minigrid_multiroom_n7_s4", "minigrid_keycorridor_s3r3_rgb",
                                  NOISY, "minigrid_obstructedmaze_2dlh"])
def test_passes_gymnasiums_check_env(name):
    env = envs.get(name).build(level_seed(Split.VALIDATION, 0))
    check_env(env, skip_render_check=True)
    wrapped = envs.make_env(name, Split.VALIDATION, 0)
    obs, info = wrapped.reset()
    assert obs.shape == envs.get(name).obs_shape() and obs.dtype == np.uint8
    assert wrapped.observation_space.contains(obs)
    assert {"agent_xy", "state_key"} <= set(info)


def test_every_ride_task_is_registered_in_both_views():
    for task in RIDE_TASKS:
        assert envs.get(f"minigrid_{task}").obs_shape() == (7, 7, 3)
        assert envs.get(f"minigrid_{task}_rgb").obs_shape() == (84, 84, 3)


def _noisy_env_with_ball_in_view(view):
    for index in range(50):
        env = minigrid.MiniGridTask(
            lambda: minigrid.make_raw("noisytv", dict(minNumRooms=7, maxNumRooms=7,
                                                      maxRoomSize=4)),
            level_seed(Split.POLICY_TRAINING, index), view)
        env.reset()
        if (env.unwrapped_minigrid.gen_obs()["image"][..., 0] == OBJECT_TO_IDX["ball"]).any():
            return env
    raise AssertionError("no NoisyTV episode with the ball in view")


@pytest.mark.parametrize("view", ["symbolic", "rgb"])
def test_noisy_action_changes_the_view_and_nothing_else(view):
    env = _noisy_env_with_ball_in_view(view)
    raw = env.unwrapped_minigrid
    obs = env._observe(raw.gen_obs())[0]
    before = (raw.agent_pos, raw.agent_dir, raw.carrying)
    walls_and_doors = [(i, o.encode()) for i, o in enumerate(raw.grid.grid)
                       if o is not None and o.type != "ball"]
    changed_pixels = np.zeros(obs.shape[:2], bool)
    colours = {raw.noisy_tv.color}
    for _ in range(20):
        new_obs, reward, terminated, truncated, _ = env.step(DROP)
        assert reward == 0 and not terminated and not truncated
        assert (raw.agent_pos, raw.agent_dir, raw.carrying) == before
        assert [(i, o.encode()) for i, o in enumerate(raw.grid.grid)
                if o is not None and o.type != "ball"] == walls_and_doors
        changed_pixels |= (new_obs != obs).any(-1)
        colours.add(raw.noisy_tv.color)
    assert len(colours) > 1 and changed_pixels.any()
    # Only the ball's cell of the view changes.
    cell = 1 if view == "symbolic" else minigrid.TILE_PIXELS
    ball_cells = raw.gen_obs()["image"][..., 0] == OBJECT_TO_IDX["ball"]
    ball_mask = np.kron(ball_cells, np.ones((cell, cell), bool))
    # The symbolic view is indexed (x, y); the rendered one (row, column).
    if view == "rgb":
        ball_mask = np.kron(ball_cells.T, np.ones((cell, cell), bool))
    assert not (changed_pixels & ~ball_mask).any()


def test_other_tasks_have_no_noisy_tv():
    env = envs.make_env("minigrid_multiroom_n7_s4", Split.VALIDATION, 0)
    env.reset()
    assert not hasattr(env.unwrapped.unwrapped_minigrid, "noisy_tv")


def _layouts(name, split, episodes):
    env = envs.get(name).build(level_seed(split, 0))
    prints = set()
    for _ in range(episodes):
        env.reset()
        prints.add(env.layout_fingerprint())
    return prints


def test_splits_never_share_a_layout():
    # DoorKey-5x5 has only a few dozen layouts: unfiltered, 150 episodes per split would share
    # most of them.
    layouts = {split: _layouts("minigrid_doorkey_5x5", split, 150) for split in Split}
    for split, prints in layouts.items():
        assert all(p % len(Split) == split.value for p in prints)
        for other, other_prints in layouts.items():
            if other != split:
                assert not prints & other_prints
    # ... and each split still draws several of them.
    assert min(len(p) for p in layouts.values()) >= 5


def test_layouts_are_reproducible_per_level_seed():
    first = _layouts("minigrid_multiroom_n7_s4", Split.TEST, 3)
    assert first == _layouts("minigrid_multiroom_n7_s4", Split.TEST, 3) and len(first) == 3


def test_state_key_is_the_full_state():
    env = envs.make_env("minigrid_doorkey_5x5", Split.VALIDATION, 0)
    _, info = env.reset()
    _, _, _, _, turned = env.step(0)  # turn left
    assert turned["state_key"] != info["state_key"]
    for _ in range(3):
        *_, again = env.step(0)
    assert again["state_key"] == info["state_key"]  # four left turns: the same state


def test_unknown_minigrid_task_is_a_usage_error():
    with pytest.raises(Exception) as e:
        registry.get("minigrid_multiroom_n99")
    assert "minigrid_multiroom_n7_s4" in str(e.value)


def test_symbolic_views_get_the_minigrid_network():
    import torch
    from episodic_curiosity.agents import networks
    network = networks.ActorCritic(envs.get("minigrid_multiroom_n7_s4").obs_shape(), 7)
    assert isinstance(network.torso, networks.MiniGridNet)
    logits, value = network(torch.zeros((5, 7, 7, 3), dtype=torch.uint8))
    assert logits.shape == (5, 7) and value.shape == (5,)
    pixels = networks.ActorCritic(envs.get("minigrid_multiroom_n7_s4_rgb").obs_shape(), 7)
    assert isinstance(pixels.torso, networks.NatureCNN)


def test_noisy_action_share_of_an_untrained_policy_is_about_uniform():
    import torch
    from episodic_curiosity.agents import action_stats, networks
    torch.manual_seed(0)
    network = networks.ActorCritic((7, 7, 3), 7)  # near-uniform logits at initialisation
    shares, success = action_stats.action_frequencies(network, NOISY, episodes=4)
    assert shares.sum() == pytest.approx(1.0)
    assert shares[DROP] == pytest.approx(1 / 7, abs=0.04) and 0.0 <= success <= 1.0


@pytest.mark.parametrize("value_heads", [1, 2])
def test_policies_of_one_and_two_reward_streams_load_for_the_reports(tmp_path, value_heads):
    """noisy_tv_report and eval_policy read RND / curiosity policies (two value heads) too."""
    import torch
    from episodic_curiosity import checkpoint, envs
    from episodic_curiosity.agents import networks
    from episodic_curiosity.analysis import policy
    from episodic_curiosity.workdir import RunDir
    spec = envs.get(NOISY)
    trained = networks.ActorCritic(spec.obs_shape(), spec.num_actions, value_heads=value_heads)
    run = RunDir(tmp_path / "run")
    run.create()
    checkpoint.save(run.checkpoints, 256, {"network": trained.state_dict(), "step": 256, "meta": {
        "scenario": NOISY, "obs_shape": list(spec.obs_shape()),
        "num_actions": spec.num_actions}})
    loaded = policy.load(run.path)  # noisy_tv_report's reader, as eval_policy's
    assert loaded.step == 256 and loaded.network.value_heads == value_heads
    assert policy.load(run.checkpoints).network.value_heads == value_heads
    obs = torch.zeros((1,) + spec.obs_shape(), dtype=torch.uint8)
    assert torch.equal(loaded.network(obs)[0], trained.eval()(obs)[0])
