"""NovelD: the gain in RND novelty, paid on first visits only; its numbers; exact resume."""


import numpy as np
import pytest
import torch

import peer_checks
from peer_checks import one_thread_and_clean_gin  # noqa: F401 (a fixture)
from test_episodic_bonuses import _transitions
from test_rnd import _minigrid_views

NO = np.zeros(peer_checks.NUM_ENVS, bool)


pytestmark = pytest.mark.usefixtures("one_thread_and_clean_gin")


def build(scenario, num_envs=peer_checks.NUM_ENVS, bindings=(), **kwargs):
    return peer_checks.build("ppo_plus_noveld", scenario, num_envs, bindings, **kwargs)


def step(module, obs, next_obs, key, done=NO, reset_key=None):
    """One transition of every env into the state `key` (MiniGrid's info['state_key'])."""
    infos = [{"state_key": key, "state_key_reset": reset_key, "final_obs": next_obs[i]}
             for i in range(len(obs))]
    return module.compute(obs, np.zeros(len(obs), int), next_obs, done, NO[:len(obs)], infos)


def novelty(module, obs):
    with torch.no_grad():
        return module.errors(module._newest_frame(obs)).cpu().numpy()


def test_paper_numbers_are_the_gin_defaults():
    for scenario in ("minigrid_doorkey_5x5", "doom_dense"):
        module = build(scenario)
        assert (module.coef, module.alpha, module.normalize_obs) == (0.05, 0.5, False)
        assert not module.separate_stream and module.warmup_env_steps == 0
        assert (module.update_proportion, module.epochs, module.num_minibatches) == (1.0, 1, 1)
        assert module.optimizer.param_groups[0]["lr"] == 1e-4
    # The symbolic view gets RIDE's MiniGrid embedding net (RND's), not the 8x8/4 convs.
    convs = [m for m in build("minigrid_doorkey_5x5").target if isinstance(m, torch.nn.Conv2d)]
    assert [c.kernel_size for c in convs] == [(3, 3)] * 3


def test_bonus_is_the_clipped_gain_in_novelty_on_the_first_visit_of_the_episode():
    torch.manual_seed(0)
    module = build("minigrid_doorkey_8x8")
    s, s_next = _minigrid_views(2, seed=0)
    module.begin(s, [{"state_key": "s"}] * peer_checks.NUM_ENVS)
    expected = 0.05 * np.maximum(novelty(module, s_next) - 0.5 * novelty(module, s), 0)
    assert expected.min() > 0
    np.testing.assert_allclose(step(module, s, s_next, "s'"), expected, rtol=1e-5)
    assert not step(module, s, s_next, "s'").any()  # the second visit of the episode: nothing
    assert not step(module, s_next, s, "s").any()  # s was the episode's first state
    # The episode ends in s' and restarts in s: s' is new again.
    step(module, s_next, s_next, "s'", done=~NO, reset_key="s")
    np.testing.assert_allclose(step(module, s, s_next, "s'"), expected, rtol=1e-5)
    # Into a state no more novel than alpha x the one left: clipped to 0.
    leaving = build("minigrid_doorkey_8x8", alpha=10.0)
    leaving.begin(s, [{"state_key": "s"}] * peer_checks.NUM_ENVS)
    assert not step(leaving, s, s_next, "s'").any()


def _trained(scenario, familiar, familiar_next, updates=30):
    """A module whose predictor learned `familiar_next` (10x the gin lr: 30 updates, not 300)."""
    torch.manual_seed(0)
    module = build(scenario, bindings=["RND.learning_rate = 1e-3"])
    before = novelty(module, familiar_next).mean()
    for t in range(updates):
        for _ in range(4):
            step(module, familiar, familiar_next, t)
        module.update(0)
    return module, before


@pytest.mark.parametrize("scenario", ["doom_basic", "minigrid_doorkey_8x8"])
def test_novelty_of_familiar_states_falls_and_so_does_their_bonus(scenario):
    if scenario.startswith("doom"):
        a, a_next, b_next = (peer_checks.frames(s) for s in range(3))
    else:
        a, a_next, b_next = _minigrid_views(3, seed=0)
    module, before = _trained(scenario, a, a_next)
    familiar, novel = novelty(module, a_next).mean(), novelty(module, b_next).mean()
    module.begin(a, [{"state_key": "a"}] * peer_checks.NUM_ENVS)  # fresh episodes
    into_familiar = step(module, a, a_next, "a'").mean()
    into_novel = step(module, a, b_next, "b'").mean()
    print(f"NovelD on {scenario}: novelty of the familiar frame {before:.3f} -> {familiar:.3f}, "
          f"novel {novel:.3f}; bonus into familiar {into_familiar:.4f}, novel {into_novel:.4f}")
    assert familiar < 0.2 * before and novel > 3 * familiar
    assert into_novel > 0.01 and into_novel > 10 * into_familiar


def test_state_round_trip_is_exact_on_frames():
    peer_checks.round_trip_is_exact(lambda: build("doom_basic"))


def test_state_round_trip_is_exact_on_minigrid_episodes():
    transitions = _transitions(2, 160)  # 160 > 140 steps: episodes end and restart
    bonuses = peer_checks.round_trip_is_exact_on_episodes(
        lambda: build("minigrid_multiroom_n7_s4", num_envs=2), transitions)
    assert bonuses.max() > 0


def test_trains_from_the_launcher_on_the_symbolic_view(tmp_path):
    _, rows = peer_checks.launcher_progress(tmp_path, "ppo_plus_noveld")
    assert len(rows) == 16 and all(float(r["intrinsic_bonus_mean"]) >= 0 for r in rows)
    assert any(float(r["intrinsic_bonus_mean"]) > 0 for r in rows)
    assert all(0 < float(r["intrinsic_first_visit_fraction"]) <= 1 for r in rows)

def test_trains_from_the_launcher_on_vizdoom(tmp_path):
    from episodic_curiosity.rewards.noveld import NovelD
    _, rows = peer_checks.doom_launcher_run(tmp_path, "ppo_plus_noveld", NovelD)
    assert all(float(r["intrinsic_bonus_mean"]) > 0 for r in rows)
    assert all(float(r["intrinsic_predictor_loss"]) > 0 for r in rows)
    assert all(0 < float(r["intrinsic_first_visit_fraction"]) <= 1 for r in rows)
