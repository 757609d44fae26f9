"""The R-network report card's statistics against hand-made networks whose answers are known."""

import numpy as np
import torch
from torch import nn

from episodic_curiosity import envs
from episodic_curiosity import report_card as report

DOOM = envs.get("doom_dense")


def test_a_network_scoring_by_true_gap_gives_a_monotone_curve():
    lengths = [1800] * 4
    table = report.gap_table(lambda a, b: 1 / (1 + np.exp(np.minimum(np.abs(a - b), 500) / 5.0 - 3.0)), lengths,
                             np.random.default_rng(0), pairs_per_bin=200)
    assert [r["gap"] for r in table] == ["1-5", "6-25", "26-100", "101-500", ">500"]
    p = [r["p_reachable"] for r in table]
    assert all(a > b for a, b in zip(p, p[1:])), p
    assert table[0]["accuracy"] == 1.0 and all(r["accuracy"] == 1.0 for r in table[2:])
    assert np.isnan(table[1]["accuracy"])  # 6-25 steps: neither reachable nor far


def test_a_constant_network_is_right_on_one_side_only():
    table = report.gap_table(lambda a, b: np.full(len(a), 0.8), [600, 700],
                             np.random.default_rng(0), pairs_per_bin=50)
    assert table[0]["accuracy"] == 1.0 and table[2]["accuracy"] == 0.0
    assert table[-1]["pairs"] == 50 and abs(table[-1]["p_reachable"] - 0.8) < 1e-9


class PlaceNet(nn.Module):
    """Frames carry (position along a corridor, heading in 20-degree steps) in two pixels; a frame
    is reachable from another within k=5 steps of walking (1 per step) and turning (1 per 20
    degrees). `constant` replaces that by one answer for every pair."""

    memory_dim = 2

    def __init__(self, constant=None):
        super().__init__()
        self.constant = constant

    def embed(self, frames):
        place = frames[:, 0, 0, :2].float()
        return place, place

    def similarity_to_memory(self, query, memory):
        if self.constant is not None:
            return torch.full(memory.shape[:2], self.constant)
        walk = (query[:, None, 0] - memory[..., 0]).abs()
        turn = (query[:, None, 1] - memory[..., 1]).abs()
        steps = walk + torch.minimum(turn, 18 - turn)
        return (steps <= 5).float()


def _episode(positions, headings):
    frames = np.zeros((len(positions), 4, 4, 3), np.uint8)
    frames[:, 0, 0, 0], frames[:, 0, 0, 1] = positions, headings
    return frames


POTATO = _episode([0] * 200, [t % 18 for t in range(200)])  # turning in place
EXPLORER = _episode(list(range(200)), [0] * 200)  # walking down a long corridor


def _summaries(net, steps=200):
    return {name: report.agent_summary(report.bonus_trace(net, DOOM, frames[:steps]))
            for name, frames in (("explorer", EXPLORER), ("couch_potato", POTATO))}


def test_a_network_that_knows_places_separates_explorer_from_couch_potato():
    summaries = _summaries(PlaceNet())
    assert summaries["explorer"]["memory_final"] > 20 > summaries["couch_potato"]["memory_final"]
    separated, line = report.verdict(summaries, alpha=0.030172)
    assert separated and line.startswith("PASS"), line
    assert summaries["explorer"]["bonus_mean"] > summaries["couch_potato"]["bonus_mean"] + 0.005
    # The spinner's frames all look reachable from memory; the explorer's new places do not.
    assert summaries["couch_potato"]["similarity_p50"] == 1.0
    assert summaries["explorer"]["similarity_p50"] < 0.5


def test_a_constant_network_gives_no_separation():
    for constant in (0.9, 0.1):
        summaries = _summaries(PlaceNet(constant), steps=60)
        separated, line = report.verdict(summaries, alpha=0.030172)
        assert not separated and "no separation" in line, line


def test_the_doom_explorer_keeps_walking_after_the_first_wall():
    """The wall bouncer once judged its own turning steps as 'no progress' and turned in place
    for the rest of the episode after its first wall (373 map units in 525 steps)."""
    _, positions = report.play("doom_dense", "explorer", 300)
    steps = np.linalg.norm(np.diff(positions, axis=0), axis=1)
    assert steps.sum() > 2000, steps.sum()  # a forward step is ~7-29 units
    assert (steps < 1).mean() < 0.5, (steps < 1).mean()


def test_the_maze_explorer_replans_after_a_respawn():
    """noreward's goal respawns the agent; the explorer once kept its old path and walked into a
    wall for the rest of the episode (VALIDATION level 0: from step 414 of 600)."""
    _, positions = report.play("noreward", "explorer", 600)
    steps = np.linalg.norm(np.diff(positions, axis=0), axis=1)
    respawn = int(np.argmax(steps > 2.0))
    assert steps[respawn] > 2.0, "no respawn here: pick a level where the explorer meets the goal"
    after = steps[respawn + 1:]
    assert (after > 0.05).mean() > 0.5, (after > 0.05).mean()  # walks (0.2 cells a step)


def test_levels_pool_step_statistics_and_average_memory():
    net = PlaceNet()
    walk, spin = (report.bonus_trace(net, DOOM, frames[:100]) for frames in (EXPLORER, POTATO))
    positions = [np.zeros((100, 2)), np.arange(200.0).reshape(100, 2)]
    pooled = report.agent_summary([walk, spin], positions)
    assert pooled["steps"] == 198
    assert pooled["bonus_mean"] == np.concatenate([walk["bonus"], spin["bonus"]]).mean()
    assert pooled["memory_final"] == (walk["memory"][-1] + spin["memory"][-1]) / 2
    assert pooled["farthest"] == np.linalg.norm([198.0, 198.0]) / 2


def test_scenarios_without_forward_and_turn_actions_get_no_verdict_not_a_crash():
    """doom_basic only strafes and shoots: the card measures the held-out pairs and says why it
    cannot judge (the launcher used to die in the card with a KeyError)."""
    assert report.missing_actions("doom_basic") == ["forward", "left", "right"]
    assert report.missing_actions("doom_dense") == []
    assert report.missing_actions("minigrid_multiroom_n2_s4_rgb") == []
