"""The cost plan of launch_cloud_vms.py: each run's wall time and cost follow from the rate record
(launch/rates.py), the configured total steps and the price table; unmeasured rates say so."""

import subprocess
import sys

import pytest

from conftest import REPO
from episodic_curiosity import configuration
from episodic_curiosity.errors import UsageError
from episodic_curiosity.launch import fleet, gce, prices, rates

H100 = "nvidia-h100-80gb"


def measured(method, device="h100", scenario="doom_dense"):
    """The record's number, looked up by hand."""
    [run] = [r for r in rates.RUNS if r.device == device and r.scenario == scenario
             and method in r.steps_per_s][:1]
    return run.steps_per_s[method]


def test_total_steps_are_the_configured_ones():
    gin = configuration.GIN_DIR
    assert fleet.total_steps("ppo", "doom_dense") == configuration.query_files(
        [gin / "methods" / "ppo.gin"], "train_policy.total_steps", None)
    assert fleet.total_steps("ppo", "doom_dense", "smoke") == configuration.query_files(
        [gin / "presets" / "smoke.gin"], "train_policy.total_steps", None)
    assert fleet.total_steps("ppo", "doom_dense", None,
                             ("train_policy.total_steps = 1000",)) == 1000


def test_rates_measured_assumed_and_scaled():
    ppo = rates.rate("ppo", "doom_dense", H100)
    assert (ppo.steps_per_s, ppo.label) == (measured("ppo"), "measured")
    assert "2026-11-22" in ppo.source and "docs/benchmarks.md" in ppo.source
    assert rates.rate("ppo_plus_ec", "doom_sparse", H100).steps_per_s == measured("ppo_plus_ec")
    two = rates.rate("ppo", "doom_dense", H100, ranks=2)
    assert two.steps_per_s == 2 * measured("ppo") and two.label == "assumed"
    assert "linearly" in two.source
    noveld = rates.rate("ppo_plus_noveld", "doom_dense", H100)  # measured nowhere
    assert noveld.label == "assumed" and "no benchmark of ppo_plus_noveld" in noveld.source
    assert noveld.steps_per_s == rates.DEFAULT_RATIO * measured("ppo")
    icm = rates.rate("ppo_plus_icm", "doom_dense", H100)  # its CPU ratio to PPO, on the H100
    [peers] = [r for r in rates.RUNS
               if r.scenario == "doom_dense" and "ppo_plus_icm" in r.steps_per_s]
    ratio = peers.steps_per_s["ppo_plus_icm"] / peers.steps_per_s["ppo"]
    assert icm.steps_per_s == pytest.approx(ratio * measured("ppo")) and icm.label == "assumed"
    p100 = rates.rate("ppo", "doom_dense", "nvidia-tesla-p100")
    assert p100.label == "assumed" and "nvidia-tesla-p100 as fast as" in p100.source


def plan_rows(text):
    """name -> the columns of its row in the printed plan."""
    return {line.split()[0]: line.split() for line in text.splitlines()
            if line.startswith("  ec-")}


