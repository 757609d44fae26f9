"""A fleet: one VM per (method, scenario, run), named and labelled so it can be listed and removed.

Each method's default machine is its record's `shape` (launch/methods.py, the original's shapes).
"""

import dataclasses
import json
import pathlib
import re

from episodic_curiosity.errors import UsageError
from episodic_curiosity.launch import bucket_sync, gce, prices
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

    def run_prefix(self, prefix: str) -> str:
        """Where the run directory lives in the bucket: <prefix>/<method>/<scenario>/run_number_n."""
        return f"{prefix}/{self.method}/{self.scenario}/run_number_{self.run_number}"


def label_value(text: str) -> str:
    """Labels and VM names allow lowercase letters, digits and '-'."""
    return re.sub(r"[^a-z0-9-]", "-", text.lower())


def plan(prefix: str, methods, scenarios, num_runs: int, machine_type=None, gpu_type=None,
         gpu_count=None) -> list[Vm]:
    """The VMs of a launch; flags override the per-method default shapes for every method."""
    if num_runs < 1:
        raise UsageError(f"--num_runs must be >= 1, got {num_runs}")
    if not re.fullmatch(r"[a-z]([a-z0-9-]*[a-z0-9])?", prefix):
        raise UsageError(f"--prefix '{prefix}' must be lowercase letters, digits and '-', starting "
                         "with a letter (it names the VMs and their bucket folder)")
    vms = []
    for method in methods:
        default = DEFAULT_SHAPES[method]
        shape = Shape(machine_type or default.machine_type,
                      default.gpu_type if gpu_type is None else (gpu_type or None),
                      default.gpu_count if gpu_count is None else gpu_count)
        for scenario in scenarios:
            for run in range(num_runs):
                name = label_value(f"ec-{prefix}-{method}-{scenario}-{run}")
                if len(name) > 63:
                    raise UsageError(f"VM name {name} is longer than 63 characters; pass a "
                                     "shorter --prefix")
                vms.append(Vm(name, method, scenario, run, shape))
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
            "ec-accept-config-change": "TRUE" if accept_config_change else "FALSE"}


def format_plan(vms, spot: bool, disk_gb: int, zone: str, image: str) -> str:
    lines = [f"{len(vms)} VMs in {zone}, {'Spot' if spot else 'on-demand'}, boot disk "
             f"{disk_gb} GB, image {image}:",
             f"  {'name':<48} {'machine type':<18} {'GPU':<24} {'USD/day':>8}"]
    total, unknown = 0.0, False
    for vm in vms:
        s = vm.shape
        cost = prices.usd_per_day(s.machine_type, s.gpu_type, s.gpu_count, spot, disk_gb)
        gpu = f"{s.gpu_count} x {s.gpu_type}" if s.gpu_count else "none"
        lines.append(f"  {vm.name:<48} {s.machine_type:<18} {gpu:<24} "
                     f"{'?' if cost is None else f'{cost:.2f}':>8}")
        total += cost or 0.0
        unknown |= cost is None
    lines.append(f"estimated total: USD {total:.2f} per day{' + unknown parts' if unknown else ''}"
                 " (estimates from episodic_curiosity/launch/prices.py, us-central1, mid-2024)")
    return "\n".join(lines)


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
