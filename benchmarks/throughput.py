"""Throughput of a scenario: raw environment steps/s, training env steps/s of each method next
to plain PPO, ratios, and the memory each method's training process peaks at.

  python benchmarks/throughput.py --scenario=doom_dense [--updates=3] [--workers=2]
      [--methods=ppo,ppo_plus_ec,ppo_plus_eco] [--rnet_widths=64,16] [--peer=sb3]
  python benchmarks/throughput.py --scenario=atari_breakout \
      --methods=ppo,ppo_plus_icm,ppo_plus_curiosity,ppo_plus_rnd
  python benchmarks/throughput.py --all_scenarios   # steps/s of every scenario, one process
  python benchmarks/throughput.py --scenario=minigrid_multiroom_n7_s4 --methods=ppo,\
      ppo_plus_ride,ppo_plus_counts,ppo_plus_episodic_counts,ppo_plus_ngu_episodic,ppo_plus_e3b

--all_scenarios steps each scenario with random actions in one process at 84x84 (episode
resets included, the first reset not), against the target of 300 steps/s for the 3-D mazes.

Training is measured end to end (rollout with acting, intrinsic reward, GAE, 4 epochs of updates,
CSV logging) with the paper's defaults (12 envs x 256 steps), evaluation off; the first update
(warm-up) is not counted. PPO+EC uses an R-network of the given width (64 = ResNet-18, the paper's;
16 = the rnet_small preset) with the novelty threshold at 1.0, so every frame enters memory: the
worst case, 200 slots compared per frame once an episode is 200 steps old.
The peers (ppo_plus_icm / _curiosity / _rnd) keep their own PPO numbers (rollout length,
epochs, minibatches) with --num_envs envs; their random-policy warm-up is shortened (it is
not timed). Each method trains in a fresh child process: "peak MB" is that process's maximum
resident memory (env worker processes not included) and, on a GPU, its peak CUDA allocation;
"policy MB" and "bonus MB" are the tensor bytes of the final checkpoint's policy (network and
optimizer) and intrinsic reward module (networks, optimizer, statistics, normaliser), the memory
the method itself adds beyond the interpreter, torch and the rollout.

Transport rows (`--transport_rows`, subprocess workers): the raw vector env with its default
shared-memory batch and with the pipes that carried every result before, both open at once and
timed in alternating rounds (median of 3), 84x84 frames alone and with EC's raw 120x160 frames
in the infos; `--variants=pipe_transport` (a default) times training with the pipes too.

Reference rows, same run (benchmarks/reference_rates.py): the PPO update alone on one batch (the
ceiling of any PPO with this batch shape) and Stable-Baselines3's PPO with the same envs,
rollout, epochs and minibatches (`--peer=sb3`, the `bench` extra). PPO+ECO runs with its
R-network untrained (bonus, memory and frame history), and its training is added at ECO's
defaults (10 epochs over the history every 60k vector steps), amortised per env step.
"""

import csv
import multiprocessing
import pathlib
import resource
import tempfile
import time
import traceback

import numpy as np
from absl import app, flags

import minigrid_rows
import reference_rates
from variants import RNET_METHODS, VARIANTS, applies, bindings

from episodic_curiosity import checkpoint, configuration, envs
from episodic_curiosity import devices
from episodic_curiosity.agents import trainer
from episodic_curiosity.envs.vector import TRANSPORTS
from episodic_curiosity.launch import local, methods
from episodic_curiosity.rnet.model import RNetwork
from episodic_curiosity.rnet.offline import save_rnet
from episodic_curiosity.workdir import RunDir

# Not timed: the warm-up only initialises observation statistics.
SHORT_WARMUP = ["RND.warmup_steps_per_env = 16", "DynamicsCuriosity.warmup_env_steps = 64"]

