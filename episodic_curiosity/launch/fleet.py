"""A fleet: one VM per (method, scenario, run), named and labelled so it can be listed and removed.

Each method's default machine is its record's `shape` (launch/methods.py, the original's shapes).
A VM with N GPUs trains its one run with N ranks (launcher_script.py --num_ranks=N). The plan
prints what the fleet costs a day and, from the measured rates of launch/rates.py, how long each
run takes and what the whole fleet costs.
"""

import dataclasses
import functools
import json
import pathlib
import re

from episodic_curiosity.errors import UsageError
from episodic_curiosity.launch import bucket_sync, gce, prices, rates
from episodic_curiosity.launch.methods import METHODS, Shape

STARTUP_SCRIPT = pathlib.Path(__file__).with_name("startup_script.sh")


# Per method, the machine its record names (kept by name for callers of the fleet).
DEFAULT_SHAPES = {m.name: m.shape for m in METHODS.values()}


@dataclasses.dataclass(frozen=True)
class Vm:
    name: str
    method: str
    scenario: str
    run_number: int
    shape: Shape
    ranks: int = 1  # training processes of the run (torchrun), one per GPU

    def run_prefix(self, prefix: str) -> str:
        """Where the run directory lives in the bucket: <prefix>/<method>/<scenario>/run_number_n."""
        return f"{prefix}/{self.method}/{self.scenario}/run_number_{self.run_number}"


def label_value(text: str) -> str:
    """Labels and VM names allow lowercase letters, digits and '-'."""
    return re.sub(r"[^a-z0-9-]", "-", text.lower())


def _scaled(machine_type: str, n: int) -> str:
    """A custom N1 machine for n ranks: n times one rank's vCPUs and memory (each rank steps its
    own envs)."""
    m = re.fullmatch(r"custom-(\d+)-(\d+)", machine_type)
    if n == 1 or not m:
        return machine_type
    cpus, mb = int(m.group(1)) * n, int(m.group(2)) * n
    if cpus > gce.N1_MAX_VCPUS:
        raise UsageError(f"--gpus_per_vm={n}: {n} x {machine_type} needs {cpus} vCPUs, more than "
                         f"an N1 VM's {gce.N1_MAX_VCPUS}; pass a smaller --machine_type")
    return f"custom-{cpus}-{mb}"


def shape_for(default: Shape, machine_type=None, gpu_type=None, gpu_count=None,
              gpus_per_vm: int = 1) -> Shape:
    """The flags over a method's shape, checked against what Compute Engine allows."""
    gpu = default.gpu_type if gpu_type is None else (gpu_type or None)
    count = default.gpu_count if gpu_count is None else gpu_count
    if gpus_per_vm > 1:
        count = gpus_per_vm
    if gpu and count:
        gce.check_gpu_count(gpu, count, "--gpus_per_vm" if gpus_per_vm > 1 else "--gpu_count")
    machine = (gce.gpu_machine_type(gpu, count, machine_type) or machine_type
               or _scaled(default.machine_type, gpus_per_vm))
    return Shape(machine, gpu, count)


def _check_gpus_per_vm(gpus_per_vm: int, gpu_type, gpu_count) -> None:
    if gpus_per_vm < 1:
        raise UsageError(f"--gpus_per_vm must be >= 1, got {gpus_per_vm}")
    if gpus_per_vm > 1 and gpu_count is not None:
        raise UsageError("pass --gpus_per_vm (GPUs and ranks) or --gpu_count (GPUs, one rank), "
                         "not both")
    if gpus_per_vm > 1 and gpu_type == "":
        raise UsageError(f"--gpus_per_vm={gpus_per_vm} needs GPUs; --gpu_type='' has none")


