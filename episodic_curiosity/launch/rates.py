"""Measured training rates (env steps/s) for the cost plan, and the assumptions for the rest.

A plan's wall time is only as good as its rate, so every rate says where it came from: a row of
docs/benchmarks.md (date, the commit that recorded it, the section), or the assumption that stands
in for a measurement nobody made. Add a measurement here when benchmarks.md gets one.
"""

import dataclasses

DOC = "docs/benchmarks.md"


@dataclasses.dataclass(frozen=True)
class Run:
    """One benchmark run: the rates of its methods were measured side by side (same load)."""
    device: str  # 'h100' (one H100 80GB, 16 vCPUs) or 'cpu' (the 2-core CPU)
    family: str  # the scenario family the rates stand for (see family())
    scenario: str  # the scenario measured
    date: str
    commit: str  # the commit that recorded the numbers in DOC
    section: str  # DOC's section
    steps_per_s: dict  # method -> training env steps/s (rollout, bonus, update: all included)


RUNS = (
    Run("h100", "doom", "doom_dense", "2026-11-22", "649c19c", "On an H100",
        {"ppo": 1361, "ppo_plus_ec": 745}),
    Run("cpu", "doom", "doom_dense", "2026-12-06", "02e4948",
        "VizDoom: PPO and PPO+EC on the 2-core CPU", {"ppo": 534, "ppo_plus_ec": 88}),
    Run("cpu", "doom", "doom_dense", "2026-11-22", "36b71cd",
        "The peers: ICM, dynamics curiosity, RND",
        {"ppo": 149, "ppo_plus_icm": 71, "ppo_plus_curiosity": 98, "ppo_plus_rnd": 65}),
    Run("cpu", "atari", "atari_breakout", "2026-11-22", "36b71cd",
        "The peers: ICM, dynamics curiosity, RND",
        {"ppo": 123, "ppo_plus_icm": 61, "ppo_plus_curiosity": 80, "ppo_plus_rnd": 62}),
    Run("cpu", "minigrid", "minigrid_doorkey_8x8", "2026-12-07", "c042c54",
        "MiniGrid DoorKey-8x8, symbolic", {"ppo": 6847, "ppo_plus_ride": 4513}),
    Run("cpu", "minigrid", "minigrid_multiroom_n7_s4", "2026-11-22", "0816f7e", "MiniGrid",
        {"ppo": 2251, "ppo_plus_ride": 1822, "ppo_plus_counts": 2666,
         "ppo_plus_episodic_counts": 2771, "ppo_plus_ngu_episodic": 1752, "ppo_plus_e3b": 1428}),
    Run("cpu", "minigrid_rgb", "minigrid_multiroom_n7_s4_rgb", "2026-11-22", "0816f7e",
        "MiniGrid", {"ppo": 223, "ppo_plus_ride": 90, "ppo_plus_counts": 201,
                     "ppo_plus_episodic_counts": 177, "ppo_plus_ngu_episodic": 87,
                     "ppo_plus_e3b": 36}),
)

# Compute Engine GPU type -> the device its rates were measured on.
DEVICE_OF_GPU = {"nvidia-h100-80gb": "h100", None: "cpu"}
PIXEL_FAMILIES = ("doom", "atari", "minigrid_rgb", "maze")
# Methods no benchmark has measured, as another method's rate (the closest in cost).
AS_METHOD = {"ppo_plus_eco": ("ppo_plus_ec", "EC's bonus plus online R-network training: at "
                              "best EC's rate"),
             "ppo_plus_grid_oracle": ("ppo", "a cell count costs nothing next to PPO")}
DEFAULT_RATIO = 0.5  # x PPO, for a method measured nowhere and not in AS_METHOD


@dataclasses.dataclass(frozen=True)
class Rate:
    steps_per_s: float
    measured: bool
    source: str  # the measurement, or the assumptions, in words

    @property
    def label(self) -> str:
        return "measured" if self.measured else "assumed"


def family(scenario: str) -> str:
    """Scenarios of one engine and view train at about one rate."""
    for prefix in ("doom", "atari", "mario", "ant"):
        if scenario.startswith(prefix):
            return prefix
    if scenario.startswith("minigrid"):
        return "minigrid_rgb" if scenario.endswith("_rgb") else "minigrid"
    return "maze"  # the DMLab mazes and their MiniWorld rebuilds


def _cite(run: Run) -> str:
    return f"{DOC} '{run.section}' ({run.scenario}, {run.date}, commit {run.commit})"


def _assumed(base: Rate, notes, factor: float = 1.0) -> Rate:
    """`base` scaled, its source kept after the assumptions that carry it over."""
    if not notes and factor == 1.0:
        return base
    source = ("measured in " if base.measured else "") + base.source
    return Rate(base.steps_per_s * factor, False, "; ".join([*notes, source]))


def _runs_with(*names, device=None, fam=None):
    """The runs that measured every one of `names` (on `device`, for `fam`), newest first."""
    runs = [r for r in RUNS if all(n in r.steps_per_s for n in names)
            and device in (None, r.device) and fam in (None, r.family)]
    return sorted(runs, key=lambda r: r.date, reverse=True)


def _ratio(method: str, fam: str):
    """(x PPO, why) from a run that measured both: same family, then pixels, then any."""
    runs = sorted(_runs_with(method, "ppo"),
                  key=lambda r: (r.family != fam, r.family not in PIXEL_FAMILIES))
    if not runs:
        return DEFAULT_RATIO, f"{DEFAULT_RATIO}x PPO (no benchmark of {method})"
    ratio = runs[0].steps_per_s[method] / runs[0].steps_per_s["ppo"]
    return ratio, f"{ratio:.2f}x PPO as in {_cite(runs[0])}"


def one_rank(method: str, fam: str, device: str) -> Rate:
    """The rate of one rank on `device`; assumptions named where the record has no number."""
    notes = []
    if not _runs_with(device=device, fam=fam):
        notes.append(f"{fam} as fast as VizDoom")
        fam = "doom"
    if runs := _runs_with(method, device=device, fam=fam):
        return _assumed(Rate(runs[0].steps_per_s[method], True, _cite(runs[0])), notes)
    if method in AS_METHOD:
        other, why = AS_METHOD[method]
        return _assumed(one_rank(other, fam, device), [*notes, f"as {other}: {why}"])
    ppo = _runs_with("ppo", device=device, fam=fam)[0]
    ratio, how = _ratio(method, fam)
    return _assumed(Rate(ppo.steps_per_s["ppo"], True, _cite(ppo)),
                    [*notes, f"{how}, times PPO's rate"], ratio)


def rate(method: str, scenario: str, gpu_type: str | None, ranks: int = 1) -> Rate:
    """The run's env steps/s on a VM with `ranks` ranks of `gpu_type` (None: no GPU)."""
    notes = []
    device = DEVICE_OF_GPU.get(gpu_type or None)
    if device is None:
        device = "h100"
        notes.append(f"{gpu_type} as fast as the measured H100 (host-bound there: ~1 of 8.8 ms "
                     "per vector step is GPU work), optimistic")
    elif device == "cpu":
        notes.append("no GPU: the 2-core CPU's rates, pessimistic for a VM with more vCPUs")
    if ranks > 1:
        notes.append(f"{ranks} ranks scale linearly (multi-rank training not measured)")
    return _assumed(one_rank(method, family(scenario), device), notes, ranks)