flags.DEFINE_string("scenario", "doom_dense", "Scenario to measure.")
flags.DEFINE_integer("num_envs", 12, "Envs in the vectorised measurements (PPO's num_envs).")
flags.DEFINE_integer("workers", 2, "Subprocess workers for the vectorised env.")
flags.DEFINE_integer("raw_steps", 3000, "Env steps per raw measurement.")
flags.DEFINE_integer("updates", 3, "Training updates to time (after one warm-up update).")
flags.DEFINE_list("methods", ["ppo", "ppo_plus_ec", "ppo_plus_eco"], "Training methods to time.")
flags.DEFINE_list("rnet_widths", ["64", "16"], "R-network widths for ppo_plus_ec.")
flags.DEFINE_string("device", "auto", "Torch device for training.")
flags.DEFINE_integer("torch_threads", 0, "train_policy.torch_threads (0: the gin files' value).")
flags.DEFINE_bool("all_scenarios", False, "Only measure raw steps/s of every scenario.")
flags.DEFINE_bool("transport_rows", True, "Raw rows of the vector env's two transports "
                  "(shared memory, pipes), timed in alternating rounds.")
flags.DEFINE_list("variants", ["double_buffered", "pipe_transport"],
                  f"Extra rows: the variant methods' training with a named option, one of "
                  f"{', '.join(VARIANTS)} (VARIANTS), or several joined by '+' "
                  "(bf16_rnet+compiled_scan).")
flags.register_validator(
    "variants", lambda names: all(set(n.split("+")) <= set(VARIANTS) for n in names),
    f"each variant must be one of {', '.join(VARIANTS)}, or several joined by '+'")
flags.DEFINE_list("variant_methods", ["ppo"], "Methods the --variants rows are timed for.")
flags.DEFINE_enum("peer", "sb3", ["sb3", "none"], "Peer implementation timed in the same run.")
flags.DEFINE_enum("peer_vec", "dummy", ["dummy", "subproc"],
                  "The peer's vectorised env: in process, or one subprocess per env.")
flags.DEFINE_bool("peer_keep_freed_memory", False,
                  "Give the peer our allocator setting (allocator.py) too; off: as it ships.")
MAZE_TARGET = 300  # steps/s, single process, for the MiniWorld mazes
FLAGS = flags.FLAGS


def raw_steps_per_second(scenario, num_envs, workers, total_steps, transport="shared",
                         keep_raw_obs=False):
    factories = envs.env_factories(scenario, envs.Split.POLICY_TRAINING, range(num_envs),
                                   keep_raw_obs=keep_raw_obs)
    with envs.VecEnv(factories, num_workers=workers, transport=transport) as vec:
        vec.reset()
        return _stepping_rate(vec, total_steps)


