"""The methods: one record each, the only list of them.

A method's record says what runs (its gin files and the intrinsic reward they bind), what it
needs (an R-network trained before the policy, which observation kinds), and the machine the
cloud fleet gives it. The launcher, the fleet's shapes (launch/fleet.py), the benchmarks'
R-network methods (benchmarks/variants.py), the pre-flight checks and the tests derive from
METHODS; README's methods table is checked against it (tests/test_methods.py).

Presets are the files of gin/presets/: a new <name>.gin there is --preset=<name>.
"""

import dataclasses

from episodic_curiosity.configuration import GIN_DIR
from episodic_curiosity.errors import UsageError, not_one_of

OBSERVATIONS = ("pixels", "symbolic")  # frames; MiniGrid's symbolic 7x7x3 view
R_NETWORKS = ("offline", "online")


@dataclasses.dataclass(frozen=True)
class Shape:
    """A fleet VM: Compute Engine machine type and GPUs."""
    machine_type: str
    gpu_type: str | None
    gpu_count: int


# The original's (scripts/launch_cloud_vms.py of google-research/episodic-curiosity): 12 vCPUs and
# 32 GB with one P100; EC training its own R-network 51 GB; ECO 16 vCPUs, 103 GB (the online
# R-network's frame history) and two P100s, because N1 allows no more RAM per GPU.
PPO_SHAPE = Shape("custom-12-32768", "nvidia-tesla-p100", 1)
EC_SHAPE = Shape("custom-12-52224", "nvidia-tesla-p100", 1)
ECO_SHAPE = Shape("custom-16-105472", "nvidia-tesla-p100", 2)
# The peers that run 128 envs (the papers'): more vCPUs to step them, memory for 128 x 128 frames.
PEER_SHAPE = Shape("custom-32-65536", "nvidia-tesla-p100", 1)


@dataclasses.dataclass(frozen=True)
class Method:
    name: str  # --method; also the name of its gin file, gin/methods/<name>.gin
    description: str  # one line, for --help
    # The gin configurable its gin file binds to train_policy.intrinsic_reward (None: plain PPO).
    reward: str | None
    # 'offline': generate_r_training_data -> train_r before the policy (--r_networks_path skips
    # them); 'online': an R-network trained while the policy trains; None: no R-network.
    r_network: str | None = None
    observations: tuple[str, ...] = OBSERVATIONS  # the scenarios' observation kinds it runs on
    shape: Shape = PPO_SHAPE  # the fleet's VM (launch_cloud_vms.py flags override it)
    # gin/methods/ files, applied in order (later ones override); default: ppo.gin (the paper's
    # PPO), then the method's own file.
    gin: tuple[str, ...] = ()

    def __post_init__(self):
        if not self.gin:
            object.__setattr__(self, "gin", tuple(dict.fromkeys(["ppo", self.name])))
        unknown = set(self.observations) - set(OBSERVATIONS)
        if unknown or not self.observations:
            raise ValueError(f"{self.name}: observations {self.observations} not in {OBSERVATIONS}")
        if self.r_network not in (None, *R_NETWORKS):
            raise ValueError(f"{self.name}: r_network {self.r_network!r} not in {R_NETWORKS}")

    @property
    def gin_files(self):
        return [GIN_DIR / "methods" / f"{name}.gin" for name in self.gin]

    @property
    def needs_offline_rnet(self) -> bool:
        return self.r_network == "offline"

    @property
    def needs_pixels(self) -> bool:
        return "symbolic" not in self.observations

    def task_gin_file(self, scenario: str):
        """The method's per-task coefficients (e.g. RIDE's per MiniGrid task), if it has any."""
        path = GIN_DIR / "methods" / self.name / f"{scenario}.gin"
        return path if path.is_file() else None


PIXELS = ("pixels",)