def plan(prefix: str, methods, scenarios, num_runs: int, machine_type=None, gpu_type=None,
         gpu_count=None, gpus_per_vm: int = 1) -> list[Vm]:
    """The VMs of a launch; flags override the per-method default shapes for every method."""
    if num_runs < 1:
        raise UsageError(f"--num_runs must be >= 1, got {num_runs}")
    if not re.fullmatch(r"[a-z]([a-z0-9-]*[a-z0-9])?", prefix):
        raise UsageError(f"--prefix '{prefix}' must be lowercase letters, digits and '-', starting "
                         "with a letter (it names the VMs and their bucket folder)")
    _check_gpus_per_vm(gpus_per_vm, gpu_type, gpu_count)
    vms = []
    for method in methods:
        shape = shape_for(DEFAULT_SHAPES[method], machine_type, gpu_type, gpu_count, gpus_per_vm)
        for scenario in scenarios:
            for run in range(num_runs):
                name = label_value(f"ec-{prefix}-{method}-{scenario}-{run}")
                if len(name) > 63:
                    raise UsageError(f"VM name {name} is longer than 63 characters; pass a "
                                     "shorter --prefix")
                vms.append(Vm(name, method, scenario, run, shape, gpus_per_vm))
    return vms


def labels(vm: Vm, prefix: str) -> dict:
    return {gce.FLEET_LABEL: prefix, "method": label_value(vm.method),
            "scenario": label_value(vm.scenario), "run": str(vm.run_number)}


def metadata(vm: Vm, bucket: str, prefix: str, source: str, preset: str | None,
             gin_bindings, sync_seconds: int, accept_config_change: bool = False) -> dict:
    """The run spec the VM's startup script reads. No credential: the VM's service account
    reaches the bucket through the metadata server. accept_config_change: the VM may continue a
    run in the bucket trained with another configuration (docs/resuming.md)."""
    return {"startup-script": STARTUP_SCRIPT.read_text(), "install-nvidia-driver": "True",
            "ec-method": vm.method, "ec-scenario": vm.scenario, "ec-run-number": vm.run_number,
            "ec-bucket": bucket, "ec-prefix": vm.run_prefix(prefix), "ec-source": source,
            "ec-preset": preset or "", "ec-gin-bindings": json.dumps(list(gin_bindings)),
            "ec-sync-seconds": sync_seconds, "ec-poweroff-when-done": "TRUE",
            "ec-accept-config-change": "TRUE" if accept_config_change else "FALSE",
            "ec-num-ranks": vm.ranks}


@functools.lru_cache(maxsize=None)
def total_steps(method: str, scenario: str, preset: str | None = None,
                gin_bindings: tuple = ()) -> int:
    """train_policy.total_steps as the VM will parse it: the method's, scenario's and preset's gin
    files, then the bindings (one UsageError for a bad one, as on the VM)."""
    import inspect
    from episodic_curiosity import configuration
    from episodic_curiosity.agents import trainer
    from episodic_curiosity.launch import local
    default = inspect.signature(trainer.train_policy).parameters["total_steps"].default
    local.configure(method, scenario, "/nonexistent", 0, preset, list(gin_bindings))
    return int(configuration.query("train_policy.total_steps", default))


@dataclasses.dataclass(frozen=True)
class Cost:
    """One VM's line of the plan: USD a day, and how long and how much its whole run takes."""
    vm: Vm
    usd_per_day: float | None
    steps: int
    rate: rates.Rate

    @property
    def hours(self) -> float:
        return self.steps / self.rate.steps_per_s / 3600

    @property
    def usd_per_run(self) -> float | None:
        return None if self.usd_per_day is None else self.usd_per_day * self.hours / 24


def costs(vms, spot: bool, disk_gb: int, preset=None, gin_bindings=()) -> list[Cost]:
    result = []
    for vm in vms:
        s = vm.shape
        gpu = s.gpu_type if s.gpu_count else None
        result.append(Cost(vm, prices.usd_per_day(s.machine_type, s.gpu_type, s.gpu_count, spot,
                                                  disk_gb),
                           total_steps(vm.method, vm.scenario, preset, tuple(gin_bindings)),
                           rates.rate(vm.method, vm.scenario, gpu, vm.ranks)))
    return result


def _usd(value) -> str:
    return "?" if value is None else f"{value:,.2f}"


