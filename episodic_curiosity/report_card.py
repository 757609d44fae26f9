"""The R-network's report card: does its bonus reward exploration, before the policy trains?

Written at the end of the `train_r` stage (the stage's callers hand `write_report` to
`rnet.offline.train_r`), or on demand by the binary rnet/report.py:

  python -m episodic_curiosity.rnet.report --r_networks_path=DIR --scenario=S

It sits above rnet/ and rewards/ (it plays scripted agents through the EC reward with a trained
R-network), so neither imports it.

r_networks/report.md, report.json and report.png hold
(a) accuracy and mean P(reachable) on held-out pairs, binned by their step gap;
(b) on VALIDATION levels, the EC bonus per step and the memory growth of three scripted agents:
    a couch potato turning in place, a uniformly random agent, and an explorer walking to far
    places (shortest paths to the farthest maze cell; elsewhere: forward, turning when blocked);
(c) a one-line verdict: does the explorer's mean bonus exceed the couch potato's, and by how much.
"""

import json
import math
import pathlib
import textwrap

import gin
import numpy as np
from absl import logging

from episodic_curiosity import envs
from episodic_curiosity.envs import actions
from episodic_curiosity.errors import UsageError
from episodic_curiosity.rewards.episodic_curiosity import EpisodicCuriosity
from episodic_curiosity.rnet import data
from episodic_curiosity.rnet.offline import BEST, load_rnet
from episodic_curiosity.rnet.training import RTrainer
from episodic_curiosity.validation import Count, Index
from episodic_curiosity.workdir import atomic_write_text

GAP_BINS = ((1, 5), (6, 25), (26, 100), (101, 500), (501, None))
AGENTS = ("couch_potato", "random", "explorer")
# The explorer must out-earn the couch potato by this fraction of alpha per step to count.
SEPARATION = 0.05


# --- (a) accuracy by step gap -----------------------------------------------------------------

def _bin_name(lo, hi):
    return f"{lo}-{hi}" if hi else f">{lo - 1}"


def gap_pairs(episode_lengths, lo, hi, count, rng):
    """`count` pairs (first, second) within episodes whose gap is uniform in [lo, hi]; None when
    no episode is long enough."""
    lengths = np.asarray(episode_lengths)
    offsets = np.concatenate([[0], np.cumsum(lengths)[:-1]])
    room = np.maximum(lengths - lo, 0)
    if room.sum() == 0:
        return None
    episodes = rng.choice(len(lengths), size=count, p=room / room.sum())
    ep_len = lengths[episodes]
    top = ep_len - 1 if hi is None else np.minimum(hi, ep_len - 1)
    gap = rng.integers(lo, top + 1)
    start = rng.integers(0, ep_len - gap)
    first, second = offsets[episodes] + start, offsets[episodes] + start + gap
    swap = rng.random(count) < 0.5
    first[swap], second[swap] = second[swap], first[swap].copy()
    return first, second


def gap_table(probability_fn, episode_lengths, rng, pairs_per_bin=256, k=5, negative_gap=5):
    """Per gap bin: pairs, mean P(reachable), and accuracy where the label is defined (positive:
    gap <= k; negative: gap > negative_gap * k; the bin in between has no label).

    probability_fn(first, second) -> P(reachable) of each pair of frame indices.
    """
    rows = []
    for lo, hi in GAP_BINS:
        pairs = gap_pairs(episode_lengths, lo, hi, pairs_per_bin, rng)
        row = {"gap": _bin_name(lo, hi), "pairs": 0, "p_reachable": math.nan,
               "accuracy": math.nan}
        if pairs is not None:
            p = np.asarray(probability_fn(*pairs), np.float64)
            row.update(pairs=len(p), p_reachable=float(p.mean()))
            if hi is not None and hi <= k:
                row["accuracy"] = float((p > 0.5).mean())
            elif lo > negative_gap * k:
                row["accuracy"] = float((p <= 0.5).mean())
        rows.append(row)
    return rows


# --- (b) scripted agents ----------------------------------------------------------------------

def bonus_trace(rnet, scenario, frames, device="cpu", seed=0):
    """Runs EC (the gin-configured memory and bonus) over one episode's frames [T+1, H, W, C].

    Returns per step t = 1..T: bonus, similarity to memory (before the frame enters), memory
    size after the step, and whether the frame entered.
    """
    ec = EpisodicCuriosity(1, scenario, device, rnet=rnet, view="policy", seed=seed)
    ec.begin(frames[:1], [{}])
    bonus, similarity, memory, added = [], [], [], []
    no = np.array([False])
    for frame in frames[1:]:
        bonus.append(float(ec.compute(None, None, frame[None], no, no, [{}])[0]))
        similarity.append(float(ec.last_similarity[0]))
        memory.append(int(ec.memory.count[0]))
        added.append(bool(ec.last_novel[0]))
    return {"bonus": np.asarray(bonus), "similarity": np.asarray(similarity),
            "memory": np.asarray(memory), "added": np.asarray(added), "alpha": ec.alpha}


