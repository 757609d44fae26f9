"""The benchmark's reference rates run end to end on tiny shapes (the numbers are the
benchmark's to print; here only that each is a finite positive rate)."""

import math
import sys

from conftest import REPO

sys.path.insert(0, str(REPO / "benchmarks"))
import reference_rates  # noqa: E402


def test_update_ceiling_and_the_sb3_peer_give_rates():
    assert 0 < reference_rates.update_ceiling("doom_basic", 2, 16, "cpu", updates=1) < math.inf
    assert 0 < reference_rates.sb3_ppo("doom_basic", 2, 16, 1, "cpu") < math.inf
    assert 0 < reference_rates.sb3_ppo("doom_basic", 2, 16, 1, "cpu",
                                       keep_freed_memory=True) < math.inf


def test_eco_training_cost_is_amortised_over_the_retrain_period():
    batches_per_s, per_step = reference_rates.eco_training_cost(
        "doom_basic", "cpu", width=8, batches=1, history_steps=400, retrain_period=400,
        epochs=2, num_envs=2)
    # 2 envs x 400 steps of 75-step episodes: 10 episodes, 17 pairs each, 95% trained on.
    pairs = 95 * 10 * ((75 - 6) // 4) // 100
    assert math.isclose(per_step, 2 * (pairs // 64) / batches_per_s / (400 * 2), rel_tol=1e-9)


def test_gpu_kernel_rows_time_every_precision_on_cpu():
    """benchmarks/gpu_kernels.py's R-network rows on tiny shapes: a time per (row, precision) and
    a bf16 difference that is small but not zero (batch-norm statistics are primed)."""
    import gpu_kernels
    import torch
    times, diff = gpu_kernels.rnet_rows(torch.device("cpu"), 2, 8, 3)
    assert set(times) == {(row, p) for row in ("embed", "compare") for p in ("fp32", "bf16")}
    assert all(0 < ms < math.inf for ms in times.values())
    assert 0 < diff < 0.05
    assert 0 < gpu_kernels.act_row(torch.device("cpu"), 2, "none") < math.inf


def test_gflop_per_vector_step_counts_the_comparison_exactly():
    """12 envs x 200 slots through the comparator's head (3 dense 512 x 512 layers and the
    2-way output, BN / ReLU / softmax not counted): 2 FLOPs per multiply-add."""
    flops = reference_rates.gflop_per_vector_step("doom_basic", 12, 16, ["8", "16"])
    pairs = 12 * 200
    assert math.isclose(flops["ec width 8"]["compare"],
                        pairs * 2 * (3 * 512 * 512 + 512 * 2) / 1e9, rel_tol=1e-6)
    assert flops["ec width 8"]["embed"] < flops["ec width 16"]["embed"]
    assert 0 < flops["ppo"] < flops["ec width 16"]["embed"] + flops["ec width 16"]["compare"]


def test_every_variant_binds_real_options():
    """Each named option of throughput.py's --variants parses as gin bindings of this package,
    alone and joined with '+' (a typo would time the plain method under the variant's name)."""
    import gin
    import variants
    from episodic_curiosity import configuration
    for name in list(variants.VARIANTS) + ["bf16_rnet+compiled_scan"]:
        bindings = variants.bindings(name)
        assert bindings and len(bindings) == sum(len(variants.VARIANTS[p])
                                                 for p in name.split("+"))
        configuration.parse(bindings=bindings)  # a UsageError for an unknown name
    gin.clear_config()
    assert variants.applies("bf16_rnet+compiled_scan", "ppo_plus_ec", 2)
    assert not variants.applies("bf16_rnet", "ppo", 2)
    assert not variants.applies("double_buffered+bf16", "ppo", 1)


def test_minigrid_rows_time_plain_minigrid_and_the_path_before_the_grid_cache():
    import minigrid_rows
    rows = minigrid_rows.raw_rows("minigrid_doorkey_5x5", num_envs=2, total_steps=40)
    assert [name.split(",")[0] for name, _ in rows] == [
        "plain minigrid", "our env with minigrid's gen_obs (before)"]
    assert all(rate > 0 for _, rate in rows)
    assert minigrid_rows.rollout_length("ppo", "minigrid_doorkey_5x5") == 128  # the family file's
    assert minigrid_rows.rollout_length("ppo", "doom_dense") == 256
