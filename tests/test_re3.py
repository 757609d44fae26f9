"""RE3: k-NN distance in a fixed random encoder's space, its decaying coefficient, its numbers,
exact resume."""


import numpy as np
import pytest
import torch

import peer_checks
from peer_checks import one_thread_and_clean_gin  # noqa: F401 (a fixture)
from test_episodic_bonuses import _transitions
from test_rnd import _minigrid_views


pytestmark = pytest.mark.usefixtures("one_thread_and_clean_gin")


def build(scenario, num_envs=1, bindings=(), **kwargs):
    return peer_checks.build("ppo_plus_re3", scenario, num_envs, bindings, **kwargs)


def reach(module, next_obs):
    """The bonus of a step of every env into `next_obs`."""
    no = np.zeros(len(next_obs), bool)
    return module.compute(next_obs, np.zeros(len(next_obs), int), next_obs, no, no,
                          [{} for _ in next_obs])


def views(scenario, count):
    """`count` distinct observations, one env each."""
    if scenario.startswith("doom"):
        return [peer_checks.frames(seed)[:1] for seed in range(count)]
    return [view[:1] for view in _minigrid_views(count, seed=0)]


def test_paper_numbers_are_the_gin_defaults():
    frames, grid = build("doom_dense"), build("minigrid_doorkey_5x5")
    for module in (frames, grid):
        assert (module.beta0, module.rho, module.k) == (0.05, 1e-5, 3)
        assert len(module.memory) == 10000 and module.normalize
        assert not module.separate_stream and module.warmup_env_steps == 0
        assert not any(p.requires_grad for p in module.encoder.parameters())  # never trained
    assert frames.memory.shape[1] == 50 and grid.memory.shape[1] == 64
    assert [m.kernel_size for m in grid.encoder if isinstance(m, torch.nn.Conv2d)] == [(2, 2)] * 3


@pytest.mark.parametrize("scenario", ["doom_basic", "minigrid_doorkey_8x8"])
def test_bonus_is_log_of_the_kth_neighbour_distance_plus_one(scenario):
    torch.manual_seed(0)
    module = build(scenario, normalize=False)
    seen = []
    for obs in views(scenario, 6):
        bonus = reach(module, obs)[0]
        seen.append(module.embed(obs)[0].numpy().astype(np.float64))
        distances = np.sort(np.linalg.norm(np.array(seen) - seen[-1], axis=1))
        kth = distances[min(3, len(seen) - 1)]  # distances[0] is the state itself
        assert bonus == pytest.approx(0.05 * np.log(kth + 1.0), rel=1e-4, abs=1e-7)


@pytest.mark.parametrize("scenario", ["doom_basic", "minigrid_doorkey_8x8"])
def test_repeated_observations_earn_nothing_once_k_copies_are_remembered(scenario):
    torch.manual_seed(0)
    module = build(scenario)
    *others, repeated, novel = views(scenario, 7)
    for obs in others:
        reach(module, obs)
    repeats = [reach(module, repeated)[0] for _ in range(5)]
    fresh = reach(module, novel)[0]
    print(f"RE3 on {scenario}: the same observation again and again {np.round(repeats, 4)}, "
          f"a novel one {fresh:.4f}")
    assert min(repeats[:3]) > 0.02 and repeats[3:] == [0.0, 0.0]  # its 3 nearest: copies
    assert fresh > 0.02
    # Within one step too: four envs in the same state are each other's neighbours.
    batch = build(scenario, num_envs=4)
    for obs in others:
        reach(batch, np.repeat(obs, 4, 0))
    assert not reach(batch, np.repeat(novel, 4, 0)).any()


def test_coefficient_decays_as_beta0_times_one_minus_rho_to_the_agent_steps():
    torch.manual_seed(0)
    early = build("doom_basic", normalize=False)
    for obs in views("doom_basic", 5):
        reach(early, obs)
    assert early.steps == 5 and early.beta() == 0.05 * (1 - 1e-5) ** 5
    later = build("doom_basic", normalize=False)
    state = peer_checks.through_a_file(early.state_dict())
    later.load_state_dict({**state, "steps": 5 + 100000})  # the same memory, 100k steps on
    novel = peer_checks.frames(9)[:1]
    ratio = reach(later, novel)[0] / reach(early, novel)[0]
    assert ratio == pytest.approx((1 - 1e-5) ** 100000, rel=1e-5)  # ~e^-1
    assert later.stats()["beta"] == pytest.approx(0.05 * (1 - 1e-5) ** 100005)


def test_state_round_trip_is_exact_on_frames():
    peer_checks.round_trip_is_exact(lambda: build("doom_basic", num_envs=peer_checks.NUM_ENVS))


def test_state_round_trip_is_exact_on_minigrid_episodes():
    bonuses = peer_checks.round_trip_is_exact_on_episodes(
        lambda: build("minigrid_multiroom_n7_s4", num_envs=2), _transitions(2, 160),
        train=False)  # nothing of RE3 trains: its encoder is fixed
    assert bonuses.max() > 0


def test_trains_from_the_launcher_on_the_symbolic_view(tmp_path):
    _, rows = peer_checks.launcher_progress(tmp_path, "ppo_plus_re3")
    # DoorKey-5x5's views repeat exactly: many steps have 3 copies in memory and earn 0.
    assert len(rows) == 16 and all(float(r["intrinsic_bonus_mean"]) >= 0 for r in rows)
    assert float(rows[0]["intrinsic_bonus_mean"]) > 0
    betas = [float(r["intrinsic_beta"]) for r in rows]
    assert betas == sorted(betas, reverse=True) and betas[0] < 0.05

def test_trains_from_the_launcher_on_vizdoom(tmp_path):
    from episodic_curiosity.rewards.re3 import RE3
    _, rows = peer_checks.doom_launcher_run(tmp_path, "ppo_plus_re3", RE3)
    assert all(float(r["intrinsic_bonus_mean"]) > 0 for r in rows)  # frames never repeat exactly
    assert all(float(r["intrinsic_knn_distance_mean"]) > 0 for r in rows)
    betas = [float(r["intrinsic_beta"]) for r in rows]
    assert betas == sorted(betas, reverse=True) and betas[0] < 0.05