def _action_index(env, engine):
    """Move name (forward, left, right; backward where present) -> action index, from the
    engine's own action names (doom_basic has no forward or turn: the scripted agents cannot
    play it)."""
    return actions.move_index(actions.action_names(env, engine))


def missing_actions(scenario_name) -> list[str]:
    """The scripted agents' actions (forward, turn left, turn right) the scenario lacks."""
    env = envs.make_env(scenario_name, envs.Split.VALIDATION, 0)
    try:
        actions = _action_index(env, envs.get(scenario_name).engine)
    finally:
        env.close()
    return [name for name in ("forward", "left", "right") if name not in actions]


class _MazeExplorer:
    """Walks shortest paths to the maze cell farthest from where it stands, again and again.

    A path is planned afresh when the agent is no longer next to it: the goal of `noreward` /
    `sparse` respawns the agent elsewhere, and a stale path had it walk into a wall for the rest
    of the episode.
    """

    def __init__(self, env, actions, rng):
        self.env, self.actions, self.rng, self.path = env.unwrapped, actions, rng, []

    def __call__(self, info):
        layout = self.env.layout
        cell = tuple(info["agent_cell"])
        if self.path and abs(cell[0] - self.path[0][0]) + abs(cell[1] - self.path[0][1]) > 1:
            self.path = []  # respawned
        if not self.path:
            dist = layout.distances(cell)
            far = np.argwhere(dist == dist.max())
            target = tuple(far[self.rng.integers(len(far))])
            self.path = layout.path(cell, target)[1:]
            if not self.path:
                return self.actions["left"]
        x, z = np.asarray(info["agent_xy"], np.float64)
        row, col = self.path[0]
        dx, dz = col + 0.5 - x, row + 0.5 - z
        if math.hypot(dx, dz) < 0.3:
            self.path.pop(0)
            return self(info)
        error = (math.atan2(-dz, dx) - self.env.agent.dir + math.pi) % (2 * math.pi) - math.pi
        if error > 0.2:
            return self.actions["left"]
        if error < -0.2:
            return self.actions["right"]
        return self.actions["forward"]


class _WallBouncer:
    """Forward; when a forward step makes no progress (a wall), turns right for a few steps.

    Progress is judged only after a forward step, against a tenth of the longest forward step so
    far (map units differ: VizDoom's ~30 per step, Ant's metres). Judging the turning steps too,
    which never move the agent, made the first wall a trap: it turned in place for the rest of
    the episode, a second couch potato.
    """

    def __init__(self, actions, rng):
        self.actions, self.rng = actions, rng
        self.turning, self.last, self.moved_forward, self.longest = 0, None, False, 0.0

    def __call__(self, info):
        xy = np.asarray(info["agent_xy"], np.float64)
        if self.moved_forward:
            progress = float(np.linalg.norm(xy - self.last))
            self.longest = max(self.longest, progress)
            if progress <= max(1e-6, 0.1 * self.longest):
                self.turning = int(self.rng.integers(2, 8))
        self.last = xy
        self.moved_forward = self.turning == 0
        if self.turning:
            self.turning -= 1
            return self.actions["right"]
        return self.actions["forward"]


def make_agent(name, env, engine, rng):
    actions = _action_index(env, engine)
    if name == "couch_potato":
        return lambda info: actions["left"]
    if name == "random":
        return lambda info: int(rng.integers(env.action_space.n))
    if engine == "miniworld":
        return _MazeExplorer(env, actions, rng)
    return _WallBouncer(actions, rng)


def play(scenario_name, agent_name, steps, view="raw", index=0, seed=0):
    """One VALIDATION episode of a scripted agent: frames of the view [T+1, ...], positions."""
    scenario = envs.get(scenario_name)
    env = envs.make_env(scenario_name, envs.Split.VALIDATION, index, keep_raw_obs=view == "raw")
    rng = np.random.default_rng(seed)
    try:
        obs, info = env.reset()
        agent = make_agent(agent_name, env, scenario.engine, rng)
        frames, positions = [info["raw_obs"] if view == "raw" else obs], [info.get("agent_xy")]
        for _ in range(min(steps, scenario.episode_steps - 1)):
            obs, _, terminated, truncated, info = env.step(agent(info))
            if terminated or truncated:
                break
            frames.append(info["raw_obs"] if view == "raw" else obs)
            positions.append(info.get("agent_xy"))
    finally:
        env.close()
    return np.stack(frames), np.asarray(positions, np.float64)


