"""The methods of the paper: what each one runs, and which gin files configure it."""

import dataclasses

from episodic_curiosity.configuration import GIN_DIR
from episodic_curiosity.errors import UsageError, not_one_of


@dataclasses.dataclass(frozen=True)
class Method:
    name: str
    description: str
    needs_offline_rnet: bool = False  # generate_r_training_data -> train_r before the policy
    needs_pixels: bool = False  # an R-network on frames: not MiniGrid's symbolic view

    @property
    def gin_files(self):
        """ppo.gin (the paper's PPO), then the method's own file, which overrides it."""
        names = ["ppo"] + ([self.name] if self.name != "ppo" else [])
        return [GIN_DIR / "methods" / f"{name}.gin" for name in names]

    def task_gin_file(self, scenario: str):
        """The method's per-task coefficients (e.g. RIDE's per MiniGrid task), if it has any."""
        path = GIN_DIR / "methods" / self.name / f"{scenario}.gin"
        return path if path.is_file() else None


METHODS = {m.name: m for m in [
    Method("ppo", "PPO on the task reward alone"),
    Method("ppo_plus_ec", "PPO + episodic curiosity, R-network trained offline",
           needs_offline_rnet=True, needs_pixels=True),
    Method("ppo_plus_eco", "PPO + episodic curiosity, R-network trained online",
           needs_pixels=True),
    Method("ppo_plus_grid_oracle", "PPO + privileged (x, y) cell-count bonus"),
    Method("ppo_plus_ride", "PPO + RIDE (impact of a step on a learned state, / sqrt of "
           "episodic visits)"),
    Method("ppo_plus_counts", "PPO + 1/sqrt(N(s)) count bonus over the whole run"),
    Method("ppo_plus_episodic_counts", "PPO + 1/sqrt(N(s)) count bonus within the episode"),
    Method("ppo_plus_ngu_episodic", "PPO + NGU's episodic novelty (k-NN of a controllable "
           "embedding)"),
    Method("ppo_plus_e3b", "PPO + E3B's elliptical episodic bonus"),
    Method("ppo_plus_icm", "PPO + ICM (inverse-dynamics features), bonus added to the task "
           "reward: the EC paper's baseline"),
    Method("ppo_plus_curiosity", "PPO + dynamics curiosity (Large-Scale Study): pure curiosity, "
           "features pixels / random / idf / vae (DynamicsCuriosity.feature_space)"),
    Method("ppo_plus_rnd", "PPO + Random Network Distillation: two value heads, normalised "
           "non-episodic intrinsic return"),
]}

PRESETS = ("smoke", "tiny", "rnet_small", "rnet_policy_view", "table1_small")


def get(name: str) -> Method:
    if name not in METHODS:
        raise UsageError(not_one_of("method", name, METHODS))
    return METHODS[name]


def usage_text() -> str:
    return "; ".join(f"{m.name}: {m.description}" for m in METHODS.values())