def format_plan(vms, spot: bool, disk_gb: int, zone: str, image: str, preset=None,
                gin_bindings=()) -> str:
    lines = [f"{len(vms)} VMs in {zone}, {'Spot' if spot else 'on-demand'}, boot disk "
             f"{disk_gb} GB, image {image}:",
             f"  {'name':<48} {'machine type':<18} {'GPU':<22} {'USD/day':>8} {'env steps':>11} "
             f"{'steps/s':>8} {'hours':>7} {'USD/run':>9} rate"]
    rows = costs(vms, spot, disk_gb, preset, gin_bindings)
    for c in rows:
        s = c.vm.shape
        gpu = f"{s.gpu_count} x {s.gpu_type}" if s.gpu_count else "none"
        lines.append(f"  {c.vm.name:<48} {s.machine_type:<18} {gpu:<22} {_usd(c.usd_per_day):>8} "
                     f"{c.steps:>11,} {c.rate.steps_per_s:>8.0f} {c.hours:>7.1f} "
                     f"{_usd(c.usd_per_run):>9} {c.rate.label}")
    return "\n".join(lines + _totals(rows) + _rate_notes(rows))


def _totals(rows) -> list[str]:
    unknown = " + unknown parts" if any(c.usd_per_day is None for c in rows) else ""
    longest = max(rows, key=lambda c: c.hours)
    return [f"estimated total: USD {sum(c.usd_per_day or 0.0 for c in rows):.2f} per day{unknown}"
            " (estimates from episodic_curiosity/launch/prices.py, us-central1, mid-2024)",
            f"estimated fleet total: USD {sum(c.usd_per_run or 0.0 for c in rows):,.2f}{unknown} "
            f"for every run to its last step ({sum(c.steps for c in rows):,} env steps; policy "
            "training only: EC's R-network stages, evaluation and preemptions not included)",
            f"longest run: {longest.hours:.1f} h ({longest.vm.name}), the fleet's wall time "
            "when every VM starts at once"]


def _rate_notes(rows) -> list[str]:
    """Each distinct rate once, with where it comes from (launch/rates.py)."""
    lines = ["env steps/s (episodic_curiosity/launch/rates.py; 'assumed' says which assumption):"]
    seen = set()
    for c in rows:
        key = (c.vm.method, rates.family(c.vm.scenario), c.vm.shape.gpu_type, c.vm.ranks)
        if key not in seen:
            seen.add(key)
            gpu = f"{c.vm.ranks} rank(s) of {key[2]}" if c.vm.shape.gpu_count else "no GPU"
            lines.append(f"  {key[0]} on {key[1]}, {gpu}: {c.rate.steps_per_s:,.0f} "
                         f"{c.rate.label}: {c.rate.source}")
    return lines


def launch(compute: gce.Compute, bodies) -> list[str]:
    """Creates the VMs in order; on any failure deletes the ones this launch created, then
    re-raises, so a failed launch leaves nothing behind."""
    created = []
    try:
        for body in bodies:
            compute.insert(body)
            created.append(body.name)
            print(f"created {body.name}", flush=True)
    except BaseException:
        for name in reversed(created):
            compute.delete(name)
            print(f"rolled back {name}", flush=True)
        raise
    return created


def status_lines(compute: gce.Compute, bucket, prefix: str) -> list[str]:
    """One line per labelled VM: state, labels, published checkpoint and last step in the bucket."""
    lines = []
    for inst in sorted(compute.list(prefix), key=lambda i: i.name):
        lab = dict(inst.labels)
        progress = {"checkpoint_step": None, "last_step": None}
        if bucket is not None:
            md = {item.key: item.value for item in inst.metadata.items}
            progress = bucket_sync.last_progress(bucket, md.get("ec-prefix", ""))
        lines.append(f"{inst.name:<48} {inst.status:<11} method={lab.get('method')} "
                     f"scenario={lab.get('scenario')} run={lab.get('run')} "
                     f"last_step={progress['last_step']} "
                     f"checkpoint_step={progress['checkpoint_step']}")
    return lines


def delete_all(compute: gce.Compute, prefix: str) -> list[str]:
    names = [inst.name for inst in compute.list(prefix)]
    for name in names:
        compute.delete(name)
        print(f"deleted {name}", flush=True)
    return names


def resume_preempted(compute: gce.Compute, prefix: str) -> list[str]:
    """Starts the fleet's stopped (TERMINATED) VMs; their startup script restores from the bucket."""
    names = [inst.name for inst in compute.list(prefix) if inst.status == "TERMINATED"]
    for name in names:
        compute.start(name)
        print(f"started {name}", flush=True)
    return names