def _stepping_rate(vec, total_steps) -> float:
    rng = np.random.default_rng(0)
    iterations = max(1, total_steps // vec.num_envs)
    start = time.perf_counter()
    for _ in range(iterations):
        vec.step(rng.integers(0, vec.action_space.n, vec.num_envs))
    return iterations * vec.num_envs / (time.perf_counter() - start)


def transport_rates(scenario, num_envs, workers, total_steps, keep_raw_obs=False,
                    rounds=3) -> dict:
    """{transport: median env steps/s} of the vector env's transports, both open at once and
    timed in alternating rounds (a shared machine's load changes between rounds, not within)."""
    factories = envs.env_factories(scenario, envs.Split.POLICY_TRAINING, range(num_envs),
                                   keep_raw_obs=keep_raw_obs)
    vecs = {t: envs.VecEnv(factories, num_workers=workers, transport=t)
            for t in TRANSPORTS}
    try:
        rates = {t: [] for t in vecs}
        for v in vecs.values():
            v.reset()
        for r in range(rounds):
            for t in (list(vecs) if r % 2 else list(vecs)[::-1]):
                rates[t].append(_stepping_rate(vecs[t], total_steps // rounds))
        return {t: float(np.median(r)) for t, r in rates.items()}
    finally:
        for v in vecs.values():
            v.close()


def transport_rows(s, n, w, total_steps):
    """Raw vector-env rows per transport, 84x84 frames alone and with EC's raw frames."""
    rows = []
    for raw in (False, True):
        rates = transport_rates(s, n, w, total_steps, keep_raw_obs=raw)
        what = ", raw frames in infos" if raw else ""
        rows += [_row(f"raw env, {n} envs / {w} workers, {name}{what}", rates[t])
                 for t, name in (("shared", "shared memory"), ("pipe", "pipes (before)"))]
    return rows


def tensor_megabytes(state) -> float:
    """Bytes of every tensor in a (nested) state dict, in MB."""
    if isinstance(state, dict):
        return sum(tensor_megabytes(v) for v in state.values())
    if isinstance(state, (list, tuple)):
        return sum(tensor_megabytes(v) for v in state)
    return state.numel() * state.element_size() / 2**20 if hasattr(state, "numel") else 0.0


def configure_training(method, scenario, num_envs, workers, updates, device, tmp,
                       rnet_width=64, extra=()) -> int:
    """Parses the launcher's gin files for `method` with the benchmark's bindings (evaluation and
    checkpoints off, `updates` + 1 updates); returns the batch size (env steps per update)."""
    num_steps = minigrid_rows.rollout_length(method, scenario)
    batch = num_envs * num_steps
    bindings = SHORT_WARMUP + [
        f"train_policy.scenario = '{scenario}'", f"PPOConfig.num_envs = {num_envs}",
        f"train_policy.total_steps = {batch * (updates + 1)}",
        f"train_policy.num_workers = {workers}", f"train_policy.device = '{device}'",
        "train_policy.eval_every_updates = 1000000", "train_policy.eval_envs = 1",
        "train_policy.checkpoint_every_updates = 1000000"]
    if method == "ppo_plus_ec":
        save_rnet(f"{tmp}/r_network.pt", RNetwork(width=rnet_width))
        bindings += [f"EpisodicCuriosity.r_network_path = '{tmp}'",
                     "EpisodicCuriosity.novelty_threshold = 1.0"]
    if method == "ppo_plus_eco":  # a history of this run's length, no training in it
        bindings += [f"EpisodicCuriosityOnline.history_steps = {num_steps * (updates + 1)}",
                     "EpisodicCuriosityOnline.retrain_period = 1000000000",
                     f"RNetwork.width = {rnet_width}"]
    # The launcher's files: method, scenario family (MiniGrid: one torch thread), scenario.
    configuration.parse(local.gin_files(methods.get(method), scenario, None),
                        bindings + list(extra))
    return batch


def training_steps_per_second(method, scenario, num_envs, workers, updates, device,
                              rnet_width=64, extra=()):
    """(env steps/s, peak resident MB, peak CUDA MB, policy MB, bonus MB) of `method`, measured
    in this process."""
    import torch
    with tempfile.TemporaryDirectory() as tmp:
        batch = configure_training(method, scenario, num_envs, workers, updates, device, tmp,
                                   rnet_width, extra)
        trainer.train_policy(RunDir(f"{tmp}/run"))
        with open(f"{tmp}/run/progress.csv") as f:
            times = [float(row["timestamp_s"]) for row in csv.DictReader(f)]
        state = checkpoint.load_latest(pathlib.Path(f"{tmp}/run/checkpoints"))
        policy_mb = tensor_megabytes([state["network"], state["optimizer"]])
        bonus_mb = tensor_megabytes([state.get("intrinsic_reward") or {},
                                     state.get("int_normalizer") or {}])
    peak_rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    peak_cuda = torch.cuda.max_memory_allocated() / 2**20 if torch.cuda.is_available() else 0.0
    return (updates * batch / (times[-1] - times[0]), peak_rss, peak_cuda, policy_mb,
            bonus_mb)


def _child(queue, function, args):
    try:
        queue.put((True, function(*args)))
    except BaseException:  # reported by the parent, which would otherwise wait forever
        queue.put((False, traceback.format_exc()))


def in_fresh_process(function, *args):
    """function(*args) in a spawned child, so that its memory peak is its own. A plain Process,
    not a Pool: pool workers are daemonic and may not start the env worker processes."""
    context = multiprocessing.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_child, args=(queue, function, args))
    process.start()
    ok, result = queue.get()
    process.join()
    if not ok:
        raise RuntimeError(f"{function.__name__}{args} failed in its process:\n{result}")
    return result


def scenario_table(total_steps):
    print(f"\nraw env steps/s, 1 env in one process, 84x84, {total_steps} random steps")
    print(f"{'scenario':<18}{'engine':<12}{'steps/s':>9}{'first reset s':>15}  target")
    for name in envs.names(available_only=True):
        scenario = envs.get(name)
        start = time.perf_counter()
        env = envs.make_env(name, envs.Split.POLICY_TRAINING, 0)
        env.reset()
        setup = time.perf_counter() - start
        rng = np.random.default_rng(0)
        start = time.perf_counter()
        for _ in range(total_steps):
            _, _, terminated, truncated, _ = env.step(int(rng.integers(env.action_space.n)))
            if terminated or truncated:
                env.reset()
        rate = total_steps / (time.perf_counter() - start)
        env.close()
        target = ""
        if scenario.engine == "miniworld":
            target = f">= {MAZE_TARGET}: {'met' if rate >= MAZE_TARGET else 'NOT met'}"
        print(f"{name:<18}{scenario.engine:<12}{rate:>9.0f}{setup:>15.2f}  {target}")


def method_rows(s, n, w):
    rows = []
    for method in FLAGS.methods:
        widths = FLAGS.rnet_widths if method in RNET_METHODS else [None]
        rows += [training_row(method, s, n, w, width) for width in widths]
        if method in FLAGS.variant_methods:
            rows += [training_row(method, s, n, w, width, variant)
                     for variant in FLAGS.variants if applies(variant, method, w)
                     for width in widths]
    return rows


def training_row(method, s, n, w, width, variant=None):
    """`method`'s training rate in a fresh process (R-network `width`, a named `variant`)."""
    value, rss, cuda, policy, bonus = in_fresh_process(
        training_steps_per_second, method, s, n, w, FLAGS.updates, FLAGS.device,
        int(width or 64), bindings(variant) + _threads())
    label = method + (f" (R-network width {width})" if width else "") + " training"
    if variant:
        label += f", {variant}"
    elif method == "ppo_plus_eco":
        _, seconds = in_fresh_process(reference_rates.eco_training_cost, s, _device(),
                                      int(width))
        value = 1.0 / (1.0 / value + seconds)
        label += ", R-net training amortised"
    return _row(label, value, _memory(rss, policy, bonus, cuda))


def _row(name, value, memory=None):
    """A measured row, printed at once (the table comes at the end)."""
    print(f"measured: {name}: {value:.0f} steps/s", flush=True)
    return name, value, memory


def _memory(rss, policy, bonus, cuda):
    return f"{rss:>9.0f}{policy:>11.1f}{bonus:>10.1f}" + (f"  CUDA {cuda:.0f}" if cuda else "")


def reference_rows(s, n):
    num_steps = minigrid_rows.rollout_length("ppo", s)
    rows = [_row("PPO update alone (ceiling)",
                 in_fresh_process(reference_rates.update_ceiling, s, n, num_steps, _device()))]
    if FLAGS.peer == "sb3":
        keep = FLAGS.peer_keep_freed_memory
        rows.append(_row(f"peer: SB3 PPO ({FLAGS.peer_vec} vec env"
                         + (", our allocator setting)" if keep else ")"),
                         in_fresh_process(reference_rates.sb3_ppo, s, n, num_steps,
                                          FLAGS.updates, _device(), FLAGS.peer_vec, keep)))
    return rows


def _threads():
    """--torch_threads as a binding for the child processes (they do not parse flags)."""
    return [f"train_policy.torch_threads = {FLAGS.torch_threads}"] if FLAGS.torch_threads else []


def _cpu_bf16():
    """Whether this CPU has bf16 instructions: the bf16 variants only pay where it has."""
    try:
        with open("/proc/cpuinfo") as f:
            flags = f.read()
    except OSError:
        return "unknown"
    return "yes" if "avx512_bf16" in flags or "amx_bf16" in flags else "no"


def _device():
    return str(devices.resolve_device(FLAGS.device))


def main(argv):
    del argv
    if FLAGS.all_scenarios:
        scenario_table(FLAGS.raw_steps)
        return
    s, n, w = FLAGS.scenario, FLAGS.num_envs, FLAGS.workers
    single = raw_steps_per_second(s, 1, 0, FLAGS.raw_steps // 3)
    vector = raw_steps_per_second(s, n, w, FLAGS.raw_steps)
    rows = [_row("raw env, 1 env in process", single),
            _row(f"raw env, {n} envs / {w} subprocess workers", vector)]
    if w > 0 and FLAGS.transport_rows:
        rows += transport_rows(s, n, w, FLAGS.raw_steps)
    if envs.get(s).engine == "minigrid":
        rows += [_row(name, rate) for name, rate in minigrid_rows.raw_rows(s, n, FLAGS.raw_steps)]
    rows += reference_rows(s, n) + method_rows(s, n, w)
    print_table(s, n, rows, vector)
    print_compute(s, n)


def print_table(s, n, rows, vector):
    rates = {name: value for name, value, _ in rows}
    ppo, ceiling = rates.get("ppo training"), rates["PPO update alone (ceiling)"]
    peer = next((v for k, v in rates.items() if k.startswith("peer:")), None)
    print(f"\nscenario {s}: {n} envs, each method's rollout length and epochs; env steps/s; "
          f"device {_device()}"
          + (f" (bf16 units: {_cpu_bf16()})" if _device() == "cpu" else ""))
    print(f"{'measurement':<66}{'steps/s':>9}{'/ raw env':>10}{'/ ceiling':>10}{'/ PPO':>8}"
          f"{'/ peer':>8}{'peak MB':>10}{'policy MB':>11}{'bonus MB':>10}")

    def ratio(value, base, width):
        return f"{value / base:>{width - 1}.2f}x" if base else " " * width

    for name, value, memory in rows:
        trained = "training" in name or name.startswith("peer:")
        print(f"{name:<66}{value:>9.0f}{ratio(value, vector, 10)}"
              f"{ratio(value, ceiling if trained else 0, 10)}"
              f"{ratio(value, ppo if 'training' in name else 0, 8)}"
              f"{ratio(value, peer if name == 'ppo training' else 0, 8)}{memory or ''}")


def print_compute(s, n):
    """The FLOPs behind the rates: what EC / PPO can reach if compute alone set the pace."""
    ec = [m for m in FLAGS.methods if m in RNET_METHODS]
    widths = FLAGS.rnet_widths if ec else []
    flops = reference_rates.gflop_per_vector_step(s, n, 256, widths)
    print(f"\ncompute per vector step ({n} envs): PPO {flops['ppo']:.2f} GFLOP "
          "(acting + 4 epochs of the update)")
    for width in widths:
        parts = flops[f"ec width {width}"]
        total = parts["embed"] + parts["compare"]
        print(f"  EC, R-network width {width}: +{total:.2f} GFLOP (embedding {parts['embed']:.2f}"
              f", comparison with 200 slots {parts['compare']:.2f}); at one FLOP rate "
              f"EC / PPO = {flops['ppo'] / (flops['ppo'] + total):.2f}x")


if __name__ == "__main__":
    app.run(main)