def test_printed_plan_is_the_records_arithmetic():
    result = subprocess.run(
        [sys.executable, str(REPO / "scripts" / "launch_cloud_vms.py"), "--methods=ppo,ppo_plus_ec",
         "--scenarios=doom_dense", "--num_runs=2", "--preset=smoke"],
        capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    rows = plan_rows(result.stdout)
    assert len(rows) == 4
    steps = configuration.query_files([configuration.GIN_DIR / "presets" / "smoke.gin"],
                                      "train_policy.total_steps", None)
    expected_total, longest = 0.0, 0.0
    for method, shape in (("ppo", fleet.DEFAULT_SHAPES["ppo"]),
                          ("ppo_plus_ec", fleet.DEFAULT_SHAPES["ppo_plus_ec"])):
        # A P100 is assumed as fast as the measured H100.
        rate = measured(method)
        hours = steps / rate / 3600
        per_day = prices.usd_per_day(shape.machine_type, shape.gpu_type, 1, True, 200)
        row = rows[f"ec-table1-{method.replace('_', '-')}-doom-dense-1"]
        assert row[-6:] == [f"{per_day:,.2f}", f"{steps:,}", f"{rate:.0f}", f"{hours:.1f}",
                            f"{per_day * hours / 24:,.2f}", "assumed"]
        expected_total += 2 * per_day * hours / 24
        longest = max(longest, hours)
    out = result.stdout
    assert f"estimated fleet total: USD {expected_total:,.2f} for every run" in out
    assert f"longest run: {longest:.1f} h (ec-table1-ppo-plus-ec-doom-dense-0)" in out
    assert "estimated total: USD" in out and "per day" in out  # the per-day line stays
    assert "ppo_plus_ec on doom, 1 rank(s) of nvidia-tesla-p100: 745 assumed" in out


def test_plan_on_h100_says_measured_and_what_is_assumed():
    vms = fleet.plan("t", ["ppo", "ppo_plus_noveld"], ["doom_dense"], 1, gpu_type=H100)
    assert vms[0].shape == fleet.Shape("a3-highgpu-1g", H100, 1)
    text = fleet.format_plan(vms, True, 200, "z", "img")
    rows = plan_rows(text)
    assert rows["ec-t-ppo-doom-dense-0"][-1] == "measured"
    assert rows["ec-t-ppo-plus-noveld-doom-dense-0"][-1] == "assumed"
    assert "no benchmark of ppo_plus_noveld" in text
    assert "+ unknown parts" in text  # no A3 price in prices.py: said, not guessed


def test_gpus_per_vm_scales_the_machine_and_the_ranks():
    [vm] = fleet.plan("t", ["ppo"], ["doom_dense"], 1, gpus_per_vm=2)
    assert vm.shape == fleet.Shape("custom-24-65536", "nvidia-tesla-p100", 2) and vm.ranks == 2
    assert fleet.metadata(vm, "b", "t", "gs://s", None, [], 300)["ec-num-ranks"] == 2
    [h100] = fleet.plan("t", ["ppo"], ["doom_dense"], 1, gpu_type=H100, gpus_per_vm=8)
    assert h100.shape.machine_type == "a3-highgpu-8g"
    [one] = fleet.plan("t", ["ppo_plus_eco"], ["doom_dense"], 1)  # today's shape, one rank
    assert one.shape == fleet.DEFAULT_SHAPES["ppo_plus_eco"] and one.ranks == 1


@pytest.mark.parametrize("kwargs, needle", [
    ({"gpus_per_vm": 3}, "1, 2, 4 x nvidia-tesla-p100"),
    ({"gpus_per_vm": 0}, ">= 1"),
    ({"gpus_per_vm": 3, "gpu_type": H100}, "1, 2, 4, 8 x nvidia-h100-80gb"),
    ({"gpus_per_vm": 2, "gpu_type": "nvidia-h100-mega-80gb"}, "8 x nvidia-h100-mega-80gb"),
    ({"gpus_per_vm": 2, "gpu_count": 2}, "not both"),
    ({"gpus_per_vm": 2, "gpu_type": ""}, "needs GPUs"),
    ({"gpu_count": 3}, "--gpu_count=3"),
    ({"gpu_type": H100, "machine_type": "n1-standard-8"}, "a3-highgpu-1g"),
    ({"gpus_per_vm": 4, "machine_type": None, "methods": ["ppo_plus_rnd"]}, "96"),
])
def test_gpu_counts_compute_engine_refuses(kwargs, needle):
    methods = kwargs.pop("methods", ["ppo"])
    with pytest.raises(UsageError) as e:
        fleet.plan("t", methods, ["doom_dense"], 1, **kwargs)
    assert needle in str(e.value)
    assert "\n" not in str(e.value)


def test_every_gpu_machine_has_an_allowed_count():
    for gpu, machines in gce.GPU_MACHINES.items():
        assert set(machines) == set(gce.GPU_COUNTS[gpu]), gpu
