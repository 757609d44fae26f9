"""Many (method, scenario, run) jobs on one machine, scheduled by Ray by GPUs and CPUs.

Each job is a subprocess of scripts/launcher_script.py (its one-line errors and exit status stay
its own) with CUDA_VISIBLE_DEVICES set to the GPUs Ray gave it. Spec:
"methods=ppo,ppo_plus_ec;scenarios=doom_dense;runs=3" (runs: run numbers 0..runs-1).
"""

import os
import pathlib
import subprocess
import sys

from episodic_curiosity import envs
from episodic_curiosity.errors import UsageError
from episodic_curiosity.launch import methods

LAUNCHER = pathlib.Path(__file__).resolve().parents[2] / "scripts" / "launcher_script.py"


def parse(spec: str):
    """The jobs of a spec, as (method, scenario, run_number), every input checked."""
    fields = {}
    for part in filter(None, spec.split(";")):
        key, sep, value = part.partition("=")
        if not sep or key.strip() not in ("methods", "scenarios", "runs"):
            raise UsageError(f"--sweep part '{part}' is not methods=...|scenarios=...|runs=N; "
                             "e.g. --sweep='methods=ppo,ppo_plus_ec;scenarios=doom_dense;runs=3'")
        fields[key.strip()] = value.strip()
    if set(fields) != {"methods", "scenarios", "runs"}:
        raise UsageError("--sweep needs methods=, scenarios= and runs=, e.g. "
                         "--sweep='methods=ppo;scenarios=doom_dense;runs=3'")
    names = [m for m in fields["methods"].split(",") if m]
    scenarios = [s for s in fields["scenarios"].split(",") if s]
    for name in names:
        methods.get(name)
    for scenario in scenarios:
        envs.get(scenario)
    if not fields["runs"].isdigit() or int(fields["runs"]) < 1:
        raise UsageError(f"--sweep runs={fields['runs']} must be a positive integer")
    return [(m, s, r) for m in names for s in scenarios for r in range(int(fields["runs"]))]


def run(jobs, workdir, common_args, num_cpus=None, num_gpus=None, cpus_per_job=1.0,
        gpus_per_job=1.0):
    """Runs every job through Ray; returns [(job, returncode, last stderr line)].

    num_gpus None: Ray detects the GPUs; a number overrides it (fake GPU resources in tests).
    gpus_per_job 0 runs one job per cpus_per_job CPUs.
    """
    import ray

    @ray.remote(num_cpus=cpus_per_job, num_gpus=gpus_per_job)
    def one(method, scenario, run_number):
        env = dict(os.environ, CUDA_VISIBLE_DEVICES=",".join(map(str, ray.get_gpu_ids())))
        result = subprocess.run(
            [sys.executable, str(LAUNCHER), f"--method={method}", f"--scenario={scenario}",
             f"--workdir={workdir}", f"--run_number={run_number}", *common_args],
            capture_output=True, text=True, env=env)
        lines = result.stderr.strip().splitlines()
        return result.returncode, (lines[-1] if lines else ""), env["CUDA_VISIBLE_DEVICES"]

    ray.init(num_cpus=num_cpus, num_gpus=num_gpus, include_dashboard=False,
             log_to_driver=False, configure_logging=False)
    try:
        refs = [one.remote(*job) for job in jobs]
        return [(job, *ray.get(ref)) for job, ref in zip(jobs, refs)]
    finally:
        ray.shutdown()


def main(flags_values):
    """launcher_script.py --sweep: run the jobs, print one line per job; exit 1 if any failed."""
    f = flags_values
    jobs = parse(f.sweep)
    common = ([f"--preset={f.preset}"] if f.preset else []) + [
        f"--gin_bindings={b}" for b in f.gin_bindings] + (
        ["--accept_config_change"] if f.accept_config_change else [])
    results = run(jobs, f.workdir, common, f.sweep_num_cpus, f.sweep_num_gpus,
                  f.sweep_cpus_per_job, f.sweep_gpus_per_job)
    for (method, scenario, run_number), code, last, gpus in results:
        print(f"{method} {scenario} run {run_number} gpus=[{gpus}]: "
              + ("ok" if code == 0 else f"failed ({code}): {last}"), flush=True)
    if any(code for _, code, *_ in results):
        sys.exit(1)
