"""The method registry (launch/methods.py) is the one list of methods: what derives from it agrees
with it, and what is written elsewhere (gin files, README) is checked against it."""

import re
import sys

import pytest

from conftest import REPO
from episodic_curiosity import configuration, envs
from episodic_curiosity.errors import UsageError
from episodic_curiosity.launch import fleet, local, methods

ALL = sorted(methods.METHODS)


def readme_methods():
    """The `--method` names of the first table under README's "## Methods", in order."""
    text = (REPO / "README.md").read_text()
    section = text.split("\n## Methods\n", 1)[1].split("\n## ", 1)[0]
    lines = section.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("|"))
    table = lines[start:]
    table = table[:next((i for i, line in enumerate(table) if not line.startswith("|")),
                        len(table))]  # the section's first table
    assert table and set(table[1].replace("|", "").split()) == {"---"}, "no table under Methods"
    return [re.match(r"\| `([^`]+)` \|", row).group(1) for row in table[2:]]  # header, ---


def test_readme_lists_every_method_and_nothing_else():
    listed = readme_methods()
    assert len(listed) == len(set(listed)), f"listed twice: {listed}"
    assert set(listed) == set(methods.METHODS), (
        f"README's methods table: missing {sorted(set(methods.METHODS) - set(listed))}, "
        f"not in the registry {sorted(set(listed) - set(methods.METHODS))}")


@pytest.mark.parametrize("name", ALL)
def test_gin_files_bind_the_records_reward(name):
    method = methods.get(name)
    assert method.gin_files[0].name == "ppo.gin"  # the paper's PPO first, overridden after
    assert all(path.is_file() for path in method.gin_files), method.gin_files
    configuration.parse(method.gin_files)
    bound = configuration.query("train_policy.intrinsic_reward", None)
    assert (None if bound is None else bound.configurable.name) == method.reward
    # An R-network method configures the R-network; no other method does.
    assert (configuration.query("RNetwork.width", None) is not None) == bool(method.r_network)
    configuration.parse()


def test_every_reward_is_registered_by_its_file_alone():
    """register_configurables finds every module of rewards/: a new reward needs no import."""
    configuration.register_configurables()
    names = {c.name for c in configuration.configurables()}
    assert {m.reward for m in methods.METHODS.values() if m.reward} <= names


def test_the_fleet_and_the_benchmarks_derive_from_the_registry():
    sys.path.insert(0, str(REPO / "benchmarks"))
    import variants
    assert fleet.DEFAULT_SHAPES == {m.name: m.shape for m in methods.METHODS.values()}
    assert set(variants.RNET_METHODS) == {m.name for m in methods.METHODS.values() if m.r_network}
    assert {"ppo_plus_ec", "ppo_plus_eco"} <= set(variants.RNET_METHODS)
    assert methods.get("ppo_plus_ec").needs_offline_rnet
    assert not methods.get("ppo_plus_eco").needs_offline_rnet


def test_presets_are_the_files_of_gin_presets():
    files = {p.stem for p in (configuration.GIN_DIR / "presets").glob("*.gin")}
    assert set(methods.PRESETS) == files and len(methods.PRESETS) == len(files)
    assert methods.PRESETS[0] == "smoke"
    for preset in methods.PRESETS:
        assert local.gin_files(methods.get("ppo"), "doom_dense", preset)[-1].stem == preset
    with pytest.raises(UsageError, match="unknown preset 'huge'; choose one of: "):
        local.gin_files(methods.get("ppo"), "doom_dense", "huge")


@pytest.mark.parametrize("name", ALL)
def test_observation_kinds_decide_which_scenarios_a_method_runs_on(name):
    method = methods.get(name)
    assert set(method.observations) <= set(methods.OBSERVATIONS) and method.observations
    assert method.needs_pixels == ("symbolic" not in method.observations)
    symbolic = envs.get("minigrid_multiroom_n7_s4")
    pixels = envs.get("minigrid_multiroom_n7_s4_rgb")
    assert symbolic.symbolic and not pixels.symbolic
    methods.check_observations(method, pixels)  # every method today runs on frames
    if "symbolic" in method.observations:
        methods.check_observations(method, symbolic)
    else:
        with pytest.raises(UsageError, match="use --scenario=minigrid_multiroom_n7_s4_rgb"):
            methods.check_observations(method, symbolic)


def test_the_ec_methods_are_pixel_only():
    for name in ("ppo_plus_ec", "ppo_plus_eco"):
        assert methods.get(name).observations == ("pixels",)


def test_a_record_refuses_unknown_kinds():
    with pytest.raises(ValueError):
        methods.Method("x", "x", reward=None, observations=("audio",))
    with pytest.raises(ValueError):
        methods.Method("x", "x", reward=None, r_network="sometimes")
    assert methods.Method("x", "x", reward=None).gin == ("ppo", "x")
    assert methods.get("ppo").gin == ("ppo",)