def agent_summary(trace, positions=None):
    """Means over an agent's steps, and how far it went (map units from its start).

    trace / positions may also be lists, one per level: step statistics are pooled over all
    steps, the final memory size and the farthest distance are averaged over levels.
    """
    traces = trace if isinstance(trace, list) else [trace]
    levels = positions if isinstance(positions, list) else [positions]
    pooled = {key: np.concatenate([t[key] for t in traces])
              for key in ("bonus", "similarity", "added") if key in traces[0]}
    bonus = pooled["bonus"]
    summary = {"steps": len(bonus), "bonus_mean": float(bonus.mean()),
               "bonus_stderr": float(bonus.std() / math.sqrt(max(len(bonus), 1))),
               "memory_final": float(np.mean([t["memory"][-1] if len(t["memory"]) else 0
                                              for t in traces])),
               "added_fraction": float(pooled["added"].mean()) if len(bonus) else 0.0}
    if len(bonus) and "similarity" in pooled:  # where it sits against the novelty threshold
        for q in (10, 50, 90):
            summary[f"similarity_p{q}"] = float(np.percentile(pooled["similarity"], q))
    far = [float(np.linalg.norm(p - p[0], axis=1).max()) for p in levels
           if p is not None and len(p) and p[0] is not None]
    if far:
        summary["farthest"] = float(np.mean(far))
    return summary


def verdict(summaries, alpha):
    """The one line: does the explorer out-earn the couch potato, by how much?"""
    explorer, potato = summaries["explorer"], summaries["couch_potato"]
    diff = explorer["bonus_mean"] - potato["bonus_mean"]
    noise = 2 * math.hypot(explorer["bonus_stderr"], potato["bonus_stderr"])
    separated = diff > max(SEPARATION * alpha, noise)
    numbers = (f"explorer {explorer['bonus_mean']:+.5f} vs couch potato "
               f"{potato['bonus_mean']:+.5f} per step: difference {diff:+.5f} "
               f"({diff / alpha:+.2f} alpha; needs > {max(SEPARATION * alpha, noise):.5f})")
    if separated:
        return True, f"PASS: the explorer's bonus exceeds the couch potato's: {numbers}"
    return False, f"FAIL: no separation: {numbers}"


# --- the card ---------------------------------------------------------------------------------

def write_report(out_dir, data_dir=None, device="cpu", scenario: str | None = None,
                 agent_steps: Count = 600, pairs_per_bin: Count = 256, levels: Count = 3,
                 seed: Index = 0) -> dict:
    """Writes report.md / report.json / report.png into `out_dir` (holding r_network.pt).

    levels: VALIDATION levels each scripted agent plays (its statistics pooled over them; the
      plot shows the first), so that one level's layout does not decide the verdict.
    """
    out_dir = pathlib.Path(out_dir)
    rnet = load_rnet(out_dir / BEST, device).eval()
    meta = data.read_meta(data_dir) if data_dir and data.is_complete(data_dir) else {}
    scenario = scenario or meta.get("scenario")
    if scenario is None:
        raise UsageError(f"no scenario recorded with the R-network data for {out_dir}; pass "
                         "--scenario")
    trained_on = rnet.config.get("input_shape")  # None: a network from before the raw view
    view = meta.get("view") or ("policy" if not trained_on or trained_on[:2] == [84, 84]
                                else "raw")
    result = {"scenario": scenario, "view": view, "gap_table": [], "agents": {}}
    if data_dir and (pathlib.Path(data_dir) / "valid").is_dir():
        valid = data.Frames(pathlib.Path(data_dir) / "valid")
        trainer = RTrainer(rnet, device)
        result["gap_table"] = gap_table(lambda a, b: trainer.probabilities(valid, a, b),
                                        valid.episode_lengths, np.random.default_rng(seed),
                                        pairs_per_bin, trainer.k, trainer.negative_gap)
    result["levels"] = levels
    missing = missing_actions(scenario)
    if missing:
        traces = {}
        result["separated"], result["verdict"] = None, (
            f"NO VERDICT: {scenario} has no {' / '.join(missing)} action for the scripted agents; "
            "only the held-out pairs are measured")
    else:
        traces = _agent_traces(rnet, scenario, result, agent_steps, view, levels, device, seed)
        result["separated"], result["verdict"] = verdict(result["agents"],
                                                         traces["explorer"]["alpha"])
    atomic_write_text(out_dir / "report.json", json.dumps(result, indent=1))
    atomic_write_text(out_dir / "report.md", _markdown(result, out_dir))
    _plot(result, traces, out_dir / "report.png")
    logging.info("R-network report card: %s", result["verdict"])
    return result