METHODS = {m.name: m for m in [
    Method("ppo", "PPO on the task reward alone", reward=None),
    Method("ppo_plus_ec", "PPO + episodic curiosity, R-network trained offline",
           reward="EpisodicCuriosity", r_network="offline", observations=PIXELS, shape=EC_SHAPE),
    Method("ppo_plus_eco", "PPO + episodic curiosity, R-network trained online",
           reward="EpisodicCuriosityOnline", r_network="online", observations=PIXELS,
           shape=ECO_SHAPE),
    Method("ppo_plus_grid_oracle", "PPO + privileged (x, y) cell-count bonus",
           reward="GridOracle"),
    Method("ppo_plus_ride", "PPO + RIDE (impact of a step on a learned state, / sqrt of "
           "episodic visits)", reward="RIDE"),
    Method("ppo_plus_counts", "PPO + 1/sqrt(N(s)) count bonus over the whole run",
           reward="StateCounts"),
    Method("ppo_plus_episodic_counts", "PPO + 1/sqrt(N(s)) count bonus within the episode",
           reward="EpisodicStateCounts"),
    Method("ppo_plus_ngu_episodic", "PPO + NGU's episodic novelty (k-NN of a controllable "
           "embedding)", reward="NGUEpisodic"),
    Method("ppo_plus_e3b", "PPO + E3B's elliptical episodic bonus", reward="E3B"),
    Method("ppo_plus_icm", "PPO + ICM (inverse-dynamics features), bonus added to the task "
           "reward: the EC paper's baseline", reward="ICM"),
    Method("ppo_plus_curiosity", "PPO + dynamics curiosity (Large-Scale Study): pure curiosity, "
           "features pixels / random / idf / vae (DynamicsCuriosity.feature_space)",
           reward="DynamicsCuriosity", shape=PEER_SHAPE),
    Method("ppo_plus_rnd", "PPO + Random Network Distillation: two value heads, normalised "
           "non-episodic intrinsic return", reward="RND", shape=PEER_SHAPE),
    Method("ppo_plus_noveld", "PPO + NovelD (RND novelty gained by a step, first visits of the "
           "episode)", reward="NovelD"),
    Method("ppo_plus_re3", "PPO + RE3 (k-NN state entropy in a fixed random encoder's space, "
           "decaying coefficient)", reward="RE3"),
    Method("ppo_plus_disagreement", "PPO + Disagreement (variance of an ensemble of forward "
           "models in a random feature space): pure curiosity", reward="Disagreement",
           shape=PEER_SHAPE, gin=("ppo", "ppo_plus_curiosity", "ppo_plus_disagreement")),
]}


def presets() -> tuple[str, ...]:
    """--preset names: the files of gin/presets/ (smoke first: the one users want)."""
    names = sorted(path.stem for path in (GIN_DIR / "presets").glob("*.gin"))
    return tuple(sorted(names, key=lambda name: name != "smoke"))


PRESETS = presets()


def get(name: str) -> Method:
    if name not in METHODS:
        raise UsageError(not_one_of("method", name, METHODS))
    return METHODS[name]


def with_r_network() -> tuple[str, ...]:
    """The methods with an R-network (offline or online), in registry order."""
    return tuple(m.name for m in METHODS.values() if m.r_network)


def check_observations(method: Method, scenario) -> None:
    """One UsageError when `scenario` (an envs.Scenario) gives observations `method` cannot use."""
    kind = "symbolic" if scenario.symbolic else "pixels"
    if kind in method.observations:
        return
    if kind == "symbolic":
        raise UsageError(f"{method.name} needs pixel observations and {scenario.name} is "
                         f"MiniGrid's symbolic view; use --scenario={scenario.name}_rgb")
    raise UsageError(f"{method.name} runs on {' or '.join(method.observations)} observations "
                     f"and {scenario.name} gives {kind}")


def usage_text() -> str:
    return "; ".join(f"{m.name}: {m.description}" for m in METHODS.values())