def _agent_traces(rnet, scenario, result, agent_steps, view, levels, device, seed):
    """Each scripted agent on `levels` VALIDATION levels: summaries into result["agents"];
    returns the first level's trace per agent (for the plot)."""
    traces = {}
    for agent in AGENTS:
        runs = [play(scenario, agent, agent_steps, view, index=level, seed=seed)
                for level in range(levels)]
        level_traces = [bonus_trace(rnet, envs.get(scenario), frames, device, seed)
                        for frames, _ in runs]
        traces[agent] = level_traces[0]
        result["agents"][agent] = agent_summary(level_traces, [p for _, p in runs])
    return traces


write_report = gin.configurable(denylist=["out_dir", "data_dir", "device"])(write_report)


def read_verdict(r_networks_dir) -> str | None:
    path = pathlib.Path(r_networks_dir) / "report.json"
    if not path.is_file():
        return None
    return json.loads(path.read_text())["verdict"]


def _fmt(value, digits=3):
    return "n/a" if value is None or (isinstance(value, float) and math.isnan(value)) \
        else f"{value:.{digits}f}"


def _markdown(result, out_dir):
    lines = [f"# R-network report card: {result['scenario']} ({result['view']} view)", "",
             f"**Verdict**: {result['verdict']}", "",
             "## (a) Held-out pairs by step gap", "",
             "| gap (steps) | pairs | P(reachable) | accuracy |", "| --- | --- | --- | --- |"]
    lines += [f"| {r['gap']} | {r['pairs']} | {_fmt(r['p_reachable'])} | {_fmt(r['accuracy'])} |"
              for r in result["gap_table"]]
    lines += ["", "Labels: reachable when 1-5 steps apart, unreachable beyond 25; 6-25 unlabelled.",
              "", f"## (b) Scripted agents on {result.get('levels', 1)} VALIDATION level(s)", "",
              "Step statistics pooled over the levels; memory slots and farthest (map units "
              "from the start) averaged over them; the plot shows the first level.", "",
              "| agent | steps | mean bonus | memory slots | frames entering memory | "
              "similarity p10 / p50 / p90 | farthest |",
              "| --- | --- | --- | --- | --- | --- | --- |"]
    for name, s in result["agents"].items():
        quantiles = " / ".join(_fmt(s.get(f"similarity_p{q}"), 2) for q in (10, 50, 90))
        lines.append(f"| {name} | {s['steps']} | {s['bonus_mean']:+.5f} | "
                     f"{_fmt(float(s['memory_final']), 1)} | "
                     f"{s['added_fraction']:.3f} | {quantiles} | {_fmt(s.get('farthest'), 1)} |")
    lines += ["", "![report](report.png)", ""]
    return "\n".join(lines)


def _plot(result, traces, path):
    import matplotlib
    matplotlib.use("Agg")
    from matplotlib import pyplot as plt
    fig, axes = plt.subplots(1, 4, figsize=(19, 4))
    table = result["gap_table"]
    if table:
        x = np.arange(len(table))
        axes[0].plot(x, [r["p_reachable"] for r in table], "o-", label="P(reachable)")
        axes[0].plot(x, [r["accuracy"] for r in table], "s--", label="accuracy")
        axes[0].set_xticks(x, [r["gap"] for r in table])
        axes[0].set_ylim(0, 1)
        axes[0].legend()
    axes[0].set(title="held-out pairs by step gap", xlabel="gap (steps)")
    for name, trace in traces.items():
        window = max(1, len(trace["bonus"]) // 30)
        smooth = np.convolve(trace["bonus"], np.ones(window) / window, mode="valid")
        axes[1].plot(smooth, label=name)
        axes[2].plot(trace["memory"], label=name)
        axes[3].hist(trace["similarity"], bins=np.linspace(0, 1, 21), histtype="step", label=name)
    axes[1].set(title="EC bonus per step (moving mean)", xlabel="step")
    axes[2].set(title="memory slots filled", xlabel="step")
    axes[3].axvline(0.5, color="grey", linestyle=":")
    axes[3].set(title="similarity to memory (< 0.5 enters)",
                xlabel="90th percentile of P(reachable)")
    if traces:
        axes[1].legend()
    fig.suptitle(textwrap.fill(f"{result['scenario']}: {result['verdict']}", 160), fontsize=9)
    fig.tight_layout()
    tmp = path.with_name(f".{path.name}.tmp.png")
    fig.savefig(tmp, dpi=80)
    plt.close(fig)
    tmp.replace(path)
